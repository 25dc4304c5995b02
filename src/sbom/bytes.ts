// Random access to a binary's bytes, in memory or on disk. The SBOM readers look at a few small windows of a
// payload (a build-info header, a cookie, a table of contents), found by one streaming scan for their magic
// bytes: a 240 MB binary is never held whole, so memory does not grow with the payload.
import { readSync } from 'node:fs';

export interface ByteReader {
  readonly size: number;
  /** Bytes [at, at + length), clipped to the file: shorter near its end. */
  read(at: number, length: number): Buffer;
}

export function bufferReader(data: Uint8Array): ByteReader {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  return { size: buf.length, read: (at, length) => buf.subarray(Math.max(0, at), Math.max(0, Math.min(buf.length, at + length))) };
}

/** Positional reads of an open file (`fd`) of `size` bytes. */
export function fileReader(fd: number, size: number): ByteReader {
  return {
    size,
    read(at, length) {
      const start = Math.max(0, at);
      const out = Buffer.alloc(Math.max(0, Math.min(size, at + length) - start));
      let got = 0;
      while (got < out.length) {
        const n = readSync(fd, out, got, out.length - got, start + got);
        if (n === 0) break;
        got += n;
      }
      return out.subarray(0, got);
    },
  };
}

/** Every position of `needle` in `data`. */
export function positionsOf(data: Uint8Array, needle: Buffer): number[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  const found: number[] = [];
  for (let at = buf.indexOf(needle); at >= 0; at = buf.indexOf(needle, at + 1)) found.push(at);
  return found;
}

/** Finds every position of each needle in a file fed chunk by chunk, matches across chunk boundaries included. */
export class NeedleScanner {
  private readonly needles: Buffer[];
  private readonly keep: number;
  private tail = Buffer.alloc(0);
  private consumed = 0;
  /** Per needle, its positions in the file, ascending. */
  readonly positions: number[][];
  constructor(needles: Buffer[]) {
    this.needles = needles;
    this.keep = Math.max(...needles.map((n) => n.length)) - 1;
    this.positions = needles.map(() => []);
  }
  update(chunk: Buffer): void {
    const window = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    const base = this.consumed - this.tail.length;
    this.needles.forEach((needle, i) => {
      // A match lying wholly in the tail was found with the previous chunk.
      for (const at of positionsOf(window, needle)) if (at + needle.length > this.tail.length) this.positions[i]!.push(base + at);
    });
    this.consumed += chunk.length;
    this.tail = Buffer.from(window.subarray(Math.max(0, window.length - this.keep)));
  }
}
