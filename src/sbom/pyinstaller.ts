// The Python distributions a PyInstaller one-file binary bundles, read from its CArchive: the cookie at the end
// of the archive (magic `MEI\014\013\012\013\016`, archive length, TOC offset and length, Python version, library
// name), then the table of contents, whose `<name>-<version>.dist-info/METADATA` entries PyInstaller collects
// with each distribution (copy_metadata / its hooks). Layout: PyInstaller/archive/writers.py (CArchiveWriter).
import { inflateSync } from 'node:zlib';
import { bufferReader, positionsOf, type ByteReader } from './bytes.ts';

export const PYINSTALLER_COOKIE_MAGIC = Buffer.from([0x4d, 0x45, 0x49, 0x0c, 0x0b, 0x0a, 0x0b, 0x0e]);
/** No table of contents is this large: a longer one is not a cookie's. */
const MAX_TOC = 16 * 1024 * 1024;
/** `!8sIIII64s`: magic, archive length, TOC offset, TOC length, Python version (e.g. 312), libpython name. */
const COOKIE_SIZE = 8 + 4 * 4 + 64;
/** `!IIIIBc` then the name: entry length, data offset, stored length, full length, compressed flag, type code. */
const ENTRY_HEADER = 4 * 4 + 1 + 1;

export interface CArchiveEntry {
  name: string;
  /** PyInstaller's type code: b binary, z PYZ, m/M/s modules and scripts, x data, o option, d dependency, n symlink. */
  type: string;
  offset: number;
  storedLength: number;
  length: number;
  compressed: boolean;
}

export interface CArchive {
  /** e.g. 312 for Python 3.12 */
  pythonVersion: number;
  pythonLibrary: string;
  /** Where the archive starts in the file (after the bootloader). */
  start: number;
  entries: CArchiveEntry[];
}

export interface PythonDistribution {
  name: string;
  version: string;
}

/** The CArchive of a PyInstaller one-file binary, or undefined when the file carries none. */
export function readCArchive(data: Uint8Array): CArchive | undefined {
  return cArchiveAt(bufferReader(data), positionsOf(data, PYINSTALLER_COOKIE_MAGIC));
}

/**
 * The CArchive whose cookie is at one of `cookies` (positions of the cookie magic in the file). The cookie is the
 * archive's last 88 bytes; the archive is appended to the bootloader, possibly followed by a code signature
 * (macOS) or certificate table (Windows), so the last candidate is tried first.
 */
export function cArchiveAt(file: ByteReader, cookies: readonly number[]): CArchive | undefined {
  for (const at of [...cookies].sort((a, b) => b - a)) {
    if (at + COOKIE_SIZE > file.size) continue;
    const cookie = file.read(at, COOKIE_SIZE);
    const archiveLength = cookie.readUInt32BE(8);
    const tocOffset = cookie.readUInt32BE(12);
    const tocLength = cookie.readUInt32BE(16);
    const pythonVersion = cookie.readUInt32BE(20);
    const start = at + COOKIE_SIZE - archiveLength;
    if (start < 0 || tocOffset + tocLength > archiveLength || tocLength > MAX_TOC) continue;
    const toc = file.read(start + tocOffset, tocLength);
    if (toc.length < tocLength) continue;
    const entries = readToc(toc, start);
    if (!entries) continue;
    const lib = cookie.subarray(24, 88);
    const nul = lib.indexOf(0);
    return { pythonVersion, pythonLibrary: lib.toString('utf8', 0, nul < 0 ? lib.length : nul), start, entries };
  }
  return undefined;
}

/** The entries of a table of contents (`toc`, its bytes) of the archive starting at `start` in the file. */
function readToc(toc: Buffer, start: number): CArchiveEntry[] | undefined {
  const entries: CArchiveEntry[] = [];
  for (let p = 0; p < toc.length; ) {
    if (p + ENTRY_HEADER > toc.length) return undefined;
    const entryLength = toc.readUInt32BE(p);
    if (entryLength < ENTRY_HEADER || p + entryLength > toc.length) return undefined;
    const name = toc.subarray(p + ENTRY_HEADER, p + entryLength);
    const nul = name.indexOf(0);
    entries.push({
      name: name.toString('utf8', 0, nul < 0 ? name.length : nul),
      type: String.fromCharCode(toc[p + 17]!),
      offset: start + toc.readUInt32BE(p + 4),
      storedLength: toc.readUInt32BE(p + 8),
      length: toc.readUInt32BE(p + 12),
      compressed: toc[p + 16] === 1,
    });
    p += entryLength;
  }
  return entries;
}

const readerOf = (data: Uint8Array | ByteReader): ByteReader => (data instanceof Uint8Array ? bufferReader(data) : data);

/** An entry's bytes, inflated when stored compressed. */
export function entryData(data: Uint8Array | ByteReader, e: CArchiveEntry): Buffer {
  const raw = readerOf(data).read(e.offset, e.storedLength);
  if (raw.length < e.storedLength) throw new Error(`PyInstaller archive entry ${e.name} runs past the end of the file`);
  return e.compressed ? inflateSync(raw) : Buffer.from(raw);
}

const DIST_INFO = /^(?:.*\/)?([^/]+?)-([^/-]+)\.dist-info\/METADATA$/;

/**
 * The distributions whose `*.dist-info/METADATA` the archive holds: name and version from the METADATA headers
 * (the canonical spelling), else from the directory name. Sorted by name, one per name and version.
 */
export function pythonDistributions(data: Uint8Array | ByteReader, archive: CArchive): PythonDistribution[] {
  const found = new Map<string, PythonDistribution>();
  for (const e of archive.entries) {
    const m = DIST_INFO.exec(e.name.replaceAll('\\', '/'));
    if (!m) continue;
    let name = m[1]!;
    let version = m[2]!;
    try {
      const headers = entryData(data, e).toString('utf8').split(/\r?\n\r?\n/, 1)[0]!;
      name = /^Name:\s*(.+?)\s*$/m.exec(headers)?.[1] ?? name;
      version = /^Version:\s*(.+?)\s*$/m.exec(headers)?.[1] ?? version;
    } catch {
      // An unreadable METADATA: the directory name still names the distribution.
    }
    found.set(`${name.toLowerCase()}\0${version}`, { name, version });
  }
  return [...found.values()].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : a.version < b.version ? -1 : 1));
}
