// Payloads from a GitHub release (--from github:OWNER/REPO@TAG) and from pinned upstream downloads, against a
// stand-in GitHub API checked against GitHub's OpenAPI description, on loopback only.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import yazl from 'yazl';
import { UserError } from '../src/errors.ts';
import type { Product } from '../src/product/model.ts';
import { ChecksumMismatchError } from '../src/sources/cache.ts';
import { closeDispatchers, httpOptions } from '../src/sources/http.ts';
import { resolvePayloads } from '../src/sources/index.ts';
import type { Payload } from '../src/targets/types.ts';
import { silentReporter } from '../src/util/progress.ts';
import { readdirSync } from 'node:fs';
import { BEACON_PLATFORMS, beaconPayloadDir, engineServer, payloadBinary, sha256, tarOf, writeBeacon, type EngineServer } from './helpers/beacon.ts';
import { runCli } from './helpers.ts';
import { GithubStandin } from './helpers/github-standin.ts';

const TOKEN = 'ghp_sourceTestToken0123456789abcdef';
const REPO = 'beacon-org/beacon';
const TAG = 'v1.4.0';
const http = httpOptions({ connectTimeoutMs: 1000, headersTimeoutMs: 2000, readTimeoutMs: 2000, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 1000, sleep: async () => {} } });

let gh: GithubStandin;
let engine: EngineServer;
let product: Product;
let defDir: string;
const want = new Map<string, Buffer>();

async function zipOf(name: string, data: Buffer): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(data, name, { mode: 0o100755, mtime: new Date(0) });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The release the upstream Stigmer-like build publishes: bare CLIs, archived servers, one unrelated file. */
async function releaseAssets(): Promise<Record<string, Buffer>> {
  const assets: Record<string, Buffer> = { 'checksums.txt': Buffer.from('whatever\n') };
  for (const p of BEACON_PLATFORMS) {
    const [os_, arch] = p.split('-') as [string, string];
    const cli = await payloadBinary(p, `beacon-${p} 1.4.0`);
    const server = await payloadBinary(p, `beacon-server-${p} 1.4.0`);
    want.set(`beacon/${p}`, cli);
    want.set(`beacon-server/${p}`, server);
    if (os_ === 'windows') {
      assets[`beacon_${os_}_${arch}.exe`] = cli;
      assets[`beacon-server_${os_}_${arch}.zip`] = await zipOf('beacon-server.exe', server);
    } else {
      assets[`beacon_${os_}_${arch}`] = cli;
      assets[`beacon-server_${os_}_${arch}.tar.gz`] = gzipSync(tarOf({ 'README.md': 'x', 'bin/beacon-server': server }));
    }
  }
  return assets;
}

beforeAll(async () => {
  gh = await GithubStandin.start({ [TOKEN]: 'write' });
  gh.addRepo(REPO);
  gh.addRelease(REPO, TAG, await releaseAssets());
  engine = await engineServer();
  defDir = await mkdtemp(path.join(os.tmpdir(), 'sd-beacon-'));
  product = writeBeacon(defDir, { engine }).product;
});

afterAll(async () => {
  await gh.close();
  await engine.server.close();
  await rm(defDir, { recursive: true, force: true });
  await closeDispatchers();
});

async function cacheDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'sd-cache-'));
  onTestFinished(() => rm(d, { recursive: true, force: true }));
  return d;
}

function resolve(opts: { from?: string; cache: string; offline?: boolean; token?: string | null; product?: Product; platforms?: typeof BEACON_PLATFORMS }): Promise<Payload[]> {
  const env: NodeJS.ProcessEnv = { STIGMER_DIST_GITHUB_API: gh.apiBase };
  if (opts.token !== null) env.GITHUB_TOKEN = opts.token ?? TOKEN;
  return resolvePayloads({
    product: opts.product ?? product,
    platforms: opts.platforms ?? BEACON_PLATFORMS,
    version: '1.4.0',
    from: opts.from ?? `github:${REPO}@${TAG}`,
    snapshot: false,
    offline: Boolean(opts.offline),
    cacheDir: opts.cache,
    report: silentReporter,
    http,
    env,
  });
}

describe('payloads from a GitHub release', () => {
  it('matches one asset per payload, downloads and unpacks it, and takes the upstream engine from its pin', async () => {
    const before = gh.calls.length;
    const payloads = await resolve({ cache: await cacheDir() });
    const by = new Map(payloads.map((p) => [`${p.component}/${p.platform}`, p]));
    expect(payloads).toHaveLength(9);
    for (const [key, data] of want) {
      const p = by.get(key)!;
      expect(p.origin, key).toBe('github');
      expect(readFileSync(p.path).equals(data), key).toBe(true);
      expect(p.sha256).toBe(sha256(data));
      expect(path.basename(p.path)).toBe(key.endsWith('windows-amd64') ? `${key.split('/')[0]}.exe` : key.split('/')[0]);
    }
    for (const plat of BEACON_PLATFORMS) {
      const p = by.get(`engine/${plat}`)!;
      expect(p.origin).toBe('upstream');
      expect(readFileSync(p.path).equals(engine.binary(plat))).toBe(true);
      expect(path.basename(p.path)).toBe(plat === 'windows-amd64' ? 'beacon-engine.exe' : 'beacon-engine');
    }
    const calls = gh.calls.slice(before);
    // The token goes to the API, never to the storage host the downloads are redirected to.
    expect(calls.filter((c) => c.host === 'api').every((c) => c.authorization === `Bearer ${TOKEN}` || c.authorization === `token ${TOKEN}`)).toBe(true);
    const storage = calls.filter((c) => c.host === 'storage');
    expect(storage).toHaveLength(6);
    expect(storage.every((c) => c.authorization === undefined)).toBe(true);
    expect(gh.violations).toEqual([]);
  });

  it('rebuilds --offline from the cache alone, and works without a token for a public repository', async () => {
    const cache = await cacheDir();
    const online = await resolve({ cache, token: null });
    const before = gh.calls.length;
    const offline = await resolve({ cache, offline: true });
    expect(gh.calls.length).toBe(before);
    expect(offline.map((p) => p.sha256).sort()).toEqual(online.map((p) => p.sha256).sort());
    expect(gh.violations).toEqual([]);
    await expect(resolve({ cache: await cacheDir(), offline: true })).rejects.toThrow(/--offline: the asset list of beacon-org\/beacon@v1\.4\.0 is not in the cache/);
  });

  it('verifies against the digest GitHub publishes, and without one hashes what it downloaded', async () => {
    gh.digests = false;
    onTestFinished(() => void (gh.digests = true));
    const payloads = await resolve({ cache: await cacheDir(), platforms: ['linux-amd64'] });
    expect(payloads.find((p) => p.component === 'beacon')!.sha256).toBe(sha256(want.get('beacon/linux-amd64')!));
    expect(gh.violations).toEqual([]);
  });

  it('retries a flaky API, waiting as long as Retry-After says', async () => {
    const slept: number[] = [];
    const flaky = httpOptions({ ...http, retry: { ...http.retry, attempts: 3, sleep: async (ms) => void slept.push(ms) } });
    gh.failNext.set('repos/get-release-by-tag', [{ status: 502 }]);
    gh.failNext.set('repos/list-release-assets', [{ status: 429, headers: { 'retry-after': '1' } }]);
    const payloads = await resolvePayloads({
      product,
      platforms: ['linux-amd64'],
      version: '1.4.0',
      from: `github:${REPO}@${TAG}`,
      snapshot: false,
      offline: false,
      cacheDir: await cacheDir(),
      report: silentReporter,
      http: flaky,
      env: { STIGMER_DIST_GITHUB_API: gh.apiBase, GITHUB_TOKEN: TOKEN },
    });
    expect(payloads).toHaveLength(3);
    expect(slept).toHaveLength(2);
    expect(slept[1]).toBeGreaterThanOrEqual(1000);
    expect(gh.violations).toEqual([]);
  });

  it('says when the tag has no release', async () => {
    const err = (await resolve({ cache: await cacheDir(), from: `github:${REPO}@v9.9.9` }).catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe('beacon-org/beacon has no release for tag v9.9.9');
    expect(err.hint).toMatch(/check the tag .* and that the release exists at https:\/\/github\.com\/beacon-org\/beacon\/releases/);
    await expect(resolve({ cache: await cacheDir(), from: 'github:nonsense' })).rejects.toThrow(/not a GitHub release reference/);
  });

  it('reports every payload whose pattern picks zero or two assets, and lists what the release has', async () => {
    gh.addRelease(REPO, 'v1.4.1', {
      'beacon_linux_amd64': await payloadBinary('linux-amd64', 'a 1'),
      'beacon_linux_amd64.sig': Buffer.from('sig'),
      'beacon-server_linux_amd64.tar.gz': gzipSync(tarOf({ 'beacon-server': await payloadBinary('linux-amd64', 's 1') })),
    });
    const err = (await resolve({ cache: await cacheDir(), from: `github:${REPO}@v1.4.1`, platforms: ['linux-amd64', 'darwin-arm64'] }).catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toContain('release.payloadAsset "{binary}_{os}_{arch}*" does not pick exactly one asset of beacon-org/beacon@v1.4.1 per payload:');
    expect(err.message).toContain('beacon linux-amd64: 2 assets match ^beacon_linux_amd64.*$: beacon_linux_amd64, beacon_linux_amd64.sig');
    expect(err.message).toContain('beacon darwin-arm64: no asset matches ^beacon_darwin_arm64.*$');
    expect(err.message).toContain('beacon-server darwin-arm64: no asset matches');
    expect(err.hint).toMatch(/fix release\.payloadAsset in .*beacon\.yaml .* the release has: beacon-server_linux_amd64\.tar\.gz, beacon_linux_amd64, beacon_linux_amd64\.sig/);
  });

  it('fails on an archive without the binary, naming what it holds', async () => {
    gh.addRelease(REPO, 'v1.4.2', {
      'beacon_linux_amd64': await payloadBinary('linux-amd64', 'a 1'),
      'beacon-server_linux_amd64.tar.gz': gzipSync(tarOf({ 'bin/server': await payloadBinary('linux-amd64', 's 1') })),
    });
    const err = (await resolve({ cache: await cacheDir(), from: `github:${REPO}@v1.4.2`, platforms: ['linux-amd64'] }).catch((e: unknown) => e)) as UserError;
    expect(err.message).toBe('beacon-server_linux_amd64.tar.gz (beacon-org/beacon@v1.4.2): the archive has no file named "beacon-server"');
    expect(err.hint).toMatch(/must hold exactly one file named beacon-server; .* the archive holds: bin\/server/);
  });
});

describe('pinned upstream downloads', () => {
  it('fails a release build whose pin does not match, naming the URL and both digests', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sd-zero-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const zero = writeBeacon(dir, { engine, zeroPins: true }).product;
    const cache = await cacheDir();
    const err = (await resolve({ cache, product: zero, platforms: ['linux-amd64'] }).catch((e: unknown) => e)) as ChecksumMismatchError;
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    const a = engine.assets['linux-amd64']!;
    expect(err.message).toBe(`checksum mismatch for ${a.url}\n    expected sha256 ${'0'.repeat(64)}\n    got      sha256 ${a.sha256}`);
    expect(err.hint).toMatch(/components\[2\]\(engine\)\.upstream\.assets\.linux-amd64\.sha256 in .*beacon\.yaml/);
  });

  it('makes `build --from DIR` fail the same way, leaving no output (the zero pins of packaging/stigmer.yaml)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sd-zero-cli-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const { file, product: zero } = writeBeacon(dir, { engine, zeroPins: true });
    const payloads = await beaconPayloadDir(path.join(dir, 'payloads'), zero);
    const out = path.join(dir, 'dist');
    const r = await runCli(['build', '--config', file, '--from', payloads, '--out', out, '--platform', 'linux-amd64', '-t', 'archive,checksums'], { env: { STIGMER_DIST_CACHE: path.join(dir, 'cache') } });
    expect(r.exitCode).toBe(1);
    const a = engine.assets['linux-amd64']!;
    expect(r.stderr).toContain(`error: checksum mismatch for ${a.url}\n    expected sha256 ${'0'.repeat(64)}\n    got      sha256 ${a.sha256}\n`);
    expect(r.stderr).toMatch(/hint: the pin is components\[2\]\(engine\)\.upstream\.assets\.linux-amd64\.sha256 in /);
    expect(readdirSync(dir).includes('dist')).toBe(false);
    const cacheRoot = path.join(dir, 'cache');
    const cached = readdirSync(cacheRoot, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && /^(blobs|tmp)(\/|$)/.test(path.relative(cacheRoot, e.parentPath)));
    expect(cached).toEqual([]); // nothing cached, no temp file left
  });

  it('fails when the pinned archive lacks the member', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sd-member-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const bad = writeBeacon(dir, { engine, member: 'engine-server' }).product;
    const err = (await resolve({ cache: await cacheDir(), product: bad, platforms: ['linux-amd64'] }).catch((e: unknown) => e)) as UserError;
    expect(err.message).toBe(`${engine.assets['linux-amd64']!.url}: the archive has no member "engine-server"`);
    expect(err.hint).toMatch(/^fix components\[2\]\(engine\)\.upstream\.assets\.linux-amd64\.member in .*beacon\.yaml; the archive holds: LICENSE, engine$/);
  });
});
