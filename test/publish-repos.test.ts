// `publish --repo-dir DIR`: this build's APT and YUM repositories merged into a directory ready to sync to
// static hosting. Older versions stay installable (checked with apt itself), a published package is never
// replaced, and a merge that needs new signatures without a key changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../src/errors.ts';
import { writeManifest } from '../src/manifest/manifest.ts';
import { makePlan } from '../src/plan/plan.ts';
import { loadProduct } from '../src/product/load.ts';
import { publish } from '../src/publish/index.ts';
import { GpgSigner } from '../src/signing/gpg.ts';
import { aptRepoMeta, buildAptRepo } from '../src/targets/apt-repo/index.ts';
import { buildYumRepo } from '../src/targets/yum-repo/index.ts';
import { hashFile } from '../src/util/fsx.ts';
import type { Reporter } from '../src/util/progress.ts';
import { ACME_YAML } from './helpers.ts';
import { aptClient, makeDeb, makeKey, makeRpm, type TestKey } from './repo-helpers.ts';

const EPOCH = 1700000000;
const product = loadProduct(ACME_YAML);
let tmp: string;
let key: TestKey;
let signer: GpgSigner;
let repoDir: string;
const debs: Record<string, string> = {};
const rpms: Record<string, string> = {};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sd-pubrepo-'));
  key = await makeKey(tmp, 'publisher');
  for (const v of ['1.0.0', '1.1.0', '1.2.0']) {
    debs[v] = await makeDeb(tmp, { name: 'acme', version: `${v}-1`, arch: 'amd64' });
    rpms[v] = await makeRpm(tmp, { name: 'acme', version: v });
  }
  debs.conflict = await makeDeb(tmp, { name: 'acme', version: '1.0.0-1', arch: 'amd64', marker: 'rebuilt' });
  signer = await GpgSigner.open({ mode: 'key', key: { kind: 'file', path: key.secretFile, label: 'test key' } }, { sourceDateEpoch: EPOCH });
  repoDir = path.join(tmp, 'published');
}, 300_000);

afterAll(async () => {
  await signer?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** dist/<version>/ as a build leaves it: plan.json and repo/{apt,yum}, optionally merged with `base`. */
async function dist(version: string, deb: string, rpm: string | undefined, base?: string): Promise<string> {
  const root = path.join(tmp, `dist-${version}-${path.basename(deb)}-${base ? 'based' : 'alone'}`);
  const dir = path.join(root, version);
  mkdirSync(dir, { recursive: true });
  await writeManifest(dir, { ...makePlan(product, { version, snapshot: false }), artifacts: [], sourceDateEpoch: EPOCH, inputs: '0'.repeat(64), skipped: [] });
  await buildAptRepo({ repoDir: path.join(dir, 'repo/apt'), packages: [deb], base: base && path.join(base, 'apt'), signer, meta: aptRepoMeta(product), sourceDateEpoch: EPOCH, keyringName: product.meta.name });
  if (rpm) await buildYumRepo({ repoDir: path.join(dir, 'repo/yum'), packages: [rpm], base: base && path.join(base, 'yum'), signer, sourceDateEpoch: EPOCH, keyName: product.meta.name });
  return root;
}

function recorder(): Reporter & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (l) => void lines.push(l), warn: (l) => void lines.push(`warning: ${l}`), progress() {}, done() {} };
}

function run(outRoot: string, version: string, opts: { key?: boolean; dryRun?: boolean } = {}) {
  const report = recorder();
  const printed: string[] = [];
  const env: NodeJS.ProcessEnv = opts.key ? { STIGMER_DIST_SIGNING_KEY: key.secretFile } : {};
  const result = publish({ product, version, outRoot, dryRun: Boolean(opts.dryRun), replace: false, repoDir, only: ['repos'], report, print: (l) => void printed.push(l), env, sourceDateEpoch: EPOCH });
  return { result, report, printed };
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (f.isFile()) out[path.relative(dir, path.join(f.parentPath, f.name))] = (await hashFile(path.join(f.parentPath, f.name))).sha256;
  }
  return out;
}

async function aptVersions(): Promise<string[]> {
  const client = aptClient(path.join(tmp, `apt-${Date.now()}`), `deb [signed-by=${path.join(repoDir, 'apt', 'acme.gpg')}] file:${path.join(repoDir, 'apt')} stable main`);
  const update = await client.update();
  expect(update.exitCode, update.stdout + update.stderr).toBe(0);
  expect(update.stdout + update.stderr).not.toMatch(/^W:|^E:/m);
  const madison = await client.madison('acme');
  return madison.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|')[1]!.trim())
    .sort();
}

function yumVersions(): string[] {
  // Follow repomd.xml, as dnf does (and check no stale index is left next to it).
  const yum = path.join(repoDir, 'yum');
  const repomd = readFileSync(path.join(yum, 'repodata/repomd.xml'), 'utf8');
  const primary = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)![1]!;
  expect(readdirSync(path.join(yum, 'repodata')).filter((f) => f.endsWith('-primary.xml.gz'))).toEqual([path.basename(primary)]);
  const xml = gunzipSync(readFileSync(path.join(yum, primary))).toString('utf8');
  return [...xml.matchAll(/<version epoch="\d+" ver="([^"]+)"/g)].map((m) => m[1]!).sort();
}

describe('publish --repo-dir', () => {
  it('merges each version into the published repositories; older versions stay installable', async () => {
    // 1.0.0 into an empty directory.
    await run(await dist('1.0.0', debs['1.0.0']!, rpms['1.0.0']), '1.0.0').result;
    expect(await aptVersions()).toEqual(['1.0.0-1']);
    expect(yumVersions()).toEqual(['1.0.0']);

    // 1.1.0 built without --repo-base: its indexes do not list 1.0.0, so they are regenerated and re-signed.
    const alone = await dist('1.1.0', debs['1.1.0']!, rpms['1.1.0']);
    const before = await snapshot(repoDir);
    const noKey = (await run(alone, '1.1.0').result.catch((e: unknown) => e)) as UserError;
    expect(noKey).toBeInstanceOf(UserError);
    expect(noKey.message).toMatch(/published\/apt holds 1 package\(s\) this build's apt index does not list, so the merged index must be signed again, but no signing key was given/);
    expect(noKey.hint).toMatch(/set STIGMER_DIST_SIGNING_KEY .* or rebuild with --repo-base/);
    expect(await snapshot(repoDir)).toEqual(before);
    const merged = run(alone, '1.1.0', { key: true });
    await merged.result;
    expect(merged.report.lines).toContain('repos: apt: 1 new package merged with 1 published one this build does not list; indexes re-generated and re-signed; yum: 1 new package merged with 1 published one this build does not list; indexes re-generated and re-signed');
    expect(await aptVersions()).toEqual(['1.0.0-1', '1.1.0-1']);
    expect(yumVersions()).toEqual(['1.0.0', '1.1.0']);
    const gpgv = await execa('gpgv', ['--keyring', key.keyring, path.join(repoDir, 'yum/repodata/repomd.xml.asc'), path.join(repoDir, 'yum/repodata/repomd.xml')], { reject: false });
    expect(gpgv.exitCode, gpgv.stderr).toBe(0);
    expect(readdirSync(repoDir).filter((f) => f.startsWith('.'))).toEqual([]); // no staging left

    // 1.2.0 built with --repo-base: its tree already lists everything, so it is copied as built (no key needed).
    const based = await dist('1.2.0', debs['1.2.0']!, rpms['1.2.0'], repoDir);
    const dry = run(based, '1.2.0', { dryRun: true });
    await dry.result;
    const unchanged = await snapshot(repoDir);
    expect(dry.printed.some((l) => /^would sync .*repo\/apt -> .*published\/apt: add pool\/main\/a\/acme\/acme_1\.2\.0-1_amd64\.deb, .*replace dists\/stable\/InRelease/.test(l))).toBe(true);
    expect(await snapshot(repoDir)).toEqual(unchanged);
    await run(based, '1.2.0').result;
    expect(await aptVersions()).toEqual(['1.0.0-1', '1.1.0-1', '1.2.0-1']);
    expect(yumVersions()).toEqual(['1.0.0', '1.1.0', '1.2.0']);
    // Publishing the same build again changes nothing.
    const settled = await snapshot(repoDir);
    await run(based, '1.2.0').result;
    expect(await snapshot(repoDir)).toEqual(settled);
  });

  it('never replaces a published package, and leaves the directory as it was', async () => {
    const before = await snapshot(repoDir);
    const err = (await run(await dist('1.0.0', debs.conflict!, undefined), '1.0.0', { key: true }).result.catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/published\/apt already holds different packages under the same names: pool\/main\/a\/acme\/acme_1\.0\.0-1_amd64\.deb/);
    expect(err.hint).toMatch(/bump the version or the package revision/);
    expect(await snapshot(repoDir)).toEqual(before);
  });
});
