// Each large file's content compressed once per build (xz -6, fixed block size), kept as the blocks that the
// .deb's data.tar.xz and the .rpm's payload both copy (src/util/xz-stream.ts). Keyed by the content's sha256
// and memoized as a promise, so the .deb and .rpm of one architecture, built side by side, share one
// compression of each payload.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { reusedChunks } from './fsx.ts';
import { compressorEnv, explainCompressorError, XZ_BLOCK_SIZE, xzJobs } from './compress.ts';
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

export interface XzContentCacheOptions {
  /** XZ_BLOCK_SIZE in every build (tests use small blocks). */
  blockSize?: number;
  /**
   * A kept cache (`--xz-cache DIR`, or the blocks `compress --shard` jobs made for a split release): blocks found
   * there are reused once their decompression proves them to be that range of the file, and new ones are written
   * under a temporary name, then renamed. Without it the folder belongs to one build, which removes it.
   */
  kept?: boolean;
}

/** How many blocks a kept cache gave and how many had to be compressed (the build reports it). */
export interface XzCacheCounts {
  reused: number;
  compressed: number;
  /** Blocks found in the cache whose content was not the file's (or not an .xz block): compressed again. */
  rejected: string[];
}

export class XzContentCache {
  private readonly entries = new Map<string, Promise<CompressedContent>>();
  readonly dir: string;
  readonly blockSize: number;
  private readonly kept: boolean;
  readonly counts: XzCacheCounts = { reused: 0, compressed: 0, rejected: [] };
  /** `dir`: where the compressed blocks are (created on first use). */
  constructor(dir: string, opts: XzContentCacheOptions = {}) {
    this.dir = dir;
    this.blockSize = opts.blockSize ?? XZ_BLOCK_SIZE;
    this.kept = Boolean(opts.kept);
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
   * Compresses only the blocks `only` selects (a `compress --shard` job) into the cache, without assembling
   * the content: the jobs of a split release each fill their share, and the package jobs reuse them all.
   */
  async fill(sha256: string, file: string, size: number, what: string, only: (index: number) => boolean): Promise<void> {
    const { ranges, digests } = this.read(file, size);
    await Promise.all(ranges.map((r, i) => (only(i) ? this.block(sha256, file, r, what, digests) : undefined)));
    checkDigests(file, size, sha256, await digests);
  }

  /** The file's block ranges and its digests, read once (with each range's sha256 when blocks may be reused). */
  private read(file: string, size: number): { ranges: BlockRange[]; digests: Promise<FileDigests> } {
    const ranges = blockRanges(size, this.blockSize);
    const digests = digestsOf(file, this.kept ? ranges : []);
    digests.catch(() => {}); // awaited by the caller; no unhandled rejection while blocks wait for slots
    return { ranges, digests };
  }

  /** Block `index` of the content: the `xz` file holding exactly that range compressed. */
  blockFile(sha256: string, index: number): string {
    return path.join(this.dir, `${sha256}.${this.blockSize}.${index}.xz`);
  }

  /**
   * Each block of the file is compressed by an xz process of its own with one thread, each taking one xz slot:
   * the slots stay busy whatever the file sizes (a 10 MB file compressed alone would leave a core idle), and
   * the blocks are those of one multi-threaded run over the whole file, so the bytes do not change.
   */
  private async compress(sha256: string, file: string, size: number, what: string): Promise<CompressedContent> {
    const { ranges, digests } = this.read(file, size);
    const blocks = ranges.map((r) => this.block(sha256, file, r, what, digests));
    const [compressed, digested] = await Promise.allSettled([Promise.all(blocks), digests]);
    if (compressed.status === 'rejected') throw compressed.reason;
    if (digested.status === 'rejected') throw digested.reason;
    checkDigests(file, size, sha256, digested.value);
    const joined = concatXzBlocks(compressed.value);
    if (joined.uncompressedSize !== size) throw new Error(`${file} changed size while being packaged (${size} -> ${joined.uncompressedSize} bytes compressed)`);
    return { blocks: joined, md5: digested.value.md5 };
  }

  /** One block, in an xz slot: reused from a kept cache when it decompresses to the range's bytes, else compressed. */
  private async block(sha256: string, file: string, range: BlockRange, what: string, digests: Promise<FileDigests>): Promise<XzBlocks> {
    const out = this.blockFile(sha256, range.index);
    // A kept block is checked against its range's sha256: wait for the file's read before taking a slot, which
    // would otherwise idle meanwhile.
    const expected = this.kept && existsSync(out) ? (await digests).ranges[range.index] : undefined;
    // Largest block first (the slots' priority is the block's size): the slots end together.
    return xzJobs.run(async () => {
      assertNotInterrupted('xz');
      await mkdir(this.dir, { recursive: true });
      if (expected !== undefined) {
        const reused = await this.verified(out, range, expected);
        if (reused) {
          this.counts.reused++;
          return reused;
        }
        this.counts.rejected.push(path.basename(out));
      }
      // A kept cache may be read by another build meanwhile: the block appears whole or not at all.
      const tmp = this.kept ? `${out}.tmp-${process.pid}-${range.index}` : out;
      const cleanup = this.kept ? registerCleanup(() => rm(tmp, { force: true })) : undefined;
      try {
        await compressRange(file, range.start, range.end, tmp, xzBlockArgs(this.blockSize)).catch((err: unknown) => {
          throw explainCompressorError(err, 'xz', what);
        });
        if (tmp !== out) await rename(tmp, out);
      } finally {
        await cleanup?.dispose();
      }
      this.counts.compressed++;
      return readXzBlocks(out);
    }, 1, range.end - range.start);
  }

  /** The block file's index when it holds exactly one block whose decompression has the range's sha256. */
  private async verified(file: string, range: BlockRange, rangeSha256: string): Promise<XzBlocks | undefined> {
    try {
      const blocks = await readXzBlocks(file);
      const expectedBlocks = range.end > range.start ? 1 : 0;
      if (blocks.blocks.length !== expectedBlocks || blocks.uncompressedSize !== range.end - range.start) return undefined;
      return (await decompressedSha256(file)) === rangeSha256 ? blocks : undefined;
    } catch {
      return undefined; // not an .xz file, or a truncated one: compressed again
    }
  }
}

interface BlockRange {
  index: number;
  start: number;
  end: number;
}

/** The block ranges of a file of `size` bytes: what `xz -T --block-size=<blockSize>` cuts (one empty range for 0 bytes). */
export function blockRanges(size: number, blockSize: number): BlockRange[] {
  const count = Math.max(1, Math.ceil(size / blockSize));
  return Array.from({ length: count }, (_, index) => ({ index, start: index * blockSize, end: Math.min(size, (index + 1) * blockSize) }));
}

interface FileDigests {
  seen: number;
  md5: string;
  sha: string;
  /** sha256 of each requested range (to check blocks reused from a kept cache). */
  ranges: string[];
}

function checkDigests(file: string, size: number, sha256: string, { seen, sha }: FileDigests): void {
  if (seen !== size) throw new Error(`${file} changed size while being packaged (${size} -> ${seen} bytes)`);
  if (sha !== sha256) throw new Error(`${file} changed while being packaged (its sha256 is no longer ${sha256})`);
}

/** sha256 of what `xz --decompress` makes of `file` (streamed). */
async function decompressedSha256(file: string): Promise<string> {
  const { spawn } = await import('node:child_process');
  const child = spawn('xz', ['--decompress', '--stdout', '--single-stream', file], { stdio: ['ignore', 'pipe', 'ignore'], env: compressorEnv() });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const sha = createHash('sha256');
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) sha.update(chunk);
  const code = await exited;
  if (code !== 0) throw new Error(`xz --decompress ${file}: exit ${code}`);
  return sha.digest('hex');
}

/** md5 (the .deb's md5sums), sha256 (to catch a file changed under way) and the ranges' sha256 of `file`, in one read. */
async function digestsOf(file: string, ranges: readonly BlockRange[]): Promise<FileDigests> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  const rangeShas = ranges.map(() => createHash('sha256'));
  let seen = 0;
  for await (const chunk of reusedChunks(file)) {
    md5.update(chunk);
    sha.update(chunk);
    for (const r of ranges) {
      const from = Math.max(r.start, seen);
      const to = Math.min(r.end, seen + chunk.length);
      if (from < to) rangeShas[r.index]!.update(chunk.subarray(from - seen, to - seen));
    }
    seen += chunk.length;
  }
  return { seen, md5: md5.digest('hex'), sha: sha.digest('hex'), ranges: rangeShas.map((h) => h.digest('hex')) };
}

/**
 * `xz args` over bytes [start, end) of `input` into `output`. The range is piped in with backpressure (memory
 * stays at one buffer); the output goes to the child's own descriptor. Rejects like execa does.
 */
async function compressRange(input: string, start: number, end: number, output: string, args: string[]): Promise<void> {
  const { spawn } = await import('node:child_process');
  const outFh = await open(output, 'w');
  try {
    const child = spawn('xz', args, { stdio: ['pipe', outFh.fd, 'pipe'], env: compressorEnv() });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
    const exited = new Promise<void>((resolve, reject) => {
      child.on('error', reject); // ENOENT: a missing xz (explainCompressorError turns it into the install hint)
      child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`xz ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`))));
    });
    // Each chunk is written before the next is read into the same buffer (xz, not the read, sets the pace).
    const feeding = (async () => {
      const stdin = child.stdin!;
      stdin.on('error', () => {}); // an xz that died: its exit code is the error reported
      for await (const chunk of reusedChunks(input, { start, end })) await new Promise<void>((resolve, reject) => stdin.write(chunk, (err) => (err ? reject(err) : resolve())));
      stdin.end();
      await finished(stdin);
    })();
    const [fed, done] = await Promise.allSettled([feeding, exited]);
    if (done.status === 'rejected') throw done.reason;
    if (fed.status === 'rejected') throw fed.reason;
  } finally {
    await outFh.close();
  }
}

/** A package file, as far as the cache is concerned: in memory, or on disk with its sha256 when it is a payload. */
interface ContentSource {
  sha256?: string;
  source: Buffer | { file: string; size: number };
}

/** Whether the cache compresses this file's content: a payload binary on disk (its sha256 known). */
export function isCachedContent<F extends ContentSource>(f: F): f is F & { sha256: string; source: { file: string; size: number } } {
  return Boolean(f.sha256) && !Buffer.isBuffer(f.source);
}

/** Starts compressing every payload file of a package without waiting. */
export function prefetchContents(cache: XzContentCache, files: readonly ContentSource[], what: string): void {
  for (const f of files) if (isCachedContent(f)) void cache.get(f.sha256, f.source.file, f.source.size, what);
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
