// .xz streams assembled from independently compressed blocks (xz file format 1.0.4,
// https://tukaani.org/xz/xz-file-format.txt). Multi-threaded xz already writes a stream as a sequence of
// independent blocks; here a large file's content is compressed once into its own blocks, and every package
// holding that file (.deb data.tar, .rpm cpio payload) copies those blocks between small blocks of its own
// framing (tar or cpio headers and padding, small files), stored as uncompressed LZMA2 chunks. Each package
// then pays only for copying, and each file is compressed once per build however many packages hold it.
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { reusedChunks } from './fsx.ts';

/** One block of a compressed file: the file, where the block starts in it, and its index record. */
interface BlockRecord {
  file: string;
  offset: number;
  unpaddedSize: number;
  uncompressedSize: number;
}

/** Blocks of complete .xz files (one stream each, CRC64 checks), in order, copied into assembled streams. */
export interface XzBlocks {
  blocks: BlockRecord[];
  uncompressedSize: number;
}

/** A part of an assembled stream: bytes stored as they are, or the content of an already compressed file. */
export type XzPart = Buffer | XzBlocks;

const MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const FOOTER_MAGIC = Buffer.from('YZ');
/** Stream flags: check type CRC64 (xz's default; every block of a stream has the one check type). */
const STREAM_FLAGS = Buffer.from([0x00, 0x04]);
const CHECK_SIZE = 8;
/** LZMA2's dictionary property for 8 MiB (xz -6's dictionary): no more memory than the compressed blocks need. */
const LZMA2_DICT_8MIB = 0x16;
/** An uncompressed LZMA2 chunk holds at most 64 KiB. */
const LZMA2_CHUNK = 0x10000;
/** Stored bytes are split into blocks of at most this size (each block's check is computed in memory). */
const STORED_BLOCK_MAX = 1 << 20;

function u32le(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

function varint(value: number): Buffer {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return Buffer.from(out);
}

function readVarint(buf: Buffer, pos: number): { value: number; pos: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 9; i++) {
    const byte = buf[pos++];
    if (byte === undefined) throw new Error('xz index: truncated integer');
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return { value, pos };
    scale *= 0x80;
  }
  throw new Error('xz index: integer too long');
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

// CRC64 (ECMA-182, reflected), as two 32-bit halves: Node has no CRC64 and BigInt is slow per byte.
const CRC64_LO = new Uint32Array(256);
const CRC64_HI = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let lo = i;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    const lsb = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (lsb) {
      lo = (lo ^ 0xd7870f42) >>> 0;
      hi = (hi ^ 0xc96c5795) >>> 0;
    }
  }
  CRC64_LO[i] = lo;
  CRC64_HI[i] = hi;
}

export function crc64(data: Uint8Array): Buffer {
  let lo = 0xffffffff;
  let hi = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ CRC64_LO[idx]!;
    hi = (hi >>> 8) ^ CRC64_HI[idx]!;
  }
  const out = Buffer.alloc(8);
  out.writeUInt32LE(~lo >>> 0, 0);
  out.writeUInt32LE(~hi >>> 0, 4);
  return out;
}

/** A block holding `data` as uncompressed LZMA2 chunks, with its index record. */
function storedBlock(data: Buffer): { bytes: Buffer; unpaddedSize: number } {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += LZMA2_CHUNK) {
    const piece = data.subarray(at, at + LZMA2_CHUNK);
    // 0x01: uncompressed chunk resetting the dictionary (a block's first chunk must), 0x02: without reset.
    const control = Buffer.from([at === 0 ? 0x01 : 0x02, (piece.length - 1) >> 8, (piece.length - 1) & 0xff]);
    chunks.push(control, piece);
  }
  chunks.push(Buffer.from([0x00]));
  const compressed = Buffer.concat(chunks);
  // Block header: size, flags (one filter; compressed and uncompressed sizes present), sizes, LZMA2 filter flags.
  const fields = Buffer.concat([Buffer.from([0xc0]), varint(compressed.length), varint(data.length), Buffer.from([0x21, 0x01, LZMA2_DICT_8MIB])]);
  const headerSize = 1 + fields.length + 4;
  const total = headerSize + pad4(headerSize);
  const head = Buffer.concat([Buffer.from([total / 4 - 1]), fields, Buffer.alloc(pad4(headerSize))]);
  const header = Buffer.concat([head, u32le(crc32(head))]);
  const unpaddedSize = header.length + compressed.length + CHECK_SIZE;
  return { bytes: Buffer.concat([header, compressed, Buffer.alloc(pad4(header.length + compressed.length)), crc64(data)]), unpaddedSize };
}

/** Reads the index of a whole .xz file (one stream, CRC64 checks), to copy its blocks into other streams. */
export async function readXzBlocks(file: string): Promise<XzBlocks> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const header = Buffer.alloc(12);
    const footer = Buffer.alloc(12);
    await fh.read(header, 0, 12, 0);
    await fh.read(footer, 0, 12, size - 12);
    if (!header.subarray(0, 6).equals(MAGIC) || !footer.subarray(10).equals(FOOTER_MAGIC)) throw new Error(`${file}: not a single .xz stream`);
    if (!header.subarray(6, 8).equals(STREAM_FLAGS) || !footer.subarray(8, 10).equals(STREAM_FLAGS)) throw new Error(`${file}: xz check type is not CRC64`);
    const indexSize = (footer.readUInt32LE(4) + 1) * 4;
    const index = Buffer.alloc(indexSize);
    await fh.read(index, 0, indexSize, size - 12 - indexSize);
    if (crc32(index.subarray(0, indexSize - 4)) !== index.readUInt32LE(indexSize - 4)) throw new Error(`${file}: xz index CRC mismatch`);
    let { value: count, pos } = readVarint(index, 1);
    const blocks: BlockRecord[] = [];
    let offset = 12;
    let uncompressedSize = 0;
    while (count-- > 0) {
      const unpadded = readVarint(index, pos);
      const uncompressed = readVarint(index, unpadded.pos);
      pos = uncompressed.pos;
      blocks.push({ file, offset, unpaddedSize: unpadded.value, uncompressedSize: uncompressed.value });
      offset += unpadded.value + pad4(unpadded.value);
      uncompressedSize += uncompressed.value;
    }
    if (offset !== size - 12 - indexSize) throw new Error(`${file}: xz blocks do not fill the stream (padding or a second stream)`);
    return { blocks, uncompressedSize };
  } finally {
    await fh.close();
  }
}

/** The blocks of several compressed files, one after another: the compression of their contents' concatenation. */
export function concatXzBlocks(parts: XzBlocks[]): XzBlocks {
  return { blocks: parts.flatMap((p) => p.blocks), uncompressedSize: parts.reduce((sum, p) => sum + p.uncompressedSize, 0) };
}

const blockEnd = (b: BlockRecord) => b.offset + b.unpaddedSize + pad4(b.unpaddedSize);

/**
 * Streams one .xz stream holding `parts` in order: stored bytes as uncompressed blocks (consecutive stored
 * parts merge), compressed files by copying their blocks. Decompresses to the concatenation of the parts.
 * A chunk copied from a compressed file is read into a reused buffer: consume it before asking for the next
 * (writeChunks does).
 */
export async function* xzStreamOf(parts: Iterable<XzPart> | AsyncIterable<XzPart>): AsyncGenerator<Buffer> {
  const records: Buffer[] = [];
  yield Buffer.concat([MAGIC, STREAM_FLAGS, u32le(crc32(STREAM_FLAGS))]);
  let stored: Buffer[] = [];
  let storedLength = 0;
  function* flush(): Generator<Buffer> {
    const all = Buffer.concat(stored);
    stored = [];
    storedLength = 0;
    for (let at = 0; at < all.length; at += STORED_BLOCK_MAX) {
      const data = all.subarray(at, at + STORED_BLOCK_MAX);
      const block = storedBlock(data);
      records.push(varint(block.unpaddedSize), varint(data.length));
      yield block.bytes;
    }
  }
  for await (const part of parts) {
    if (Buffer.isBuffer(part)) {
      stored.push(part);
      storedLength += part.length;
      if (storedLength >= STORED_BLOCK_MAX) yield* flush();
      continue;
    }
    yield* flush();
    // Each run of blocks that lie back to back in one file is copied with one read.
    for (let i = 0; i < part.blocks.length; ) {
      const first = part.blocks[i]!;
      let j = i + 1;
      while (j < part.blocks.length && part.blocks[j]!.file === first.file && part.blocks[j]!.offset === blockEnd(part.blocks[j - 1]!)) j++;
      const end = blockEnd(part.blocks[j - 1]!);
      yield* reusedChunks(first.file, { start: first.offset, end });
      for (const b of part.blocks.slice(i, j)) records.push(varint(b.unpaddedSize), varint(b.uncompressedSize));
      i = j;
    }
  }
  yield* flush();
  const body = Buffer.concat([Buffer.from([0x00]), varint(records.length / 2), ...records]);
  const indexNoCrc = Buffer.concat([body, Buffer.alloc(pad4(body.length))]);
  const index = Buffer.concat([indexNoCrc, u32le(crc32(indexNoCrc))]);
  const backward = Buffer.concat([u32le(index.length / 4 - 1), STREAM_FLAGS]);
  yield Buffer.concat([index, u32le(crc32(backward)), backward, FOOTER_MAGIC]);
}
