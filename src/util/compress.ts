// Streamed, deterministic compression and the zip writer.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Transform, type Duplex, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import type { BuiltFile } from './fsx.ts';
import { MissingToolError } from '../errors.ts';
import { Limiter } from './concurrency.ts';
import { HashingStream } from './fsx.ts';
import { assertNotInterrupted, pausePoint } from './cleanup.ts';

/** Gzip's header has an OS byte that differs between zlib builds; pin it to 3 (Unix) so bytes never depend on the build host. */
class PinGzipOsByte extends Transform {
  private seen = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.seen <= 9 && this.seen + chunk.length > 9) {
      chunk = Buffer.from(chunk);
      chunk[9 - this.seen] = 3;
    }
    this.seen += chunk.length;
    cb(null, chunk);
  }
}

export function gzipStream(level = 9): Transform[] {
  return [createGzip({ level, memLevel: 9, strategy: constants.Z_DEFAULT_STRATEGY }), new PinGzipOsByte()];
}

export type StreamCompression = 'gzip' | 'xz' | 'zstd';

/** What to install when a compressor command is missing. */
const COMPRESSOR_INSTALL = { xz: 'apt-get install xz-utils (macOS: brew install xz)', zstd: 'apt-get install zstd (macOS: brew install zstd)' } as const;

/**
 * xz -6's block size in multi-threaded mode (3 x its 8 MiB dictionary), pinned so a future xz default cannot
 * change our bytes. Multi-threaded xz splits the input into blocks of this size and compresses them
 * independently: the output depends on the block size, never on the thread count (checked: -T+1, -T2 and -T4
 * give the same bytes), so every core can be used and builds stay byte-identical across machines.
 */
export const XZ_BLOCK_SIZE = 24 * 1024 * 1024;

/**
 * Threads per xz process (the .deb's data member and, through rpm's payload macro, the .rpm). Fixed rather
 * than the host's core count because rpm records it in the header. 2, as dpkg-deb uses on a two-core runner:
 * on a whole 176 MB data.tar, -T2 took 70-74 s and -T4 85 s on two cores (more threads than cores thrash).
 */
export const XZ_THREADS = 2;

/**
 * xz threads that may run at once (a job takes as many slots as it runs threads), so all xz jobs together use
 * the cores without oversubscribing them: four packages compressing at once with 2 threads each on 2 cores is
 * slower than one after another.
 */
export const xzJobs = new Limiter(Math.max(XZ_THREADS, availableParallelism()));

/**
 * The environment of every compressor we run. XZ_DEFAULTS/XZ_OPT/ZSTD_* from the caller's environment are
 * dropped: they could change the output. glibc is asked to back large allocations with transparent huge pages
 * (`glibc.malloc.hugetlb=1`, glibc >= 2.35; ignored elsewhere): xz -6's match finder walks ~90 MiB of tables,
 * and with 4 KiB pages it spends its time in TLB misses and page faults (measured on 8 MiB blocks, 8 interleaved
 * runs each: 34.8 s -> 32.1 s user, 33,941 -> ~2,000 page faults per process). The bytes are unchanged; an xz
 * process's peak grows a little (105 -> 108 MB on one block). A hugetlb setting of the caller's own is kept.
 */
export function compressorEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const tunables = env.GLIBC_TUNABLES ?? '';
  const hugePages = /(^|:)glibc\.malloc\.hugetlb=/.test(tunables) ? tunables : [tunables, 'glibc.malloc.hugetlb=1'].filter(Boolean).join(':');
  return { ...env, XZ_DEFAULTS: '', XZ_OPT: '', ZSTD_CLEVEL: '', ZSTD_NBTHREADS: '', GLIBC_TUNABLES: hugePages };
}

/**
 * Deterministic compressor stages for writeStream. gzip uses zlib; xz and zstd stream through the system
 * commands (Node has neither). Levels are dpkg-deb's defaults (gzip 9, xz 6, zstd 3). xz runs multi-threaded
 * (see XZ_BLOCK_SIZE), as dpkg-deb itself does; zstd stays single-threaded (fast enough at level 3).
 * The environment is compressorEnv's.
 */
export async function compressStream(kind: StreamCompression): Promise<(Transform | Duplex)[]> {
  if (kind === 'gzip') return gzipStream(9);
  const args =
    kind === 'xz'
      ? ['--compress', '--stdout', '-6', `--threads=${XZ_THREADS}`, `--block-size=${XZ_BLOCK_SIZE}`]
      : ['--compress', '--stdout', '-q', '-3', '-T1', '--no-progress'];
  assertNotInterrupted(kind);
  const { execa } = await import('execa'); // loaded on use: `plan` never compresses
  const sub = execa(kind, args, { env: compressorEnv(), extendEnv: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: { stdout: false, stderr: true } });
  // A failure (including a missing command) surfaces through the duplex, i.e. the caller's pipeline.
  sub.catch(() => {});
  await pausePoint('compression');
  return [sub.duplex()];
}

/** Turns "command not found" from a compressStream pipeline into an actionable MissingToolError. */
export function explainCompressorError(err: unknown, kind: StreamCompression, what: string): unknown {
  if (kind !== 'gzip' && (err as { code?: string } | undefined)?.code === 'ENOENT') return new MissingToolError(kind, COMPRESSOR_INSTALL[kind], what);
  return err;
}

/** Streams `source` through optional transforms into `file`, hashing what is written. */
export async function writeStream(source: Readable, file: string, transforms: (Transform | Duplex)[] = []): Promise<BuiltFile> {
  await mkdir(path.dirname(file), { recursive: true });
  const hasher = new HashingStream();
  await pipeline([source, ...transforms, hasher, createWriteStream(file)] as unknown as [Readable, ...Transform[]]);
  return hasher.result();
}

export interface ZipEntry {
  name: string;
  mode: number;
  source: { file: string; size: number } | Buffer;
}

// DOS timestamps cannot go before 1980 and are local time: yazl formats them from the Date's local fields,
// so shift the instant by the zone offset to get the UTC wall time on every build host.
function dosDate(epoch: number): Date {
  const t = Math.max(epoch, 315532800) * 1000;
  return new Date(t + new Date(t).getTimezoneOffset() * 60_000);
}

export async function writeZip(entries: ZipEntry[], epoch: number, file: string): Promise<BuiltFile> {
  const { default: yazl } = await import('yazl');
  const zip = new yazl.ZipFile();
  const mtime = dosDate(epoch);
  for (const e of entries) {
    const opts = { mtime, mode: 0o100000 | e.mode, forceDosTimestamp: true, compress: true };
    if (Buffer.isBuffer(e.source)) zip.addBuffer(e.source, e.name, opts);
    else zip.addReadStream(createReadStream(e.source.file), e.name, { ...opts, size: e.source.size });
  }
  zip.end();
  return writeStream(zip.outputStream as unknown as Readable, file);
}
