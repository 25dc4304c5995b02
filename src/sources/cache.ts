// A content-addressed download cache: blobs are stored under their sha256, written to a temp name and
// renamed only once the digest is known (and matches the pin, when there is one); a hit is re-hashed before
// use, so a corrupt entry is never served. Small JSON index entries map a download's identity (a URL, a
// GitHub asset) to its digest, which lets `--offline` builds run from the cache alone.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, link, mkdir, readFile, rename, rm, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { hashFile, writeFileAtomic } from '../util/fsx.ts';
import { download, type DownloadRequest } from './download.ts';
import { Limiter } from '../util/concurrency.ts';
import type { HttpOptions } from './http.ts';

export interface CachedFile {
  path: string;
  sha256: string;
  size: number;
}

export interface FetchRequest {
  /** Identity of the download for the index (e.g. "url:https://..."). */
  key: string;
  url: string;
  headers?: Record<string, string>;
  /** The pinned digest, when known: the download must match it. */
  sha256?: string;
  size?: number;
  /** Names the file in messages and progress. */
  label: string;
  /** Extra fix shown with a checksum mismatch (which definition field to update). */
  mismatchHint?: string;
  maxBytes?: number;
}

/** The downloaded bytes do not match the pinned digest. */
export class ChecksumMismatchError extends UserError {
  readonly url: string;
  readonly expected: string;
  readonly actual: string;
  constructor(url: string, expected: string, actual: string, hint?: string) {
    super(`checksum mismatch for ${url}\n    expected sha256 ${expected}\n    got      sha256 ${actual}`, {
      hint: hint ?? 'the file is not the one that was pinned: do not use it; check where it came from',
      exitCode: EXIT.failure,
    });
    this.name = 'ChecksumMismatchError';
    this.url = url;
    this.expected = expected;
    this.actual = actual;
  }
}

export interface ProgressSink {
  start(label: string, total?: number): (received: number, total: number | undefined) => void;
  finish(label: string): void;
}

export interface CacheOptions {
  root: string;
  offline: boolean;
  http: HttpOptions;
  progress?: ProgressSink;
}

const HEX64 = /^[0-9a-f]{64}$/;

export class DownloadCache {
  readonly root: string;
  readonly offline: boolean;
  readonly http: HttpOptions;
  private readonly limiter: Limiter;
  private readonly progress?: ProgressSink;
  private readonly inflight = new Map<string, Promise<CachedFile>>();

  constructor(opts: CacheOptions) {
    this.root = path.resolve(opts.root);
    this.offline = opts.offline;
    this.http = opts.http;
    this.limiter = new Limiter(opts.http.concurrency);
    this.progress = opts.progress;
  }

  blobPath(sha256: string): string {
    if (!HEX64.test(sha256)) throw new Error(`internal: not a sha256 digest: ${sha256}`);
    return path.join(this.root, 'blobs', 'sha256', sha256.slice(0, 2), sha256);
  }

  private indexPath(key: string): string {
    return path.join(this.root, 'index', `${createHash('sha256').update(key).digest('hex')}.json`);
  }

  private tmpPath(hint: string): string {
    return path.join(this.root, 'tmp', `${hint}.${process.pid}.${randomBytes(6).toString('hex')}.part`);
  }

  /** The blob with this digest, re-hashed; a corrupt entry is removed and reported as a miss. */
  async lookup(sha256: string): Promise<CachedFile | undefined> {
    const file = this.blobPath(sha256);
    if (!existsSync(file)) return undefined;
    const actual = await hashFile(file);
    if (actual.sha256 !== sha256) {
      await rm(file, { force: true });
      return undefined;
    }
    return { path: file, ...actual };
  }

  async readIndex<T>(key: string): Promise<T | undefined> {
    try {
      const entry = JSON.parse(await readFile(this.indexPath(key), 'utf8')) as { key: string; value: T };
      return entry.key === key ? entry.value : undefined;
    } catch {
      return undefined;
    }
  }

  async writeIndex(key: string, value: unknown): Promise<void> {
    await writeFileAtomic(this.indexPath(key), JSON.stringify({ key, value }, null, 2) + '\n');
  }

  /** The file for this request: from the cache when a verified copy is there, else downloaded into it. */
  fetch(req: FetchRequest): Promise<CachedFile> {
    // Two payloads sharing one download (e.g. one archive for several binaries) wait for the same transfer.
    const id = req.sha256 ?? req.key;
    let p = this.inflight.get(id);
    if (!p) {
      p = this.fetchOnce(req).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  private async fetchOnce(req: FetchRequest): Promise<CachedFile> {
    const known = req.sha256 ?? (await this.readIndex<{ sha256: string }>(req.key))?.sha256;
    if (known) {
      const hit = await this.lookup(known);
      if (hit) return hit;
    }
    if (this.offline) {
      throw new UserError(`--offline: ${req.label} is not in the cache (${this.root})`, {
        hint: 'run the same build once without --offline to fill the cache, or set STIGMER_DIST_CACHE to the cache that has it',
        exitCode: EXIT.network,
      });
    }
    return this.limiter.run(async () => {
      await mkdir(path.join(this.root, 'tmp'), { recursive: true });
      const tmp = this.tmpPath(req.sha256 ?? 'download');
      const onProgress = this.progress?.start(req.label, req.size);
      try {
        const dl: DownloadRequest = { url: req.url, dest: tmp, headers: req.headers, expectedSize: req.size, maxBytes: req.maxBytes, label: req.label, onProgress };
        const got = await download(dl, this.http);
        if (req.sha256 && got.sha256 !== req.sha256) throw new ChecksumMismatchError(req.url, req.sha256, got.sha256, req.mismatchHint);
        const dest = this.blobPath(got.sha256);
        await mkdir(path.dirname(dest), { recursive: true });
        await rename(tmp, dest);
        await this.writeIndex(req.key, { sha256: got.sha256, size: got.size, url: req.url });
        return { path: dest, sha256: got.sha256, size: got.size };
      } finally {
        this.progress?.finish(req.label);
        await rm(tmp, { force: true });
      }
    });
  }

  /**
   * A file derived from cached blobs (an extracted member, a named copy), kept under derived/<key>/<name>:
   * built into a temp directory by `make` and renamed into place; re-hashed against its record on reuse.
   */
  async derived(key: string, name: string, make: (dest: string) => Promise<void>): Promise<CachedFile> {
    const dir = path.join(this.root, 'derived', createHash('sha256').update(key).digest('hex').slice(0, 32));
    const file = path.join(dir, name);
    const record = `${dir}.json`;
    if (existsSync(file) && existsSync(record)) {
      try {
        const want = JSON.parse(await readFile(record, 'utf8')) as { sha256: string; key: string };
        const got = await hashFile(file);
        if (want.key === key && want.sha256 === got.sha256) return { path: file, ...got };
      } catch {
        // Unreadable record: rebuild below.
      }
    }
    const tmpDir = this.tmpPath('derived');
    await mkdir(tmpDir, { recursive: true });
    try {
      const tmpFile = path.join(tmpDir, name);
      await make(tmpFile);
      await chmod(tmpFile, 0o755);
      const got = await hashFile(tmpFile);
      await rm(dir, { recursive: true, force: true });
      await mkdir(path.dirname(dir), { recursive: true });
      await rename(tmpDir, dir);
      await writeFileAtomic(record, JSON.stringify({ key, sha256: got.sha256, size: got.size }, null, 2) + '\n');
      return { path: file, ...got };
    } finally {
      await rm(tmpDir, { recursive: true, force: true });
    }
  }

  /** A copy of a blob under a file name of its own (e.g. the binary's name), executable. */
  async named(blob: CachedFile, name: string): Promise<CachedFile> {
    return this.derived(`named:${blob.sha256}:${name}`, name, async (dest) => {
      try {
        await link(blob.path, dest);
      } catch {
        await copyFile(blob.path, dest);
      }
    });
  }
}
