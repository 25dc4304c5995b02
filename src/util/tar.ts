// A small deterministic tar (ustar + pax) writer that streams file contents: owner, mode, mtime and entry
// order are exactly what the caller says, so the same inputs always give the same bytes. Used for release
// archives and for the control/data members of .deb packages.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

export interface TarEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  mtime: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** File contents: a path streamed from disk (with its size) or an in-memory buffer. */
  source?: { file: string; size: number } | Buffer;
  linkname?: string;
}

const BLOCK = 512;

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'ascii');
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  let total = len + String(len).length;
  while (String(total).length + Buffer.byteLength(body) !== total) total = String(total).length + Buffer.byteLength(body);
  return Buffer.from(`${total}${body}`, 'utf8');
}

function splitUstarName(name: string): { prefix: string; base: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', base: name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const base = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(base) <= 100 && base.length > 0) return { prefix, base };
  }
  return undefined;
}

function header(e: TarEntry, size: number, typeflag: string, nameOverride?: string): Buffer {
  const b = Buffer.alloc(BLOCK);
  const split = splitUstarName(nameOverride ?? e.name) ?? { prefix: '', base: (nameOverride ?? e.name).slice(0, 100) };
  b.write(split.base, 0, 100, 'utf8');
  octal(b, 100, 8, e.mode & 0o7777);
  octal(b, 108, 8, e.uid ?? 0);
  octal(b, 116, 8, e.gid ?? 0);
  octal(b, 124, 12, size);
  octal(b, 136, 12, e.mtime);
  b.write('        ', 148, 8, 'ascii');
  b.write(typeflag, 156, 1, 'ascii');
  if (e.linkname) b.write(e.linkname.slice(0, 100), 157, 100, 'utf8');
  b.write('ustar\0', 257, 6, 'ascii');
  b.write('00', 263, 2, 'ascii');
  b.write(e.uname ?? 'root', 265, 32, 'utf8');
  b.write(e.gname ?? 'root', 297, 32, 'utf8');
  octal(b, 329, 8, 0);
  octal(b, 337, 8, 0);
  b.write(split.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return b;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** An entry's bytes: headers, padding and in-memory contents as Buffers, a content on disk as the entry itself. */
function* entryPieces(e: TarEntry): Generator<Buffer | TarEntry> {
  const size = e.type === 'file' ? (Buffer.isBuffer(e.source) ? e.source.length : (e.source?.size ?? 0)) : 0;
  const needsPax = !splitUstarName(e.name) || (e.linkname !== undefined && Buffer.byteLength(e.linkname) > 100);
  if (needsPax) {
    const records = Buffer.concat([
      paxRecord('path', e.name),
      ...(e.linkname && Buffer.byteLength(e.linkname) > 100 ? [paxRecord('linkpath', e.linkname)] : []),
    ]);
    yield header({ ...e, mode: 0o644 }, records.length, 'x', 'PaxHeader');
    yield records;
    yield padding(records.length);
  }
  yield header(e, size, e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2');
  if (e.type !== 'file') return;
  if (Buffer.isBuffer(e.source)) yield e.source;
  else if (e.source) yield e;
  yield padding(size);
}

/**
 * The archive of `entries` as pieces in order: Buffers (headers, padding, in-memory contents, the end blocks)
 * and, for each content on disk, its entry (the caller supplies those bytes: `source.size` of them).
 */
export function* tarPieces(entries: TarEntry[]): Generator<Buffer | TarEntry> {
  for (const e of entries) yield* entryPieces(e);
  yield Buffer.alloc(BLOCK * 2);
}

async function* entryChunks(e: TarEntry, onContent?: ContentObserver): AsyncGenerator<Buffer> {
  for (const piece of entryPieces(e)) {
    if (Buffer.isBuffer(piece)) {
      if (piece === e.source) onContent?.(e, piece);
      yield piece;
      continue;
    }
    const source = piece.source as { file: string; size: number };
    let seen = 0;
    for await (const chunk of createReadStream(source.file, { highWaterMark: 1 << 18 })) {
      seen += (chunk as Buffer).length;
      onContent?.(e, chunk as Buffer);
      yield chunk as Buffer;
    }
    if (seen !== source.size) throw new Error(`${source.file} changed size while being archived (${source.size} -> ${seen} bytes)`);
  }
}

/** Sees each file entry's content as it is archived (e.g. to digest it without reading the file twice). */
export type ContentObserver = (entry: TarEntry, chunk: Buffer) => void;

/** A readable stream of the tar archive holding the entries in the given order. */
export function tarStream(entries: TarEntry[], onContent?: ContentObserver): Readable {
  async function* all(): AsyncGenerator<Buffer> {
    for (const e of entries) yield* entryChunks(e, onContent);
    yield Buffer.alloc(BLOCK * 2);
  }
  return Readable.from(all(), { objectMode: false });
}
