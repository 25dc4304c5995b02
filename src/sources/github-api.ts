// The GitHub REST client shared by the release source and the publishers: @octokit/rest over undici (so the
// proxy settings, timeouts and retries of src/sources/http.ts apply), the token from GITHUB_TOKEN / GH_TOKEN,
// the API base overridable with STIGMER_DIST_GITHUB_API (GitHub Enterprise, tests). Errors become UserErrors
// that say what to do, and never carry the token.
import { Octokit } from '@octokit/rest';
import { fetch as undiciFetch } from 'undici';
import { EXIT, UserError } from '../errors.ts';
import { redact, Secrets } from '../util/secrets.ts';
import { backoffMs, describeNetworkError, dispatcherFor, isConnectError, isTransientNetworkError, parseRetryAfter, sleepOf, type HttpOptions } from './http.ts';

export const GITHUB_API_ENV = 'STIGMER_DIST_GITHUB_API';
export const DEFAULT_GITHUB_API = 'https://api.github.com';

export function githubToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.GITHUB_TOKEN || env.GH_TOKEN || undefined;
}

export function githubApiBase(env: NodeJS.ProcessEnv = process.env): string {
  return (env[GITHUB_API_ENV] || DEFAULT_GITHUB_API).replace(/\/+$/, '');
}

export interface GithubClientOptions {
  baseUrl: string;
  token?: string;
  http: HttpOptions;
  /** Called for every HTTP request octokit makes (dry-run listing, debugging). Never given headers. */
  onRequest?: (method: string, url: string) => void;
  /** Where octokit's own warnings go (redacted). */
  warn?: (line: string) => void;
  secrets?: Secrets;
  userAgent?: string;
}

export type Github = Octokit;

/** octokit's RequestError (name "HttpError"), recognised by shape so no extra dependency is needed. */
interface RequestErrorLike extends Error {
  status: number;
  response?: { data?: unknown; headers: Record<string, string | number | undefined> };
}

function isRequestError(err: unknown): err is RequestErrorLike {
  return err instanceof Error && err.name === 'HttpError' && typeof (err as { status?: unknown }).status === 'number';
}

export function statusOf(err: unknown): number | undefined {
  return isRequestError(err) && err.response ? err.status : undefined;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** The retry rules for an API request: reads and content-addressed writes retry on any transient failure;
 * other writes only when the server certainly did not act (connection refused, 429). */
function retryingFetch(opts: GithubClientOptions): typeof fetch {
  const policy = opts.http.retry;
  const sleep = sleepOf(policy);
  const f = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    const method = (init.method ?? 'GET').toUpperCase();
    const body = init.body as unknown;
    const replayable = body == null || typeof body === 'string' || body instanceof Uint8Array;
    const safe = IDEMPOTENT.has(method) || /\/git\/(blobs|trees|commits)$/.test(new URL(url).pathname);
    opts.onRequest?.(method, url);
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = (await undiciFetch(url, { ...(init as object), dispatcher: dispatcherFor(opts.http) } as Parameters<typeof undiciFetch>[1])) as unknown as Response;
      } catch (err) {
        const retry = replayable && attempt < policy.attempts && (safe ? isTransientNetworkError(err) : isConnectError(err));
        if (!retry) throw err;
        await sleep(backoffMs(attempt, policy));
        continue;
      }
      const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
      const rateLimited = res.status === 429 || (res.status === 403 && (retryAfter !== undefined || res.headers.get('x-ratelimit-remaining') === '0'));
      const reset = Number(res.headers.get('x-ratelimit-reset'));
      const wait = retryAfter ?? (rateLimited && reset ? Math.max(0, reset * 1000 - Date.now()) : undefined);
      const transient = rateLimited || (safe && [500, 502, 503, 504].includes(res.status));
      if (!transient || !replayable || attempt >= policy.attempts || (wait !== undefined && wait > policy.maxRetryAfterMs)) return res;
      await res.body?.cancel().catch(() => {});
      await sleep(backoffMs(attempt, policy, wait));
    }
  };
  return f as typeof fetch;
}

export function createGithubClient(opts: GithubClientOptions): Github {
  const secrets = opts.secrets ?? new Secrets().add(opts.token);
  if (opts.token) secrets.add(opts.token);
  const warn = (line: unknown) => opts.warn?.(secrets.redact(String(line)));
  return new Octokit({
    baseUrl: opts.baseUrl,
    ...(opts.token ? { auth: opts.token } : {}),
    userAgent: opts.userAgent ?? 'stigmer-dist',
    request: { fetch: retryingFetch(opts) },
    // Failed requests are reported by our own errors (a 404 is often an expected answer); keep octokit's warnings.
    log: { debug: () => {}, info: () => {}, warn, error: () => {} },
  });
}

/** An octokit failure as a UserError that says what was being done and how to fix it; never includes the token. */
export function githubError(err: unknown, what: string, repo: string, secrets?: Secrets): UserError {
  const clean = (s: string) => redact(secrets ? secrets.redact(s) : s);
  if (err instanceof UserError) return err;
  if (isRequestError(err)) {
    const data = err.response?.data as { message?: string; errors?: { message?: string; code?: string; field?: string }[] } | undefined;
    const headers = err.response?.headers ?? {};
    const detail = [data?.message ?? err.message, ...(data?.errors ?? []).map((e) => e.message ?? [e.field, e.code].filter(Boolean).join(' '))].filter(Boolean).join('; ');
    const accepted = headers['x-accepted-github-permissions'] as string | undefined;
    const scopes = headers['x-accepted-oauth-scopes'] as string | undefined;
    if (!err.response) {
      return new UserError(clean(`GitHub API unreachable while ${what}: ${describeNetworkError(err.cause ?? err)}`), {
        hint: `check the network (and HTTPS_PROXY / NO_PROXY); the API is ${DEFAULT_GITHUB_API} unless ${GITHUB_API_ENV} names another`,
        exitCode: EXIT.network,
        cause: err,
      });
    }
    const status = err.status;
    const base = `GitHub answered ${status} while ${what}${detail ? `: ${detail}` : ''}`;
    if (status === 401) {
      return new UserError(clean(base), { hint: 'the token in GITHUB_TOKEN / GH_TOKEN is invalid or expired: create a new one and export it', exitCode: EXIT.failure });
    }
    if ((status === 403 || status === 429) && (headers['x-ratelimit-remaining'] === '0' || headers['retry-after'] !== undefined)) {
      const reset = Number(headers['x-ratelimit-reset']);
      return new UserError(clean(`GitHub rate limit reached while ${what}`), {
        hint: `wait${reset ? ` until ${new Date(reset * 1000).toISOString()}` : ''} and run the command again${process.env.GITHUB_TOKEN || process.env.GH_TOKEN ? '' : '; a token (GITHUB_TOKEN) raises the limit'}`,
        exitCode: EXIT.network,
      });
    }
    if (status === 403) {
      const needs = accepted ? `; GitHub says this needs: ${accepted}` : scopes ? `; GitHub says this needs the scopes: ${scopes}` : '';
      return new UserError(clean(base), {
        hint: `the token cannot do this on ${repo}: use a fine-grained token with "Contents: read and write" (plus "Pull requests: read and write" for pull requests) on ${repo}, or a classic token with the "repo" scope ("public_repo" for a public repository)${needs}`,
        exitCode: EXIT.failure,
      });
    }
    if (status === 404) {
      return new UserError(clean(base), {
        hint: `check that ${repo} exists and is spelled as in the definition; a private repository looks missing without a token that can read it (set GITHUB_TOKEN)`,
        exitCode: EXIT.failure,
      });
    }
    if (status >= 500) {
      return new UserError(clean(`${base} (after retries)`), { hint: 'GitHub is having trouble: run the command again later; a re-run picks up where this one stopped', exitCode: EXIT.network });
    }
    return new UserError(clean(base), { hint: 'the request was refused as shown; fix the input it names and run again', exitCode: EXIT.failure });
  }
  if (isTransientNetworkError(err)) {
    return new UserError(clean(`network error while ${what}: ${describeNetworkError(err)}`), { hint: 'check the network and run the command again', exitCode: EXIT.network, cause: err });
  }
  return new UserError(clean(`${what} failed: ${(err as Error).message}`), { cause: err });
}

export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}
