// Issue 18, "Proof": `verify --install` passes on a snapshot build of the acme fixture on Debian 12, and fails,
// naming the step and keeping its log, on a build whose APT repository is signed with another key.
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProduct } from '../../src/product/load.ts';
import { APT_REPO_DIR, aptKeyringName } from '../../src/targets/apt-repo/index.ts';
import { formatInstallTable, runInstallVerify } from '../../src/verify/install/index.ts';
import { silentReporter } from '../../src/util/progress.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'stigmer-dist.js');
const DEFINITION = path.join(ROOT, 'test/fixtures/acme/acme.yaml');
const PLATFORM = process.arch === 'arm64' ? 'linux-arm64' : 'linux-amd64';

describe('verify --install (acme, Debian 12)', () => {
  const product = loadProduct(DEFINITION);
  const version = product.meta.version;
  let work: string;
  let dist: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'stigmer-e2e-vinstall-'));
    const args = [CLI, 'build', '--snapshot', '--config', DEFINITION, '--platform', PLATFORM, '--target', 'deb,apt-repo', '--out', path.join(work, 'dist')];
    const r = await execa(process.execPath, args, { cwd: ROOT, reject: false, all: true, stdin: 'ignore' });
    if (r.exitCode !== 0) throw new Error(`stigmer-dist ${args.slice(1).join(' ')} exited ${r.exitCode}:\n${r.all}`);
    dist = path.join(work, 'dist', version);
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('passes every step on the snapshot build', async () => {
    const { rows } = await runInstallVerify({ dir: dist, product, distros: ['debian-12'], settleSeconds: 5, report: silentReporter });
    const table = formatInstallTable(rows);
    expect(rows.filter((r) => r.result !== 'ok'), table).toEqual([]);
    expect(rows.map((r) => r.step)).toEqual(['boot', 'repository', 'install', 'active', 'health', 'settle', 'user', 'env-file', 'remove', 'purge']);
    const health = rows.find((r) => r.step === 'health')!;
    for (const s of product.services) expect(health.detail, table).toContain(`${s.name}: GET http://127.0.0.1:${s.health!.portNumber}${s.health!.path} ok`);
  });

  it('fails at "repository", keeping its log, when the repository is signed with another key', async () => {
    const broken = path.join(work, 'wrong-key', version);
    await mkdir(path.dirname(broken), { recursive: true });
    await cp(dist, broken, { recursive: true });
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

  async function releaseKey(): Promise<string> {
    const home = path.join(work, 'gpg-release');
    await mkdir(home, { recursive: true, mode: 0o700 });
    const gpg = (a: string[]) => execa('gpg', ['--homedir', home, '--batch', '--no-tty', ...a], { stdin: 'ignore' });
    await gpg(['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Release <release@e2e.invalid>', 'rsa3072', 'sign', 'never']);
    const file = path.join(work, 'release-key.asc');
    await gpg(['--armor', '--output', file, '--export-secret-keys']);
    await execa('gpgconf', ['--homedir', home, '--kill', 'all'], { reject: false });
    return file;
  }
});

function debName(dir: string): string {
  const debs = readdirSync(dir).filter((f) => f.endsWith('.deb'));
  if (debs.length !== 1) throw new Error(`expected one .deb in ${dir}, found ${debs.join(', ') || 'none'}`);
  return debs[0]!;
}
