// A ustar archive written byte by byte, so tests can put anything in it (tar itself refuses to write some of it:
// absolute names, links pointing out, devices).

export interface RawTarEntry {
  name: string;
  /** tar typeflag: 0 file, 1 hard link, 2 symlink, 3 char device, 5 directory */
  type: '0' | '1' | '2' | '3' | '5';
  data?: Buffer;
  linkname?: string;
}

export function rawTar(entries: RawTarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const h = Buffer.alloc(512);
    const data = e.data ?? Buffer.alloc(0);
    h.write(e.name, 0, 100, 'utf8');
    h.write('0000755\0', 100, 8, 'ascii');
    h.write('0000000\0', 108, 8, 'ascii');
    h.write('0000000\0', 116, 8, 'ascii');
    h.write(data.length.toString(8).padStart(11, '0') + '\0', 124, 12, 'ascii');
    h.write('00000000000\0', 136, 12, 'ascii');
    h.write('        ', 148, 8, 'ascii');
    h.write(e.type, 156, 1, 'ascii');
    if (e.linkname) h.write(e.linkname, 157, 100, 'utf8');
    h.write('ustar\0', 257, 6, 'ascii');
    h.write('00', 263, 2, 'ascii');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A tiny ustar archive of regular files, by name. */
export function tarOf(files: Record<string, Buffer | string>): Buffer {
  return rawTar(Object.entries(files).map(([name, content]) => ({ name, type: '0', data: Buffer.from(content) })));
}
