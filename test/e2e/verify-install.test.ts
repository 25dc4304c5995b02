// Issue 18, "Proof": `verify --install` passes on a snapshot build of the acme fixture on Debian 12 (the .deb from
// its signed APT repository, the .rpm through its scriptlets, the signed YUM repository with dnf, install.sh as a
// user), and fails, naming the step and keeping its log, on broken builds: a repository signed with another key,
// a wrong health port, a unit with a wrong binary path, a postinst that does not start the target, an MSI whose
// service cannot start; and the MSI's MajorUpgrade from --from-version (the acme MSI built at two versions, the
// older one laid out in a --repo-base tree; then the same tree without it). The broken .deb builds are the good
// one taken apart with dpkg-deb, edited, rebuilt, and the repository re-indexed and re-signed by the apt-repo
// target's own code; they run through the CLI (--json).
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProduct } from '../../src/product/load.ts';
import { cacheDir } from '../../src/util/cache-dir.ts';
import { buildStandins } from '../../src/payloads/standin.ts';
import { signingSession } from '../../src/signing/gpg.ts';
import { APT_REPO_DIR, aptKeyringName, aptRepoMeta, buildAptRepo } from '../../src/targets/apt-repo/index.ts';
import { msiComponents, windowsServiceName } from '../../src/targets/msi/model.ts';
import { msiFileName, productCode } from '../../src/targets/release.ts';
import { mapVersion } from '../../src/version.ts';
import { formatInstallTable, runInstallVerify, type InstallRow } from '../../src/verify/install/index.ts';
import { silentReporter } from '../../src/util/progress.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'stigmer-dist.js');
const DEFINITION = path.join(ROOT, 'test/fixtures/acme/acme.yaml');
const PLATFORM = process.arch === 'arm64' ? 'linux-arm64' : 'linux-amd64';

describe('verify --install (acme)', () => {
  const product = loadProduct(DEFINITION);
  const version = product.meta.version;
  let work: string;
  let dist: string;

  /** Only the .deb and its repository: the broken builds below fail in the .deb's rows. */
  let debDist: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'stigmer-e2e-vinstall-'));
    await cli(['build', '--snapshot', '--config', DEFINITION, '--platform', PLATFORM, '--target', 'deb,rpm,apt-repo,yum-repo,archive,installer,checksums', '--out', path.join(work, 'dist')]);
    dist = path.join(work, 'dist', version);
    await cli(['build', '--snapshot', '--config', DEFINITION, '--platform', PLATFORM, '--target', 'deb,apt-repo', '--out', path.join(work, 'deb-dist')]);
    debDist = path.join(work, 'deb-dist', version);
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('passes every step on the snapshot build, on Debian 12 and Debian 13', async () => {
    const distros = ['debian-12', 'debian-13'] as const;
    const { rows } = await runInstallVerify({ dir: dist, product, distros: [...distros], settleSeconds: 5, report: silentReporter });
    const table = formatInstallTable(rows);
    expect(rows.filter((r) => r.result !== 'ok'), table).toEqual([]);
    const running = ['active', 'health', 'settle', 'user', 'env-file'];
    const rpm = readdirSync(dist).find((f) => f.endsWith('.rpm'))!;
    // Each release in turn: the .deb, the .rpm, the YUM repository, install.sh.
    expect(rows.map((r) => `${r.platform} ${r.artifact} ${r.step}`), table).toEqual(
      distros.flatMap((d) => [
        ...['boot', 'repository', 'install', ...running, 'remove', 'purge'].map((step) => `${d} ${debName(dist)} ${step}`),
        ...['rpm -i', ...running, 'rpm -e'].map((step) => `${d} ${rpm} ${step}`),
        ...['dnf repository', 'dnf install'].map((step) => `${d} repo/yum/ ${step}`),
        ...['install.sh', 'user units', 'health', 'uninstall'].map((step) => `${d} install.sh ${step}`),
      ]),
    );
    for (const health of rows.filter((r) => r.step === 'health')) {
      for (const s of product.services) expect(health.detail, table).toContain(`${s.name}: GET http://127.0.0.1:${s.health!.portNumber}${s.health!.path} ok`);
    }
    expect(rows.find((r) => r.step === 'dnf install')!.detail, table).toMatch(/gpgcheck=1/);
    expect(rows.find((r) => r.step === 'user units')!.detail, table).toContain('as verify-install');
  });

  it('fails at "active", naming the unit and systemd\'s reason, when a unit starts a binary that is not there', async () => {
    const relayd = product.services[0]!;
    const broken = await brokenDeb('wrong-exec', async (root) => {
      const unit = path.join(root, 'usr/lib/systemd/system', `${relayd.name}.service`);
      const text = await readFile(unit, 'utf8');
      expect(text).toMatch(/^ExecStart=\/usr\/bin\//m);
      await writeFile(unit, text.replace(/^ExecStart=\/usr\/bin\//m, 'ExecStart=/usr/bin/no-such-'));
    });
    const { exitCode, rows, stderr } = await verifyCli(broken);
    expect(exitCode, stderr).toBe(1);
    const failed = rows.filter((r) => r.result === 'FAIL');
    expect(failed.map((r) => r.step), stderr).toEqual(['active']);
    expect(failed[0]!.detail).toContain(`${relayd.name}.service is`);
    // systemd's own words for the cause, from the unit's journal: 203 is its EXEC failure.
    expect(failed[0]!.detail).toContain('exit status 203');
    expect(failed[0]!.detail).toMatch(/(Failed to locate executable|Failed at step EXEC spawning) \/usr\/bin\/no-such-/);
    await expectKeptLog(failed[0]!, 'active');
    expect(stderr).toContain('verify --install failed: debian-12 active');
  });

  it('fails at "active", saying the units were never started, when the postinst does not start the target', async () => {
    const target = `${product.meta.name}.target`;
    const broken = await brokenDeb('no-start', async (root) => {
      const postinst = path.join(root, 'DEBIAN', 'postinst');
      const text = await readFile(postinst, 'utf8');
      const start = /^\s*deb-systemd-invoke start .*$/m;
      expect(text).toMatch(start);
      await writeFile(postinst, text.replace(start, '\t\t\t: # broken: the target is not started'));
    });
    const { exitCode, rows, stderr } = await verifyCli(broken);
    expect(exitCode, stderr).toBe(1);
    const failed = rows.filter((r) => r.result === 'FAIL');
    expect(failed.map((r) => r.step), stderr).toEqual(['active']);
    expect(failed[0]!.detail).toContain(`${target} is inactive/dead, never started`);
    await expectKeptLog(failed[0]!, 'active');
  });

  it('fails at "install" for the MSI, naming the service and quoting its log, when its program exits at once', async () => {
    // The broken build: relayd.exe is a program that exits as soon as it starts (the stand-in of the CLI
    // component, which has no service to run, prints a line and exits 0).
    const windows = 'windows-amd64' as const;
    const payloads = path.join(work, 'msi-payloads');
    await mkdir(path.join(payloads, windows), { recursive: true });
    const built = await buildStandins({ product, platforms: [windows], version, cacheDir: cacheDir() });
    const service = product.components.find((c) => c.service && c.platforms.includes(windows))!.service!;
    const cliComp = product.components.find((c) => !c.service && c.platforms.includes(windows))!;
    for (const c of product.components.filter((x) => x.platforms.includes(windows))) {
      const from = built.find((p) => p.component === (c.service?.name === service.name ? cliComp.name : c.name))!;
      await cp(from.path, path.join(payloads, windows, `${c.binary}.exe`));
    }
    const out = path.join(work, 'msi-exits');
    await cli(['build', '--from', payloads, '--config', DEFINITION, '--platform', windows, '--target', 'msi', '--version', version, '--out', out, '--unsigned-windows']); // a release build: no code-signing key here
    const { exitCode, rows, stderr } = await verifyCli(out, ['--distro', 'windows']);
    expect(exitCode, stderr).toBe(1);
    const failed = rows.filter((r) => r.result === 'FAIL');
    // msiexec starts the services and waits (ServiceControl Wait="yes"): one that stops fails the install,
    // which is rolled back, as on Windows (error 1920). The detail quotes the service host's log.
    expect(failed.map((r) => `${r.platform} ${r.step}`), stderr).toEqual(['windows install']);
    expect(failed[0]!.detail).toContain(`${windowsServiceName(service)}: `);
    expect(failed[0]!.detail).toMatch(/exited with code 0; restart policy on-failure: service stops/);
    expect(rows.filter((r) => r.result === 'skip').map((r) => r.step)).toEqual(['running', 'health', 'settle', 'uninstall']);
    await expectKeptLog(failed[0]!, 'install');
  });

  /**
   * A copy of the .deb-only dist whose .deb is taken apart (dpkg-deb -R), edited by `edit`, rebuilt (dpkg-deb -b),
   * and whose APT repository is re-indexed and re-signed (buildAptRepo, the apt-repo target's code) with a new
   * key, exported as the repository's keyring. Returns the --out folder.
   */
  async function brokenDeb(name: string, edit: (root: string) => Promise<void>): Promise<string> {
    const out = path.join(work, name);
    const copy = path.join(out, version);
    await cp(debDist, copy, { recursive: true });
    const deb = path.join(copy, debName(copy));
    const root = path.join(work, `${name}-unpacked`);
    await execa('dpkg-deb', ['-R', deb, root]);
    await edit(root);
    await execa('dpkg-deb', ['--root-owner-group', '-Zxz', '-b', root, deb]);
    const repoDir = path.join(copy, APT_REPO_DIR);
    await rm(path.join(repoDir, 'pool'), { recursive: true, force: true });
    const session = signingSession({ mode: 'key', key: { kind: 'file', path: await releaseKey(), label: 'the test release key' } }, { sourceDateEpoch: 1700000000 });
    try {
      await buildAptRepo({ repoDir, packages: [deb], signer: await session.signer(), meta: aptRepoMeta(product), sourceDateEpoch: 1700000000, keyringName: product.meta.name });
    } finally {
      await session.close();
    }
    return out;
  }

  function verifyCli(out: string, extra: string[] = ['--distro', 'debian-12']): Promise<VerifyInstallRun> {
    return verifyInstallCli(['--cached-root', '--config', DEFINITION, '--version', version, '--out', out, ...extra]);
  }

  /** The failing step's log is kept, named after the platform and step, and holds the error. */
  async function expectKeptLog(row: InstallRow, step: string): Promise<void> {
    expect(row.log, JSON.stringify(row)).toBeDefined();
    expect(path.basename(row.log!)).toBe(`${row.platform}-${step}.log`);
    expect(row.detail).toContain(`(log: ${row.log})`);
    process.stderr.write(`${row.platform} ${row.step} FAIL: ${row.detail}\n`);
    const text = await readFile(row.log!, 'utf8');
    expect(text).toContain(`step: ${step}`);
    await rm(path.dirname(row.log!), { recursive: true, force: true });
  }

  it('fails at "repository", keeping its log, when the repository is signed with another key', async () => {
    const broken = path.join(work, 'wrong-key', version);
    await mkdir(path.dirname(broken), { recursive: true });
    await cp(debDist, broken, { recursive: true });
    // The keyring users are told to install belongs to an unrelated key.
    const home = path.join(work, 'gpg-other');
    await mkdir(home, { recursive: true, mode: 0o700 });
    const gpg = (a: string[]) => execa('gpg', ['--homedir', home, '--batch', '--no-tty', ...a], { stdin: 'ignore' });
    await gpg(['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Unrelated <other@e2e.invalid>', 'rsa3072', 'sign', 'never']);
    await gpg(['--yes', '--output', path.join(broken, APT_REPO_DIR, aptKeyringName(product)), '--export']);
    await execa('gpgconf', ['--homedir', home, '--kill', 'all'], { reject: false });

    const { rows, logDir } = await runInstallVerify({ dir: broken, product, distros: ['debian-12'], settleSeconds: 5, report: silentReporter });
    const table = formatInstallTable(rows);
    const failed = rows.filter((r) => r.result === 'FAIL');
    expect(failed.map((r) => r.step), table).toEqual(['repository']);
    expect(failed[0]!.detail, table).toMatch(/NO_PUBKEY|not signed|signature/i);
    expect(rows.filter((r) => r.result === 'skip').map((r) => r.step)).toContain('install');
    const log = failed[0]!.log!;
    expect(log.startsWith(logDir) && existsSync(log), log).toBe(true);
    expect(await readFile(log, 'utf8')).toContain('apt-get update');
    await rm(logDir, { recursive: true, force: true });
  });

  it('fails at "health", naming the service, when a binary listens on another port than the definition declares', async () => {
    // The broken build: relayd's payload comes from a build whose definition gave it another port, so the
    // packaged unit and health check (from the real definition) probe a port nobody listens on.
    const defDir = path.join(work, 'other-port-def');
    await cp(path.dirname(DEFINITION), defDir, { recursive: true });
    const otherDef = path.join(defDir, path.basename(DEFINITION));
    const text = await readFile(otherDef, 'utf8');
    const relayd = product.services.find((s) => s.health?.type === 'http')!;
    const declared = `{ name: ${relayd.health!.port}, port: ${relayd.health!.portNumber} }`;
    expect(text).toContain(declared);
    await writeFile(otherDef, text.replace(declared, `{ name: ${relayd.health!.port}, port: ${relayd.health!.portNumber + 9} }`));
    const otherOut = path.join(work, 'other-port');
    await cli(['build', '--snapshot', '--config', otherDef, '--platform', PLATFORM, '--target', 'deb', '--out', otherOut]);

    // Payloads: every binary of the good build, relayd's replaced by the other build's.
    const payloads = path.join(work, 'payloads');
    const unpack = async (deb: string, into: string) => execa('dpkg-deb', ['-x', deb, into]);
    await unpack(path.join(dist, debName(dist)), path.join(work, 'good-deb'));
    await unpack(path.join(otherOut, version, debName(path.join(otherOut, version))), path.join(work, 'other-deb'));
    await mkdir(path.join(payloads, PLATFORM), { recursive: true });
    const linuxComponents = product.components.filter((c) => c.platforms.includes(PLATFORM));
    for (const c of linuxComponents) {
      const from = c.name === relayd.component ? 'other-deb' : 'good-deb';
      await cp(path.join(work, from, 'usr', 'bin', c.binary), path.join(payloads, PLATFORM, c.binary));
    }
    const key = await releaseKey();
    const out = path.join(work, 'wrong-port');
    await cli(['build', '--from', payloads, '--config', DEFINITION, '--platform', PLATFORM, '--target', 'deb,apt-repo', '--signing-key', key, '--out', out]);

    const { rows, logDir } = await runInstallVerify({ dir: path.join(out, version), product, distros: ['debian-12'], settleSeconds: 5, report: silentReporter });
    const table = formatInstallTable(rows);
    const failed = rows.filter((r) => r.result === 'FAIL');
    expect(failed.map((r) => r.step), table).toEqual(['health']);
    expect(failed[0]!.detail, table).toContain(`${relayd.name}: GET http://127.0.0.1:${relayd.health!.portNumber}${relayd.health!.path} does not answer`);
    expect(existsSync(failed[0]!.log!)).toBe(true);
    await rm(logDir, { recursive: true, force: true });
  });

  async function cli(args: string[]): Promise<void> {
    const r = await execa(process.execPath, [CLI, ...args], { cwd: ROOT, reject: false, all: true, stdin: 'ignore' });
    if (r.exitCode !== 0) throw new Error(`stigmer-dist ${args.join(' ')} exited ${r.exitCode}:\n${r.all}`);
  }

  let releaseKeyFile: string | undefined;
  async function releaseKey(): Promise<string> {
    if (releaseKeyFile) return releaseKeyFile;
    const home = path.join(work, 'gpg-release');
    await mkdir(home, { recursive: true, mode: 0o700 });
    const gpg = (a: string[]) => execa('gpg', ['--homedir', home, '--batch', '--no-tty', ...a], { stdin: 'ignore' });
    await gpg(['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Release <release@e2e.invalid>', 'rsa3072', 'sign', 'never']);
    const file = path.join(work, 'release-key.asc');
    await gpg(['--armor', '--output', file, '--export-secret-keys']);
    await execa('gpgconf', ['--homedir', home, '--kill', 'all'], { reject: false });
    releaseKeyFile = file;
    return file;
  }
});

describe('verify --install through the CLI (packaging/stigmer.yaml: Debian 12, Debian 13, the MSI)', () => {
  it('passes every row of every platform on the snapshot build', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'stigmer-e2e-vinstall-stigmer-'));
    try {
      const definition = path.join(ROOT, 'packaging/stigmer.yaml');
      const version = loadProduct(definition).meta.version;
      const out = path.join(work, 'dist');
      // What `npm run snapshot` builds, for this host's Linux platform and Windows.
      const build = await execa(process.execPath, [CLI, 'build', '--snapshot', '--config', definition, '--platform', `${PLATFORM},windows-amd64`, '--out', out], { cwd: ROOT, reject: false, all: true, stdin: 'ignore' });
      expect(build.exitCode, build.all).toBe(0);
      const args = [CLI, 'verify', '--install', '--json', '--cached-root', '--settle', '5', '--config', definition, '--version', version, '--out', out];
      const r = await execa(process.execPath, args, { cwd: ROOT, reject: false, stdin: 'ignore', env: { CI: 'true' } });
      const rows = JSON.parse(r.stdout) as InstallRow[];
      const table = formatInstallTable(rows);
      expect(r.exitCode, `${table}\n${r.stderr}`).toBe(0);
      expect(rows.filter((row) => row.result !== 'ok'), table).toEqual([]);
      expect([...new Set(rows.map((row) => row.platform))]).toEqual(['debian-12', 'debian-13', 'windows']);
      for (const platform of ['debian-12', 'debian-13']) {
        const artifacts = [...new Set(rows.filter((row) => row.platform === platform).map((row) => row.artifact))];
        expect(artifacts, table).toEqual([expect.stringMatching(/^stigmer_.*\.deb$/), expect.stringMatching(/^stigmer-.*\.rpm$/), 'repo/yum/', 'install.sh']);
      }
      process.stderr.write(`${table}\n`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe('verify --install --distro windows --from-version (acme): the MSI\'s MajorUpgrade', () => {
  const product = loadProduct(DEFINITION);
  const OLD = '0.1.0';
  const NEW = '0.1.1';
  let work: string;
  let out: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'stigmer-e2e-vinstall-msiup-'));
    out = path.join(work, 'dist');
    for (const version of [OLD, NEW]) {
      const r = await execa(process.execPath, [CLI, 'build', '--snapshot', '--config', DEFINITION, '--platform', 'windows-amd64', '--target', 'msi', '--version', version, '--out', out], { cwd: ROOT, reject: false, all: true, stdin: 'ignore' });
      expect(r.exitCode, r.all).toBe(0);
    }
  }, 900_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  function upgradeCli(repoBase: string): Promise<VerifyInstallRun> {
    return verifyInstallCli(['--distro', 'windows', '--config', DEFINITION, '--version', NEW, '--out', out, '--from-version', OLD, '--repo-base', repoBase]);
  }

  it('installs the older MSI from --repo-base, upgrades it in place to the build\'s, then uninstalls clean', async () => {
    // The published tree: the older release's MSI under its release asset name, directly in --repo-base.
    const published = path.join(work, 'published');
    await mkdir(published, { recursive: true });
    await cp(path.join(out, OLD, msiFileName(product, OLD)), path.join(published, msiFileName(product, OLD)));
    const { exitCode, rows, stderr } = await upgradeCli(published);
    const table = formatInstallTable(rows);
    expect(exitCode, `${table}\n${stderr}`).toBe(0);
    expect(rows.map((r) => `${r.artifact} ${r.platform} ${r.step} ${r.result}`), table).toEqual(
      ['prefix', `install ${OLD}`, 'upgrade', 'running', 'health', 'settle', 'uninstall'].map((step) => `${msiFileName(product, NEW)} windows ${step} ok`),
    );
    const row = (step: string) => rows.find((r) => r.step === step)!.detail;
    const code = (version: string) => `{${productCode(product, mapVersion(version)).toUpperCase()}}`;
    expect(row(`install ${OLD}`), table).toContain(`${code(OLD)} ${OLD}`);
    expect(row('upgrade'), table).toContain(`only ${code(NEW)} ${NEW} registered`);
    expect(row('upgrade'), table).toContain(`edited ${path.basename(product.def.install.envFile)} kept`);
    for (const s of product.services.filter((x) => msiComponents(product).some((c) => c.service?.name === x.name))) {
      // The stand-ins report the version they were built as: the old binaries, then the new ones.
      if (s.health?.type !== 'http') continue;
      expect(row(`install ${OLD}`), table).toContain(`${s.name}: GET http://127.0.0.1:${s.health.portNumber}${s.health.path} ok, version ${OLD}`);
      expect(row('upgrade'), table).toContain(`${s.name}: GET http://127.0.0.1:${s.health.portNumber}${s.health.path} ok, version ${NEW}`);
    }
    expect(row('uninstall'), table).toContain('no product registered');
    process.stderr.write(`${table}\n`);
  });

  it('fails the "install X" row, naming the path it looked at, when --repo-base has no MSI of X', async () => {
    const empty = path.join(work, 'published-empty');
    await mkdir(path.join(empty, 'apt'), { recursive: true });
    const { exitCode, rows, stderr } = await upgradeCli(empty);
    const table = formatInstallTable(rows);
    expect(exitCode, `${table}\n${stderr}`).toBe(1);
    const failed = rows.filter((r) => r.result === 'FAIL');
    expect(failed.map((r) => `${r.platform} ${r.step}`), table).toEqual([`windows install ${OLD}`]);
    expect(failed[0]!.detail).toContain(`no MSI of ${OLD} at ${path.join(empty, msiFileName(product, OLD))}`);
    expect(rows.filter((r) => r.result === 'skip').map((r) => r.step)).toEqual(['upgrade', 'running', 'health', 'settle', 'uninstall']);
    expect(stderr).toContain(`verify --install failed: windows install ${OLD}`);
    await rm(path.dirname(failed[0]!.log!), { recursive: true, force: true });
  });
});

interface VerifyInstallRun {
  exitCode: number;
  rows: InstallRow[];
  stderr: string;
}

/** `stigmer-dist verify --install --json --settle 5 ...args` through the CLI: its exit code, JSON rows and stderr. */
async function verifyInstallCli(extra: string[]): Promise<VerifyInstallRun> {
  const args = [CLI, 'verify', '--install', '--json', '--settle', '5', ...extra];
  const r = await execa(process.execPath, args, { cwd: ROOT, reject: false, stdin: 'ignore', env: { CI: 'true' } });
  let rows: InstallRow[];
  try {
    rows = JSON.parse(r.stdout) as InstallRow[];
  } catch {
    throw new Error(`stigmer-dist ${args.slice(1).join(' ')}: stdout is not the JSON rows (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
  }
  return { exitCode: r.exitCode ?? -1, rows, stderr: r.stderr };
}

function debName(dir: string): string {
  const debs = readdirSync(dir).filter((f) => f.endsWith('.deb'));
  if (debs.length !== 1) throw new Error(`expected one .deb in ${dir}, found ${debs.join(', ') || 'none'}`);
  return debs[0]!;
}
