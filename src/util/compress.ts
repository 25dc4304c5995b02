// Streamed, deterministic compression and the zip writer.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import yazl from 'yazl';
import type { BuiltFile } from '../targets/types.ts';
import { HashingStream } from './fsx.ts';

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

/** Streams `source` through optional transforms into `file`, hashing what is written. */
export async function writeStream(source: Readable, file: string, transforms: Transform[] = []): Promise<BuiltFile> {
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
