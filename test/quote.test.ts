// Each quoting function against the format's own reader: dash and bash, ruby, an XML parser, rpmspec.
import { execa } from 'execa';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import {
  deb822Value,
  powershellString,
  RPM_LINE_GUARD,
  rpmDescriptionLine,
  rpmText,
  rubyInterpolated,
  rubyString,
  shHeredocBody,
  shPrintLines,
  shWord,
  shSingleQuoted,
  shDoubleQuotedText,
  systemdEnv,
  systemdExecWord,
  systemdLineValue,
  systemdLiteral,
  xmlAttr,
  xmlText,
} from '../src/render/quote.ts';
import { TEMPLATES_DIR } from '../src/render/templates.ts';
import { UNUSUAL_DESCRIPTION, UNUSUAL_STRINGS } from './fixtures/unusual.ts';
import { tempDir } from './helpers.ts';

const WITH_CONTROL = [...UNUSUAL_STRINGS, 'line\nbreak', 'tab\there', 'cr\rx'];

describe.each(['dash', 'bash'])('shell words read back by %s', (shell) => {
  it('shWord: every value is one word, byte for byte', async () => {
    const r = await execa(shell, ['-c', `printf '%s\\0' ${WITH_CONTROL.map(shWord).join(' ')}`], { stripFinalNewline: false });
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(WITH_CONTROL);
  });

  it('shSingleQuoted and shDoubleQuotedText: read back byte for byte, bare or inside "..."', async () => {
    const words = await execa(shell, ['-c', `printf '%s\\0' ${WITH_CONTROL.map(shSingleQuoted).join(' ')}`], { stripFinalNewline: false });
    expect(words.stdout.split('\0').slice(0, -1)).toEqual(WITH_CONTROL);
    expect(shSingleQuoted('%h/.local/bin')).toBe(`'%h/.local/bin'`);
    const inQuotes = await execa(shell, ['-c', `printf '%s\\0' ${WITH_CONTROL.map((v) => `"x/${shDoubleQuotedText(v)}"`).join(' ')}`], { stripFinalNewline: false });
    expect(inQuotes.stdout.split('\0').slice(0, -1)).toEqual(WITH_CONTROL.map((v) => `x/${v}`));
  });

  it('shPrintLines: prints the lines (no here-document a line could end)', async () => {
    const lines = [...UNUSUAL_STRINGS, 'SYSUSERS', '\tSYSUSERS'];
    const r = await execa(shell, ['-c', shPrintLines(lines)], { stripFinalNewline: false });
    expect(r.stdout).toBe(lines.join('\n') + '\n');
  });

  it('shHeredocBody: verbatim inside a quoted here-document; a terminator line is refused', async () => {
    const body = UNUSUAL_STRINGS.join('\n');
    const r = await execa(shell, ['-c', `cat <<'T_END'\n${shHeredocBody(body, 'T_END')}\nT_END`], { stripFinalNewline: false });
    expect(r.stdout).toBe(body + '\n');
    expect(() => shHeredocBody('a\nT_END\nb', 'T_END')).toThrow(/terminator/);
  });
});

describe('Ruby strings never interpolate', () => {
  it('rubyString and rubyInterpolated read back through ruby', async () => {
    const program = `print [${WITH_CONTROL.map(rubyString).join(', ')}, ${rubyInterpolated(['#', { ruby: '1 + 1' }, '#{x}'])}].join("\\0")`;
    const r = await execa('ruby', ['-e', program], { stripFinalNewline: false });
    expect(r.stdout.split('\0')).toEqual([...WITH_CONTROL, '#2#{x}']);
  });
});

describe('XML', () => {
  it('xmlAttr and xmlText parse back to the same text', () => {
    for (const s of WITH_CONTROL.filter((v) => !/\r/.test(v))) {
      const doc = new DOMParser().parseFromString(`<r a="${xmlAttr(s)}">${xmlText(s)}</r>`, 'text/xml');
      expect(doc.documentElement!.getAttribute('a')).toBe(s);
      expect(doc.documentElement!.textContent).toBe(s);
    }
    expect(() => xmlAttr('nul\u0000')).toThrow(/XML/);
  });
});

describe('systemd', () => {
  it('ExecStart words: specifiers, "$", quotes, backslashes and control characters escaped per systemd.service "Command lines"', () => {
    expect(systemdExecWord(systemdLiteral('%h'))).toBe('%%h');
    expect(systemdExecWord('%h/.local/bin/x')).toBe('%h/.local/bin/x');
    expect(systemdExecWord(systemdLiteral('$(id)'))).toBe('"$$(id)"');
    expect(systemdExecWord(';')).toBe('";"');
    expect(systemdExecWord('')).toBe('""');
    expect(systemdExecWord('a "b" \\c\nd')).toBe('"a \\"b\\" \\\\c\\nd"');
    expect(systemdEnv('P', 'pa#$word #@x %h')).toBe('"P=pa#$word #@x %%h"');
  });

  it('whole-line values: "%" escaped, line ends and a continuation backslash refused', () => {
    expect(systemdLineValue('50% "done"')).toBe('50%% "done"');
    expect(() => systemdLineValue('a\nExecStartPre=+/bin/touch /x')).toThrow(/control character/);
    expect(() => systemdLineValue('ends \\')).toThrow(/continuation/);
  });

  it('systemd-analyze verify accepts a unit built from the unusual values', async () => {
    const dir = tempDir();
    const unit = path.join(dir, 'quote-test.service');
    const argv = UNUSUAL_STRINGS.map((s) => systemdExecWord(systemdLiteral(s)));
    const env = UNUSUAL_STRINGS.map((s, i) => `Environment=${systemdEnv(`V${i}`, s)}`);
    writeFileSync(unit, `[Unit]\nDescription=${systemdLineValue('quote %h $(id) "x"')}\n[Service]\n${env.join('\n')}\nExecStart=/bin/true ${argv.join(' ')}\n`);
    const r = await execa('systemd-analyze', ['verify', '--man=no', unit], { reject: false });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });
});

describe('rpm spec text', () => {
  it('Summary and %description read back through rpmspec; no line becomes a section', async () => {
    const dir = tempDir();
    const spec = path.join(dir, 't.spec');
    const summary = 'sum %h %{x} $(id) #{1+1}';
    const lines = UNUSUAL_DESCRIPTION.split('\n');
    writeFileSync(spec, ['Name: t', 'Version: 1', 'Release: 1', `Summary: ${rpmText(summary)}`, 'License: MIT', 'BuildArch: noarch', '', '%description', ...lines.map(rpmDescriptionLine), '', '%files', ''].join('\n'));
    const q = (fmt: string) => execa('rpmspec', ['-q', '--srpm', '--qf', fmt, spec]).then((r) => r.stdout);
    const rpmspecQuery = (fmt: string) => execa('rpmspec', ['-q', '--qf', fmt, spec]).then((r) => r.stdout);
    expect(await q('%{SUMMARY}')).toBe(summary);
    // Lines rpm would read as a section or a comment carry an invisible guard; every other byte is the definition's.
    const expected = lines.map((l) => (/^(%posttrans|#)/.test(l) ? RPM_LINE_GUARD + l : l)).join('\n');
    expect(await q('%{DESCRIPTION}')).toBe(expected);
    expect(await rpmspecQuery('%{PREIN}|%{POSTIN}|%{PREUN}|%{POSTUN}|%{PRETRANS}|%{POSTTRANS}')).toBe('(none)|(none)|(none)|(none)|(none)|(none)');
    expect(() => rpmText('a\nRequires: evil')).toThrow(/control character/);
  });
});

describe('Debian and PowerShell', () => {
  it('deb822Value folds lines, " ." for empty ones, and keeps a lone "." from reading as empty', () => {
    expect(deb822Value('sum\nline\n\n.\n x')).toBe('sum\n line\n .\n  .\n  x');
    expect(() => deb822Value('sum\rInjected: x')).toThrow(/control character/);
  });

  it('powershellString doubles every quote PowerShell reads as a single quote', () => {
    expect(powershellString("it's \u2019x\u2018")).toBe("'it''s \u2019\u2019x\u2018\u2018'");
  });
});

describe('templates', () => {
  it('insert no raw triple-stash value and hold no here-document a line of data could end or interpolate in', () => {
    for (const entry of readdirSync(TEMPLATES_DIR, { recursive: true, encoding: 'utf8' }).filter((e) => e.endsWith('.hbs'))) {
      const text = readFileSync(path.join(TEMPLATES_DIR, entry), 'utf8');
      expect(text, entry).not.toMatch(/\{\{\{|\{\{&/);
      // Here-documents only with a fixed terminator, quoted, around our own text or a shHeredocBody-checked {{...}} body.
      for (const m of text.matchAll(/<<[-~]?\s*(\S+)/g)) expect(m[1], `${entry}: here-document ${m[0]}`).toMatch(/^'([A-Z_]+|\{\{(\.\.\/)?heredocEnd\}\})'$/);
    }
  });
});
