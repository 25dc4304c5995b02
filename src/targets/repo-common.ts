// Shared by the apt-repo and yum-repo targets: the repository options a build passes (signing, the published
// repository to merge), putting packages into a pool without ever replacing a published one, and walking trees.
import { copyFile, mkdir, readdir, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import type { Product } from '../product/model.ts';
import { resolveSigning, signingSession, type SigningSession } from '../signing/gpg.ts';
import { hashFile } from '../util/fsx.ts';
import type { BuildContext, RepoOptions } from './types.ts';

/** The session a build opens for its repositories (the CLI owns it and closes it after the build). */
export function repoSigningSession(
  product: Product,
  opts: { signingKey?: string; unsigned?: boolean; snapshot: boolean; sourceDateEpoch: number; env?: NodeJS.ProcessEnv; warn: (line: string) => void },
): SigningSession {
  const mode = resolveSigning(opts);
  return signingSession(mode, {
    sourceDateEpoch: opts.sourceDateEpoch,
    onThrowaway: (fpr) =>
      opts.warn(`no signing key: this snapshot is signed with the INSECURE snapshot key (${fpr}), whose secret key is public; clients must trust the exported repo/apt/${product.meta.name}.gpg or repo/yum/RPM-GPG-KEY-${product.meta.name}, and nothing signed with it is evidence of anything`),
  });
}

/**
 * Runs `fn` with the build's repository options; when the build passed none (a caller of runBuild without the
 * CLI), signing follows the environment (key or, for snapshots, a throwaway key) and is closed afterwards.
 */
export async function withRepoOptions<T>(ctx: BuildContext, fn: (repo: RepoOptions) => Promise<T>): Promise<T> {
  if (ctx.repo) return fn(ctx.repo);
  const session = repoSigningSession(ctx.product, { snapshot: ctx.snapshot, sourceDateEpoch: ctx.sourceDateEpoch, warn: (l) => ctx.report.warn(l) });
  try {
    return await fn({ signer: () => session.signer() });
  } finally {
    await session.close();
  }
}

/** Public URL of the repository tree (holding apt/ and yum/): --repo-url, else release.repository.url. */
export function repoUrl(ctx: BuildContext, repo: RepoOptions): string | undefined {
  const url = repo.url ?? ctx.product.def.release.repository?.url;
  return url?.replace(/\/+$/, '');
}

/** Every regular file below `dir` whose name passes `keep`, as sorted absolute paths ([] when dir is missing). */
export async function listFiles(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile() && keep(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/**
 * Copies `src` to `dest` in a pool. A file already there must be byte-identical: a published package is never
 * replaced (clients cached its digest), so rebuilding a released version with different bytes is an error.
 * Returns false when the identical file was already there.
 */
export async function placeInPool(src: string, dest: string, opts: { mtime?: number } = {}): Promise<boolean> {
  if (path.resolve(src) === path.resolve(dest)) return false;
  const existing = await stat(dest).catch(() => undefined);
  if (existing) {
    const [a, b] = await Promise.all([hashFile(src), hashFile(dest)]);
    if (a.sha256 === b.sha256) return false;
    throw new UserError(`${path.basename(dest)} is already published with different contents (${dest})`, {
      hint: 'a published package version is immutable: bump the version (or the package revision) instead of rebuilding it',
      exitCode: EXIT.config,
    });
  }
  await mkdir(path.dirname(dest), { recursive: true });
  await copyFile(src, dest);
  if (opts.mtime !== undefined) await utimes(dest, opts.mtime, opts.mtime);
  return true;
}

export function posix(rel: string): string {
  return rel.split(path.sep).join('/');
}
