// Quoting for the formats our artifacts carry: one small function per format, each tested against the
// format's own reader (test/quote.test.ts). A definition value reaches a script, unit, formula, spec or XML
// file only through one of these (or through a serialiser: JSON, YAML, plist).

/** Control characters (C0, DEL, C1): no single-line value may hold one. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Refuses a control character where the format has no way to carry it (a line-based file). */
export function oneLine(s: string, what = 'value'): string {
  const m = CONTROL.exec(s);
  if (m) throw new Error(`internal: ${what} ${JSON.stringify(s)} holds the control character U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')}, which this format cannot carry`);
  return s;
}

/** A comment line's text (shell, unit, spec, YAML "#" comments): a newline would end the comment. */
export const commentText = (s: string) => oneLine(s, 'comment');

// ---- POSIX shell ------------------------------------------------------------------------------------

/** One POSIX sh word, single-quoted unless plainly safe: the shell reads it back byte for byte (dash, bash, zsh). */
export function shWord(s: string): string {
  if (s.includes('\u0000')) throw new Error('internal: a shell word cannot hold NUL');
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** One POSIX sh word, always single-quoted (where the script's own style quotes a value that shWord would leave bare). */
export function shSingleQuoted(s: string): string {
  if (s.includes('\u0000')) throw new Error('internal: a shell word cannot hold NUL');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Text inside a double-quoted sh string ("$HOME/<text>"): $ ` " \ escaped with a backslash, read back byte for byte. */
export function shDoubleQuotedText(s: string): string {
  if (s.includes('\u0000')) throw new Error('internal: a shell word cannot hold NUL');
  return s.replace(/[$`"\\]/g, (c) => `\\${c}`);
}

/**
 * A command that writes `lines` to its standard output, one per line (instead of a here-document, whose
 * body a line of data could end): `printf '%s\n' 'line 1' 'line 2'`.
 */
export function shPrintLines(lines: string[]): string {
  return `printf '%s\\n' ${lines.map(shWord).join(' ')}`;
}

/** A quoted here-document's body (`<<'TERMINATOR'`): verbatim, unless a line equals the terminator, which is refused. */
export function shHeredocBody(text: string, terminator: string, what = 'here-document'): string {
  if (text.split('\n').includes(terminator)) throw new Error(`internal: ${what} contains the here-document terminator ${terminator}`);
  if (text.includes('\u0000')) throw new Error(`internal: ${what} holds NUL`);
  return text.replace(/\n$/, '');
}

/** A PowerShell single-quoted string: "'" and its Unicode look-alikes (which PowerShell also reads as quotes) doubled. */
export function powershellString(s: string): string {
  return `'${s.replace(/['\u2018\u2019\u201a\u201b]/g, (c) => c + c)}'`;
}

// ---- systemd (systemd.syntax(7), systemd.unit(5) specifiers, systemd.service(5) "Command lines") -------

/** Literal text in a setting that expands specifiers: "%" -> "%%". */
export const systemdLiteral = (s: string) => s.replace(/%/g, '%%');

/** C-style escapes systemd's unquoting reads back (inside a double-quoted word). */
function systemdCEscape(s: string): string {
  return s.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
    const named: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t', '\r': '\\r' };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** A double-quoted systemd word when needed (";" alone, quotes, spaces, backslashes, non-ASCII...). */
function systemdQuoted(escaped: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${systemdCEscape(escaped)}"`;
}

/**
 * One ExecStart= word whose specifiers are already escaped (use systemdLiteral on literal text, keep the
 * specifiers we intend, e.g. "%h/.local/bin"): "$" -> "$$" (no variable expansion), quoted and C-escaped.
 */
export function systemdExecWord(specifierEscaped: string): string {
  return systemdQuoted(specifierEscaped.replace(/\$/g, '$$$$'));
}

/** One Environment= word whose specifiers are already escaped: "$" is not special there. */
export const systemdEnvWord = (specifierEscaped: string) => systemdQuoted(specifierEscaped);

/** One Environment= assignment of literal text as a single quoted word. */
export function systemdEnv(name: string, value: string): string {
  return systemdEnvWord(systemdLiteral(`${name}=${value}`));
}

/** A sysusers.d(5) field: specifiers expanded, quotes and backslashes read as in unit files. */
export function sysusersField(s: string): string {
  const v = systemdLiteral(oneLine(s, 'sysusers.d field'));
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(v) ? v : `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * A whole-line unit setting value that is unit text already (its specifiers intended): taken verbatim up to
 * the end of the line, so a line end or a final backslash (a continuation) cannot be carried and is refused.
 */
export function systemdUnitText(s: string, what = 'unit setting'): string {
  oneLine(s, what);
  if (s.endsWith('\\')) throw new Error(`internal: ${what} ${JSON.stringify(s)} ends with a backslash, which systemd reads as a line continuation`);
  return s;
}

/** A whole-line unit setting value of literal text (Description=, Documentation=, User=...): "%" -> "%%". */
export const systemdLineValue = (s: string, what = 'unit setting') => systemdUnitText(systemdLiteral(s), what);

// ---- Ruby ---------------------------------------------------------------------------------------------

/** A Ruby double-quoted string literal that never interpolates ("#{", "#$", "#@" escaped). */
export function rubyString(s: string): string {
  const body = s.replace(/[\\"\u0000-\u001f\u007f]|#(?=[{$@])/g, (c) => {
    const named: Record<string, string> = { '\\': '\\\\', '"': '\\"', '#': '\\#', '\n': '\\n', '\t': '\\t', '\r': '\\r' };
    return named[c] ?? `\\u{${c.charCodeAt(0).toString(16)}}`;
  });
  return `"${body}"`;
}

/** A Ruby double-quoted string of literal text and `#{expr}` interpolations we write ourselves (`{ ruby: 'etc' }`). */
export function rubyInterpolated(parts: (string | { ruby: string })[]): string {
  // A literal "#" right before our "#{" stays literal: "##{x}" interpolates x only.
  return `"${parts.map((p) => (typeof p === 'string' ? rubyString(p).slice(1, -1) : `#{${p.ruby}}`)).join('')}"`;
}

/** CamelCase class name Homebrew derives from a formula file name (stigmer-server -> StigmerServer). */
export function homebrewClassName(formula: string): string {
  return formula
    .split(/[-_.]/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

// ---- XML ------------------------------------------------------------------------------------------------

const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

/** An XML attribute value (double-quoted): tabs and line ends as character references, or a parser turns them into spaces. */
export function xmlAttr(s: string): string {
  if (XML_FORBIDDEN.test(s)) throw new Error(`internal: ${JSON.stringify(s)} holds a character XML 1.0 cannot carry`);
  return s.replace(/[&<>"\t\n\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' })[c]!);
}

/** XML character data. */
export function xmlText(s: string): string {
  if (XML_FORBIDDEN.test(s)) throw new Error(`internal: ${JSON.stringify(s)} holds a character XML 1.0 cannot carry`);
  return s.replace(/[&<>\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' })[c]!);
}

// ---- rpm spec -------------------------------------------------------------------------------------------

/** Single-line spec text (a tag value, a scriptlet word, a changelog entry): rpm expands macros everywhere, "%" -> "%%". */
export function rpmText(s: string, what = 'spec text'): string {
  return oneLine(s, what).replace(/%/g, '%%');
}

/** Section names rpm recognises at the start of a line, after macro expansion (rpm's partList, case-insensitive). */
const RPM_SECTIONS = [
  'package', 'prep', 'generate_buildrequires', 'conf', 'build', 'install', 'check', 'clean', 'preun', 'postun', 'pretrans',
  'posttrans', 'preuntrans', 'postuntrans', 'pre', 'post', 'files', 'changelog', 'description', 'triggerpostun', 'triggerprein',
  'triggerun', 'triggerin', 'trigger', 'verifyscript', 'sepolicy', 'filetriggerin', 'filetrigger', 'filetriggerun',
  'filetriggerpostun', 'transfiletriggerin', 'transfiletrigger', 'transfiletriggerun', 'transfiletriggerpostun', 'end',
  'patchlist', 'sourcelist',
];
const RPM_SECTION_LINE = new RegExp(`^%(${RPM_SECTIONS.join('|')})(\\s|$)`, 'i');
/** A zero-width space: what keeps a line from being read as a section or a comment (see rpmDescriptionLine). */
export const RPM_LINE_GUARD = '\u200b';

/** Whether rpm would read this %description line (after expansion) as a section header or a comment. */
export const rpmLineNeedsGuard = (line: string) => RPM_SECTION_LINE.test(line.trimStart()) || line.trimStart().startsWith('#');

/**
 * One line of %description. rpm reads every line after macro expansion as a possible section header
 * ("%posttrans" would start a root scriptlet) or comment ("#..." is dropped), and no escape survives the
 * expansion, so such a line gets an invisible zero-width space in front: inert, and displayed unchanged.
 * Checked with rpmbuild 4.18: "%%posttrans", "%{pct}posttrans" (%global pct %%), "%{nil}%%posttrans", lua
 * print("%posttrans"), a macro expanding to several lines, and a "\" continuation all start the section;
 * "#x", "%{hash}x" and lua print("#x") become empty lines; "%{quote:...}" leaves \x1f markers.
 */
export function rpmDescriptionLine(line: string): string {
  const text = oneLine(line, 'description line');
  const guarded = rpmLineNeedsGuard(text) ? RPM_LINE_GUARD + text : text;
  return guarded.replace(/%/g, '%%');
}

// ---- Debian control ------------------------------------------------------------------------------------

/**
 * A deb822 field value: the first line as is, every other line indented by one space, an empty line as " .".
 * A line that is only "." would read as an empty one, so it gets a second space (a verbatim line in the
 * description's display rules).
 */
export function deb822Value(value: string): string {
  const [first, ...rest] = value.split('\n');
  oneLine(first!, 'deb822 field');
  return [first, ...rest.map((l) => (oneLine(l, 'deb822 continuation line'), l.trim() === '' ? ' .' : l === '.' ? '  .' : ` ${l}`))].join('\n');
}
