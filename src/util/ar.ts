// A writer for the plain "common" ar format (the container of a .deb): global magic, then per member a
// 60-byte header and the data padded to an even length. No GNU/BSD long-name tables: names are at most 15
// bytes. Members stream from disk, so a large data.tar never sits in memory.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

export interface ArMember {
  name: string;
  mtime: number;
  /** Contents: a path streamed from disk (with its size) or an in-memory buffer. */
  source: Buffer | { file: string; size: number };
}

const MAGIC = '!<arch>\n';

function field(value: string | number, width: number): string {
  const s = String(value);
  if (s.length > width) throw new Error(`internal: ar header field "${s}" is wider than ${width} bytes`);
  return s.padEnd(width, ' ');
}

export function arHeader(m: ArMember): Buffer {
  if (!/^[A-Za-z0-9_.+-]{1,15}$/.test(m.name)) throw new Error(`internal: ar member name "${m.name}" must be 1-15 plain characters`);
  const size = Buffer.isBuffer(m.source) ? m.source.length : m.source.size;
  // name, mtime, uid, gid, mode (octal), size, terminator: what dpkg-deb writes.
  const header = field(m.name, 16) + field(m.mtime, 12) + field(0, 6) + field(0, 6) + field('100644', 8) + field(size, 10) + '`\n';
  return Buffer.from(header, 'latin1');
}

/** A readable stream of the ar archive holding the members in the given order. */
export function arStream(members: ArMember[]): Readable {
  async function* all(): AsyncGenerator<Buffer> {
    yield Buffer.from(MAGIC, 'latin1');
    for (const m of members) {
      yield arHeader(m);
      let size: number;
      if (Buffer.isBuffer(m.source)) {
        size = m.source.length;
        yield m.source;
      } else {
        size = 0;
        for await (const chunk of createReadStream(m.source.file, { highWaterMark: 1 << 20 })) {
          size += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
        if (size !== m.source.size) throw new Error(`${m.source.file} changed size while being archived (${m.source.size} -> ${size} bytes)`);
      }
      if (size % 2 === 1) yield Buffer.from('\n', 'latin1');
    }
  }
  return Readable.from(all(), { objectMode: false });
}
