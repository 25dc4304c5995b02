// Each large file's content compressed once per build (xz -6, fixed block size), kept as the blocks that the
// .deb's data.tar.xz and the .rpm's payload both copy (src/util/xz-stream.ts). Keyed by the content's sha256
// and memoized as a promise, so the .deb and .rpm of one architecture, built side by side, share one
// compression of each payload.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { explainCompressorError, XZ_BLOCK_SIZE, xzJobs } from './compress.ts';
import { assertNotInterrupted, registerCleanup } from './cleanup.ts';
import { concatXzBlocks, readXzBlocks, type XzBlocks } from './xz-stream.ts';

export interface CompressedContent {
  blocks: XzBlocks;
  /** md5 of the content (the .deb's md5sums). */
  md5: string;
}

/**
 * xz -6 in the multi-threaded encoder with one thread (`+1`), on one block's worth of input: exactly the block
 * that `xz -6 -T2 --block-size=<blockSize>` writes for that part of the whole file (the encoder resets at
 * every block; the block header carries both sizes, as the multi-threaded encoder writes them).
 */
const xzBlockArgs = (blockSize: number) => ['--compress', '--stdout', '-6', '--threads=+1', `--block-size=${blockSize}`];

export class XzContentCache {
  private readonly entries = new Map<string, Promise<CompressedContent>>();
  private readonly dir: string;
  private readonly blockSize: number;
  /**
   * `dir`: where the compressed contents are kept (created on first use; the owner removes it). `blockSize`:
   * XZ_BLOCK_SIZE in every build (tests use small blocks).
   */
  constructor(dir: string, blockSize = XZ_BLOCK_SIZE) {
    this.dir = dir;
    this.blockSize = blockSize;
  }

  /** The compressed content of `file`, whose sha256 is `sha256` (checked while compressing). */
  get(sha256: string, file: string, size: number, what: string): Promise<CompressedContent> {
    let entry = this.entries.get(sha256);
    if (!entry) {
      entry = this.compress(sha256, file, size, what);
      entry.catch(() => {}); // every caller awaits it; no unhandled rejection while one waits for a slot
      this.entries.set(sha256, entry);
    }
    return entry;
  }

  /**
   * Each block of the file is compressed by an xz process of its own with one thread, each taking one xz slot:
   * the slots stay busy whatever the file sizes (a 10 MB file compressed alone would leave a core idle), and
   * the blocks are those of one multi-threaded run over the whole file, so the bytes do not change.
   */
  private async compress(sha256: string, file: string, size: number, what: string): Promise<CompressedContent> {
    await mkdir(this.dir, { recursive: true });
    const count = Math.max(1, Math.ceil(size / this.blockSize));
    const blocks = Array.from({ length: count }, (_, i) =>
      xzJobs.run(async () => {
        assertNotInterrupted('xz');
        const out = path.join(this.dir, `${sha256}.${i}.xz`);
        await compressRange(file, i * this.blockSize, Math.min(size, (i + 1) * this.blockSize), out, xzBlockArgs(this.blockSize)).catch((err: unknown) => {
          throw explainCompressorError(err, 'xz', what);
        });
        return readXzBlocks(out);
      }),
    );
    const digests = digestsOf(file);
    const [compressed, digested] = await Promise.allSettled([Promise.all(blocks), digests]);
    if (compressed.status === 'rejected') throw compressed.reason;
    if (digested.status === 'rejected') throw digested.reason;
    const { seen, md5, sha } = digested.value;
    if (seen !== size) throw new Error(`${file} changed size while being packaged (${size} -> ${seen} bytes)`);
    if (sha !== sha256) throw new Error(`${file} changed while being packaged (its sha256 is no longer ${sha256})`);
    const joined = concatXzBlocks(compressed.value);
    if (joined.uncompressedSize !== size) throw new Error(`${file} changed size while being packaged (${size} -> ${joined.uncompressedSize} bytes compressed)`);
    return { blocks: joined, md5 };
  }
}

/** md5 (the .deb's md5sums) and sha256 (to catch a file changed under way) of `file`, in one read. */
async function digestsOf(file: string): Promise<{ seen: number; md5: string; sha: string }> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  let seen = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    md5.update(chunk);
    sha.update(chunk);
    seen += chunk.length;
  }
  return { seen, md5: md5.digest('hex'), sha: sha.digest('hex') };
}

/**
 * `xz args` over bytes [start, end) of `input` into `output`. The range is piped in with backpressure (memory
 * stays at one buffer); the output goes to the child's own descriptor. Rejects like execa does.
 */
async function compressRange(input: string, start: number, end: number, output: string, args: string[]): Promise<void> {
  const { spawn } = await import('node:child_process');
  const outFh = await open(output, 'w');
  try {
    const child = spawn('xz', args, { stdio: ['pipe', outFh.fd, 'pipe'], env: { ...process.env, XZ_DEFAULTS: '', XZ_OPT: '' } });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
    const exited = new Promise<void>((resolve, reject) => {
      child.on('error', reject); // ENOENT: a missing xz (explainCompressorError turns it into the install hint)
      child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`xz ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`))));
    });
    // An empty range still runs xz (an empty stream, no block); createReadStream needs end >= start.
    const feeding = end > start ? pipeline(createReadStream(input, { start, end: end - 1, highWaterMark: 1 << 20 }), child.stdin!) : (child.stdin!.end(), Promise.resolve());
    const [fed, done] = await Promise.allSettled([feeding, exited]);
    if (done.status === 'rejected') throw done.reason;
    if (fed.status === 'rejected') throw fed.reason;
  } finally {
    await outFh.close();
  }
}

/** Starts compressing every payload file of a package (those with a known sha256 on disk) without waiting. */
export function prefetchContents(cache: XzContentCache, files: readonly { sha256?: string; source: Buffer | { file: string; size: number } }[], what: string): void {
  for (const f of files) if (f.sha256 && !Buffer.isBuffer(f.source)) void cache.get(f.sha256, f.source.file, f.source.size, what);
}

/**
 * Runs `work` with the build's content cache, or (a target built outside a whole build, as in unit tests)
 * with one of its own, kept beside `dest` and removed afterwards and on interruption.
 */
export async function withContentCache<T>(cache: XzContentCache | undefined, dest: string, work: (cache: XzContentCache) => Promise<T>): Promise<T> {
  if (cache) return work(cache);
  const dir = `${dest}.xz-content-${process.pid}`;
  const cleanup = registerCleanup(() => rm(dir, { recursive: true, force: true }));
  try {
    return await work(new XzContentCache(dir));
  } finally {
    await cleanup.dispose();
  }
}
