// Issue 3, "Proof": the Linux packages of a snapshot build, installed by the platform's own tools in a booted
// Debian 12 and a booted Debian 13 (systemd-nspawn, src/verify/install/nspawn.ts; Debian 13's apt 3 verifies the
// repository signature with sqv, and runs systemd 257), run their services under systemd, upgrade, remove and
// purge cleanly; the same root proves the .rpm with Debian's rpm, and the YUM repository with Debian's dnf.
// Every name (package, user, units, ports, paths) comes from the loaded product model, and the whole flow runs
// for each product definition below.
//
// Both versions are signed with one generated release key (--signing-key), as a publisher signs every release
// (a snapshot build without a key signs with the committed INSECURE snapshot key, which no client should trust);
// the wrong-key test shows apt refuses a repository signed by a key the client does not trust.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadProduct } from '../../src/product/load.ts';
import type { Product, Service } from '../../src/product/model.ts';
import { APT_REPO_DIR, renderAptSourceList } from '../../src/targets/apt-repo/index.ts';
import { dedicatedConfigDir, runtimeDirs, unitNames } from '../../src/targets/linux/layout.ts';
import { systemLayout } from '../../src/layout/system.ts';
import { YUM_REPO_DIR } from '../../src/targets/yum-repo/index.ts';
import { addAptRepository } from '../../src/verify/install/apt.ts';
import { serveDirectory, type StaticServer } from '../../src/verify/install/http.ts';
import { Container, SUITES, type ExecResult, type Suite } from '../../src/verify/install/nspawn.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'stigmer-dist.js');
const DEFINITIONS = ['packaging/stigmer.yaml', 'test/fixtures/acme/acme.yaml'];
/** The container runs this machine's architecture. */
const PLATFORM = process.arch === 'arm64' ? 'linux-arm64' : 'linux-amd64';
const TARGETS = 'deb,rpm,apt-repo,yum-repo';
/** Non-interactive apt, and nothing that would answer a conffile prompt for us (no --force-conf*). */
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };
/** Debian's rpm keeps its database in ~/.rpmdb unless told otherwise. */
const RPM = ['rpm', '--dbpath', '/var/lib/rpm'];

interface Health {
  status: string;
  component: string;
  version: string;
  pid: number;
  uid: number;
  user: string;
  tmpdir: string;
  ppid: number;
  env: Record<string, string>;
  secrets: Record<string, string>;
}

interface BuiltVersion {
  semver: string;
  debian: string;
  rpm: string;
  repoDir: string;
  deb: string;
  rpmFile: string;
}

let work: string;
/** Armored secret key the "publisher" signs every version's repositories with. */
let releaseKey: string;
/** A binary public keyring of an unrelated key: an APT client trusting only it must refuse the repository. */
let otherKeyring: string;
/** An RPM that provides /bin/sh, so an empty dnf --installroot can resolve the package's dependencies. */
let baseProvides: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'stigmer-e2e-linux-'));
  const release = await generateKey(path.join(work, 'gpg-release'), 'E2E release key <release@e2e.invalid>');
  const other = await generateKey(path.join(work, 'gpg-other'), 'E2E unrelated key <other@e2e.invalid>');
  releaseKey = path.join(work, 'release-key.asc');
  otherKeyring = path.join(work, 'other.gpg');
  await gpg(release, ['--armor', '--output', releaseKey, '--export-secret-keys']);
  await gpg(other, ['--output', otherKeyring, '--export']);
  await Promise.all([release, other].map((home) => execa('gpgconf', ['--homedir', home, '--kill', 'all'], { reject: false })));
  baseProvides = await buildBaseProvidesRpm(path.join(work, 'rpmbuild'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.each(DEFINITIONS)('%s: Linux packages under a real systemd', (definition) => {
  const product: Product = loadProduct(path.join(ROOT, definition));
  const { user, group, envFile } = product.def.install;
  const units = unitNames(product);
  const v1 = product.meta.version;
  const v2 = semver.inc(v1, 'patch')!;
  /** Values written into the env file: one per secret, and one that overrides a default from the definition. */
  const secrets = Object.fromEntries(product.secrets.map((n) => [n, `e2e-${n.toLowerCase()}-value`]));
  const overrideKey = product.services.flatMap((s) => Object.keys(s.env)).sort()[0];
  const overrides: Record<string, string> = overrideKey ? { [overrideKey]: 'e2e-override' } : {};

  let dist: string;
  let srv: StaticServer;
  /** Package names, as the built packages declare them. */
  let pkg: string;
  let rpmPkg: string;
  const built: Record<string, BuiltVersion> = {};

  // One build of both versions, installed on each Debian release in turn (the describe blocks run in order).
  beforeAll(async () => {
    dist = path.join(work, product.meta.name);
    srv = await serveDirectory(work);
    built[v1] = await build(definition, v1, dist, srv.url);
    built[v2] = await build(definition, v2, dist, srv.url, built[v1]!.repoDir);
    pkg = (await execa('dpkg-deb', ['--field', built[v1]!.deb, 'Package'])).stdout.trim();
    rpmPkg = (await execa('rpm', ['-qp', '--queryformat', '%{NAME}', built[v1]!.rpmFile], { stdin: 'ignore' })).stdout.trim();
  });

  afterAll(async () => {
    await srv?.close();
  });

  describe.each(Object.entries(SUITES) as [Suite, string][])('%s (%s)', (suite) => {
    let c: Container;
    let lastPids = new Map<string, number>();

    beforeAll(async () => {
      srv.root = built[v1]!.repoDir; // publish the first version
      c = await Container.boot({ suite });
    });

    afterAll(async () => {
      await c?.dispose();
    });

    beforeEach(({ onTestFailed }) => {
      onTestFailed(async () => {
        if (c?.isRunning()) process.stderr.write(`${await c.diagnostics()}\n`);
      });
    });

    const apt = (args: string[]) => c.run(['apt-get', ...args], { env: APT_ENV });

    it('refuses the APT repository when the client trusts another key', async () => {
      const list = await fetchText(`${srv.url}/${path.basename(APT_REPO_DIR)}/${product.meta.name}.list`);
      await c.copyIn(otherKeyring, '/usr/share/keyrings/e2e-unrelated.gpg');
      await c.writeFile('/etc/apt/e2e-wrong-key.list', list.replace(/signed-by=[^\]\s]+/, 'signed-by=/usr/share/keyrings/e2e-unrelated.gpg'));
      await c.run(['mkdir', '-p', '/var/tmp/e2e-no-parts']);
      const only = ['-o', 'Dir::Etc::SourceList=/etc/apt/e2e-wrong-key.list', '-o', 'Dir::Etc::SourceParts=/var/tmp/e2e-no-parts'];
      const update = await c.exec(['apt-get', ...only, 'update'], { env: APT_ENV });
      expect(update.exitCode, output(update)).not.toBe(0);
      expect(output(update)).toMatch(/NO_PUBKEY|is not signed/);
      const install = await c.exec(['apt-get', ...only, 'install', '-y', pkg], { env: APT_ENV });
      expect(install.exitCode, output(install)).not.toBe(0);
      expect(output(install)).toMatch(/Unable to locate package/);
      await c.run(['rm', '-f', '/etc/apt/e2e-wrong-key.list', '/usr/share/keyrings/e2e-unrelated.gpg']);
    });

    it('apt-get install: every service active and healthy, as the configured user, reading the env file', async () => {
      // Configure the client exactly as the repository's own .list file says (keyring first): the published
      // .list is the entry `verify --install` configures, with the same code.
      const aptUrl = `${srv.url}/${path.basename(APT_REPO_DIR)}`;
      expect(await fetchText(`${aptUrl}/${product.meta.name}.list`)).toBe(renderAptSourceList(product, aptUrl, true));
      await addAptRepository(c, product, aptUrl, (cmd, env) => c.run(cmd, { env }));
      await apt(['install', '-y', pkg]);

      await expectRunning(v1);
      const uid = Number((await c.run(['id', '-u', user])).stdout.trim());
      for (const s of product.services) {
        const h = await health(s);
        expect(h, s.name).toMatchObject({ status: 'ok', version: v1, user, uid });
        expect(h.env, s.name).toEqual(s.env);
        expect(h.secrets, s.name).toEqual(Object.fromEntries(s.secrets.map((n) => [n, 'unset'])));
        // The process systemd supervises is the one answering, and ps agrees on its owner.
        // A frozen (PyInstaller one-file) payload answers from the bootloader's child: systemd supervises its parent.
        const mainPid = Number((await c.run(['systemctl', 'show', '--property=MainPID', '--value', `${s.name}.service`])).stdout.trim());
        expect(s.frozen ? h.ppid : h.pid, s.name).toBe(mainPid);
        expect((await c.run(['ps', '-o', 'user=', '-p', String(h.pid)])).stdout.trim(), s.name).toBe(user);
        // A PyInstaller one-file payload unpacks into its private runtime directory.
        if (s.frozen) expect(h.tmpdir, s.name).toBe(systemLayout(product).service(s).runtimeDir.path);
      }
      expect((await c.run(['systemctl', 'is-enabled', units.target])).stdout.trim()).toBe('enabled');

      // The admin sets the secrets (and overrides a default) in the env file, then restarts the product.
      await appendEnv();
      await c.run(['systemctl', 'restart', units.target]);
      await expectRunning(v1, { restarted: true });
      await expectEnvApplied();
    });

    it("the installed units pass this release's systemd-analyze verify, and its systemd logs no warning about them", async () => {
      const unitFiles = (await c.run(['dpkg', '-L', pkg])).stdout.split('\n').filter((f) => /\/systemd\/system\/[^/]+\.(service|target|socket|timer)$/.test(f));
      expect(unitFiles.length).toBeGreaterThan(units.services.length);
      const verify = await c.exec(['systemd-analyze', 'verify', ...unitFiles]);
      expect(verify.exitCode, output(verify)).toBe(0);
      expect(output(verify).trim(), 'systemd-analyze verify').toBe('');
      // PID 1's own warnings (deprecated settings, legacy paths, unknown keys) name the unit file.
      const warnings = (await c.run(['journalctl', '-b', '_PID=1', '-p', 'warning', '--no-pager', '-o', 'cat'])).stdout;
      const names = unitFiles.map((f) => path.posix.basename(f));
      expect(warnings.split('\n').filter((l) => names.some((n) => l.includes(n)))).toEqual([]);
    });

    it('apt-get upgrade to a newer published version: restarted on the new version, the edited env file kept, no prompt', async () => {
      const envBefore = await c.readFile(envFile);
      srv.root = built[v2]!.repoDir; // publish the next version (its repository still holds the first)
      await apt(['update']);
      const madison = (await c.run(['apt-cache', 'madison', pkg])).stdout;
      expect(madison).toContain(built[v1]!.debian);
      expect(madison).toContain(built[v2]!.debian);
      // stdin is /dev/null: a conffile prompt would fail the upgrade instead of hanging.
      const upgrade = await apt(['upgrade', '-y']);
      expect(output(upgrade)).not.toMatch(/Configuration file .* modified|\(Y\/I\/N\/O\/D\/Z\)/);
      expect((await c.run(['dpkg-query', '--show', '--showformat=${Version}', pkg])).stdout).toBe(built[v2]!.debian);

      await expectRunning(v2, { restarted: true });
      await expectEnvApplied();
      expect(await c.readFile(envFile)).toBe(envBefore);
      for (const suffix of ['.dpkg-dist', '.dpkg-new', '.dpkg-old']) expect(c.exists(envFile + suffix), suffix).toBe(false);
    });

    it('apt-get remove: services stopped and disabled, configuration kept; a reinstall starts them again', async () => {
      const envBefore = await c.readFile(envFile);
      await apt(['remove', '-y', pkg]);
      await expectStopped();
      expect((await c.run(['dpkg-query', '--show', '--showformat=${Status}', pkg])).stdout).toBe('deinstall ok config-files');
      expect(await c.readFile(envFile)).toBe(envBefore);
      for (const dir of runtimeDirs(product)) expect(c.exists(dir), dir).toBe(true);

      await apt(['install', '-y', pkg]);
      await expectRunning(v2, { restarted: true });
      expect((await c.run(['systemctl', 'is-enabled', units.target])).stdout.trim()).toBe('enabled');
      await expectEnvApplied();
    });

    it('apt-get purge: configuration, state, logs and the system user are gone', async () => {
      for (const dir of runtimeDirs(product)) expect(c.exists(dir), `${dir} before purge`).toBe(true);
      await apt(['purge', '-y', pkg]);
      await expectStopped();
      expect((await c.exec(['dpkg-query', '--show', pkg])).exitCode).not.toBe(0);
      expect(c.exists(envFile)).toBe(false);
      const configDir = dedicatedConfigDir(product);
      if (configDir) expect(c.exists(configDir), configDir).toBe(false);
      for (const dir of runtimeDirs(product)) expect(c.exists(dir), dir).toBe(false);
      expect((await c.exec(['getent', 'passwd', user])).exitCode).toBe(2);
      expect((await c.exec(['getent', 'group', group])).exitCode).toBe(2);
    });

    it("apt-get purge keeps an account and directories that existed before the package, and an admin's own file in the config dir", async () => {
      const { configDir } = product.def.install;
      await c.run(['groupadd', '--system', group]);
      await c.run(['useradd', '--system', '--gid', group, '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
      for (const dir of runtimeDirs(product)) await c.run(['mkdir', '-p', `${dir}/pre-existing`]);
      await c.run(['mkdir', '-p', configDir]);
      await c.run(['sh', '-c', `echo admin > ${configDir}/admin.conf`]);
      await apt(['install', '-y', pkg]);
      await apt(['purge', '-y', pkg]);
      expect((await c.exec(['dpkg-query', '--show', pkg])).exitCode).not.toBe(0);
      expect((await c.exec(['getent', 'passwd', user])).exitCode, 'the pre-existing user').toBe(0);
      expect((await c.exec(['getent', 'group', group])).exitCode, 'the pre-existing group').toBe(0);
      for (const dir of runtimeDirs(product)) expect(c.exists(`${dir}/pre-existing`), dir).toBe(true);
      expect(c.exists(`${configDir}/admin.conf`), 'the admin\'s file').toBe(true);
      expect(c.exists(envFile)).toBe(false);
      // Leave the root as the other tests expect it: no account, no directories.
      await c.run(['userdel', user]);
      await c.exec(['groupdel', group]);
      await c.run(['rm', '-rf', configDir, ...runtimeDirs(product)]);
    });

    it("Debian's rpm: the scriptlets enable and start the services, rpm -U upgrades, rpm -e stops them", async () => {
      const rpm = async (args: string[]) => {
        const r = await c.run([...RPM, ...args]);
        // rpm reports a failing scriptlet as a warning and still exits 0.
        expect(r.stderr, `rpm ${args.join(' ')}`).not.toMatch(/scriptlet failed|error:/i);
        return r;
      };
      await c.copyIn(built[v1]!.rpmFile, '/var/tmp/e2e/v1.rpm');
      await c.copyIn(built[v2]!.rpmFile, '/var/tmp/e2e/v2.rpm');
      // --nodeps: Debian's own packages (sh, systemd) are not in the rpm database.
      await rpm(['-i', '--nodeps', '/var/tmp/e2e/v1.rpm']);
      await expectRunning(v1, { restarted: true });
      expect((await c.run(['systemctl', 'is-enabled', units.target])).stdout.trim()).toBe('enabled');
      for (const s of product.services) expect((await health(s)).user, s.name).toBe(user);
      await appendEnv();
      await c.run(['systemctl', 'restart', units.target]);
      await expectRunning(v1, { restarted: true });
      await expectEnvApplied();
      const envBefore = await c.readFile(envFile);

      await rpm(['-U', '--nodeps', '/var/tmp/e2e/v2.rpm']);
      expect((await c.run([...RPM, '-q', '--queryformat', '%{VERSION}-%{RELEASE}', rpmPkg])).stdout).toBe(built[v2]!.rpm);
      await expectRunning(v2, { restarted: true });
      await expectEnvApplied();
      expect(await c.readFile(envFile)).toBe(envBefore);
      expect(c.exists(`${envFile}.rpmnew`)).toBe(false);

      await rpm(['-e', rpmPkg]);
      await expectStopped();
      expect((await c.exec([...RPM, '-q', rpmPkg])).exitCode).not.toBe(0);
    });

    it("the signed YUM repository with Debian's dnf (gpgcheck, repo_gpgcheck): installs, and a tampered repomd.xml is refused", async () => {
      await c.copyIn(baseProvides, '/var/tmp/e2e/base-provides.rpm');
      const yumUrl = `${srv.url}/${path.basename(YUM_REPO_DIR)}`;
      const repoFile = await fetchText(`${yumUrl}/${product.meta.name}.repo`);
      expect(repoFile).toMatch(/^gpgcheck=1$/m);
      expect(repoFile).toMatch(/^repo_gpgcheck=1$/m);

      const good = await dnfInstall('/var/tmp/dnf-good', repoFile);
      expect(good.exitCode, output(good)).toBe(0);
      expect(output(good)).toMatch(/Key imported successfully/);
      const q = await c.run(['rpm', '--root', '/var/tmp/dnf-good', '-q', '--queryformat', '%{VERSION}-%{RELEASE}', rpmPkg]);
      expect(q.stdout).toBe(built[v2]!.rpm);

      // The same repository with one byte of repomd.xml changed, served next to it: the signature no longer matches.
      const tampered = path.join(work, `${product.meta.name}-${suite}-tampered`);
      await cp(path.join(built[v2]!.repoDir, path.basename(YUM_REPO_DIR)), tampered, { recursive: true });
      const repomd = path.join(tampered, 'repodata', 'repomd.xml');
      const original = await readFile(repomd, 'utf8');
      const changed = original.replace(/<revision>(\d+)<\/revision>/, (_m, n: string) => `<revision>${Number(n) + 1}</revision>`);
      expect(changed).not.toBe(original);
      await writeFile(repomd, changed);
      const evil = await serveDirectory(tampered);
      try {
        const bad = await dnfInstall('/var/tmp/dnf-tampered', repoFile.split(yumUrl).join(evil.url));
        expect(bad.exitCode, output(bad)).not.toBe(0);
        expect(output(bad)).toMatch(/repomd\.xml GPG signature verification error|Bad GPG signature/);
        expect((await c.exec(['rpm', '--root', '/var/tmp/dnf-tampered', '-q', rpmPkg])).exitCode).not.toBe(0);
        expect(evil.requests.map((r) => r.path)).toContain('/repodata/repomd.xml');
      } finally {
        await evil.close();
      }
    });

    // --- helpers (closures over this product's container) ---

    async function health(s: Service): Promise<Health> {
      const port = s.health?.portNumber ?? s.ports[0]!.port;
      const r = await c.run(['curl', '-fsS', '--max-time', '5', `http://127.0.0.1:${port}${s.health?.path ?? '/healthz'}`]);
      return JSON.parse(r.stdout) as Health;
    }

    /** Every unit active and every service answering on `version` (with new PIDs when `restarted`). */
    async function expectRunning(version: string, opts: { restarted?: boolean } = {}): Promise<void> {
      const pids = new Map<string, number>();
      await c.waitFor(`${units.target} and its services active on ${version}`, async () => {
        const active = await c.exec(['systemctl', 'is-active', units.target, ...units.services]);
        if (active.exitCode !== 0) return false;
        for (const s of product.services) {
          const h = await health(s);
          if (h.version !== version) return false;
          if (opts.restarted && h.pid === lastPids.get(s.name)) return false;
          pids.set(s.name, h.pid);
        }
        return true;
      }, 60_000);
      lastPids = pids;
    }

    async function expectStopped(): Promise<void> {
      for (const unit of [units.target, ...units.services]) {
        expect((await c.exec(['systemctl', 'is-active', unit])).stdout.trim(), unit).not.toBe('active');
      }
      expect((await c.exec(['systemctl', 'is-enabled', units.target])).stdout.trim()).not.toBe('enabled');
      expect((await c.exec(['sh', '-c', 'ls /etc/systemd/system/*.wants/ 2>/dev/null'])).stdout.split('\n')).not.toContain(units.target);
      for (const s of product.services) {
        for (const p of s.ports) expect((await c.exec(['curl', '-fsS', '--max-time', '3', `http://127.0.0.1:${p.port}/`])).exitCode, `${s.name} port ${p.port}`).not.toBe(0);
      }
      expect((await c.exec(['pgrep', '-u', user])).exitCode, `processes of ${user}`).not.toBe(0);
    }

    /** Appends the secrets and the override to the env file the way an admin would (owner and mode untouched). */
    async function appendEnv(): Promise<void> {
      const lines = Object.entries({ ...secrets, ...overrides }).map(([k, v]) => `${k}=${v}`);
      await c.run(['sh', '-c', 'printf "%s\\n" "$@" >> "$0"', envFile, ...lines]);
    }

    async function expectEnvApplied(): Promise<void> {
      for (const s of product.services) {
        const h = await health(s);
        const expected = Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, overrides[k] ?? v]));
        expect(h.env, s.name).toEqual(expected);
        expect(h.secrets, s.name).toEqual(Object.fromEntries(s.secrets.map((n) => [n, `sha256:${sha256(secrets[n]!).slice(0, 16)}`])));
      }
    }

    /** dnf into an empty --installroot, the repository configured by `repoFile`; scriptlets off (no shell there). */
    async function dnfInstall(installRoot: string, repoFile: string): Promise<ExecResult> {
      await c.run(['rpm', '--root', installRoot, '--initdb']);
      await c.run(['rpm', '--root', installRoot, '--install', '--justdb', '--nodeps', '/var/tmp/e2e/base-provides.rpm']);
      await c.writeFile(`${installRoot}/etc/yum.repos.d/${product.meta.name}.repo`, repoFile);
      return c.exec([
        'dnf',
        '--assumeyes',
        `--installroot=${installRoot}`,
        '--releasever=12',
        `--setopt=reposdir=${installRoot}/etc/yum.repos.d`,
        '--setopt=tsflags=noscripts',
        'install',
        rpmPkg,
      ]);
    }
  });
});

// --- host side ---

async function build(definition: string, version: string, out: string, repoUrl: string, repoBase?: string): Promise<BuiltVersion> {
  const args = [CLI, 'build', '--snapshot', '--config', definition, '--platform', PLATFORM, '--target', TARGETS, '--version', version, '--out', out, '--signing-key', releaseKey, '--repo-url', repoUrl];
  if (repoBase) args.push('--repo-base', repoBase);
  const r = await execa(process.execPath, args, { cwd: ROOT, reject: false, all: true, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new Error(`stigmer-dist ${args.slice(1).join(' ')} exited ${r.exitCode}:\n${r.all}`);
  const dir = path.join(out, version);
  const plan = JSON.parse(await readFile(path.join(dir, 'plan.json'), 'utf8')) as {
    versions: { semver: string; debian: string; rpm: { version: string; release: string } };
    artifacts: { path: string; role: string; release: boolean }[];
  };
  // The release assets (the rpm target also plans the unsigned RPM the signed one is made from).
  const one = (role: string) => {
    const found = plan.artifacts.filter((a) => a.role === role && a.release);
    if (found.length !== 1) throw new Error(`expected one ${role} in ${dir}/plan.json, found ${found.length}`);
    return path.join(dir, found[0]!.path);
  };
  // The tree the apt/ and yum/ folders share, as it would be published.
  const repoDir = path.dirname(path.join(dir, APT_REPO_DIR));
  return {
    semver: plan.versions.semver,
    debian: plan.versions.debian,
    rpm: `${plan.versions.rpm.version}-${plan.versions.rpm.release}`,
    repoDir,
    deb: one('deb'),
    rpmFile: one('rpm'),
  };
}

async function generateKey(home: string, userId: string): Promise<string> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  await gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', userId, 'rsa3072', 'sign', 'never']);
  return home;
}

function gpg(home: string, args: string[]) {
  return execa('gpg', ['--homedir', home, '--batch', '--no-tty', ...args], { stdin: 'ignore' });
}

/** A noarch RPM that only provides /bin/sh (built with the host's rpmbuild). */
async function buildBaseProvidesRpm(top: string): Promise<string> {
  await mkdir(path.join(top, 'SPECS'), { recursive: true });
  const spec = path.join(top, 'SPECS', 'e2e-base-provides.spec');
  await writeFile(
    spec,
    [
      'Name: e2e-base-provides',
      'Version: 1',
      'Release: 1',
      'Summary: Stands in for the base system in an empty dnf installroot',
      'License: MIT',
      'BuildArch: noarch',
      'Provides: /bin/sh',
      '',
      '%description',
      'Test fixture: lets dnf resolve a package that requires /bin/sh in an empty installroot.',
      '',
      '%files',
      '',
    ].join('\n'),
  );
  await execa('rpmbuild', ['-bb', '--define', `_topdir ${top}`, spec], { stdin: 'ignore' });
  const out = path.join(top, 'RPMS', 'noarch', 'e2e-base-provides-1-1.noarch.rpm');
  await copyFile(out, path.join(top, 'e2e-base-provides.rpm'));
  return path.join(top, 'e2e-base-provides.rpm');
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.text();
}

function output(r: ExecResult): string {
  return `${r.stdout}\n${r.stderr}`;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
