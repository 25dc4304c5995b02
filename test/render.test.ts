// Every rendered text artifact, for both product definitions: golden files (update with `npx vitest run -u`)
// and the platform's own tools: systemd-analyze verify, plistutil, ruby -c, rubocop and our Homebrew harness.
import { execa } from 'execa';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProduct } from '../src/product/load.ts';
import { splitPlatform, type Product } from '../src/product/model.ts';
import { makePlan } from '../src/plan/plan.ts';
import { TARGETS } from '../src/targets/registry.ts';
import { archiveFileName } from '../src/targets/release.ts';
import { formulaComponents, formulaName } from '../src/targets/homebrew/index.ts';
import { ENV_LAUNCHER_SCRIPT } from '../src/render/launcher.ts';
import { ACME_YAML, REPO, STIGMER_YAML, fakeDigest, tempDir } from './helpers.ts';

/** install.sh pins the release key; the goldens pin this stand-in fingerprint. */
const FAKE_RELEASE_KEY_FINGERPRINT = '0123456789ABCDEF0123456789ABCDEF01234567';

function renderAll(product: Product, version: string): Map<string, string> {
  const plan = makePlan(product, { version, snapshot: false });
  const ctx = { product, versions: plan.versions, platforms: plan.platforms, snapshot: false, digestOf: fakeDigest, releaseKeyFingerprint: FAKE_RELEASE_KEY_FINGERPRINT };
  const out = new Map<string, string>();
  for (const t of TARGETS) for (const [p, text] of t.render?.(ctx) ?? []) out.set(p, text);
  // Every text artifact the plan lists is rendered (nothing planned is left to chance).
  const textTargets = new Set(TARGETS.filter((t) => t.render).map((t) => t.id));
  expect(plan.artifacts.filter((a) => textTargets.has(a.target)).map((a) => a.path).sort()).toEqual([...out.keys()].sort());
  return out;
}

const products = [
  { label: 'stigmer', file: STIGMER_YAML, version: '1.2.3-rc.1' },
  { label: 'acme', file: ACME_YAML, version: '2.4.0' },
];

function writeTree(dir: string, files: Map<string, string>) {
  for (const [p, text] of files) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), text);
  }
}

describe.each(products)('$label text artifacts', ({ label, file, version }) => {
  const product = loadProduct(file);

  it('match the golden files', async () => {
    for (const [p, text] of renderAll(product, version)) await expect(text).toMatchFileSnapshot(`golden/${label}/${p}`);
  });

  it('are identical when rendered twice', () => {
    expect([...renderAll(product, version)]).toEqual([...renderAll(product, version)]);
  });

  it('systemd units pass `systemd-analyze verify` with no output at all', async () => {
    const dir = tempDir();
    const files = renderAll(product, version);
    // verify needs each ExecStart binary to exist: point the units at stub executables in the temp dir.
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const runtimeDir = path.join(dir, 'run');
    mkdirSync(runtimeDir, { mode: 0o700 });
    for (const s of product.services) {
      writeFileSync(path.join(bin, s.binary), '#!/bin/sh\nexit 0\n');
      chmodSync(path.join(bin, s.binary), 0o755);
    }
    for (const scope of ['system', 'user'] as const) {
      const unitDir = path.join(dir, scope);
      mkdirSync(unitDir);
      const units: string[] = [];
      for (const [p, text] of files) {
        if (!p.startsWith(`systemd/${scope}/`)) continue;
        const unit = path.join(unitDir, path.basename(p));
        writeFileSync(unit, text.replace(scope === 'system' ? /\/usr\/bin\//g : /%h\/\.local\/bin\//g, `${bin}/`));
        units.push(unit);
      }
      expect(units.length).toBe(product.services.length + 1);
      const r = await execa('systemd-analyze', [...(scope === 'user' ? ['--user'] : []), 'verify', '--man=no', ...units], {
        reject: false,
        // The user manager needs a runtime dir; give it a private one.
        env: { SYSTEMD_LOG_LEVEL: 'notice', XDG_RUNTIME_DIR: runtimeDir },
      });
      expect({ scope, exitCode: r.exitCode, stderr: r.stderr, stdout: r.stdout }).toEqual({ scope, exitCode: 0, stderr: '', stdout: '' });
    }
  });

  it('systemd units carry the model: ordering, restart, stop, env file, directories, frozen TMPDIR', () => {
    const files = renderAll(product, version);
    const { install } = product.def;
    for (const s of product.services) {
      const unit = files.get(`systemd/system/${s.name}.service`)!;
      for (const dep of s.after) expect(unit).toMatch(new RegExp(`^After=.*\\b${dep}\\.service`, 'm'));
      expect(unit).toContain(`PartOf=${product.meta.name}.target`);
      expect(unit).toContain(`User=${install.user}\n`);
      expect(unit).toContain(`EnvironmentFile=-${install.envFile}\n`);
      expect(unit).toContain(`KillSignal=${s.stop.signal}\n`);
      expect(unit).toContain(`TimeoutStopSec=${s.stop.timeoutSeconds}s\n`);
      expect(unit).toContain(`Restart=${s.restart.policy === 'never' ? 'no' : s.restart.policy}\n`);
      expect(unit).toContain(`StateDirectory=${install.stateDir}/${s.name}\n`);
      expect(unit).not.toMatch(/noexec|MemoryDenyWriteExecute/.source && s.frozen ? /noexec|MemoryDenyWriteExecute/ : /noexec/);
      if (s.frozen) expect(unit).toContain(`Environment=TMPDIR=/run/${install.stateDir}/${s.name}\nEnvironmentFile`);
      for (const secret of s.secrets) expect(unit).not.toContain(secret);
    }
    const target = files.get(`systemd/system/${product.meta.name}.target`)!;
    expect(target).toContain(`Wants=${product.services.map((s) => `${s.name}.service`).join(' ')}\n`);
    expect(files.get(`env/${path.basename(install.envFile)}`)).toContain(product.secrets.map((s) => `#${s}=`).join('\n\n# ').split('\n\n# ')[0]);
  });

  it('launchd plists parse with plistutil and carry the service', async () => {
    const files = [...renderAll(product, version)].filter(([p]) => p.startsWith('launchd/'));
    expect(files.length).toBe(product.platforms.some((p) => p.startsWith('darwin')) ? product.services.length * 2 : 0);
    const dir = tempDir();
    for (const [p, text] of files) {
      const src = path.join(dir, path.basename(p));
      writeFileSync(src, text);
      const json = path.join(dir, 'out.json');
      // plistutil converts XML -> binary -> back, failing on anything that is not a valid plist.
      await execa('plistutil', ['-i', src, '-o', path.join(dir, 'out.bin'), '-f', 'bin']);
      await execa('plistutil', ['-i', path.join(dir, 'out.bin'), '-o', path.join(dir, 'back.xml'), '-f', 'xml']);
      expect(readFileSync(path.join(dir, 'back.xml'), 'utf8')).toContain('<key>Label</key>');
      void json;
      const service = product.services.find((s) => p.endsWith(`.${s.name}.plist`))!;
      expect(text).toContain(`<string>${product.def.identifiers.launchdPrefix}.${service.name}</string>`);
      expect(text).toMatch(/<key>KeepAlive<\/key>/);
      expect(text).toContain(`<integer>${service.stop.timeoutSeconds}</integer>`);
      if (p.includes('LaunchDaemons')) expect(text).toContain(`<key>UserName</key>\n\t\t<string>${product.def.install.user}</string>`);
    }
  });

  it('Homebrew formulae pass ruby -c and rubocop with the tap config', async () => {
    const dir = tempDir();
    const formulae = new Map([...renderAll(product, version)].filter(([p]) => p.startsWith('formula/')));
    writeTree(dir, formulae);
    for (const p of formulae.keys()) expect((await execa('ruby', ['-c', path.join(dir, p)])).stdout).toBe('Syntax OK');
    const r = await execa('rubocop', ['--no-color', '-c', path.join(REPO, 'formula/.rubocop.yml'), path.join(dir, 'formula')], { reject: false });
    expect(r.stdout).toMatch(/no offenses detected/);
    expect(r.exitCode).toBe(0);
  });

  it('Homebrew formulae resolve the right archive and digest on every OS/arch and declare their service', async () => {
    const dir = tempDir();
    const files = renderAll(product, version);
    writeTree(dir, files);
    const prefix = '/opt/homebrew';
    const tap = product.def.release.homebrewTap.replace('/homebrew-', '/');
    for (const component of formulaComponents(product, [...product.platforms])) {
      const formula = path.join(dir, 'formula', `${formulaName(product, component)}.rb`);
      for (const platform of product.platforms.filter((p) => !p.startsWith('windows'))) {
        const { os, arch } = splitPlatform(platform);
        // The archive's members as the archive target lays them out: the binary, then the definition's files.
        const members = [`bin/${component.binary}`, ...product.def.files.map((f) => f.dest)];
        const r = await execa('ruby', [path.join(REPO, 'test/homebrew/harness.rb'), formula, os === 'darwin' ? 'macos' : 'linux', arch === 'arm64' ? 'arm' : 'intel', prefix, ...members]);
        const loaded = JSON.parse(r.stdout);
        // Homebrew steps into a lone bin/ folder: the formula then installs the binary from the top.
        const lone = await execa('ruby', [path.join(REPO, 'test/homebrew/harness.rb'), formula, os === 'darwin' ? 'macos' : 'linux', arch === 'arm64' ? 'arm' : 'intel', prefix, `bin/${component.binary}`]);
        expect(JSON.parse(lone.stdout).install[0]).toMatchObject({ op: 'install', file: component.binary });
        if (!component.platforms.includes(platform)) {
          expect(loaded.fields.url, `${component.name} has no ${platform} build`).toBeUndefined();
          continue;
        }
        const asset = archiveFileName(product, component, platform, product.def.product.version === version ? version : version);
        expect(loaded.fields.url).toBe(`https://github.com/${product.def.release.github.owner}/${product.def.release.github.repo}/releases/download/v${version}/${asset}`);
        expect(loaded.fields.sha256).toBe(fakeDigest(asset));
        expect(loaded.install[0]).toMatchObject({ op: 'install', file: `bin/${component.binary}` });
        expect(loaded.has_test).toBe(true);
        const service = component.service;
        if (!service) {
          expect(loaded.service).toBeNull();
          // FormulaAudit/DependencyOrder: by name
          expect(loaded.depends_on.filter((d: unknown) => typeof d === 'string')).toEqual(product.services.map((s) => `${tap}/${s.name}`).sort());
          continue;
        }
        const name = formulaName(product, component);
        const envFile = `${prefix}/etc/${product.meta.name}/${path.basename(product.def.install.envFile)}`;
        expect(loaded.service.run.slice(0, 3)).toEqual([`${prefix}/opt/${name}/libexec/${product.meta.name}-env`, envFile, `${prefix}/opt/${name}/bin/${service.binary}`]);
        expect(loaded.service.working_dir).toBe(`${prefix}/var/lib/${product.def.install.stateDir}/${service.name}`);
        expect(loaded.service.log_path).toBe(`${prefix}/var/log/${product.def.install.logsDir}/${service.name}.log`);
        expect(loaded.service.environment_variables).toMatchObject(service.env);
        if (service.frozen) expect(loaded.service.environment_variables.TMPDIR).toMatch(new RegExp(`^${prefix}/var/run/`));
        expect(loaded.libexec).toEqual([{ name: `${product.meta.name}-env`, content: ENV_LAUNCHER_SCRIPT }]);
        for (const secret of service.secrets) expect(readFileSync(formula, 'utf8')).not.toMatch(new RegExp(`${secret}=[^\\s"]`));
      }
    }
  });
});

describe('env launcher (launchd and Homebrew services)', () => {
  it('is shellcheck-clean', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'launcher.sh'), ENV_LAUNCHER_SCRIPT);
    const r = await execa('shellcheck', ['-s', 'sh', path.join(dir, 'launcher.sh')], { reject: false });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('exports KEY=value lines verbatim (spaces, quotes, $ and backticks are never executed), skips comments, then execs', async () => {
    const dir = tempDir();
    const launcher = path.join(dir, 'launcher.sh');
    writeFileSync(launcher, ENV_LAUNCHER_SCRIPT);
    chmodSync(launcher, 0o755);
    const env = path.join(dir, 'app.env');
    writeFileSync(env, `# comment\n\nAPI_KEY=abc def\nTRICKY=$(touch ${dir}/pwned) \`id\` "q"\nLAST=no-newline`);
    const r = await execa(launcher, [env, 'sh', '-c', 'printf "%s|%s|%s|%s" "$API_KEY" "$TRICKY" "$LAST" "$TMPDIR"'], { env: { TMPDIR: path.join(dir, 'made/tmp') } });
    expect(r.stdout).toBe(`abc def|$(touch ${dir}/pwned) \`id\` "q"|no-newline|${dir}/made/tmp`);
    expect(() => readFileSync(path.join(dir, 'pwned'))).toThrow();
    expect(() => readFileSync(path.join(dir, 'made/tmp'))).toThrow(/EISDIR/);
    // A missing env file is not an error: the service starts with its defaults.
    expect((await execa(launcher, [path.join(dir, 'missing.env'), 'echo', 'ok'])).stdout).toBe('ok');
  });
});
