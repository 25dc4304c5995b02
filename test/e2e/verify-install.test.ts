// Issue 18, "Proof": `verify --install` passes on a snapshot build of the acme fixture on Debian 12, and fails,
// naming the step and keeping its log, on a build whose APT repository is signed with another key.
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
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
});

