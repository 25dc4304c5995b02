// Interrupting a signed build: SIGTERM, SIGINT and SIGHUP during signing and during compression stop the
// children (xz, gpg, gpg-agent), remove the signing home (key, passphrase), temp and staging folders, and
// exit 128 + the signal. The build stops at the named phase through the STIGMER_DIST_TEST_PAUSE_AT hook, so
// the signal lands exactly there. A staging folder of a build killed with SIGKILL is removed by the next build.
import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProduct } from '../src/product/load.ts';
import { descendants } from '../src/util/cleanup.ts';
import { ACME_YAML, CLI, tempDir } from './helpers.ts';
import { elfFixtures, linuxPayloadDir } from './linux-helpers.ts';
import { makeKey, type TestKey } from './repo-helpers.ts';

const PASSPHRASE = 'interrupt-test passphrase 8f3c';
let keyDir: string;
let key: TestKey;
let payloads: string;

beforeAll(async () => {
  keyDir = mkdtempSync(path.join(os.tmpdir(), 'sd-int-key-'));
  key = await makeKey(keyDir, 'interrupt', PASSPHRASE);
  payloads = linuxPayloadDir(loadProduct(ACME_YAML), await elfFixtures(), keyDir, ['linux-amd64']);
});
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

function startBuild(opts: { out: string; tmp: string; pauseAt?: string; targets: string }): ResultPromise {
  return execa(
    process.execPath,
    [CLI, 'build', '--config', ACME_YAML, '--version', '2.4.0', '--platform', 'linux-amd64', '--from', payloads, '--target', opts.targets, '--out', opts.out],
    {
      env: {
        CI: 'true',
        SOURCE_DATE_EPOCH: '1700000000',
        TMPDIR: opts.tmp,
        NODE_DISABLE_COMPILE_CACHE: '1', // Node's own cache would live in TMPDIR
        STIGMER_DIST_SIGNING_KEY: key.secretFile,
        STIGMER_DIST_SIGNING_PASSPHRASE: PASSPHRASE,
        ...(opts.pauseAt ? { STIGMER_DIST_TEST_PAUSE_AT: opts.pauseAt } : {}),
      },
      reject: false,
      stdin: 'ignore',
      buffer: { stderr: true },
    },
  ) as unknown as ResultPromise;
}

/** Resolves when the build announces it paused at the phase (its stderr line). */
function paused(sub: ResultPromise, phase: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    sub.stderr!.on('data', (c: Buffer) => {
      seen += c.toString();
      if (seen.includes(`paused at ${phase}`)) resolve();
    });
    sub.once('exit', () => reject(new Error(`the build ended before it paused at ${phase}:\n${seen}`)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line names `dir` (a gpg-agent started with --homedir below it). */
async function processesMentioning(dir: string): Promise<string> {
  return (await execa('pgrep', ['-af', dir], { reject: false })).stdout.trim();
}

const CASES: { signal: NodeJS.Signals; phase: string; code: number }[] = [
  { signal: 'SIGTERM', phase: 'signing', code: 143 },
  { signal: 'SIGINT', phase: 'signing', code: 130 },
  { signal: 'SIGHUP', phase: 'signing', code: 129 },
  { signal: 'SIGTERM', phase: 'compression', code: 143 },
  { signal: 'SIGINT', phase: 'compression', code: 130 },
];

describe('an interrupted signed build leaves nothing behind', () => {
  for (const c of CASES) {
    it(`${c.signal} during ${c.phase}: exit ${c.code}, no key, passphrase, agent, child, temp or staging folder`, async () => {
      const work = tempDir('sd-int-');
      const tmp = path.join(work, 'tmp');
      const out = path.join(work, 'dist');
      mkdirSync(tmp);
      const sub = startBuild({ out, tmp, pauseAt: c.phase, targets: 'deb,apt-repo' });
      await paused(sub, c.phase);
      // What is there at that point: the children running, and (while signing) the key and passphrase.
      const children = descendants(sub.pid!);
      if (c.phase === 'compression') expect((await execa('ps', ['-o', 'comm=', '-p', children.join(',')])).stdout).toMatch(/^xz$/m);
      if (c.phase === 'signing') {
        const home = readdirSync(tmp).find((f) => f.startsWith('sd-gpg-'));
        expect(home).toBeDefined();
        expect(existsSync(path.join(tmp, home!, 'passphrase'))).toBe(true);
        expect(await processesMentioning(path.join(tmp, home!))).toMatch(/gpg-agent/);
      }
      expect(readdirSync(out).filter((f) => f.startsWith('.staging-'))).toHaveLength(1);

      sub.kill(c.signal);
      const r = await sub;
      expect(r.exitCode ?? r.signal, String(r.stderr)).toBe(c.code);
      expect(readdirSync(tmp)).toEqual([]);
      expect(readdirSync(out)).toEqual([]);
      expect(await processesMentioning(tmp)).toBe('');
      expect(children.filter(alive)).toEqual([]);
      expect(String(r.stderr)).not.toContain(PASSPHRASE);
    });
  }

  it('removes the staging folder of a build killed with SIGKILL once its process is gone', async () => {
    const work = tempDir('sd-int-');
    const tmp = path.join(work, 'tmp');
    const out = path.join(work, 'dist');
    mkdirSync(tmp);
    const killed = startBuild({ out, tmp, pauseAt: 'compression', targets: 'deb' });
    await paused(killed, 'compression');
    killed.kill('SIGKILL');
    await killed;
    const left = readdirSync(out).filter((f) => f.startsWith('.staging-'));
    expect(left).toEqual([`.staging-2.4.0-${killed.pid}`]);

    const next = await startBuild({ out, tmp, targets: 'deb' });
    expect(next.exitCode, String(next.stderr)).toBe(0);
    expect(String(next.stderr)).toContain(`left by an interrupted build (process ${killed.pid} is gone)`);
    expect(readdirSync(out)).toEqual(['2.4.0']);
  });
});
