// Safe extraction of one binary from a downloaded archive (tar, tar.gz or zip). Every entry of the archive is
// checked before anything is trusted: absolute paths, ".." segments, links that point outside the archive,
// device files and entries over a size bound make the whole archive an error. Nothing but the selected
// regular file is ever written, and it is streamed to disk.
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
// Types only: tar is loaded when an archive is read (`plan` imports this module and reads none).
import type { ReadEntry } from 'tar';
import type yauzl from 'yauzl';
import { EXIT, UserError } from '../errors.ts';
import { openZip, zipEntries, zipEntryStream } from '../util/zip-read.ts';

export type ArchiveKind = 'tar' | 'tar.gz' | 'zip' | 'bare';

export const DEFAULT_MAX_ENTRY_BYTES = 2 * 1024 ** 3;

/** What the bytes are: gzip (a tar.gz), a ustar/gnu tar, a zip, or anything else (a bare binary). */
export async function sniffArchive(file: string): Promise<ArchiveKind> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    if (bytesRead >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return 'tar.gz';
    if (bytesRead >= 4 && buf.readUInt32LE(0) === 0x04034b50) return 'zip';
    if (bytesRead >= 262 && buf.toString('latin1', 257, 262) === 'ustar') return 'tar';
    return 'bare';
  } finally {
    await fh.close();
  }
}

export interface MemberSelector {
  /** Exact path inside the archive ("./" prefixes are ignored). */
  member?: string;
  /** Or: the one regular file with this base name, anywhere in the archive. */
  basename?: string;
}

export interface ExtractOptions {
  /** Names the archive in messages (e.g. its URL). */
  label: string;
  maxEntryBytes?: number;
  /** What to tell the user to change when the member is missing (the definition field). */
  missingHint?: string;
}

export class UnsafeArchiveError extends UserError {
  constructor(label: string, entry: string, reason: string) {
    super(`${label}: refusing to extract: entry ${JSON.stringify(entry)} ${reason}`, {
      hint: 'the archive is malformed or malicious; do not use it. Check where it came from and its checksum',
      exitCode: EXIT.failure,
    });
    this.name = 'UnsafeArchiveError';
  }
}

interface EntryInfo {
  name: string;
  kind: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  size: number;
  linkpath?: string;
  rawType: string;
}

function normalise(name: string): string {
  return name.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/** Why an entry is unsafe, or undefined when it is fine. */
export function entryProblem(e: EntryInfo, maxEntryBytes: number): string | undefined {
  const raw = e.name.replace(/\\/g, '/');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) return 'has an absolute path';
  if (raw.split('/').includes('..')) return 'has a ".." path segment';
  if (e.kind === 'other') return `is a ${e.rawType} (only files, directories and links are allowed)`;
  if (e.size > maxEntryBytes) return `is ${e.size} bytes, over the ${maxEntryBytes}-byte limit`;
  if (e.kind === 'symlink' || e.kind === 'hardlink') {
    const target = (e.linkpath ?? '').replace(/\\/g, '/');
    if (!target) return 'is a link without a target';
    if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) return `links to an absolute path (${target})`;
    // A symlink resolves from its own directory, a hard link from the archive root.
    const resolved = path.posix.normalize(e.kind === 'symlink' ? path.posix.join(path.posix.dirname(normalise(raw)), target) : target);
    if (resolved === '..' || resolved.startsWith('../')) return `links outside the archive (${target})`;
  }
  return undefined;
}

function tarKind(type: string): EntryInfo['kind'] {
  switch (type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      return 'file';
    case 'Directory':
      return 'dir';
    case 'SymbolicLink':
      return 'symlink';
    case 'Link':
      return 'hardlink';
    default:
      return 'other';
  }
}

/** Stops a stream that carries more than the entry declared. */
class Bound extends Transform {
  private seen = 0;
  private readonly max: number;
  private readonly what: () => Error;
  constructor(max: number, what: () => Error) {
    super();
    this.max = max;
    this.what = what;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) cb(this.what());
    else cb(null, chunk);
  }
}

class Selection {
  chosen?: string;
  duplicates: string[] = [];
  listing: string[] = [];
  private readonly sel: MemberSelector;
  constructor(sel: MemberSelector) {
    this.sel = sel;
  }
  matches(name: string): boolean {
    const n = normalise(name);
    if (this.sel.member !== undefined) return n === normalise(this.sel.member);
    return path.posix.basename(n) === this.sel.basename;
  }
}

/**
 * Extracts the selected member of `archive` to `dest` after checking every entry. Returns the member's
 * path inside the archive. A missing member, two candidates, or any unsafe entry is an error (dest removed).
 */
export async function extractMember(archive: string, kind: Exclude<ArchiveKind, 'bare'>, select: MemberSelector, dest: string, opts: ExtractOptions): Promise<string> {
  const max = opts.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const selection = new Selection(select);
  try {
    if (kind === 'zip') await walkZip(archive, selection, dest, max, opts.label);
    else await walkTar(archive, selection, dest, max, opts.label);
  } catch (err) {
    await rm(dest, { force: true });
    throw err;
  }
  const wanted = select.member !== undefined ? `member ${JSON.stringify(select.member)}` : `file named ${JSON.stringify(select.basename)}`;
  if (selection.duplicates.length) {
    await rm(dest, { force: true });
    throw new UserError(`${opts.label}: more than one ${wanted}: ${[selection.chosen!, ...selection.duplicates].join(', ')}`, {
      hint: opts.missingHint ?? 'name the exact member path',
      exitCode: EXIT.config,
    });
  }
  if (!selection.chosen) {
    await rm(dest, { force: true });
    const shown = selection.listing.slice(0, 20);
    throw new UserError(`${opts.label}: the archive has no ${wanted}`, {
      hint: `${opts.missingHint ?? 'name a file the archive holds'}; the archive holds: ${shown.join(', ') || '(nothing)'}${selection.listing.length > shown.length ? `, ... (${selection.listing.length} entries)` : ''}`,
      exitCode: EXIT.config,
    });
  }
  return selection.chosen;
}

async function walkTar(archive: string, selection: Selection, dest: string, max: number, label: string): Promise<void> {
  let problem: Error | undefined;
  const writes: Promise<void>[] = [];
  const { Parser } = await import('tar');
  const parser = new Parser({
    onwarn: (code: string, message: string | Error) => {
      if (code === 'TAR_ENTRY_INFO') return;
      problem ??= new UserError(`${label}: not a readable tar archive: ${typeof message === 'string' ? message : message.message}`, {
        hint: 'the download is damaged or not the archive it should be; check the URL and the checksum',
      });
    },
    onReadEntry: (entry: ReadEntry) => {
      const info: EntryInfo = { name: entry.path, kind: tarKind(entry.type), size: entry.size, linkpath: entry.linkpath, rawType: entry.type };
      const bad = entryProblem(info, max);
      if (bad) problem ??= new UnsafeArchiveError(label, entry.path, bad);
      if (info.kind !== 'dir') selection.listing.push(normalise(entry.path));
      if (!problem && info.kind === 'file' && selection.matches(entry.path)) {
        if (selection.chosen) {
          selection.duplicates.push(normalise(entry.path));
        } else {
          selection.chosen = normalise(entry.path);
          const bound = new Bound(info.size, () => new UnsafeArchiveError(label, entry.path, 'holds more data than its header says'));
          writes.push(pipeline(entry as unknown as Readable, bound, createWriteStream(dest, { mode: 0o755 })));
          return;
        }
      }
      entry.resume();
    },
  });
  try {
    await pipeline(createReadStream(archive), parser as unknown as NodeJS.WritableStream);
    await Promise.all(writes);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${label}: not a readable tar archive: ${(err as Error).message}`, {
      hint: 'the download is damaged or not the archive it should be; check the URL and the checksum',
      cause: err,
    });
  }
  if (problem) throw problem;
}

function zipKind(e: yauzl.Entry, name: string): EntryInfo['kind'] {
  const unixType = (e.externalFileAttributes >>> 16) & 0o170000;
  if (unixType === 0o120000) return 'symlink';
  if (name.endsWith('/') || unixType === 0o040000) return 'dir';
  if (unixType === 0 || unixType === 0o100000) return 'file';
  return 'other';
}


async function walkZip(archive: string, selection: Selection, dest: string, max: number, label: string): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(archive, { decodeStrings: false });
  } catch (err) {
    throw new UserError(`${label}: not a readable zip archive: ${(err as Error).message}`, { hint: 'the download is damaged or not the archive it should be; check the URL and the checksum' });
  }
  try {
    await checkAndExtractZip(zip, selection, dest, max, label);
  } finally {
    zip.close();
  }
}

async function checkAndExtractZip(zip: yauzl.ZipFile, selection: Selection, dest: string, max: number, label: string): Promise<void> {
  const entries = await zipEntries(zip);
  // Check every entry first (symlink targets are the entry's content), then extract the chosen one.
  let chosen: yauzl.Entry | undefined;
  for (const e of entries) {
    const name = (e.fileName as unknown as Buffer).toString('utf8');
    const kind = zipKind(e, name);
    let linkpath: string | undefined;
    if (kind === 'symlink') {
      if (e.uncompressedSize > 4096) throw new UnsafeArchiveError(label, name, 'is a symlink with an oversized target');
      const chunks: Buffer[] = [];
      for await (const c of await zipEntryStream(zip, e)) chunks.push(c as Buffer);
      linkpath = Buffer.concat(chunks).toString('utf8');
    }
    const bad = entryProblem({ name, kind, size: e.uncompressedSize, linkpath, rawType: `file of mode ${((e.externalFileAttributes >>> 16) & 0o170000).toString(8)}` }, max);
    if (bad) throw new UnsafeArchiveError(label, name, bad);
    if (kind !== 'dir') selection.listing.push(normalise(name));
    if (kind === 'file' && selection.matches(name)) {
      if (chosen) selection.duplicates.push(normalise(name));
      else {
        chosen = e;
        selection.chosen = normalise(name);
      }
    }
  }
  if (chosen && !selection.duplicates.length) {
    const bound = new Bound(chosen.uncompressedSize, () => new UnsafeArchiveError(label, selection.chosen!, 'holds more data than its header says'));
    await pipeline(await zipEntryStream(zip, chosen), bound, createWriteStream(dest, { mode: 0o755 }));
  }
}
