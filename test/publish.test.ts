// `publish` against a stand-in GitHub API whose every request and response is checked against GitHub's
// OpenAPI description: a full publish and its re-run, a dry run, a publish cut off half-way and resumed, a
// conflicting asset, a token without the needed permission. Tokens never appear in any log or artifact.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { copyFileSync, cpSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../src/errors.ts';
import type { Product } from '../src/product/model.ts';
import { publish, type PublishOptions } from '../src/publish/index.ts';
import { closeDispatchers, httpOptions } from '../src/sources/http.ts';
import type { Reporter } from '../src/util/progress.ts';
import { beaconPayloadDir, engineServer, sha256, writeBeacon, type EngineServer } from './helpers/beacon.ts';
import { GithubStandin } from './helpers/github-standin.ts';
import { runCli } from './helpers.ts';
import { keyPair, makeBundle } from './trust-helpers.ts';

const WRITE = 'ghp_publishWriteToken0123456789abcdefXYZ';
const READ = 'ghp_readOnlyToken0123456789abcdefXYZ';
const REPO = 'beacon-org/beacon';
const TAP = 'beacon-org/homebrew-tap';
const WINGET = 'microsoft/winget-pkgs';
const FORK = 'beacon-bot/winget-pkgs';
const VERSION = '1.4.0';
const http = httpOptions({ connectTimeoutMs: 1000, headersTimeoutMs: 3000, readTimeoutMs: 3000, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 1000, sleep: async () => {} } });

let work: string;
let engine: EngineServer;
let product: Product;
let defFile: string;
let dist: string;
let releaseFiles: { name: string; sha256: string }[];
let formulae: Record<string, string>;
const WINGET_FILES = ['Beacon.Beacon.yaml', 'Beacon.Beacon.installer.yaml', 'Beacon.Beacon.locale.en-US.yaml'];

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sd-publish-'));
  engine = await engineServer();
  ({ file: defFile, product } = writeBeacon(work, { engine }));
  const payloads = await beaconPayloadDir(path.join(work, 'payloads'), product);
  dist = path.join(work, 'dist');
  const r = await runCli(['build', '--config', defFile, '--version', VERSION, '--from', payloads, '--out', dist, '-t', 'archive,checksums,homebrew', '--unsigned-windows'], {
    env: { STIGMER_DIST_CACHE: path.join(work, 'cache') },
  });
  if (r.exitCode !== 0) throw new Error(`build failed: ${r.stderr}`);
  const record = JSON.parse(readFileSync(path.join(dist, VERSION, 'plan.json'), 'utf8')) as { artifacts: { path: string; release: boolean; sha256: string }[] };
  releaseFiles = record.artifacts.filter((a) => a.release).map((a) => ({ name: path.basename(a.path), sha256: a.sha256 }));
  formulae = Object.fromEntries(readdirSync(path.join(dist, VERSION, 'formula')).map((f) => [`Formula/${f}`, readFileSync(path.join(dist, VERSION, 'formula', f), 'utf8')]));
  // No winget target yet: publish takes whatever manifests are under dist/<version>/winget/.
  mkdirSync(path.join(dist, VERSION, 'winget'), { recursive: true });
  for (const f of WINGET_FILES) writeFileSync(path.join(dist, VERSION, 'winget', f), `# ${f}\nPackageIdentifier: Beacon.Beacon\nPackageVersion: "${VERSION}"\n`);
}, 300_000);

afterAll(async () => {
  await engine.server.close();
  await rm(work, { recursive: true, force: true });
  await closeDispatchers();
});

async function standin(): Promise<GithubStandin> {
  const gh = await GithubStandin.start({ [WRITE]: 'write', [READ]: 'read' });
  onTestFinished(() => gh.close());
  gh.addRepo(REPO);
  gh.addRepo(TAP, { files: { 'README.md': '# tap\n' } });
  gh.addRepo(WINGET, { defaultBranch: 'master', files: { 'manifests/a/Acme/Tool/1.0.0/Acme.Tool.yaml': 'PackageIdentifier: Acme.Tool\n' } });
  gh.addRepo(FORK, { forkOf: WINGET });
  return gh;
}

function recorder(): Reporter & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (l) => void lines.push(l), warn: (l) => void lines.push(`warning: ${l}`), progress: (l) => void lines.push(l), done() {} };
}

function run(gh: GithubStandin, overrides: Partial<PublishOptions> = {}, token: string | null = WRITE) {
  const report = recorder();
  const printed: string[] = [];
  const env: NodeJS.ProcessEnv = { STIGMER_DIST_GITHUB_API: gh.apiBase };
  if (token) env.GITHUB_TOKEN = token;
  const result = publish({ product, version: VERSION, outRoot: dist, dryRun: false, replace: false, report, print: (l) => void printed.push(l), env, http, sourceDateEpoch: 1700000000, ...overrides });
  return { result, report, printed };
}

function release(gh: GithubStandin) {
  const all = gh.repo(REPO).releases;
  expect(all).toHaveLength(1);
  return all[0]!;
}

function expectFullyPublished(gh: GithubStandin): void {
  const rel = release(gh);
  expect(rel.tag).toBe(`v${VERSION}`);
  expect(rel.draft).toBe(false);
  expect(rel.prerelease).toBe(false);
  expect(rel.assets.map((a) => [a.name, a.state, sha256(a.data)]).sort()).toEqual(releaseFiles.map((f) => [f.name, 'uploaded', f.sha256]).sort());
  expect(gh.files(TAP)).toEqual({ 'README.md': '# tap\n', ...formulae });
  const fork = gh.files(FORK, `Beacon.Beacon-${VERSION}`);
  for (const f of WINGET_FILES) expect(fork[`manifests/b/Beacon/Beacon/${VERSION}/${f}`]).toMatch(/PackageIdentifier: Beacon\.Beacon/);
  const pulls = gh.repo(WINGET).pulls;
  expect(pulls.map((p) => [p.head, p.base, p.title, p.state])).toEqual([[`beacon-bot:Beacon.Beacon-${VERSION}`, 'master', `New version: Beacon.Beacon version ${VERSION}`, 'open']]);
  expect(gh.violations).toEqual([]);
}

describe('publish', () => {
  it('publishes everything through the real CLI, then a re-run changes nothing; no token in any log or artifact', async () => {
    const gh = await standin();
    const env = { STIGMER_DIST_GITHUB_API: gh.apiBase, GITHUB_TOKEN: WRITE };
    const first = await runCli(['publish', '--config', defFile, '--version', VERSION, '--out', dist], { env });
    expect(first.exitCode, first.stderr).toBe(0);
    expectFullyPublished(gh);
    expect(gh.commitCount(TAP)).toBe(2);
    expect(release(gh).body).toContain('| File | Size | SHA-256 |');
    for (const f of releaseFiles) expect(release(gh).body).toContain(`| \`${f.name}\` |`);
    // The token went to the API and the upload host only, never to the storage host downloads redirect to.
    expect(gh.calls.filter((c) => c.host !== 'storage').every((c) => c.authorization?.endsWith(WRITE))).toBe(true);
    expect(gh.calls.filter((c) => c.host === 'storage').every((c) => c.authorization === undefined)).toBe(true);

    const writes = gh.writes().length;
    const again = await runCli(['publish', '--config', defFile, '--version', VERSION, '--out', dist], { env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/beacon 1\.4\.0 is already published; nothing to do/);
    expect(gh.writes().length).toBe(writes);
    expectFullyPublished(gh);
    expect(gh.commitCount(TAP)).toBe(2);

    for (const out of [first.stdout, first.stderr, again.stdout, again.stderr, release(gh).body]) expect(out).not.toContain(WRITE);
    for (const f of readdirSync(path.join(dist, VERSION), { recursive: true, encoding: 'utf8' })) {
      const p = path.join(dist, VERSION, f);
      if (!f.includes('.') || /\.(rb|json|ya?ml|txt|gz|zip)$|SHA256SUMS/.test(f)) {
        try {
          expect(readFileSync(p).includes(WRITE), f).toBe(false);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
        }
      }
    }
  });

  it('--dry-run prints every write it would make and changes nothing (no token needed)', async () => {
    const gh = await standin();
    const r = await runCli(['publish', '--config', defFile, '--version', VERSION, '--out', dist, '--dry-run'], { env: { STIGMER_DIST_GITHUB_API: gh.apiBase, GITHUB_TOKEN: '', GH_TOKEN: '' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(gh.writes()).toEqual([]);
    const lines = r.stdout.split('\n');
    expect(lines).toContain(`GET ${gh.apiBase}/repos/${REPO}/releases?per_page=100`);
    expect(lines.some((l) => l.startsWith(`would POST ${gh.apiBase}/repos/${REPO}/releases {"tag_name":"v${VERSION}"`))).toBe(true);
    for (const f of releaseFiles) expect(lines.some((l) => l.startsWith('would POST <upload URL of the new release>?name=' + encodeURIComponent(f.name)))).toBe(true);
    expect(lines).toContain(`would PATCH ${gh.apiBase}/repos/${REPO}/releases/<id of the new release> {"draft":false}`);
    expect(lines.filter((l) => l.startsWith(`would POST ${gh.apiBase}/repos/${TAP}/git/blobs`))).toHaveLength(Object.keys(formulae).length);
    expect(lines.some((l) => l.startsWith(`would PATCH ${gh.apiBase}/repos/${TAP}/git/refs/heads/main`))).toBe(true);
    expect(lines.some((l) => l.startsWith(`would POST ${gh.apiBase}/repos/${FORK}/git/refs {"ref":"refs/heads/Beacon.Beacon-${VERSION}"`))).toBe(true);
    expect(lines.some((l) => l.startsWith(`would POST ${gh.apiBase}/repos/${WINGET}/pulls {"title":"New version: Beacon.Beacon version ${VERSION}","head":"beacon-bot:Beacon.Beacon-${VERSION}","base":"master"}`))).toBe(true);
    expect(r.stderr).toMatch(/dry run: \d+ writes would be made; nothing was changed/);
    expect(gh.violations).toEqual([]);
  });

  it('resumes a publish cut off half-way: no second release, nothing uploaded twice, the broken upload redone', async () => {
    const gh = await standin();
    const victim = releaseFiles.map((f) => f.name).sort()[2]!;
    gh.cutUploads.set(victim, 99);
    const first = run(gh);
    const err = (await first.result.catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(new RegExp(`uploading ${victim.replace(/\./g, '\\.')} to beacon-org/beacon v1\\.4\\.0.*\\(gave up after 3 tries\\)`));
    expect(err.hint).toMatch(/run `stigmer-dist publish` again/);
    const rel = release(gh);
    expect(rel.draft).toBe(true); // nothing public until every asset is there
    expect(rel.assets.some((a) => a.name === victim)).toBe(false); // its own broken upload cleaned up
    expect(gh.commitCount(TAP)).toBe(1); // the tap waits for the release
    expect(gh.repo(WINGET).pulls).toEqual([]);
    const uploadedBefore = rel.assets.filter((a) => a.state === 'uploaded').map((a) => a.name);
    expect(uploadedBefore.length).toBeGreaterThan(0);
    // A publisher killed mid-upload cannot clean up: its half-uploaded asset stays behind.
    gh.leaveBrokenUpload(REPO, `v${VERSION}`, victim);

    gh.cutUploads.clear();
    const callsBefore = gh.calls.length;
    await run(gh).result;
    expectFullyPublished(gh);
    const uploads = gh.calls.slice(callsBefore).filter((c) => c.operation === 'repos/upload-release-asset').map((c) => new URL(c.path, 'http://x').searchParams.get('name'));
    expect(uploads.sort()).toEqual(releaseFiles.map((f) => f.name).filter((n) => !uploadedBefore.includes(n)).sort());
    expect(gh.calls.slice(callsBefore).filter((c) => c.operation === 'repos/delete-release-asset')).toHaveLength(1);
    expect(gh.calls.filter((c) => c.operation === 'repos/create-release')).toHaveLength(1);
  });

  it('refuses a published asset with other contents (by digest, or by download when GitHub gives none) unless --replace', async () => {
    const gh = await standin();
    await run(gh).result;
    const name = releaseFiles.find((f) => f.name.endsWith('.tar.gz'))!.name;
    const asset = release(gh).assets.find((a) => a.name === name)!;
    const original = asset.data;
    for (const digests of [true, false]) {
      gh.digests = digests;
      asset.data = Buffer.from(original.map((b, i) => (i === 100 ? b ^ 1 : b))); // same size, other bytes
      const writes = gh.writes().length;
      const err = (await run(gh).result.catch((e: unknown) => e)) as UserError;
      expect(err).toBeInstanceOf(UserError);
      expect(err.message).toMatch(new RegExp(`^release v1\\.4\\.0 of beacon-org/beacon already has an asset with different contents:\\n  ${name.replace(/\./g, '\\.')}: published `));
      expect(err.hint).toMatch(/build a new version, or re-run with --replace/);
      expect(gh.writes().length).toBe(writes); // nothing written
    }
    await run(gh, { replace: true }).result;
    expectFullyPublished(gh);
    expect(release(gh).assets.find((a) => a.name === name)!.data.equals(original)).toBe(true);
  });

  it('stops before writing anything when the token lacks permission, and a re-run with a good token finishes', async () => {
    const gh = await standin();
    const err = (await run(gh, {}, READ).result.catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    // The stand-in repeats the Authorization header in its error body: the message carries it redacted.
    expect(err.message).toBe('GitHub answered 403 while creating the release v1.4.0 on beacon-org/beacon: Resource not accessible by personal access token (request sent Authorization: token ***)');
    expect(err.hint).toMatch(/"Contents: read and write" .* "repo" scope .*; GitHub says this needs: contents=write$/);
    expect(err.message + err.hint).not.toContain(READ);
    expect(gh.repo(REPO).releases).toEqual([]);
    expect(gh.writes().every((c) => c.status === 403)).toBe(true);
    await run(gh).result;
    expectFullyPublished(gh);
  });

  it('updates the tap through a pull request with --tap-pr, once', async () => {
    const gh = await standin();
    await run(gh, { tapPullRequest: true, only: ['tap'] }).result;
    expect(gh.files(TAP)).toEqual({ 'README.md': '# tap\n' });
    expect(gh.files(TAP, `beacon-${VERSION}`)).toEqual({ 'README.md': '# tap\n', ...formulae });
    expect(gh.repo(TAP).pulls.map((p) => [p.head, p.base])).toEqual([[`beacon-org:beacon-${VERSION}`, 'main']]);
    const writes = gh.writes().length;
    const again = run(gh, { tapPullRequest: true, only: ['tap'] });
    await again.result;
    expect(gh.writes().length).toBe(writes);
    expect(again.report.lines).toContain(`tap: ${TAP}: beacon-org/homebrew-tap beacon-${VERSION} is up to date; pull request open: https://github.invalid/${TAP}/pull/1`);
    expect(gh.violations).toEqual([]);
  });

  it('uses --notes for the release body, and refuses bad input clearly', async () => {
    const gh = await standin();
    const notes = path.join(work, 'notes.md');
    writeFileSync(notes, 'Hand-written notes.\n');
    await run(gh, { notesFile: notes, only: ['release'] }).result;
    expect(release(gh).body).toBe('Hand-written notes.\n');
    await expect(run(gh, {}, null).result).rejects.toThrow('publishing needs a GitHub token');
    await expect(run(gh, { version: '9.9.9' }).result).rejects.toThrow(/no build at .*9\.9\.9 \(.*plan\.json is missing\)/);
    await expect(run(gh, { only: ['nope'] }).result).rejects.toThrow('unknown publisher: nope');
    writeFileSync(notes, `token ${WRITE}\n`);
    await expect(run(gh, { notesFile: notes }).result).rejects.toThrow(/contains a secret from the environment/);
  });

  it('uploads SHA256SUMS.sigstore.json when the release workflow wrote it, and refuses one over other bytes', async () => {
    // The cosign step runs after the build, in dist/<version>/: a copy of the build with a bundle beside SHA256SUMS.
    const outRoot = path.join(work, 'dist-sigstore');
    cpSync(dist, outRoot, { recursive: true });
    const dir = path.join(outRoot, VERSION);
    const { privateKey } = keyPair(work, 'cosign');
    copyFileSync(makeBundle(work, readFileSync(path.join(dir, 'SHA256SUMS')), privateKey), path.join(dir, 'SHA256SUMS.sigstore.json'));
    const bundle = readFileSync(path.join(dir, 'SHA256SUMS.sigstore.json'));
    const gh = await standin();
    await run(gh, { outRoot, only: ['release'] }).result;
    const rel = release(gh);
    expect(rel.assets.map((a) => [a.name, a.state, sha256(a.data)]).sort()).toEqual([...releaseFiles.map((f) => [f.name, 'uploaded', f.sha256]), ['SHA256SUMS.sigstore.json', 'uploaded', sha256(bundle)]].sort());
    // The release notes show how to check it.
    expect(rel.body).toContain('cosign verify-blob');
    expect(rel.body).toContain('SHA256SUMS.sigstore.json');
    expect(gh.violations).toEqual([]);

    // A bundle left over from another build (it signs other bytes) is refused before anything is written.
    copyFileSync(makeBundle(work, Buffer.from('another SHA256SUMS\n'), privateKey), path.join(dir, 'SHA256SUMS.sigstore.json'));
    const other = await standin();
    await expect(run(other, { outRoot, only: ['release'] }).result).rejects.toThrow(/SHA256SUMS\.sigstore\.json: signs other bytes than this build's SHA256SUMS/);
    expect(other.repo(REPO).releases).toEqual([]);
  });
});

describe('publishing a pre-release', () => {
  it('marks the release as a pre-release and leaves the tap and winget alone', async () => {
    const rc = '1.5.0-rc.1';
    const r = await runCli(['build', '--config', defFile, '--version', rc, '--from', path.join(work, 'payloads'), '--out', dist, '-t', 'archive,checksums,homebrew', '--unsigned-windows'], {
      env: { STIGMER_DIST_CACHE: path.join(work, 'cache') },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const gh = await standin();
    const pub = run(gh, { version: rc });
    const result = await pub.result;
    const rel = gh.repo(REPO).releases[0]!;
    expect([rel.tag, rel.prerelease, rel.draft]).toEqual([`v${rc}`, true, false]);
    expect(result.skipped.map((s) => [s.publisher, s.reason])).toEqual([
      ['tap', `${rc} is a pre-release; the tap only gets stable versions`],
      ['winget', `${rc} is a pre-release; winget only gets stable versions`],
      ['repos', 'no --repo-dir given'],
    ]);
    expect(gh.commitCount(TAP)).toBe(1);
    expect(gh.violations).toEqual([]);
  });
});

describe('the stand-in GitHub API', () => {
  it('holds requests to the published contract', async () => {
    const gh = await standin();
    await fetch(`${gh.apiBase}/repos/${REPO}/releases`, { method: 'POST', headers: { authorization: `token ${WRITE}`, 'content-type': 'application/json' }, body: JSON.stringify({ tag: 'v1', draft: 'yes' }) });
    await fetch(`${gh.apiBase}/repos/${REPO}/releases?per_page=abc&bogus=1`);
    await fetch(`${gh.apiBase}/repos/${REPO}/no-such-endpoint`);
    expect(gh.violations).toEqual([
      "repos/create-release: request body: (root) must have required property 'tag_name'; /draft must be boolean",
      'repos/list-releases: query per_page=abc: (root) must be integer',
      'repos/list-releases: undocumented query parameter bogus',
      `GET /repos/${REPO}/no-such-endpoint: no such operation in GitHub's OpenAPI description`,
    ]);
  });
});
