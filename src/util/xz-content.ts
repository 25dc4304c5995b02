// Each large file's content compressed once per build (xz -6, fixed block size), kept as the blocks that the
// .deb's data.tar.xz and the .rpm's payload both copy (src/util/xz-stream.ts). Keyed by the content's sha256
// and memoized as a promise, so the .deb and .rpm of one architecture, built side by side, share one
// compression of each payload.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { explainCompressorError, XZ_BLOCK_SIZE, XZ_THREADS, xzJobs } from './compress.ts';
import { assertNotInterrupted, registerCleanup } from './cleanup.ts';
import { readXzBlocks, type XzBlocks } from './xz-stream.ts';

export interface CompressedContent {
  blocks: XzBlocks;
  /** md5 of the content (the .deb's md5sums), from the same read that fed the compressor. */
  md5: string;
}

/** xz -6 in the multi-threaded encoder: blocks of XZ_BLOCK_SIZE with their sizes in each block header. */
const XZ_ARGS = ['--compress', '--stdout', '-6', `--threads=${XZ_THREADS}`, `--block-size=${XZ_BLOCK_SIZE}`];

export class XzContentCache {
  private readonly entries = new Map<string, Promise<CompressedContent>>();
  private readonly dir: string;
  /** `dir`: where the compressed contents are kept (created on first use; the owner removes it). */
  constructor(dir: string) {
    this.dir = dir;
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

  private async compress(sha256: string, file: string, size: number, what: string): Promise<CompressedContent> {
    await mkdir(this.dir, { recursive: true });
    const out = path.join(this.dir, `${sha256}.xz`);
    // A file of one block keeps one thread busy: it takes one slot, so two of them compress side by side.
    const threads = Math.min(XZ_THREADS, Math.max(1, Math.ceil(size / XZ_BLOCK_SIZE)));
    return xzJobs.run(async () => {
      assertNotInterrupted('xz');
      const { execa } = await import('execa');
      const md5 = createHash('md5');
      const sha = createHash('sha256');
      let seen = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb: TransformCallback) {
          md5.update(chunk);
          sha.update(chunk);
          seen += chunk.length;
          cb(null, chunk);
        },
      });
      const sub = execa('xz', XZ_ARGS, { env: { XZ_DEFAULTS: '', XZ_OPT: '' }, stdin: 'pipe', stdout: { file: out }, stderr: 'pipe' });
      const [feeding, compressing] = await Promise.allSettled([pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), tap, sub.stdin!), sub]);
      // xz's own failure (a missing command, say) explains a broken pipe on its input; a read error stops xz.
      if (compressing.status === 'rejected') throw explainCompressorError(compressing.reason, 'xz', what);
      if (feeding.status === 'rejected') throw feeding.reason;
      if (seen !== size) throw new Error(`${file} changed size while being packaged (${size} -> ${seen} bytes)`);
      if (sha.digest('hex') !== sha256) throw new Error(`${file} changed while being packaged (its sha256 is no longer ${sha256})`);
      return { blocks: await readXzBlocks(out), md5: md5.digest('hex') };
    }, threads);
  }
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
