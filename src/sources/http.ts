// Shared HTTP plumbing for downloads and the GitHub API: one proxy-aware undici dispatcher (HTTP_PROXY,
// HTTPS_PROXY, NO_PROXY) with connect and read timeouts, a retry policy (exponential backoff with full jitter
// that honours Retry-After) and a concurrency limiter.
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';

export interface RetryPolicy {
  /** Tries in total (1 = no retry). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After we are willing to wait; a longer one fails at once and says when to come back. */
  maxRetryAfterMs: number;
  /** Injectable for tests: jitter source in [0, 1) and the sleep between tries. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface HttpOptions {
  connectTimeoutMs: number;
  /** Longest wait for the response headers. */
  headersTimeoutMs: number;
  /** Longest silence while a response body streams (a stalled or trickling transfer). */
  readTimeoutMs: number;
  retry: RetryPolicy;
  /** Downloads running at once. */
  concurrency: number;
  /** Defaults to a shared EnvHttpProxyAgent built from the timeouts above. */
  dispatcher?: Dispatcher;
}

export const DEFAULT_HTTP: HttpOptions = {
  connectTimeoutMs: 30_000,
  headersTimeoutMs: 60_000,
  readTimeoutMs: 60_000,
  retry: { attempts: 5, baseDelayMs: 1_000, maxDelayMs: 30_000, maxRetryAfterMs: 120_000 },
  concurrency: 4,
};

export function httpOptions(overrides: Partial<Omit<HttpOptions, 'retry'>> & { retry?: Partial<RetryPolicy> } = {}): HttpOptions {
  return { ...DEFAULT_HTTP, ...overrides, retry: { ...DEFAULT_HTTP.retry, ...overrides.retry } };
}

const dispatchers = new Map<string, Dispatcher>();

/** The dispatcher for these options: proxies from the environment, the connect timeout on every socket. */
export function dispatcherFor(opts: HttpOptions): Dispatcher {
  if (opts.dispatcher) return opts.dispatcher;
  const key = `${opts.connectTimeoutMs}/${opts.headersTimeoutMs}/${opts.readTimeoutMs}`;
  let d = dispatchers.get(key);
  if (!d) {
    d = new EnvHttpProxyAgent({ connect: { timeout: opts.connectTimeoutMs }, headersTimeout: opts.headersTimeoutMs, bodyTimeout: opts.readTimeoutMs });
    dispatchers.set(key, d);
  }
  return d;
}

/** Closes the shared dispatchers (lets a test process exit promptly). */
export async function closeDispatchers(): Promise<void> {
  const all = [...dispatchers.values()];
  dispatchers.clear();
  await Promise.all(all.map((d) => d.close().catch(() => {})));
}

const sleepReal = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function sleepOf(policy: RetryPolicy): (ms: number) => Promise<void> {
  return policy.sleep ?? sleepReal;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | null | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Delay before try number `attempt + 1` (attempt counts from 1): full jitter, never shorter than Retry-After. */
export function backoffMs(attempt: number, policy: RetryPolicy, retryAfterMs?: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round((policy.random ?? Math.random)() * cap);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}

export const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** A transient failure: worth another try after `retryAfterMs` (if the server named a time). */
export class TransientError extends Error {
  readonly retryAfterMs?: number;
  constructor(message: string, opts: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'TransientError';
    this.retryAfterMs = opts.retryAfterMs;
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN', // a temporary DNS failure (ENOTFOUND, a name that does not exist, is not retried)
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 6; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') codes.push(e.code);
  }
  return codes;
}

/** A network-level failure (reset, refused, timeout, cut body) that another try may cure. */
export function isTransientNetworkError(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  return errorCodes(err).some((c) => TRANSIENT_CODES.has(c));
}

/** Network failures that happen before the request reached the server (safe to retry even for a POST). */
export function isConnectError(err: unknown): boolean {
  return errorCodes(err).some((c) => c === 'ECONNREFUSED' || c === 'UND_ERR_CONNECT_TIMEOUT' || c === 'EAI_AGAIN');
}

/** A short human description of a network error ("connection reset", "no data for 60s"). */
export function describeNetworkError(err: unknown, opts?: Pick<HttpOptions, 'connectTimeoutMs' | 'headersTimeoutMs' | 'readTimeoutMs'>): string {
  const codes = errorCodes(err);
  const s = (ms?: number) => (ms === undefined ? '' : ` after ${ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`}`);
  if (codes.includes('UND_ERR_CONNECT_TIMEOUT')) return `connect timed out${s(opts?.connectTimeoutMs)}`;
  if (codes.includes('UND_ERR_HEADERS_TIMEOUT')) return `no response${s(opts?.headersTimeoutMs)}`;
  if (codes.includes('UND_ERR_BODY_TIMEOUT')) return `transfer stalled (no data${s(opts?.readTimeoutMs)})`;
  if (codes.includes('ECONNRESET') || codes.includes('UND_ERR_SOCKET') || codes.includes('UND_ERR_CLOSED')) return 'connection reset';
  if (codes.includes('ECONNREFUSED')) return 'connection refused';
  if (codes.includes('ENOTFOUND') || codes.includes('EAI_AGAIN')) return 'host name not found';
  if (codes.includes('UND_ERR_RES_CONTENT_LENGTH_MISMATCH')) return 'body shorter than its Content-Length';
  return (err as Error)?.message ?? String(err);
}

