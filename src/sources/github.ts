// Payloads from a GitHub release (`build --from github:OWNER/REPO@TAG`): the release's assets are listed with
// @octokit/rest, one asset per (component, platform) is matched by release.payloadAsset, downloaded into the
// cache (verified against the digest GitHub publishes, when it does) and, for an archive, the binary is
// extracted from it. The listing is cached too, so `--offline` can rebuild from the cache alone.
import { EXIT, UserError } from '../errors.ts';
import { exeName, splitPlatform, type Component, type Platform, type Product } from '../product/model.ts';
import type { UncheckedPayload } from '../targets/types.ts';
import type { DownloadCache } from './cache.ts';
import { extractMember, sniffArchive } from './extract.ts';
import { githubError, isNotFound, type Github } from './github-api.ts';
import { mapLimited, Limiter } from '../util/concurrency.ts';
import type { PayloadNeed } from '../payloads/local.ts';

export interface GithubSource {
  owner: string;
  repo: string;
  tag: string;
}

const SOURCE = /^github:([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)@(\S+)$/;

/** "github:OWNER/REPO@TAG", or undefined for anything else (a local folder). */
export function parseGithubSource(spec: string): GithubSource | undefined {
  if (!spec.startsWith('github:')) return undefined;
  const m = SOURCE.exec(spec);
  if (!m) {
    throw new UserError(`--from ${spec}: not a GitHub release reference`, { hint: 'write it as github:OWNER/REPO@TAG, e.g. github:stigmer/stigmer@v1.2.3', exitCode: EXIT.usage });
  }
  return { owner: m[1]!, repo: m[2]!, tag: m[3]! };
}

/** The fields of a release asset this source uses (also what the cache keeps for --offline). */
export interface AssetInfo {
  id: number;
  name: string;
  size: number;
  /** "sha256:<hex>" on newer API versions, else null. */
  digest: string | null;
  state: string;
  url: string;
  updated_at: string;
}

interface Listing {
  releaseId: number;
  assets: AssetInfo[];
}

function escapeRegex(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** The asset name pattern for one component and platform as a RegExp ("*" matches anything). */
export function assetPattern(pattern: string, component: Component, platform: Platform, version: string): RegExp {
  const { os, arch } = splitPlatform(platform);
  const values: Record<string, string> = { name: component.name, binary: component.binary, version, os, arch, ext: os === 'windows' ? '.exe' : '' };
  const filled = pattern.replace(/\{([a-z]+)\}/g, (m, k: string) => values[k] ?? m);
  const unknown = /\{([a-z]+)\}/.exec(filled);
  if (unknown) {
    throw new UserError(`release.payloadAsset: unknown placeholder ${unknown[0]}`, { hint: 'use {name} {binary} {version} {os} {arch} {ext} and "*"', exitCode: EXIT.config });
  }
  return new RegExp(`^${filled.split('*').map(escapeRegex).join('.*')}$`);
}

export interface GithubPayloadOptions {
  source: GithubSource;
  product: Product;
  needs: PayloadNeed[];
  /** The version being built ({version} in the pattern). */
  version: string;
  cache: DownloadCache;
  /** Absent with --offline. */
  client?: Github;
  token?: string;
  report: (line: string) => void;
}

function listingKey(s: GithubSource): string {
  return `github-release:${s.owner}/${s.repo}@${s.tag}`;
}

async function listRelease(opts: GithubPayloadOptions): Promise<Listing> {
  const { source: s, cache } = opts;
  const where = `${s.owner}/${s.repo}@${s.tag}`;
  if (!opts.client) {
    const cached = await cache.readIndex<Listing>(listingKey(s));
    if (!cached) {
      throw new UserError(`--offline: the asset list of ${where} is not in the cache (${cache.root})`, {
        hint: 'run the same build once without --offline to fill the cache',
        exitCode: EXIT.network,
      });
    }
    return cached;
  }
  const gh = opts.client;
  const repo = `${s.owner}/${s.repo}`;
  let releaseId: number | undefined;
  try {
    releaseId = (await gh.rest.repos.getReleaseByTag({ owner: s.owner, repo: s.repo, tag: s.tag })).data.id;
  } catch (err) {
    if (!isNotFound(err)) throw githubError(err, `looking up the release ${s.tag} of ${repo}`, repo);
  }
  if (releaseId === undefined && opts.token) {
    // A draft release is not found by tag; a token that can push sees it in the list.
    try {
      const all = await gh.paginate(gh.rest.repos.listReleases, { owner: s.owner, repo: s.repo, per_page: 100 });
      releaseId = all.find((r) => r.tag_name === s.tag)?.id;
    } catch (err) {
      if (!isNotFound(err)) throw githubError(err, `listing the releases of ${repo}`, repo);
    }
  }
  if (releaseId === undefined) {
    throw new UserError(`${repo} has no release for tag ${s.tag}`, {
      hint: `check the tag (it is case-sensitive, usually with a leading "v", e.g. ${s.tag.startsWith('v') ? s.tag : `v${s.tag}`}) and that the release exists at https://github.com/${repo}/releases; a private repository needs GITHUB_TOKEN`,
      exitCode: EXIT.config,
    });
  }
  let assets: AssetInfo[];
  try {
    const raw = await gh.paginate(gh.rest.repos.listReleaseAssets, { owner: s.owner, repo: s.repo, release_id: releaseId, per_page: 100 });
    assets = raw.map((a) => ({ id: a.id, name: a.name, size: a.size, digest: a.digest ?? null, state: a.state, url: a.url, updated_at: a.updated_at }));
  } catch (err) {
    throw githubError(err, `listing the assets of ${where}`, repo);
  }
  assets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const listing = { releaseId, assets };
  await cache.writeIndex(listingKey(s), listing);
  return listing;
}

interface Match {
  need: PayloadNeed;
  component: Component;
  asset: AssetInfo;
}

/** Matches every need to exactly one asset; all mismatches are reported together. */
export function matchAssets(product: Product, needs: PayloadNeed[], assets: AssetInfo[], version: string, where: string): Match[] {
  const pattern = product.def.release.payloadAsset;
  const problems: string[] = [];
  const matches: Match[] = [];
  for (const need of needs) {
    const component = product.components.find((c) => c.name === need.component)!;
    const re = assetPattern(pattern, component, need.platform, version);
    const found = assets.filter((a) => re.test(a.name) && a.state === 'uploaded');
    if (found.length === 1) matches.push({ need, component, asset: found[0]! });
    else if (found.length === 0) problems.push(`${component.name} ${need.platform}: no asset matches ${re.source}`);
    else problems.push(`${component.name} ${need.platform}: ${found.length} assets match ${re.source}: ${found.map((a) => a.name).join(', ')}`);
  }
  if (problems.length) {
    const names = assets.map((a) => a.name);
    throw new UserError(`release.payloadAsset "${pattern}" does not pick exactly one asset of ${where} per payload:\n${problems.map((p) => `  ${p}`).join('\n')}`, {
      hint: `fix release.payloadAsset in ${product.file} (placeholders {name} {binary} {version} {os} {arch} {ext}, "*" for anything), or limit the build with --platform; the release has: ${names.slice(0, 40).join(', ') || '(no assets)'}${names.length > 40 ? ', ...' : ''}`,
      exitCode: EXIT.config,
    });
  }
  return matches;
}

export async function githubPayloads(opts: GithubPayloadOptions): Promise<UncheckedPayload[]> {
  const { source: s, product, cache } = opts;
  const where = `${s.owner}/${s.repo}@${s.tag}`;
  const listing = await listRelease(opts);
  const matches = matchAssets(product, opts.needs, listing.assets, opts.version, where);
  opts.report(`payloads from ${where}: ${matches.length} asset${matches.length === 1 ? '' : 's'}`);
  const headers: Record<string, string> = { accept: 'application/octet-stream', 'user-agent': 'stigmer-dist' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  // The cache limits concurrent downloads; extraction runs as each download lands.
  return mapLimited(new Limiter(Math.max(1, matches.length)), matches, async ({ need, component, asset }): Promise<UncheckedPayload> => {
    const digest = asset.digest?.startsWith('sha256:') ? asset.digest.slice(7) : undefined;
    const blob = await cache.fetch({
      key: `github-asset:${s.owner}/${s.repo}#${asset.id}@${asset.updated_at}/${asset.size}`,
      url: asset.url,
      headers,
      sha256: digest,
      size: asset.size,
      label: `${asset.name} (${where})`,
      mismatchHint: `the asset differs from the digest GitHub publishes for it; re-upload ${asset.name} to ${where}`,
    });
    const exe = exeName(component.binary, need.platform);
    const kind = await sniffArchive(blob.path);
    const file =
      kind === 'bare'
        ? await cache.named(blob, exe)
        : await cache.derived(`extract:${blob.sha256}:basename:${exe}`, exe, async (dest) => {
            await extractMember(blob.path, kind, { basename: exe }, dest, {
              label: `${asset.name} (${where})`,
              missingHint: `the archive must hold exactly one file named ${exe}; or change release.payloadAsset in ${product.file} to pick another asset`,
            });
          });
    return { component: need.component, platform: need.platform, path: file.path, sha256: file.sha256, size: file.size, origin: 'github' };
  });
}
