// The Python distributions a PyInstaller one-file binary bundles, read from its CArchive: the cookie at the end
// of the archive (magic `MEI\014\013\012\013\016`, archive length, TOC offset and length, Python version, library
// name), then the table of contents, whose `<name>-<version>.dist-info/METADATA` entries PyInstaller collects
// with each distribution (copy_metadata / its hooks). Layout: PyInstaller/archive/writers.py (CArchiveWriter).
import { inflateSync } from 'node:zlib';

const COOKIE_MAGIC = Buffer.from([0x4d, 0x45, 0x49, 0x0c, 0x0b, 0x0a, 0x0b, 0x0e]);
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
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  // The cookie is the archive's last 88 bytes; the archive is appended to the bootloader, possibly followed by a
  // code signature (macOS) or certificate table (Windows), so search from the end.
  for (let at = buf.lastIndexOf(COOKIE_MAGIC); at >= 0; at = at > 0 ? buf.lastIndexOf(COOKIE_MAGIC, at - 1) : -1) {
    if (at + COOKIE_SIZE > buf.length) continue;
    const archiveLength = buf.readUInt32BE(at + 8);
    const tocOffset = buf.readUInt32BE(at + 12);
    const tocLength = buf.readUInt32BE(at + 16);
    const pythonVersion = buf.readUInt32BE(at + 20);
    const start = at + COOKIE_SIZE - archiveLength;
    if (start < 0 || tocOffset + tocLength > archiveLength) continue;
    const entries = readToc(buf, start, start + tocOffset, tocLength);
    if (!entries) continue;
    const lib = buf.subarray(at + 24, at + 88);
    const nul = lib.indexOf(0);
    return { pythonVersion, pythonLibrary: lib.toString('utf8', 0, nul < 0 ? lib.length : nul), start, entries };
  }
  return undefined;
}

function readToc(buf: Buffer, start: number, tocStart: number, tocLength: number): CArchiveEntry[] | undefined {
  const entries: CArchiveEntry[] = [];
  for (let p = tocStart; p < tocStart + tocLength; ) {
    if (p + ENTRY_HEADER > buf.length) return undefined;
    const entryLength = buf.readUInt32BE(p);
    if (entryLength < ENTRY_HEADER || p + entryLength > tocStart + tocLength) return undefined;
    const name = buf.subarray(p + ENTRY_HEADER, p + entryLength);
    const nul = name.indexOf(0);
    entries.push({
      name: name.toString('utf8', 0, nul < 0 ? name.length : nul),
      type: String.fromCharCode(buf[p + 17]!),
      offset: start + buf.readUInt32BE(p + 4),
      storedLength: buf.readUInt32BE(p + 8),
      length: buf.readUInt32BE(p + 12),
      compressed: buf[p + 16] === 1,
    });
    p += entryLength;
  }
  return entries;
}

/** An entry's bytes, inflated when stored compressed. */
export function entryData(data: Uint8Array, e: CArchiveEntry): Buffer {
  const raw = Buffer.from(data.buffer, data.byteOffset + e.offset, e.storedLength);
  return e.compressed ? inflateSync(raw) : Buffer.from(raw);
}

const DIST_INFO = /^(?:.*\/)?([^/]+?)-([^/-]+)\.dist-info\/METADATA$/;

/**
 * The distributions whose `*.dist-info/METADATA` the archive holds: name and version from the METADATA headers
 * (the canonical spelling), else from the directory name. Sorted by name, one per name and version.
 */
export function pythonDistributions(data: Uint8Array, archive: CArchive): PythonDistribution[] {
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
