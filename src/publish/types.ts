// Publishing is planned like a build: each publisher first reads what is already published and works out the
// writes that are missing (pure apart from those reads), then the writes run in order. A dry run prints the
// writes instead; a re-run plans only what the previous run did not finish.
import type { Product } from '../product/model.ts';
import type { Github } from '../sources/github-api.ts';
import type { HttpOptions } from '../sources/http.ts';
import type { Reporter } from '../util/progress.ts';
import type { Secrets } from '../util/secrets.ts';
import type { Versions } from '../version.ts';
import type { BuildRecord, ReleaseFile } from './dist.ts';

/** One remote (or local) change. */
export interface Write {
  /** The request as a dry run prints it: "POST https://api.github.com/repos/o/r/releases {...}". */
  request: string;
  /** What it does, for the log. */
  what: string;
  run(): Promise<void>;
}

export interface PublishPlan {
  writes: Write[];
  /** One line: what is already published and what will change. */
  summary: string;
}

/** A publisher with nothing to do here says why (collected and reported, never silent). */
export class Skip {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

export interface PublishContext {
  product: Product;
  versions: Versions;
  /** dist/<version>/ */
  distDir: string;
  record: BuildRecord;
  assets: ReleaseFile[];
  github: Github;
  apiBase: string;
  token?: string;
  http: HttpOptions;
  dryRun: boolean;
  replace: boolean;
  /** Release notes from --notes. */
  notes?: string;
  /** --repo-dir: where the APT/YUM repositories are published. */
  repoDir?: string;
  /** Open pull requests (tap) instead of committing to the default branch. */
  tapPullRequest: boolean;
  /** Timestamps written into re-generated repository metadata. */
  sourceDateEpoch: number;
  /** The environment (signing key, tokens) this publish runs with. */
  env: NodeJS.ProcessEnv;
  report: Reporter;
  secrets: Secrets;
}

export interface Publisher {
  id: string;
  description: string;
  /** Talks to GitHub (needs a token unless it is a dry run). */
  github: boolean;
  plan(ctx: PublishContext): Promise<PublishPlan | Skip>;
}

/** A compact, secret-free rendering of a request body for dry-run output. */
export function describeBody(body: unknown): string {
  const short = (v: unknown): unknown => {
    if (typeof v === 'string') return v.length > 80 ? `${v.slice(0, 77)}...` : v;
    if (Array.isArray(v)) return v.length > 8 ? [...v.slice(0, 8).map(short), `... ${v.length - 8} more`] : v.map(short);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, short(x)]));
    return v;
  };
  return JSON.stringify(short(body));
}
