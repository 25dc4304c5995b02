// One robust download: streamed to a file (never held in memory), redirects followed by hand so an
// Authorization header never reaches another host, bounded retries with backoff that honour Retry-After,
// resume with Range after a cut, and the final size checked against Content-Length / the expected size.
import { createWriteStream } from 'node:fs';
import { open, stat, truncate } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { EXIT, UserError } from '../errors.ts';
import { hashFile } from '../util/fsx.ts';
import {
  backoffMs,
  describeNetworkError,
  dispatcherFor,
  isTransientNetworkError,
  parseRetryAfter,
  RETRYABLE_STATUS,
  sleepOf,
  TransientError,
  type HttpOptions,
} from './http.ts';

export interface DownloadRequest {
  url: string;
  /** Written from scratch (created or truncated); the caller renames it once it is verified. */
  dest: string;
  /** e.g. authorization, accept. Authorization is dropped on a redirect to another origin. */
  headers?: Record<string, string>;
  /** Known size (e.g. from the GitHub API): a server that announces another size is an error. */
  expectedSize?: number;
  /** Refuse anything larger. */
  maxBytes?: number;
  onProgress?: (received: number, total: number | undefined) => void;
  /** Names the download in messages (defaults to the URL). */
  label?: string;
}

export interface DownloadResult {
  size: number;
  sha256: string;
  /** How many tries it took. */
  attempts: number;
}

const MAX_REDIRECTS = 10;
const REDIRECT = new Set([301, 302, 303, 307, 308]);

/** An HTTP answer another try will not change (404, 401, a size that cannot be right). */
export class DownloadError extends UserError {
  readonly status?: number;
  constructor(message: string, opts: { hint?: string; status?: number; cause?: unknown } = {}) {
    super(message, { hint: opts.hint, exitCode: EXIT.network, cause: opts.cause });
    this.name = 'DownloadError';
    this.status = opts.status;
  }
}

interface Opened {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Buffer> & { dump(): Promise<void> };
  url: string;
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function stripHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k.toLowerCase())));
}

/** GET with redirects followed by hand: credentials go only to the origin they were given for. */
async function openFollowing(url: string, headers: Record<string, string>, http: HttpOptions): Promise<Opened> {
  const origin = new URL(url).origin;
  let current = url;
  let h = headers;
  for (let hop = 0; ; hop++) {
    // A deadline for the response headers that also covers a proxy that never answers its CONNECT.
    const deadline = http.connectTimeoutMs + http.headersTimeoutMs;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), deadline);
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(current, {
        method: 'GET',
        headers: h,
        dispatcher: dispatcherFor(http),
        headersTimeout: http.headersTimeoutMs,
        bodyTimeout: http.readTimeoutMs,
        signal: ac.signal,
      });
    } catch (err) {
      if (ac.signal.aborted) throw new TransientError(`${url}: no response within ${deadline / 1000}s`, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
    }
    const location = header(res.headers, 'location');
    if (!REDIRECT.has(res.statusCode) || !location) {
      return { status: res.statusCode, headers: res.headers, body: res.body as unknown as Opened['body'], url: current };
    }
    await res.body.dump();
    if (hop >= MAX_REDIRECTS) throw new DownloadError(`${url}: more than ${MAX_REDIRECTS} redirects`, { hint: 'the server redirects in a loop; check the URL' });
    const next = new URL(location, current);
    if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new DownloadError(`${url}: redirected to unsupported ${next.protocol} URL`);
    // Once the request leaves the origin the credentials were meant for, they stay behind for good.
    if (next.origin !== origin) h = stripHeaders(h, ['authorization', 'cookie', 'proxy-authorization']);
    current = next.toString();
  }
}

/** Counts bytes on their way to disk, reports progress and enforces the size bound. */
class Counter extends Transform {
  private received: number;
  private readonly total: number | undefined;
  private readonly maxBytes: number | undefined;
  private readonly label: string;
  private readonly onProgress?: (received: number, total: number | undefined) => void;
  constructor(received: number, total: number | undefined, maxBytes: number | undefined, label: string, onProgress?: (received: number, total: number | undefined) => void) {
    super();
    this.received = received;
    this.total = total;
    this.maxBytes = maxBytes;
    this.label = label;
    this.onProgress = onProgress;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.received += chunk.length;
    if (this.maxBytes !== undefined && this.received > this.maxBytes) {
      cb(new DownloadError(`${this.label}: larger than the ${this.maxBytes}-byte limit`, { hint: 'check the URL; raise the limit only for a file you expect to be this large' }));
      return;
    }
    this.onProgress?.(this.received, this.total);
    cb(null, chunk);
  }
}

/** Parses "bytes START-END/TOTAL". */
function parseContentRange(v: string | undefined): { start: number; total?: number } | undefined {
  const m = v && /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

export async function download(req: DownloadRequest, http: HttpOptions): Promise<DownloadResult> {
  const label = req.label ?? req.url;
  const policy = http.retry;
  const sleep = sleepOf(policy);
  const fh = await open(req.dest, 'w');
  await fh.close();
  let offset = 0;
  let validator: string | undefined;
  let failures = 0;
  let attempts = 0;
  // Tries that moved the transfer forward do not use up the retry budget, but there is a hard ceiling.
  const ceiling = policy.attempts * 4;
  for (;;) {
    attempts++;
    const before = offset;
    try {
      const headers: Record<string, string> = { ...req.headers };
      if (offset > 0) {
        headers.range = `bytes=${offset}-`;
        if (validator) headers['if-range'] = validator;
      }
      const res = await openFollowing(req.url, headers, http);
      let total: number | undefined;
      if (res.status === 206 && offset > 0) {
        const range = parseContentRange(header(res.headers, 'content-range'));
        if (!range || range.start !== offset) {
          // Not the piece we asked for: start over.
          await res.body.dump();
          offset = 0;
          await truncate(req.dest, 0);
          throw new TransientError(`${label}: the server answered the resume request with another range`);
        }
        total = range.total;
      } else if (res.status === 200) {
        if (offset > 0) {
          // The server ignored Range (or the file changed, If-Range): take the whole body again.
          offset = 0;
          await truncate(req.dest, 0);
        }
        const len = header(res.headers, 'content-length');
        total = len !== undefined && /^\d+$/.test(len) ? Number(len) : undefined;
      } else if (res.status === 416 && offset > 0) {
        await res.body.dump();
        offset = 0;
        await truncate(req.dest, 0);
        throw new TransientError(`${label}: the server refused to resume (416); starting over`);
      } else {
        await res.body.dump().catch(() => {});
        const retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after'));
        if (RETRYABLE_STATUS.has(res.status) || (res.status === 403 && retryAfterMs !== undefined)) {
          throw new TransientError(`${label}: HTTP ${res.status}`, { retryAfterMs });
        }
        throw new DownloadError(`${label}: HTTP ${res.status} from ${new URL(res.url).origin}`, {
          status: res.status,
          hint:
            res.status === 404
              ? 'the file is not at this URL: check the URL, the tag and the asset name'
              : res.status === 401 || res.status === 403
                ? 'access denied: for a private GitHub repository set GITHUB_TOKEN (or GH_TOKEN) to a token that can read it'
                : 'check the URL; the server refused the request',
        });
      }
      if (total !== undefined && req.expectedSize !== undefined && total !== req.expectedSize) {
        await res.body.dump().catch(() => {});
        throw new DownloadError(`${label}: the server announces ${total} bytes but ${req.expectedSize} were expected`, {
          hint: 'the file changed on the server or the URL points elsewhere; check it before trusting it',
        });
      }
      if (total !== undefined && req.maxBytes !== undefined && total > req.maxBytes) {
        await res.body.dump().catch(() => {});
        throw new DownloadError(`${label}: ${total} bytes is over the ${req.maxBytes}-byte limit`, { hint: 'check the URL' });
      }
      validator = header(res.headers, 'etag') ?? header(res.headers, 'last-modified');
      if (validator?.startsWith('W/')) validator = undefined; // If-Range needs a strong validator
      const counter = new Counter(offset, total, req.maxBytes, label, req.onProgress);
      try {
        await pipeline(res.body, counter, createWriteStream(req.dest, { flags: 'a' }));
      } finally {
        // What reached the disk is what we resume from.
        offset = (await stat(req.dest)).size;
      }
      const expected = total ?? req.expectedSize;
      if (expected !== undefined && offset < expected) {
        throw new TransientError(`${label}: the transfer ended after ${offset} of ${expected} bytes`);
      }
      if (expected !== undefined && offset > expected) {
        throw new DownloadError(`${label}: received ${offset} bytes, more than the ${expected} announced`, { hint: 'the server sent a wrong Content-Length; try again later or report it to the server owner' });
      }
      const result = await hashFile(req.dest);
      return { ...result, attempts };
    } catch (err) {
      if (err instanceof DownloadError || !isTransientNetworkError(err)) {
        if (err instanceof UserError) throw err;
        throw new DownloadError(`${label}: ${describeNetworkError(err, http)} (${new URL(req.url).host})`, {
          hint: 'check the URL and the network (DNS, HTTPS_PROXY / NO_PROXY); with no network, build --offline from a filled cache',
          cause: err,
        });
      }
      if (offset <= before) failures++;
      const retryAfterMs = err instanceof TransientError ? err.retryAfterMs : undefined;
      const what = err instanceof TransientError ? err.message : `${label}: ${describeNetworkError(err, http)}`;
      if (failures >= policy.attempts || attempts >= ceiling) {
        throw new DownloadError(`${what} (gave up after ${attempts} tr${attempts === 1 ? 'y' : 'ies'})`, {
          hint: 'check the network (and HTTPS_PROXY / NO_PROXY if you use a proxy), then run the command again; finished downloads are cached',
          cause: err,
        });
      }
      if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) {
        throw new DownloadError(`${what}: the server asks to come back in ${Math.ceil(retryAfterMs / 1000)}s`, { hint: 'run the command again later' });
      }
      await sleep(backoffMs(failures || 1, policy, retryAfterMs));
    }
  }
}
