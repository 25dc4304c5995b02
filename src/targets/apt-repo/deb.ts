// Reads what an APT index needs from a .deb without dpkg: the ar container's control.tar member, its
// ./control file, and the file's digests (streamed: a 60 MB package is never held in memory).
import { execa } from '../../util/exec.ts';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { EXIT, UserError } from '../../errors.ts';

export interface ControlField {
  name: string;
  /** The value as written: first line (without the leading space) plus continuation lines, "\n"-joined. */
  value: string;
}

export interface DebInfo {
  file: string;
  package: string;
  version: string;
  architecture: string;
  /** Source package name (the Source field without a version, else Package): decides the pool folder. */
  source: string;
  fields: ControlField[];
}

export interface FileDigests {
  size: number;
  md5: string;
  sha1: string;
  sha256: string;
  sha512: string;
}

const AR_MAGIC = '!<arch>\n';
const MAX_CONTROL = 64 << 20;

function badDeb(file: string, why: string): UserError {
  return new UserError(`${file}: not a valid .deb package: ${why}`, { hint: 'rebuild it with the deb target (or dpkg-deb --build), or remove it from the pool', exitCode: EXIT.config });
}

/** The raw bytes of the control.tar.* member, and its compression suffix. */
async function controlMember(file: string): Promise<{ name: string; data: Buffer }> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const magic = Buffer.alloc(8);
    await fh.read(magic, 0, 8, 0);
    if (magic.toString('latin1') !== AR_MAGIC) throw badDeb(file, 'no ar archive signature');
    let pos = 8;
    const header = Buffer.alloc(60);
    while (pos + 60 <= size) {
      await fh.read(header, 0, 60, pos);
      if (header.toString('latin1', 58, 60) !== '`\n') throw badDeb(file, `corrupt ar member header at byte ${pos}`);
      const name = header.toString('latin1', 0, 16).trim().replace(/\/$/, '');
      const len = Number(header.toString('latin1', 48, 58).trim());
      if (!Number.isInteger(len) || len < 0 || pos + 60 + len > size) throw badDeb(file, `corrupt ar member size at byte ${pos}`);
      if (name.startsWith('control.tar')) {
        if (len > MAX_CONTROL) throw badDeb(file, `${name} is implausibly large (${len} bytes)`);
        const data = Buffer.alloc(len);
        await fh.read(data, 0, len, pos + 60);
        return { name, data };
      }
      if (name.startsWith('data.tar')) break;
      pos += 60 + len + (len % 2);
    }
    throw badDeb(file, 'no control.tar member before data.tar');
  } finally {
    await fh.close();
  }
}

async function decompress(file: string, name: string, data: Buffer): Promise<Buffer> {
  try {
    if (name === 'control.tar') return data;
    if (name === 'control.tar.gz') return gunzipSync(data);
    if (name === 'control.tar.zst') return zstdDecompressSync(data);
    if (name === 'control.tar.xz') {
      const r = await execa('xz', ['-dc'], { input: data, encoding: 'buffer' });
      return Buffer.from(r.stdout);
    }
  } catch (err) {
    throw badDeb(file, `cannot decompress ${name}: ${(err as Error).message.split('\n')[0]}`);
  }
  throw badDeb(file, `unsupported control member ${name} (expected control.tar, .gz, .xz or .zst)`);
}

/** The content of one regular file in an (uncompressed) tar, by name ("./control" or "control"). */
function tarFile(tar: Buffer, wanted: string): Buffer | undefined {
  let pos = 0;
  let longName: string | undefined;
  while (pos + 512 <= tar.length) {
    const h = tar.subarray(pos, pos + 512);
    if (h.every((b) => b === 0)) return undefined;
    const field = (o: number, l: number) => h.toString('utf8', o, o + l).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    const body = tar.subarray(pos + 512, pos + 512 + size);
    pos += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (m) longName = m[1];
      continue;
    }
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    name = name.replace(/^\.\//, '');
    if ((type === '0' || type === '\0') && name === wanted) return body;
  }
  return undefined;
}

/** Parses one deb822 stanza, keeping every field's text exactly (continuation lines included). */
export function parseControl(text: string, source: string): ControlField[] {
  const fields: ControlField[] = [];
  for (const [i, line] of text.replace(/\r\n/g, '\n').split('\n').entries()) {
    if (!line.trim()) {
      if (fields.length) break; // one stanza
      continue;
    }
    if (/^[ \t]/.test(line)) {
      const last = fields.at(-1);
      if (!last) throw new UserError(`${source}:${i + 1}: continuation line before any field`, { exitCode: EXIT.config });
      last.value += `\n${line}`;
      continue;
    }
    const m = /^([!-9;-~][!-9;-~]*):[ \t]*(.*)$/.exec(line);
    if (!m) throw new UserError(`${source}:${i + 1}: not a "Field: value" line: ${JSON.stringify(line.slice(0, 80))}`, { exitCode: EXIT.config });
    fields.push({ name: m[1]!, value: m[2]!.trimEnd() });
  }
  return fields;
}

export async function readDeb(file: string): Promise<DebInfo> {
  const member = await controlMember(file);
  const tar = await decompress(file, member.name, member.data);
  const control = tarFile(tar, 'control');
  if (!control) throw badDeb(file, `${member.name} has no ./control file`);
  const fields = parseControl(control.toString('utf8'), `${file}: control`);
  const get = (n: string) => fields.find((f) => f.name.toLowerCase() === n.toLowerCase())?.value;
  const pkg = get('Package');
  const version = get('Version');
  const architecture = get('Architecture');
  for (const [n, v] of [['Package', pkg], ['Version', version], ['Architecture', architecture]] as const) {
    if (!v) throw badDeb(file, `control has no ${n} field`);
  }
  const source = (get('Source') ?? pkg!).replace(/\s*\(.*\)\s*$/, '').trim();
  return { file, package: pkg!, version: version!, architecture: architecture!, source, fields };
}

/** size, MD5, SHA-1, SHA-256 and SHA-512 in one streamed pass. */
export async function fileDigests(file: string): Promise<FileDigests> {
  const hashes = { md5: createHash('md5'), sha1: createHash('sha1'), sha256: createHash('sha256'), sha512: createHash('sha512') };
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    for (const h of Object.values(hashes)) h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, md5: hashes.md5.digest('hex'), sha1: hashes.sha1.digest('hex'), sha256: hashes.sha256.digest('hex'), sha512: hashes.sha512.digest('hex') };
}

export function digestsOf(data: Buffer | string): FileDigests {
  const h = (a: string) => createHash(a).update(data).digest('hex');
  return { size: Buffer.byteLength(data), md5: h('md5'), sha1: h('sha1'), sha256: h('sha256'), sha512: h('sha512') };
}

// deb-version(7) ordering, for a stable, human-sensible order of stanzas (apt itself does not need it).
function order(c: string): number {
  if (c === '~') return -1;
  if (/[0-9]/.test(c)) return 0;
  if (!c) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !/[0-9]/.test(a[i]!)) || (j < b.length && !/[0-9]/.test(b[j]!))) {
      const ac = order(a[i] ?? '');
      const bc = order(b[j] ?? '');
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (i < a.length && /[0-9]/.test(a[i]!) && j < b.length && /[0-9]/.test(b[j]!)) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && /[0-9]/.test(a[i]!)) return 1;
    if (j < b.length && /[0-9]/.test(b[j]!)) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

export function compareDebVersions(a: string, b: string): number {
  const split = (v: string) => {
    const colon = v.indexOf(':');
    const epoch = colon >= 0 ? Number(v.slice(0, colon)) : 0;
    const rest = colon >= 0 ? v.slice(colon + 1) : v;
    const dash = rest.lastIndexOf('-');
    return { epoch, upstream: dash >= 0 ? rest.slice(0, dash) : rest, revision: dash >= 0 ? rest.slice(dash + 1) : '' };
  };
  const x = split(a);
  const y = split(b);
  return x.epoch - y.epoch || compareFragment(x.upstream, y.upstream) || compareFragment(x.revision, y.revision);
}
