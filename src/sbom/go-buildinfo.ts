// The build information Go (1.18+) embeds in every binary it links, read from the file's bytes for any OS and
// architecture (ELF, Mach-O, PE alike): the `\xff Go buildinf:` header, then the Go version and the module info
// as varint-length-prefixed strings. What `go version -m FILE` prints, without needing Go or the target OS.
// Layout: src/debug/buildinfo/buildinfo.go (Go's own reader) and cmd/go/internal/modload (the modinfo text).

import { bufferReader, positionsOf, type ByteReader } from './bytes.ts';

export const GO_BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
/** How much is read at a candidate header first; a longer module list is read once its length is known. */
const FIRST_WINDOW = 64 * 1024;
/** No build info is this large: a longer length is not a header. */
const MAX_BUILDINFO = 16 * 1024 * 1024;
/** Flag bit 2: version and modinfo follow the header inline (Go 1.18+); otherwise they are pointers (older Go). */
const FLAGS_VERSION_INLINE = 0x2;
/** The modinfo string is framed by two 16-byte sentinels (cmd/go/internal/modload/build.go). */
const MODINFO_FRAME = 16;

export interface GoModule {
  path: string;
  version: string;
  /** go.sum hash ("h1:..."); absent for the main module, replaced and local modules. */
  sum?: string;
  replace?: { path: string; version?: string; sum?: string };
}

export interface GoBuildInfo {
  /** e.g. "go1.22.4" */
  goVersion: string;
  /** The main package's import path ("command-line-arguments" for `go build file.go`). */
  path?: string;
  /** The main module; absent for GOPATH-mode builds. */
  main?: GoModule;
  /** Every module the binary was built from, except the main one. */
  deps: GoModule[];
  /** `build` lines: -trimpath, CGO_ENABLED, GOOS, GOARCH, vcs.revision, ... */
  settings: Record<string, string>;
}

export type BinaryFormat = 'elf' | 'macho' | 'pe' | 'unknown';

/** The executable format, from the file's first 4 bytes. */
export function binaryFormat(data: Uint8Array): BinaryFormat {
  const b = Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, 4));
  if (b.length < 4) return 'unknown';
  if (b.readUInt32BE(0) === 0x7f454c46) return 'elf';
  const m = b.readUInt32BE(0);
  if (m === 0xfeedface || m === 0xfeedfacf || m === 0xcefaedfe || m === 0xcffaedfe || m === 0xcafebabe) return 'macho';
  if (b[0] === 0x4d && b[1] === 0x5a) return 'pe';
  return 'unknown';
}

function readVarint(buf: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return { value, next: i + 1 };
    shift += 7;
  }
  return undefined;
}

function readBytes(buf: Buffer, at: number): { value: Buffer; next: number } | undefined {
  const len = readVarint(buf, at);
  if (!len || len.next + len.value > buf.length) return undefined;
  return { value: buf.subarray(len.next, len.next + len.value), next: len.next + len.value };
}

/**
 * The build info of a Go binary, or undefined when `data` holds none (not Go, or Go before 1.18, whose header
 * points at strings by virtual address).
 */
export function readGoBuildInfo(data: Uint8Array): GoBuildInfo | undefined {
  return goBuildInfoAt(bufferReader(data), positionsOf(data, GO_BUILDINFO_MAGIC));
}

/**
 * The build info at the first valid one of `candidates` (positions of GO_BUILDINFO_MAGIC in the file). The header
 * is 16-byte aligned within its section; sections start aligned in every format Go writes, so candidates at
 * 16-byte steps of the file offset are tried first, then the others.
 */
export function goBuildInfoAt(file: ByteReader, candidates: readonly number[]): GoBuildInfo | undefined {
  for (const at of [...candidates].sort((a, b) => (a % 16) - (b % 16) || a - b)) {
    let buf = file.read(at, FIRST_WINDOW);
    const flags = buf[15];
    if (flags === undefined || !(flags & FLAGS_VERSION_INLINE)) continue;
    const version = readBytes(buf, 32);
    const goVersion = version?.value.toString('utf8');
    if (!version || !goVersion || !/^go\d|^devel /.test(goVersion)) continue;
    const modLength = readVarint(buf, version.next);
    if (!modLength || modLength.value > MAX_BUILDINFO) continue;
    if (modLength.next + modLength.value > buf.length) buf = file.read(at, modLength.next + modLength.value);
    const mod = readBytes(buf, version.next);
    if (!mod) continue;
    // Strip the sentinels framing the text (binary bytes, not part of any line).
    let text = mod.value;
    if (text.length >= 2 * MODINFO_FRAME + 1 && text[text.length - MODINFO_FRAME - 1] === 0x0a) text = text.subarray(MODINFO_FRAME, text.length - MODINFO_FRAME);
    return { goVersion, ...parseModinfo(text.toString('utf8')) };
  }
  return undefined;
}

/** Parses the modinfo text (the lines `go version -m` prints after the Go version). */
export function parseModinfo(text: string): Omit<GoBuildInfo, 'goVersion'> {
  const out: Omit<GoBuildInfo, 'goVersion'> = { deps: [], settings: {} };
  let last: GoModule | undefined;
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    switch (f[0]) {
      case 'path':
        out.path = f[1];
        break;
      case 'mod':
        out.main = last = module(f);
        break;
      case 'dep':
        out.deps.push((last = module(f)));
        break;
      case '=>':
        if (last) last.replace = { path: f[1]!, ...(f[2] ? { version: f[2] } : {}), ...(f[3] ? { sum: f[3] } : {}) };
        break;
      case 'build': {
        const kv = f.slice(1).join('\t');
        const eq = kv.indexOf('=');
        if (eq > 0) out.settings[kv.slice(0, eq)] = unquote(kv.slice(eq + 1));
        break;
      }
    }
  }
  return out;
}

function module(f: string[]): GoModule {
  return { path: f[1] ?? '', version: f[2] ?? '', ...(f[3] ? { sum: f[3] } : {}) };
}

/** Build setting values with spaces, tabs or quotes are Go-quoted (`build\t-ldflags="-s -w"`). */
function unquote(v: string): string {
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v;
    }
  }
  return v;
}
