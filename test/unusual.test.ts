// Accepted unusual definitions (test/fixtures/unusual.ts): every value stays inert and arrives intact in the
// maintainer scripts, the rpm scriptlets and description, install.sh, the Homebrew formulae, the WiX source and
// the launchd plists. (The units' read-back through `systemctl show` in a booted root is the e2e suite's.)
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parse as parsePlist } from 'plist';
import { expandArgs, type Product } from '../src/product/model.ts';
import { makePlan } from '../src/plan/plan.ts';
import { TARGETS } from '../src/targets/registry.ts';
import { renderMaintainerScripts } from '../src/targets/deb/metadata.ts';
import { renderSpec } from '../src/targets/rpm/spec.ts';
import { formulaName } from '../src/targets/homebrew/index.ts';
import { msiLiteral } from '../src/targets/msi/escape.ts';
import { msiModel, windowsServiceName } from '../src/targets/msi/model.ts';
import { renderWxs } from '../src/targets/msi/wxs.ts';
import { RPM_LINE_GUARD, rpmLineNeedsGuard } from '../src/render/quote.ts';
import { MARKER, UNUSUAL_CASES, loadUnusualProduct } from './fixtures/unusual.ts';
import { REPO, fakeDigest, tempDir } from './helpers.ts';

const VERSION = '2.4.0';

const defsDir = mkdtempSync(path.join(os.tmpdir(), 'sd-unusual-defs-'));
afterAll(() => rmSync(defsDir, { recursive: true, force: true }));


function renderAll(product: Product): Map<string, string> {
  const plan = makePlan(product, { version: VERSION, snapshot: false });
  const ctx = { product, versions: plan.versions, platforms: plan.platforms, snapshot: false, digestOf: fakeDigest };
  const out = new Map<string, string>();
  for (const t of TARGETS) for (const [p, text] of t.render?.(ctx) ?? []) out.set(p, text);
  return out;
}

/** A directory of stub commands that log their arguments; PATH holds only it and what the scripts need from coreutils. */
function stubs(dir: string, commands: string[]): string {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const stub = path.join(dir, 'stub');
  writeFileSync(stub, `#!/bin/sh\necho "$(/usr/bin/basename "$0") $*" >> "${dir}/log"\ncase $(/usr/bin/basename "$0") in systemd-sysusers) /bin/cat >/dev/null ;; getent|dpkg-statoverride|curl|wget) exit 2 ;; uname) [ "$1" = -s ] && echo Linux || echo x86_64 ;; esac\nexit 0\n`, { mode: 0o755 });
  for (const c of commands) symlinkSync(stub, path.join(bin, c));
  return bin;
}

const LINUX_COMMANDS = ['systemd-sysusers', 'getent', 'groupadd', 'useradd', 'dpkg-statoverride', 'chgrp', 'chmod', 'deb-systemd-helper', 'deb-systemd-invoke', 'systemctl', 'rm', 'rmdir', 'userdel', 'groupdel', 'chown', 'tee', 'tr', 'ls', 'cp', 'mv', 'mktemp'];
// mkdir and grep run for real, inside DPKG_ROOT (a sandbox): the scripts keep their record of what they created there.
const REAL_COMMANDS = ['mkdir', 'grep'];

afterEach(() => rmSync(MARKER, { force: true }));

describe.each(UNUSUAL_CASES)('unusual definition: $label', ({ label, patch }) => {
  const product = loadUnusualProduct(defsDir, { label, patch });
  const files = renderAll(product);
  const relayd = product.services.find((s) => s.name === 'acme-relayd')!;

  it('deb maintainer scripts and rpm scriptlets run against stubs and execute nothing from the definition', async () => {
    const dir = tempDir('sd-unusual-run-');
    const bin = stubs(dir, LINUX_COMMANDS);
    for (const c of REAL_COMMANDS) symlinkSync(`/bin/${c}`, path.join(bin, c));
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const scripts = renderMaintainerScripts(product);
    const spec = renderSpec({ product, version: VERSION, release: '1', semver: VERSION, files: [], sourceDateEpoch: 0 });
    const specFile = path.join(dir, 'acme.spec');
    writeFileSync(specFile, spec);
    const query = async (fmt: string) => (await execa('rpmspec', ['-q', '--qf', fmt, specFile])).stdout;
    const runs: [string, string[]][] = [
      [scripts.postinst, ['configure', '']],
      [scripts.prerm, ['remove']],
      [scripts.postrm, ['purge']],
      [await query('%{PREIN}'), ['1']],
      [await query('%{POSTIN}'), ['1']],
      [await query('%{PREUN}'), ['0']],
      [await query('%{POSTUN}'), ['0']],
    ];
    for (const shell of ['dash', 'bash']) {
      for (const [text, args] of runs) {
        const script = path.join(dir, 'script');
        writeFileSync(script, text);
        const r = await execa(`/bin/${shell}`, ['-e', script, ...args], { env: { PATH: bin, DPKG_ROOT: root }, extendEnv: false, reject: false });
        expect(r.exitCode, r.stderr).toBe(0);
        expect(existsSync(MARKER)).toBe(false);
      }
    }
    // rpm reads only our scriptlets, and the description with every byte (guarded lines aside).
    expect(await query('%{PRETRANS}|%{POSTTRANS}|%{VERIFYSCRIPT}|%{TRIGGERSCRIPTS}')).toBe('(none)|(none)|(none)|(none)');
    expect(await query('%{SUMMARY}')).toBe(product.meta.summary);
    const description = (await execa('rpmspec', ['-q', '--srpm', '--qf', '%{DESCRIPTION}', specFile])).stdout;
    expect(description.replaceAll(RPM_LINE_GUARD, '')).toContain(product.meta.description.split('\n').filter((l) => l.length <= 79).join('\n').split('\n')[0]);
    for (const line of product.meta.description.split('\n').filter((l) => l.trim() && l.length <= 79)) expect(description.split('\n')).toContain(rpmLineNeedsGuard(line) ? RPM_LINE_GUARD + line : line);
  });

  it('install.sh runs (help, an install that cannot download, uninstall --purge) and executes nothing', async () => {
    const dir = tempDir('sd-unusual-sh-');
    const bin = stubs(dir, ['curl', 'systemctl', 'uname', 'loginctl', 'launchctl', 'id']);
    const script = path.join(dir, 'install.sh');
    writeFileSync(script, files.get('install.sh')!);
    const home = path.join(dir, 'home');
    mkdirSync(home);
    const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: home };
    for (const shell of ['dash', 'bash']) {
      const help = await execa(shell, [script, '--help'], { env, extendEnv: false });
      expect(help.stdout).toContain(`Installs ${product.meta.displayName} ${VERSION} for the current user`);
      const install = await execa(shell, [script, '--base-url', 'https://127.0.0.1:9/x'], { env, extendEnv: false, reject: false });
      expect(install.stderr).toMatch(/^error: downloading https:\/\/127\.0\.0\.1:9\/x\/SHA256SUMS failed/m);
      const uninstall = await execa(shell, [script, '--uninstall', '--purge'], { env, extendEnv: false, reject: false });
      expect(uninstall.exitCode, uninstall.stderr).toBe(0);
      expect(existsSync(MARKER)).toBe(false);
    }
  });

  it('Homebrew formulae parse and evaluate to the definition strings', async () => {
    const dir = tempDir('sd-unusual-rb-');
    for (const c of product.components.filter((x) => x.platforms.some((p) => !p.startsWith('windows')))) {
      const formula = path.join(dir, `${formulaName(product, c)}.rb`);
      writeFileSync(formula, files.get(`formula/${formulaName(product, c)}.rb`)!);
      expect((await execa('ruby', ['-c', formula])).stdout).toBe('Syntax OK');
      const loaded = JSON.parse((await execa('ruby', [path.join(REPO, 'test/homebrew/harness.rb'), formula, 'linux', 'intel', '/opt/homebrew'])).stdout);
      expect(loaded.fields.desc).toBe(c === product.components[0] ? product.meta.summary : c.description);
      if (c.service === relayd) {
        const dirs = { stateDir: `/opt/homebrew/var/lib/${product.def.install.stateDir}/${relayd.name}`, logsDir: '', runtimeDir: '', configDir: '' };
        expect(loaded.service.run.slice(3)).toEqual(expandArgs(relayd, dirs));
        expect(loaded.service.environment_variables).toMatchObject(relayd.env);
      }
      if (c.smoke.length) expect(loaded.test_argv).toEqual([c.binary, ...c.smoke]);
      expect(existsSync(MARKER)).toBe(false);
    }
  });

  it('the WiX source and the launchd plists parse to the same values', () => {
    const model = msiModel(product, makePlan(product, { version: VERSION, snapshot: false }).versions);
    const wxs = new DOMParser().parseFromString(renderWxs(product, model, 'x.cab'), 'text/xml');
    const install = [...wxs.getElementsByTagName('ServiceInstall')].find((e) => e.getAttribute('Name') === windowsServiceName(relayd))!;
    expect(install.getAttribute('Description')).toBe(msiLiteral(relayd.description));
    for (const [p, text] of files) {
      if (!p.startsWith('launchd/') || !p.includes('relayd')) continue;
      const job = parsePlist(text) as { ProgramArguments: string[]; EnvironmentVariables: Record<string, string> };
      expect(job.EnvironmentVariables).toMatchObject(relayd.env);
      expect(job.ProgramArguments.slice(-relayd.args.length).filter((a, i) => !relayd.args[i]!.includes('{'))).toEqual(relayd.args.filter((a) => !a.includes('{')));
    }
  });
});
