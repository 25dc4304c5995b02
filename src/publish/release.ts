// The GitHub release: found by tag (drafts included), created as a draft when missing, every release artifact
// uploaded (streamed from disk, retried; an asset already there with the same digest is skipped, a different
// one is an error unless --replace), and only then published. An interrupted run leaves a draft that the next
// run finishes: broken uploads are deleted and redone, nothing is uploaded twice.
import { createReadStream } from 'node:fs';
import {} from 'node:fs/promises';
import { makeTempDir } from '../util/cleanup.ts';
import path from 'node:path';
import { Readable } from 'node:stream';
import { EXIT, UserError } from '../errors.ts';
import { renderTemplate } from '../render/templates.ts';
import { download } from '../sources/download.ts';
import { githubError, statusOf, type Github } from '../sources/github-api.ts';
import { backoffMs, sleepOf } from '../sources/http.ts';
import { CHECKSUMS_FILE } from '../targets/checksums/index.ts';
import { CHECKSUMS_SIGNATURE_FILE, SIGSTORE_BUNDLE_FILE, releaseKeyFile } from '../targets/release.ts';
import type { ReleaseFile } from './dist.ts';
import { describeBody, type PublishContext, type Publisher, type Write } from './types.ts';

export interface ReleaseInfo {
  id: number;
  tag_name: string;
  draft: boolean;
  prerelease: boolean;
  body?: string | null;
  upload_url: string;
  html_url: string;
}

export interface AssetState {
  id: number;
  name: string;
  size: number;
  state: string;
  digest?: string | null;
  url: string;
}

export function releaseNotes(ctx: Pick<PublishContext, 'product' | 'versions' | 'assets'>): string {
  return renderTemplate('publish/release-notes.md.hbs', {
    displayName: ctx.product.meta.displayName,
    version: ctx.versions.semver,
    prerelease: ctx.versions.prerelease,
    summary: ctx.product.meta.summary,
    artifacts: ctx.assets.map((a) => ({ name: a.name, size: a.size, sha256: a.sha256 })),
    checksumsFile: ctx.assets.some((a) => a.name === CHECKSUMS_FILE) ? CHECKSUMS_FILE : null,
    verify: verifyCommands(ctx),
  });
}

/** The commands users run to check the release: gpg (SHA256SUMS.asc), gh attestation verify, cosign verify-blob. */
function verifyCommands(ctx: Pick<PublishContext, 'product' | 'assets'>) {
  const names = new Set(ctx.assets.map((a) => a.name));
  if (!names.has(CHECKSUMS_FILE)) return null;
  const { owner, repo } = ctx.product.def.release.github;
  const example = ctx.assets.map((a) => a.name).find((n) => /\.(tar\.gz|deb|rpm|msi|zip)$/.test(n)) ?? CHECKSUMS_FILE;
  const keyFile = releaseKeyFile(ctx.product, true);
  return {
    checksumsFile: CHECKSUMS_FILE,
    repo: `${owner}/${repo}`,
    // owner and repo are GitHub names (letters, digits, "-", "_", "."): only "." needs escaping in the regex.
    repoRegex: `${owner}/${repo}`.replace(/\./g, '\\.'),
    example,
    gpg: names.has(CHECKSUMS_SIGNATURE_FILE) && names.has(keyFile) ? { keyFile, binaryKeyFile: releaseKeyFile(ctx.product, false) } : null,
    cosign: names.has(SIGSTORE_BUNDLE_FILE) ? { bundle: SIGSTORE_BUNDLE_FILE } : null,
  };
}

export function contentType(name: string): string {
  if (/\.(tar\.gz|tgz)$/.test(name)) return 'application/gzip';
  if (name.endsWith('.zip')) return 'application/zip';
  if (name.endsWith('.json')) return 'application/json';
  if (name === CHECKSUMS_FILE || /\.(txt|rb|ya?ml|sh|ps1|md)$/.test(name)) return 'text/plain';
  return 'application/octet-stream';
}

/** The release for a tag, drafts included (GET /releases/tags/{tag} does not see drafts). */
export async function findRelease(gh: Github, owner: string, repo: string, tag: string): Promise<ReleaseInfo | undefined> {
  const all = await gh.paginate(gh.rest.repos.listReleases, { owner, repo, per_page: 100 });
  return all.find((r) => r.tag_name === tag) as ReleaseInfo | undefined;
}

export async function listAssets(gh: Github, owner: string, repo: string, releaseId: number): Promise<AssetState[]> {
  const all = await gh.paginate(gh.rest.repos.listReleaseAssets, { owner, repo, release_id: releaseId, per_page: 100 });
  return all.map((a) => ({ id: a.id, name: a.name, size: a.size, state: a.state, digest: a.digest ?? null, url: a.url }));
}

/** Whether the published asset holds exactly the local file: by GitHub's digest, else by size and a download. */
async function sameContent(ctx: PublishContext, asset: AssetState, file: ReleaseFile): Promise<boolean> {
  if (asset.digest) return asset.digest === `sha256:${file.sha256}`;
  if (asset.size !== file.size) return false;
  const dirDir = await makeTempDir('stigmer-dist-asset-');
  const dir = dirDir.path;
  try {
    const headers: Record<string, string> = { accept: 'application/octet-stream', 'user-agent': 'stigmer-dist' };
    if (ctx.token) headers.authorization = `Bearer ${ctx.token}`;
    const got = await download({ url: asset.url, dest: path.join(dir, 'asset'), headers, expectedSize: asset.size, label: `published ${asset.name}` }, ctx.http);
    return got.sha256 === file.sha256;
  } finally {
    await dirDir.dispose();
  }
}

/** A stream that opens the file only when read (a dry run or a failed request before the body leaks nothing). */
function lazyFile(file: string): Readable {
  return Readable.from(
    (async function* () {
      yield* createReadStream(file, { highWaterMark: 1 << 20 });
    })(),
  );
}

function uploadOrigin(uploadUrl: string): string {
  return uploadUrl.replace(/\{[^}]*\}$/, '');
}

async function uploadAsset(ctx: PublishContext, release: ReleaseInfo, file: ReleaseFile, owner: string, repo: string): Promise<void> {
  const gh = ctx.github;
  const policy = ctx.http.retry;
  const what = `uploading ${file.name} to ${owner}/${repo} ${release.tag_name}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await gh.request({
        method: 'POST',
        url: release.upload_url,
        name: file.name,
        data: lazyFile(file.file),
        headers: { 'content-type': contentType(file.name), 'content-length': file.size },
      });
      return;
    } catch (err) {
      const status = statusOf(err);
      const transient = status === undefined || status >= 500 || status === 429 || status === 422;
      if (!transient) throw githubError(err, what, `${owner}/${repo}`, ctx.secrets);
      // The attempt may have landed (its answer lost) or left a broken asset behind: look before retrying.
      let left: AssetState | undefined;
      try {
        left = (await listAssets(gh, owner, repo, release.id)).find((a) => a.name === file.name);
      } catch (listErr) {
        throw githubError(listErr, `checking ${file.name} after a failed upload`, `${owner}/${repo}`, ctx.secrets);
      }
      if (left && left.state === 'uploaded' && (left.digest ? left.digest === `sha256:${file.sha256}` : left.size === file.size)) return;
      if (status === 422 && !left) throw githubError(err, what, `${owner}/${repo}`, ctx.secrets);
      if (left) {
        try {
          await gh.rest.repos.deleteReleaseAsset({ owner, repo, asset_id: left.id });
        } catch (delErr) {
          throw githubError(delErr, `removing the incomplete ${file.name}`, `${owner}/${repo}`, ctx.secrets);
        }
      }
      if (attempt >= policy.attempts) {
        const e = githubError(err, what, `${owner}/${repo}`, ctx.secrets);
        throw new UserError(`${e.message} (gave up after ${attempt} tries)`, { hint: 'run `stigmer-dist publish` again: it keeps what is already uploaded and finishes the rest', exitCode: EXIT.network, cause: err });
      }
      await sleepOf(policy)(backoffMs(attempt, policy));
    }
  }
}

export const releasePublisher: Publisher = {
  id: 'release',
  github: true,
  description: 'GitHub release: create or update it for the tag, upload every release artifact, then publish it',
  async plan(ctx) {
    const { owner, repo } = ctx.product.def.release.github;
    const repoName = `${owner}/${repo}`;
    const gh = ctx.github;
    const tag = ctx.versions.tag;
    const api = `${ctx.apiBase}/repos/${owner}/${repo}`;
    let found: ReleaseInfo | undefined;
    let existing: AssetState[] = [];
    try {
      found = await findRelease(gh, owner, repo, tag);
      if (found) existing = await listAssets(gh, owner, repo, found.id);
    } catch (err) {
      throw githubError(err, `reading the releases of ${repoName}`, repoName, ctx.secrets);
    }
    const remove: AssetState[] = [];
    const upload: ReleaseFile[] = [];
    const conflicts: string[] = [];
    let same = 0;
    for (const f of ctx.assets) {
      const a = existing.find((x) => x.name === f.name);
      if (!a) upload.push(f);
      else if (a.state !== 'uploaded') {
        remove.push(a); // left by an interrupted upload
        upload.push(f);
      } else if (await sameContent(ctx, a, f).catch((err) => Promise.reject(githubError(err, `comparing the published ${f.name}`, repoName, ctx.secrets)))) {
        same++;
      } else if (ctx.replace) {
        remove.push(a);
        upload.push(f);
      } else {
        conflicts.push(`${f.name}: published ${a.digest ?? `${a.size} bytes`}, local sha256:${f.sha256}`);
      }
    }
    if (conflicts.length) {
      throw new UserError(`release ${tag} of ${repoName} already has ${conflicts.length === 1 ? 'an asset' : 'assets'} with different contents:\n${conflicts.map((c) => `  ${c}`).join('\n')}`, {
        hint: 'published files must not change under the same name: build a new version, or re-run with --replace to overwrite them',
        exitCode: EXIT.failure,
      });
    }
    const strays = existing.filter((a) => a.state === 'uploaded' && !ctx.assets.some((f) => f.name === a.name));
    if (strays.length) ctx.report.warn(`release ${tag} also has assets this build did not make (left alone): ${strays.map((a) => a.name).join(', ')}`);

    const body = ctx.notes ?? releaseNotes(ctx);
    const name = `${ctx.product.meta.displayName} ${ctx.versions.semver}`;
    let release = found;
    const need = () => {
      if (!release) throw new Error('internal: the release was not created before its assets');
      return release;
    };
    const writes: Write[] = [];
    if (!found) {
      const params = { owner, repo, tag_name: tag, name, body, draft: true, prerelease: ctx.versions.prerelease };
      writes.push({
        request: `POST ${api}/releases ${describeBody({ tag_name: tag, name, draft: true, prerelease: params.prerelease, body })}`,
        what: `creating the draft release ${tag} on ${repoName}`,
        run: async () => {
          try {
            release = (await gh.rest.repos.createRelease(params)).data as ReleaseInfo;
          } catch (err) {
            throw githubError(err, `creating the release ${tag} on ${repoName}`, repoName, ctx.secrets);
          }
        },
      });
    } else {
      const patch: { body?: string; prerelease?: boolean } = {};
      if (ctx.notes !== undefined && (found.body ?? '') !== ctx.notes) patch.body = ctx.notes;
      if (found.prerelease !== ctx.versions.prerelease) patch.prerelease = ctx.versions.prerelease;
      if (Object.keys(patch).length) {
        writes.push({
          request: `PATCH ${api}/releases/${found.id} ${describeBody(patch)}`,
          what: `updating ${Object.keys(patch).join(' and ')} of release ${tag}`,
          run: async () => {
            try {
              await gh.rest.repos.updateRelease({ owner, repo, release_id: found.id, ...patch });
            } catch (err) {
              throw githubError(err, `updating the release ${tag}`, repoName, ctx.secrets);
            }
          },
        });
      }
    }
    for (const a of remove) {
      writes.push({
        request: `DELETE ${api}/releases/assets/${a.id}`,
        what: `removing ${a.state === 'uploaded' ? 'the replaced' : 'the incomplete'} asset ${a.name}`,
        run: async () => {
          try {
            await gh.rest.repos.deleteReleaseAsset({ owner, repo, asset_id: a.id });
          } catch (err) {
            throw githubError(err, `removing the asset ${a.name}`, repoName, ctx.secrets);
          }
        },
      });
    }
    // SHA256SUMS goes last: once it is there, everything it lists is.
    const ordered = [...upload.filter((f) => f.name !== CHECKSUMS_FILE), ...upload.filter((f) => f.name === CHECKSUMS_FILE)];
    for (const f of ordered) {
      const uploads = found ? uploadOrigin(found.upload_url) : `<upload URL of the new release>`;
      writes.push({
        request: `POST ${uploads}?name=${encodeURIComponent(f.name)} (${f.size} bytes from ${path.relative(process.cwd(), f.file)}, sha256 ${f.sha256})`,
        what: `uploading ${f.name} (${f.size} bytes)`,
        run: () => uploadAsset(ctx, need(), f, owner, repo),
      });
    }
    if (!found || found.draft) {
      writes.push({
        request: `PATCH ${api}/releases/${found?.id ?? '<id of the new release>'} {"draft":false}`,
        what: `publishing release ${tag}`,
        run: async () => {
          try {
            await gh.rest.repos.updateRelease({ owner, repo, release_id: need().id, draft: false });
          } catch (err) {
            throw githubError(err, `publishing the release ${tag}`, repoName, ctx.secrets);
          }
        },
      });
    }
    const state = found ? `${found.draft ? 'draft' : 'published'} release ${tag} has ${same} of ${ctx.assets.length} assets` : `no release ${tag} yet`;
    return { writes, summary: `${repoName}: ${state}; ${upload.length} to upload${remove.length ? `, ${remove.length} to remove` : ''}` };
  },
};
