// File helpers: streamed hashing, temp-then-rename writes, LF-normalised text, the directory walker.
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { UserError } from '../errors.ts';
import { processSecrets } from './secrets.ts';

/** A written file's size and sha256 (what every build step reports and plan.json records). */
export interface BuiltFile {
  size: number;
  sha256: string;
}

/** The one file hasher: streamed sha256 and size. */
export async function hashFile(file: string): Promise<BuiltFile> {
  // One buffer, reused for every read: hashing a payload leaves no garbage behind (a fresh buffer per read
  // sits in memory until V8's next collection, which waits for ~64 MiB of such buffers process-wide).
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 18);
  let size = 0;
  const fh = await open(file, 'r');
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), size };
}

/** The chunk size of reusedChunks. */
export const READ_CHUNK = 1 << 20;

/**
 * Bytes [start, end) of `file` in chunks of up to 1 MiB, read into a ring of `ring` buffers: a chunk stays valid
 * while the consumer asks for fewer than `ring` more. A fresh buffer per read (what fs streams do) is garbage
 * that V8 collects only after tens of MiB of it, and the allocator keeps that memory afterwards.
 */
export async function* reusedChunks(file: string, opts: { start?: number; end?: number; ring?: number } = {}): AsyncGenerator<Buffer> {
  const ring = Array.from({ length: Math.max(1, opts.ring ?? 1) }, () => Buffer.allocUnsafeSlow(READ_CHUNK));
  const end = opts.end ?? Infinity;
  const fh = await open(file, 'r');
  try {
    for (let pos = opts.start ?? 0, i = 0; pos < end; i = (i + 1) % ring.length) {
      const buf = ring[i]!;
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Writes `source` to `file`, hashing it, each chunk written before the next is asked for: a source may hand out
 * reused buffers (reusedChunks), which a buffering stream pipeline would corrupt.
 */
export async function writeChunks(source: AsyncIterable<Buffer>, file: string): Promise<BuiltFile> {
  const hash = createHash('sha256');
  let size = 0;
  await mkdir(path.dirname(file), { recursive: true });
  const fh = await open(file, 'w');
  try {
    for await (const chunk of source) {
      hash.update(chunk);
      for (let at = 0; at < chunk.length; ) at += (await fh.write(chunk, at, chunk.length - at)).bytesWritten;
      size += chunk.length;
    }
  } finally {
    await fh.close();
  }
  return { size, sha256: hash.digest('hex') };
}

/** A pass-through stream that hashes and counts what flows through it (so output is hashed while written). */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }
  result(): BuiltFile {
    return { sha256: this.hash.digest('hex'), size: this.size };
  }
}

/** Writes a file via a temp name in the same directory, then renames it into place. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<BuiltFile> {
  // Artifacts and records never carry a secret of this process (a token, the signing key or passphrase).
  const leaked = processSecrets().leakedIn(data);
  if (leaked) throw new UserError(`refusing to write ${file}: it would contain the value of ${leaked}`, { hint: 'remove the secret from the input it came from (definition, notes, environment values meant to be public)' });
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return { sha256: createHash('sha256').update(buf).digest('hex'), size: buf.length };
}

/** Normalises generated text: LF line ends, no trailing blanks, exactly one final newline. */
export function normaliseText(text: string): string {
  return (
    text
      .replace(/\r\n?/g, '\n')
      .split('\n')
      .map((l) => l.replace(/[ \t]+$/, ''))
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .replace(/\n*$/, '') + '\n'
  );
}

/** A regular file this process may read (a signing key given as a path rather than inline). */
export function isReadableFile(p: string): boolean {
  try {
    accessSync(p, constants.R_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Every regular file below `dir`, as sorted paths relative to it ("/"-separated, sorted); [] when `dir` is
 * missing. `skip` leaves out a subtree by its relative path. The one directory walker: symlinks are not followed.
 */
export async function filesBelow(dir: string, opts: { skip?: (rel: string) => boolean } = {}): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return sortedFiles(dir, entries, opts.skip);
}

/** filesBelow for synchronous callers (the inputs digest runs before anything async starts). */
export function filesBelowSync(dir: string, opts: { skip?: (rel: string) => boolean } = {}): string[] {
  if (!existsSync(dir)) return [];
  return sortedFiles(dir, readdirSync(dir, { recursive: true, withFileTypes: true }), opts.skip);
}

function sortedFiles(dir: string, entries: Dirent[], skip?: (rel: string) => boolean): string[] {
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .filter((rel) => !skip?.(rel))
    .sort();
}
