// Where stigmer-dist keeps what it may reuse between runs (downloads, stand-ins, digests, Go's build cache,
// the e2e Debian roots).
import os from 'node:os';
import path from 'node:path';

/** $XDG_CACHE_HOME/stigmer-dist, else ~/.cache/stigmer-dist. */
export function userCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'stigmer-dist');
}

/** The download, stand-in, digest and Go build cache: $STIGMER_DIST_CACHE, else userCacheDir(). */
export function cacheDir(): string {
  return process.env.STIGMER_DIST_CACHE ? path.resolve(process.env.STIGMER_DIST_CACHE) : userCacheDir();
}
