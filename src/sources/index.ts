// Where a build's payloads come from: stand-ins (--snapshot), a local folder (--from DIR) or a GitHub release
// (--from github:OWNER/REPO@TAG). Components pinned upstream (components[].upstream) always come from their
// pinned download in a release build; a snapshot keeps the stand-in.
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import type { Platform, Product } from '../product/model.ts';
import { localPayloads, payloadNeeds } from '../payloads/local.ts';
import { DigestCache } from '../util/digest-cache.ts';
import { buildStandins } from '../payloads/standin.ts';
import { checkPayloads } from '../payloads/check.ts';
import type { Payload } from '../targets/types.ts';
import type { Reporter } from '../util/progress.ts';
import { Secrets } from '../util/secrets.ts';
import { DownloadCache, type ProgressSink } from './cache.ts';
import { createGithubClient, githubApiBase, githubToken } from './github-api.ts';
import { githubPayloads, parseGithubSource } from './github.ts';
import { DEFAULT_HTTP, type HttpOptions } from './http.ts';
import { isUpstream, upstreamPayloads } from './upstream.ts';

export interface ResolveOptions {
  product: Product;
  platforms: Platform[];
  version: string;
  /** A folder or github:OWNER/REPO@TAG; absent for a snapshot. */
  from?: string;
  snapshot: boolean;
  offline: boolean;
  cacheDir: string;
  report: Reporter;
  http?: HttpOptions;
  env?: NodeJS.ProcessEnv;
}

function mb(n: number): string {
  return (n / 1e6).toFixed(1);
}

/** One redrawn terminal line for all running downloads (Reporter.progress prints nothing outside a TTY). */
export function progressBoard(report: Reporter, now: () => number = Date.now): ProgressSink {
  const active = new Map<string, { received: number; total?: number }>();
  let last = 0;
  const draw = (force = false) => {
    if (!force && now() - last < 100) return;
    last = now();
    const parts = [...active].map(([label, s]) => {
      const name = label.split(' ')[0]!;
      if (!s.total) return `${name} ${mb(s.received)} MB`;
      const pct = Math.min(100, Math.floor((s.received / s.total) * 100));
      const bar = '#'.repeat(Math.floor(pct / 10)).padEnd(10, '.');
      return `${name} [${bar}] ${pct}% ${mb(s.received)}/${mb(s.total)} MB`;
    });
    if (parts.length) report.progress(`downloading ${parts.join('  ')}`);
  };
  return {
    start(label, total) {
      active.set(label, { received: 0, total });
      draw(true);
      return (received, t) => {
        active.set(label, { received, total: t ?? total });
        draw();
      };
    },
    finish(label) {
      active.delete(label);
      draw(true);
    },
  };
}

/** Every payload the build needs, each checked (src/payloads/check.ts) before any target can run. */
export async function resolvePayloads(opts: ResolveOptions): Promise<Payload[]> {
  const { product, report } = opts;
  const env = opts.env ?? process.env;
  const needs = payloadNeeds(product, opts.platforms);
  if (opts.snapshot) {
    if (opts.from) throw new UserError('choose one payload source: --snapshot (stand-ins) or --from (real binaries)', { exitCode: EXIT.usage });
    return checkPayloads(await buildStandins({ product, platforms: opts.platforms, version: opts.version, cacheDir: opts.cacheDir, report: (l: string) => report.progress(l) }));
  }
  if (!opts.from) throw new UserError('a release build needs its binaries: pass --from DIR or --from github:OWNER/REPO@TAG (or --snapshot for stand-ins)', { exitCode: EXIT.usage });
  const http = opts.http ?? DEFAULT_HTTP;
  const cache = new DownloadCache({ root: opts.cacheDir, offline: opts.offline, http, progress: progressBoard(report) });
  const own = needs.filter((n) => !isUpstream(product, n.component));
  const pinned = needs.filter((n) => isUpstream(product, n.component));
  const source = parseGithubSource(opts.from);
  const token = githubToken(env);
  const secrets = Secrets.fromEnv(env);
  // A local folder is checked first: a missing file fails the build before anything is downloaded.
  const local = source ? undefined : await localPayloads(path.resolve(opts.from), product, own, new DigestCache(opts.cacheDir));
  const ownPayloads = (async () => {
    if (local) return local;
    const client = opts.offline ? undefined : createGithubClient({ baseUrl: githubApiBase(env), token, http, secrets, warn: (l) => report.warn(l) });
    return githubPayloads({ source: source!, product, needs: own, version: opts.version, cache, client, token, report: (l) => report.info(l) });
  })();
  const pinnedPayloads = upstreamPayloads({ product, needs: pinned, cache, report: (l) => report.info(l) });
  const [a, b] = await Promise.allSettled([ownPayloads, pinnedPayloads]);
  report.done();
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return checkPayloads([...a.value, ...b.value]);
}
