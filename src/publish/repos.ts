// APT/YUM repositories published to a directory that is synced to static hosting (--repo-dir DIR): DIR/apt and
// DIR/yum receive this build's repository trees (dist/<version>/repo/{apt,yum}), merged with the packages
// already published there so older versions stay installable. Published packages are never replaced. New
// packages land first and the signed root metadata (Release/InRelease, repomd.xml) last, each file by an atomic
// rename, so a sync taken mid-way never points at a file that is not there yet.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { aptRepoMeta, buildAptRepo } from '../targets/apt-repo/index.ts';
import { resolveSigning } from '../signing/gpg.ts';
import { repoSigningSession } from '../targets/repo-common.ts';
import { buildYumRepo } from '../targets/yum-repo/index.ts';
import { hashFile } from '../util/fsx.ts';
import { filesBelow } from './dist.ts';
import { Skip, type PublishContext, type Publisher, type Write } from './types.ts';

interface RepoKind {
  id: 'apt' | 'yum';
  isPackage: (rel: string) => boolean;
  /** Signed root metadata: written after everything it lists. */
  isRoot: (rel: string) => boolean;
}

const KINDS: RepoKind[] = [
  { id: 'apt', isPackage: (r) => r.startsWith('pool/') && r.endsWith('.deb'), isRoot: (r) => /^dists\/[^/]+\/(Release|InRelease|Release\.gpg)$/.test(r) },
  { id: 'yum', isPackage: (r) => r.endsWith('.rpm'), isRoot: (r) => /^repodata\/repomd\.xml(\.asc)?$/.test(r) },
];

async function copyAtomic(src: string, dest: string): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await copyFile(src, tmp);
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Files of `tree` in sync order: packages first, then metadata, the signed root metadata last. */
function syncOrder(kind: RepoKind, files: string[]): string[] {
  const rank = (r: string) => (kind.isPackage(r) ? 0 : kind.isRoot(r) ? 2 : 1);
  return [...files].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

async function digests(dir: string, rels: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const r of rels) out.set(r, (await hashFile(path.join(dir, r))).sha256);
  return out;
}

/**
 * Copies `built` into `published`: missing packages, then every metadata file (replaced), root metadata last;
 * then index files the new root metadata no longer lists (old hashed repodata, vanished architectures) go.
 */
async function syncTree(kind: RepoKind, built: string, published: string): Promise<{ packages: number; metadata: number }> {
  let packages = 0;
  let metadata = 0;
  const have = new Set(await filesBelow(published));
  const wanted = await filesBelow(built);
  for (const rel of syncOrder(kind, wanted)) {
    const dest = path.join(published, rel);
    if (kind.isPackage(rel)) {
      if (have.has(rel)) {
        if ((await hashFile(dest)).sha256 !== (await hashFile(path.join(built, rel))).sha256) {
          throw new UserError(`${dest} is already published with different contents`, { hint: 'a published package never changes: bump the version (or the package revision)', exitCode: EXIT.config });
        }
        continue;
      }
      packages++;
    } else metadata++;
    await copyAtomic(path.join(built, rel), dest);
  }
  const keep = new Set(wanted);
  for (const rel of have) {
    if (!keep.has(rel) && !kind.isPackage(rel) && /^(dists|repodata)\//.test(rel)) await rm(path.join(published, rel), { force: true });
  }
  return { packages, metadata };
}

async function planKind(ctx: PublishContext, kind: RepoKind, repoDir: string): Promise<{ writes: Write[]; summary: string } | undefined> {
  const built = path.join(ctx.distDir, 'repo', kind.id);
  if (!existsSync(built)) return undefined;
  const published = path.join(repoDir, kind.id);
  const builtFiles = await filesBelow(built);
  const publishedFiles = await filesBelow(published);
  const builtPkgs = builtFiles.filter(kind.isPackage);
  const publishedPkgs = publishedFiles.filter(kind.isPackage);
  const builtSums = await digests(built, builtPkgs.filter((r) => publishedPkgs.includes(r)));
  const publishedSums = await digests(published, publishedPkgs.filter((r) => builtPkgs.includes(r)));
  const conflicts = [...builtSums].filter(([r, sum]) => publishedSums.get(r) !== sum).map(([r]) => r);
  if (conflicts.length) {
    throw new UserError(`${published} already holds different packages under the same names: ${conflicts.join(', ')}`, {
      hint: 'published packages are immutable (clients cached their digests): bump the version or the package revision, and rebuild',
      exitCode: EXIT.config,
    });
  }
  const fresh = builtPkgs.filter((r) => !publishedPkgs.includes(r));
  const missing = publishedPkgs.filter((r) => !builtPkgs.includes(r));
  const rel = (p: string) => path.relative(process.cwd(), p) || '.';
  if (!missing.length) {
    // This build's tree already lists every published package (built with --repo-base DIR): copy it over.
    const order = syncOrder(kind, builtFiles).filter((r) => !(kind.isPackage(r) && publishedPkgs.includes(r)));
    return {
      summary: `${kind.id}: ${fresh.length} new package${fresh.length === 1 ? '' : 's'}, ${publishedPkgs.length} already in ${rel(published)}`,
      writes: [
        {
          request: `sync ${rel(built)} -> ${rel(published)}: ${order.map((r) => (kind.isPackage(r) ? `add ${r}` : `replace ${r}`)).join(', ')}`,
          what: `${kind.id}: copying ${fresh.length} new package(s) and the signed metadata into ${rel(published)}`,
          run: async () => void (await syncTree(kind, built, published)),
        },
      ],
    };
  }
  // The published repository has packages this build's indexes do not list: index both together (re-signed).
  // The key is checked now, so a missing one stops the publish before anything is written anywhere.
  try {
    resolveSigning({ snapshot: false, env: ctx.env });
  } catch (err) {
    if (err instanceof UserError && /no signing key/.test(err.message)) {
      throw new UserError(`${rel(published)} holds ${missing.length} package(s) this build's ${kind.id} index does not list, so the merged index must be signed again, but no signing key was given`, {
        hint: `set STIGMER_DIST_SIGNING_KEY (and STIGMER_DIST_SIGNING_PASSPHRASE), or rebuild with --repo-base ${rel(repoDir)} so the build signs the merged repository`,
        exitCode: EXIT.usage,
      });
    }
    throw err;
  }
  const staging = path.join(repoDir, `.staging-${kind.id}-${process.pid}`);
  return {
    summary: `${kind.id}: ${fresh.length} new package${fresh.length === 1 ? '' : 's'} merged with ${missing.length} published one${missing.length === 1 ? '' : 's'} this build does not list; indexes re-generated and re-signed`,
    writes: [
      {
        request: `re-index ${rel(published)} with ${fresh.length} new package(s) from ${rel(built)} (signed with ${'STIGMER_DIST_SIGNING_KEY'}), then sync it`,
        what: `${kind.id}: merging ${fresh.length} new package(s) with the ${publishedPkgs.length} published in ${rel(published)}`,
        run: async () => {
          const session = repoSigningSession(ctx.product, { snapshot: false, sourceDateEpoch: ctx.sourceDateEpoch, env: ctx.env, warn: (l) => ctx.report.warn(l) });
          await rm(staging, { recursive: true, force: true });
          try {
            const signer = await session.signer();
            const packages = fresh.map((r) => path.join(built, r));
            if (kind.id === 'apt') {
              await buildAptRepo({ repoDir: staging, packages, base: published, signer, meta: aptRepoMeta(ctx.product), sourceDateEpoch: ctx.sourceDateEpoch, keyringName: ctx.product.meta.name });
            } else {
              await buildYumRepo({ repoDir: staging, packages, base: published, signer, sourceDateEpoch: ctx.sourceDateEpoch, keyName: ctx.product.meta.name });
            }
            // Client files (.list/.repo) come from the build.
            for (const r of builtFiles.filter((f) => !f.includes('/') && /\.(list|repo|sources)$/.test(f))) await copyAtomic(path.join(built, r), path.join(staging, r));
            await syncTree(kind, staging, published);
          } finally {
            await session.close();
            await rm(staging, { recursive: true, force: true });
          }
        },
      },
    ],
  };
}

export const reposPublisher: Publisher = {
  id: 'repos',
  github: false,
  description: 'APT/YUM repositories: merged into --repo-dir DIR, ready to sync to static hosting',
  async plan(ctx) {
    if (!ctx.repoDir) return new Skip('no --repo-dir given');
    const plans = [];
    for (const kind of KINDS) {
      const p = await planKind(ctx, kind, ctx.repoDir);
      if (p) plans.push(p);
    }
    if (!plans.length) return new Skip(`no repositories in ${path.join(ctx.distDir, 'repo')} (the apt-repo and yum-repo targets were not built)`);
    return { writes: plans.flatMap((p) => p.writes), summary: plans.map((p) => p.summary).join('; ') };
  },
};
