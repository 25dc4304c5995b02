// Each large file's content compressed once per build (xz -6, fixed block size), kept as the blocks that the
// .deb's data.tar.xz and the .rpm's payload both copy (src/util/xz-stream.ts). Keyed by the content's sha256
// and memoized as a promise, so the .deb and .rpm of one architecture, built side by side, share one
// compression of each payload.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
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
      const md5 = createHash('md5');
      const sha = createHash('sha256');
      let seen = 0;
      // xz reads the file and writes the output through file descriptors of its own: any stream through this
      // process (a pipe, or execa's {file} options, which pipe too) let memory grow with the payload's size.
      // The digests come from a second read of the same file.
      const sub = runXz(file, out);
      const digesting = (async () => {
        for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
          md5.update(chunk);
          sha.update(chunk);
          seen += chunk.length;
        }
      })();
      const [feeding, compressing] = await Promise.allSettled([digesting, sub]);
      if (compressing.status === 'rejected') throw explainCompressorError(compressing.reason, 'xz', what);
      if (feeding.status === 'rejected') throw feeding.reason;
      if (seen !== size) throw new Error(`${file} changed size while being packaged (${size} -> ${seen} bytes)`);
      if (sha.digest('hex') !== sha256) throw new Error(`${file} changed while being packaged (its sha256 is no longer ${sha256})`);
      return { blocks: await readXzBlocks(out), md5: md5.digest('hex') };
    }, threads);
  }
}

/** `xz XZ_ARGS < input > output`, with the files as the child's own descriptors; rejects like execa does. */
async function runXz(input: string, output: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  const [inFh, outFh] = [await open(input, 'r'), await open(output, 'w')];
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('xz', XZ_ARGS, { stdio: [inFh.fd, outFh.fd, 'pipe'], env: { ...process.env, XZ_DEFAULTS: '', XZ_OPT: '' } });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
      child.on('error', reject); // ENOENT: a missing xz (explainCompressorError turns it into the install hint)
      child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`xz ${XZ_ARGS.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`))));
    });
  } finally {
    await Promise.all([inFh.close(), outFh.close()]);
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
