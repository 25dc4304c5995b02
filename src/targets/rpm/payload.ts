// rpmbuild writes the package with an uncompressed payload (`w0.ufdio`: no compression pass at all); this swaps in
// the level-6 xz payload assembled from the build's once-compressed contents (src/util/xz-content.ts, the same
// blocks as the .deb's), adds the PAYLOADCOMPRESSOR tag rpmbuild leaves out for an uncompressed payload (the main
// header is laid out again exactly as rpm lays it out: data in tag order, aligned by type, the region trailer
// last), and patches the other values in place with values of the same length.
// Layout (rpm's lib/rpmlead.c, lib/header.c, lib/signature.c): a 96-byte lead, the signature header padded to
// 8 bytes, the main header, the payload. A header: magic (8), entry count (4), data size (4), entries of 16
// bytes (tag, type, offset, count; big-endian), then the data.
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import type { PackageFile } from '../linux/layout.ts';
import { isCachedContent, type XzContentCache, type CompressedContent } from '../../util/xz-content.ts';
import { xzStreamOf, type XzPart } from '../../util/xz-stream.ts';
import { READ_CHUNK, reusedChunks, writeChunks } from '../../util/fsx.ts';

const LEAD_SIZE = 96;
const HEADER_MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);

/** Tag numbers and types from rpm's lib/rpmtag.h. */
const TAG = {
  // main header
  HEADERIMMUTABLE: 63,
  PAYLOADCOMPRESSOR: 1125,
  PAYLOADFLAGS: 1126,
  PAYLOADDIGEST: 5092,
  // signature header
  SHA1HEADER: 269,
  SHA256HEADER: 273,
  SIGSIZE: 1000,
  SIGMD5: 1004,
  LONGSIGSIZE: 270,
  // signatures (absent from what rpmbuild writes; rpmsign adds them later, over the patched package)
  DSAHEADER: 267,
  RSAHEADER: 268,
  SIGPGP: 1002,
  SIGGPG: 1005,
} as const;
/** rpm's header data types (rpmtag.h rpmTagType). */
const TYPE = { CHAR: 1, INT8: 2, INT16: 3, INT32: 4, INT64: 5, STRING: 6, BIN: 7, STRING_ARRAY: 8, I18NSTRING: 9 } as const;
/** Bytes per element and alignment of rpm's fixed-size types (lib/header.c typeSizes). */
const FIXED_SIZE: Record<number, number> = { [TYPE.CHAR]: 1, [TYPE.INT8]: 1, [TYPE.INT16]: 2, [TYPE.INT32]: 4, [TYPE.INT64]: 8 };
/** Types whose value is `count` NUL-terminated strings. */
const STRING_TYPES = new Set<number>([TYPE.STRING, TYPE.STRING_ARRAY, TYPE.I18NSTRING]);

interface Entry {
  tag: number;
  type: number;
  /** Absolute position of the value in the header buffer. */
  at: number;
  count: number;
}

interface Header {
  start: number;
  end: number;
  entries: Map<number, Entry>;
}

function parseHeader(buf: Buffer, start: number, what: string): Header {
  if (!buf.subarray(start, start + 8).equals(HEADER_MAGIC)) throw new Error(`${what}: no rpm header magic at byte ${start}`);
  const count = buf.readUInt32BE(start + 8);
  const dataSize = buf.readUInt32BE(start + 12);
  const dataStart = start + 16 + count * 16;
  const entries = new Map<number, Entry>();
  for (let i = 0; i < count; i++) {
    const e = start + 16 + i * 16;
    entries.set(buf.readUInt32BE(e), { tag: buf.readUInt32BE(e), type: buf.readUInt32BE(e + 4), at: dataStart + buf.readUInt32BE(e + 8), count: buf.readUInt32BE(e + 12) });
  }
  return { start, end: dataStart + dataSize, entries };
}

function entry(h: Header, tag: number, type: number, what: string): Entry {
  const e = h.entries.get(tag);
  if (!e || e.type !== type) throw new Error(`${what}: rpm header tag ${tag} missing or not of type ${type}`);
  return e;
}

/** Replaces a NUL-terminated string value with one of the same length. */
function patchString(buf: Buffer, e: Entry, value: string, what: string): void {
  const end = buf.indexOf(0, e.at);
  if (end - e.at !== Buffer.byteLength(value)) throw new Error(`${what}: rpm header tag ${e.tag} is ${end - e.at} bytes, ${value} needs ${Buffer.byteLength(value)}`);
  buf.write(value, e.at, 'latin1');
}

/** The bytes of one entry's value: fixed-size elements, NUL-terminated strings, or BIN's `count` bytes. */
function valueBytes(buf: Buffer, e: Entry, end: number, what: string): Buffer {
  if (e.type === TYPE.BIN) return buf.subarray(e.at, e.at + e.count);
  if (FIXED_SIZE[e.type]) return buf.subarray(e.at, e.at + e.count * FIXED_SIZE[e.type]!);
  if (!STRING_TYPES.has(e.type)) throw new Error(`${what}: rpm header tag ${e.tag} has unknown type ${e.type}`);
  let at = e.at;
  for (let i = 0; i < e.count; i++) {
    at = buf.indexOf(0, at);
    if (at < 0 || at >= end) throw new Error(`${what}: rpm header tag ${e.tag} runs past the header`);
    at++;
  }
  return buf.subarray(e.at, at);
}

/**
 * The main header laid out the way rpm's headerExport writes one with an immutable region (what rpmbuild writes):
 * the region tag's entry first, the others by tag, their values in that order aligned to their type's size, the
 * region trailer (its tag, type, -(entries x 16), 16) last. `values` maps tag -> {type, count, bytes}.
 */
function layOutMainHeader(values: Map<number, { type: number; count: number; bytes: Buffer }>): Buffer {
  const tags = [...values.keys()].filter((t) => t !== TAG.HEADERIMMUTABLE).sort((a, b) => a - b);
  const count = tags.length + 1;
  const index: Buffer[] = [];
  const data: Buffer[] = [];
  let size = 0;
  const entryBytes = (tag: number, type: number, offset: number, n: number) => {
    const b = Buffer.alloc(16);
    b.writeUInt32BE(tag, 0);
    b.writeUInt32BE(type, 4);
    b.writeInt32BE(offset, 8);
    b.writeUInt32BE(n, 12);
    return b;
  };
  for (const tag of tags) {
    const v = values.get(tag)!;
    const align = FIXED_SIZE[v.type] ?? 1;
    const pad = (align - (size % align)) % align;
    if (pad) data.push(Buffer.alloc(pad));
    size += pad;
    index.push(entryBytes(tag, v.type, size, v.count));
    data.push(v.bytes);
    size += v.bytes.length;
  }
  const trailer = entryBytes(TAG.HEADERIMMUTABLE, TYPE.BIN, -(count * 16), 16);
  index.unshift(entryBytes(TAG.HEADERIMMUTABLE, TYPE.BIN, size, 16));
  data.push(trailer);
  size += trailer.length;
  const intro = Buffer.alloc(16);
  HEADER_MAGIC.copy(intro);
  intro.writeUInt32BE(count, 8);
  intro.writeUInt32BE(size, 12);
  return Buffer.concat([intro, ...index, ...data]);
}

/**
 * The main header with a STRING tag added. Laying out the header as it stands must give back its exact bytes
 * (rpmbuild's layout is the one assumed); otherwise nothing is changed and this throws.
 */
function withStringTag(head: Buffer, main: Header, tag: number, value: string, what: string): Buffer {
  const values = new Map<number, { type: number; count: number; bytes: Buffer }>();
  for (const e of main.entries.values()) if (e.tag !== TAG.HEADERIMMUTABLE) values.set(e.tag, { type: e.type, count: e.count, bytes: valueBytes(head, e, main.end, what) });
  if (!layOutMainHeader(values).equals(head.subarray(main.start, main.end))) throw new Error(`${what}: rpmbuild's main header is not laid out as rpm's headerExport lays it out; cannot add tag ${tag}`);
  values.set(tag, { type: TYPE.STRING, count: 1, bytes: Buffer.from(`${value}\0`, 'latin1') });
  return layOutMainHeader(values);
}

/** Reads the lead, the signature header and the main header; returns them and where the payload starts. */
async function readHeaders(file: string): Promise<{ head: Buffer; sig: Header; main: Header; fileSize: number }> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const readAt = async (pos: number, length: number) => {
      const b = Buffer.alloc(length);
      const { bytesRead } = await fh.read(b, 0, length, pos);
      if (bytesRead !== length) throw new Error(`${file}: truncated rpm`);
      return b;
    };
    const intro = async (pos: number) => {
      const b = await readAt(pos, 16);
      return 16 + b.readUInt32BE(8) * 16 + b.readUInt32BE(12);
    };
    const sigLength = await intro(LEAD_SIZE);
    const mainStart = LEAD_SIZE + sigLength + ((8 - (sigLength % 8)) % 8);
    const mainLength = await intro(mainStart);
    const head = await readAt(0, mainStart + mainLength);
    return { head, sig: parseHeader(head, LEAD_SIZE, file), main: parseHeader(head, mainStart, file), fileSize: size };
  } finally {
    await fh.close();
  }
}

/** Pulls exact byte counts out of a chunked stream. */
class ChunkReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly source: AsyncIterator<Buffer>;
  constructor(source: AsyncIterable<Buffer>) {
    this.source = source[Symbol.asyncIterator]();
  }
  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n) {
      const next = await this.source.next();
      if (next.done) return false;
      this.chunks.push(next.value);
      this.buffered += next.value.length;
    }
    return true;
  }
  /**
   * Up to `n` bytes (fewer only at the end of the stream), copied out: a header kept in the parts must not hold
   * on to the whole read chunk it came from.
   */
  async read(n: number): Promise<Buffer> {
    // More would span more chunks than the source's ring keeps valid (cpio headers and names are small).
    if (n > READ_CHUNK) throw new Error(`rpm payload: a cpio header or name of ${n} bytes`);
    await this.fill(n);
    const out = Buffer.allocUnsafe(Math.min(n, this.buffered));
    for (let filled = 0; filled < out.length; ) {
      const chunk = this.chunks[0]!;
      const take = Math.min(chunk.length, out.length - filled);
      chunk.copy(out, filled, 0, take);
      filled += take;
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
    }
    this.buffered -= out.length;
    return out;
  }
  /** Passes `n` bytes to `sink` without joining them. */
  async pass(n: number, sink: (chunk: Buffer) => void): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.fill(1))) throw new Error('rpm payload: cpio archive ends inside a file');
      const chunk = this.chunks.shift()!;
      const used = chunk.subarray(0, left);
      sink(used);
      left -= used.length;
      this.buffered -= used.length;
      if (used.length < chunk.length) this.chunks.unshift(chunk.subarray(used.length));
    }
  }
  async rest(): Promise<Buffer> {
    const tail: Buffer[] = this.chunks.map((c) => Buffer.from(c));
    for (let next = await this.source.next(); !next.done; next = await this.source.next()) tail.push(Buffer.from(next.value));
    this.chunks = [];
    this.buffered = 0;
    return Buffer.concat(tail);
  }
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

/**
 * The cpio archive (newc, what rpm writes for files under 4 GiB) of the payload as xz parts: each payload binary
 * as its compressed content (after checking that the archived bytes are that content), the rest stored.
 */
async function cpioParts(cpio: AsyncIterable<Buffer>, files: PackageFile[], cache: XzContentCache, what: string): Promise<XzPart[]> {
  const byName = new Map(files.filter(isCachedContent).map((f) => [`.${f.path}`, f]));
  const reader = new ChunkReader(cpio);
  const parts: XzPart[] = [];
  const checks: Promise<void>[] = [];
  for (;;) {
    const header = await reader.read(110);
    if (header.length === 0) break;
    const magic = header.subarray(0, 6).toString('latin1');
    if (header.length < 110 || magic !== '070701') throw new Error(`${what}: rpm payload is not a newc cpio archive (magic ${JSON.stringify(magic)})`);
    const field = (i: number) => parseInt(header.toString('latin1', 6 + i * 8, 14 + i * 8), 16);
    const fileSize = field(6);
    const nameSize = field(11);
    const name = await reader.read(nameSize + pad4(110 + nameSize));
    parts.push(header, name);
    const fileName = name.toString('utf8', 0, nameSize - 1);
    const f = byName.get(fileName);
    if (f && f.source.size === fileSize && fileSize > 0) {
      const content = cache.get(f.sha256, f.source.file, f.source.size, what);
      const sha = createHash('sha256');
      await reader.pass(fileSize, (chunk) => sha.update(chunk));
      const archived = sha.digest('hex');
      if (archived !== f.sha256) throw new Error(`${what}: ${fileName} in rpmbuild's payload is not the payload (sha256 ${archived}, expected ${f.sha256})`);
      const at = parts.length;
      parts.push(Buffer.alloc(0)); // the compressed content's place, filled below
      checks.push(content.then((c: CompressedContent) => void (parts[at] = c.blocks)));
    } else {
      await reader.pass(fileSize, (chunk) => parts.push(Buffer.from(chunk))); // a copy: not the whole read chunk
    }
    parts.push(await reader.read(pad4(fileSize)));
    if (fileName === 'TRAILER!!!') break;
  }
  parts.push(await reader.rest());
  await Promise.all(checks);
  return parts;
}

/**
 * Replaces the uncompressed payload of the rpm at `file` (as rpmbuild wrote it with `_binary_payload w0.ufdio`)
 * by the level-6 xz stream of the same cpio archive, and sets the headers: PAYLOADCOMPRESSOR "xz" added,
 * PAYLOADFLAGS "0" -> "6", the payload digest, and the signature header's size, MD5 and header digests. The uncompressed payload, its digest
 * (PAYLOADDIGESTALT) and size are unchanged.
 */
export async function recompressRpmPayload(file: string, files: PackageFile[], cache: XzContentCache, what: string): Promise<void> {
  const built = await readHeaders(file);
  for (const t of [TAG.DSAHEADER, TAG.RSAHEADER, TAG.SIGPGP, TAG.SIGGPG]) if (built.sig.entries.has(t)) throw new Error(`${file}: already signed; the payload is replaced before signing`);
  if (built.main.entries.has(TAG.PAYLOADCOMPRESSOR)) throw new Error(`${file}: expected rpmbuild's uncompressed payload (_binary_payload w0.ufdio), found a compressed one`);
  const builtFlags = entry(built.main, TAG.PAYLOADFLAGS, TYPE.STRING, file);
  if (built.head.toString('latin1', builtFlags.at, built.head.indexOf(0, builtFlags.at)) !== '0') throw new Error(`${file}: expected rpmbuild's payload flags "0" (_binary_payload w0.ufdio)`);

  // 1. The cpio archive, read straight out of rpmbuild's package, as parts of the level-6 stream.
  // A ring of 4 buffers: the reader holds at most two chunks (the rest of one and the next), headers are copied out.
  const parts = await cpioParts(reusedChunks(file, { start: built.main.end, ring: 4 }), files, cache, what);

  // The headers with PAYLOADCOMPRESSOR "xz" added to the main header (the signature header keeps its size).
  const head = Buffer.concat([built.head.subarray(0, built.main.start), withStringTag(built.head, built.main, TAG.PAYLOADCOMPRESSOR, 'xz', file)]);
  const { sig } = built;
  const main = parseHeader(head, built.main.start, file);
  const flags = entry(main, TAG.PAYLOADFLAGS, TYPE.STRING, file);

  // 2. The headers, then the level-6 payload, into a temp file; the payload's sha256 on the way.
  const out = `${file}.recompressed-${process.pid}.tmp`;
  try {
    const payloadSha = createHash('sha256');
    await writeChunks(
      (async function* () {
        yield Buffer.from(head);
        for await (const chunk of xzStreamOf(parts)) {
          payloadSha.update(chunk);
          yield chunk;
        }
      })(),
      out,
    );

    // 3. The main header: payload flags and digest.
    patchString(head, flags, '6', file);
    const digest = entry(main, TAG.PAYLOADDIGEST, TYPE.STRING_ARRAY, file);
    if (digest.count !== 1) throw new Error(`${file}: expected one payload digest`);
    patchString(head, digest, payloadSha.digest('hex'), file);
    const mainBytes = head.subarray(main.start, main.end);

    // 4. The signature header: digests of the main header, and size and MD5 of main header + payload.
    patchString(head, entry(sig, TAG.SHA1HEADER, TYPE.STRING, file), createHash('sha1').update(mainBytes).digest('hex'), file);
    patchString(head, entry(sig, TAG.SHA256HEADER, TYPE.STRING, file), createHash('sha256').update(mainBytes).digest('hex'), file);
    const md5 = createHash('md5').update(mainBytes);
    let payloadSize = 0;
    for await (const chunk of reusedChunks(out, { start: head.length })) {
      md5.update(chunk as Buffer);
      payloadSize += (chunk as Buffer).length;
    }
    const total = mainBytes.length + payloadSize;
    const size = sig.entries.get(TAG.SIGSIZE);
    if (size) {
      if (size.type !== TYPE.INT32 || total > 0xffffffff) throw new Error(`${file}: the package does not fit rpm's 32-bit size tag`);
      head.writeUInt32BE(total, size.at);
    }
    const longSize = sig.entries.get(TAG.LONGSIGSIZE);
    if (longSize) head.writeBigUInt64BE(BigInt(total), longSize.at);
    md5.digest().copy(head, entry(sig, TAG.SIGMD5, TYPE.BIN, file).at);

    // 5. The patched headers over the old ones (same length), then the package over rpmbuild's.
    const fh = await open(out, 'r+');
    try {
      await fh.write(head, 0, head.length, 0);
    } finally {
      await fh.close();
    }
    await rename(out, file);
  } finally {
    await rm(out, { force: true });
  }
}
