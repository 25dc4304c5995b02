// Recognises an executable's container format and CPU from its headers (ELF, PE, Mach-O), reading only a few
// small ranges of the file: a payload is never loaded into memory. Packagers use it to refuse a payload built
// for another platform before it ends up in a package that cannot run.
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { EXIT, UserError } from '../errors.ts';
import { splitPlatform, type Platform } from '../product/model.ts';

export type BinaryFormat = 'elf' | 'pe' | 'macho';

export interface ElfDetails {
  /** Has a program interpreter (PT_INTERP): dynamically linked against the system's libc. */
  dynamic: boolean;
  /** Carries a symbol table (SHT_SYMTAB): not stripped. */
  symbols: boolean;
}

export interface BinaryInfo {
  format: BinaryFormat;
  /** CPU architectures in Go's names (amd64, arm64, 386, arm, ...); a universal Mach-O lists several. */
  archs: string[];
  /** Human name of the format and CPU, for messages: "ELF x86-64", "PE arm64", "Mach-O universal (amd64, arm64)". */
  description: string;
  elf?: ElfDetails;
}

const ELF_MACHINES: Record<number, [string, string]> = {
  3: ['386', 'i386'],
  40: ['arm', 'ARM'],
  62: ['amd64', 'x86-64'],
  183: ['arm64', 'aarch64'],
  243: ['riscv64', 'RISC-V'],
};
const PE_MACHINES: Record<number, string> = { 0x14c: '386', 0x1c4: 'arm', 0x8664: 'amd64', 0xaa64: 'arm64' };
const MACHO_CPUS: Record<number, string> = { 7: '386', 12: 'arm', 0x01000007: 'amd64', 0x0100000c: 'arm64' };

/** What each platform's payloads must be (format and the CPU name used in messages). */
export function expectedBinary(platform: Platform): { format: BinaryFormat; arch: string; description: string } {
  const { os, arch } = splitPlatform(platform);
  const format: BinaryFormat = os === 'linux' ? 'elf' : os === 'windows' ? 'pe' : 'macho';
  const cpu = format === 'elf' ? (arch === 'amd64' ? 'x86-64' : 'aarch64') : arch;
  return { format, arch, description: `${format === 'elf' ? 'ELF' : format === 'pe' ? 'PE' : 'Mach-O'} ${cpu}` };
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

const withArticle = (description: string) => `${/^[AEIOU]/.test(description) ? 'an' : 'a'} ${description}`;

async function readHead(file: string, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    return await readAt(fh, 0, length);
  } finally {
    await fh.close();
  }
}

/** The format of an executable, or undefined when the file is none of ELF, PE or Mach-O. */
export async function readBinaryInfo(file: string): Promise<BinaryInfo | undefined> {
  const fh = await open(file, 'r');
  try {
    const head = await readAt(fh, 0, 64);
    if (head.length >= 20 && head.readUInt32BE(0) === 0x7f454c46) return await readElf(fh, head);
    if (head.length >= 64 && head.toString('latin1', 0, 2) === 'MZ') return await readPe(fh, head);
    if (head.length >= 8) return readMachO(head, fh);
    return undefined;
  } finally {
    await fh.close();
  }
}

async function readElf(fh: FileHandle, head: Buffer): Promise<BinaryInfo | undefined> {
  const is64 = head[4] === 2;
  const le = head[5] !== 2;
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const word = (b: Buffer, o: number) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
  if (head.length < (is64 ? 64 : 52)) return undefined;
  const machine = u16(head, 18);
  const [arch, cpu] = ELF_MACHINES[machine] ?? [`elf-machine-${machine}`, `machine ${machine}`];
  const phoff = word(head, is64 ? 32 : 28);
  const shoff = word(head, is64 ? 40 : 32);
  const phentsize = u16(head, is64 ? 54 : 42);
  const phnum = u16(head, is64 ? 56 : 44);
  const shentsize = u16(head, is64 ? 58 : 46);
  const shnum = u16(head, is64 ? 60 : 48);
  let dynamic = false;
  if (phoff && phnum && phentsize >= 4 && phnum < 4096) {
    const ph = await readAt(fh, phoff, phentsize * phnum);
    for (let i = 0; i + 4 <= ph.length && i < phentsize * phnum; i += phentsize) if (u32(ph, i) === 3) dynamic = true; // PT_INTERP
  }
  let symbols = false;
  if (shoff && shnum && shentsize >= 8 && shnum < 65536) {
    const sh = await readAt(fh, shoff, shentsize * shnum);
    for (let i = 0; i + 8 <= sh.length; i += shentsize) if (u32(sh, i + 4) === 2) symbols = true; // SHT_SYMTAB
  }
  return { format: 'elf', archs: [arch], description: `ELF ${cpu}`, elf: { dynamic, symbols } };
}

async function readPe(fh: FileHandle, head: Buffer): Promise<BinaryInfo | undefined> {
  const peOffset = head.readUInt32LE(0x3c);
  const pe = await readAt(fh, peOffset, 6);
  if (pe.length < 6 || pe.toString('latin1', 0, 4) !== 'PE\0\0') return undefined;
  const machine = pe.readUInt16LE(4);
  const arch = PE_MACHINES[machine] ?? `pe-machine-0x${machine.toString(16)}`;
  return { format: 'pe', archs: [arch], description: `PE ${arch}` };
}

async function readMachO(head: Buffer, fh: FileHandle): Promise<BinaryInfo | undefined> {
  const magicLE = head.readUInt32LE(0);
  if (magicLE === 0xfeedfacf || magicLE === 0xfeedface) {
    const cpu = head.readUInt32LE(4);
    const arch = MACHO_CPUS[cpu] ?? `macho-cpu-0x${cpu.toString(16)}`;
    return { format: 'macho', archs: [arch], description: `Mach-O ${arch}` };
  }
  const magicBE = head.readUInt32BE(0);
  if (magicBE === 0xcafebabe || magicBE === 0xcafebabf) {
    // A universal binary. The same magic starts a Java class file, whose next word (its version) is far above
    // any plausible number of architectures.
    const count = head.readUInt32BE(4);
    if (count < 1 || count > 16) return undefined;
    const entry = magicBE === 0xcafebabf ? 32 : 20;
    const table = await readAt(fh, 8, entry * count);
    const archs: string[] = [];
    for (let i = 0; i + 4 <= table.length; i += entry) {
      const cpu = table.readUInt32BE(i);
      archs.push(MACHO_CPUS[cpu] ?? `macho-cpu-0x${cpu.toString(16)}`);
    }
    return { format: 'macho', archs, description: `Mach-O universal (${archs.join(', ')})` };
  }
  return undefined;
}

/**
 * Checks that a payload is an executable for the platform (format and CPU) and returns what it is.
 * `what` names the payload in the error, e.g. "stigmer-server for linux-arm64".
 */
export async function checkPayloadBinary(file: string, platform: Platform, what: string): Promise<BinaryInfo> {
  const want = expectedBinary(platform);
  let info: BinaryInfo | undefined;
  try {
    // The file itself, never what a link points to: a symlink to /etc/hostname must not be packaged as a binary.
    const st = await lstat(file);
    if (!st.isFile()) {
      const kind = st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : 'a device, socket or pipe';
      throw new UserError(`${what}: ${file} is ${kind}, not a regular file`, { hint: 'put the binary itself there (copy it; links and special files are never packaged)', exitCode: EXIT.config });
    }
    info = await readBinaryInfo(file);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${what}: cannot read ${file}: ${(err as Error).message}`, { hint: 'check the payload path and its permissions', exitCode: EXIT.config });
  }
  if (!info) {
    const script = (await readHead(file, 2)).toString('latin1') === '#!';
    throw new UserError(`${what}: ${file} is not an executable (${script ? 'a script: it starts with #!' : 'no ELF, PE or Mach-O header'}); ${withArticle(want.description)} binary is needed`, {
      hint: `supply the ${platform} build of the binary (a script, archive or placeholder cannot be packaged)`,
      exitCode: EXIT.config,
    });
  }
  if (info.format !== want.format || !info.archs.includes(want.arch)) {
    throw new UserError(`${what}: ${file} is ${withArticle(info.description)} binary, but ${platform} needs ${want.description}`, {
      hint: `supply the ${platform} build (GOOS=${splitPlatform(platform).os} GOARCH=${want.arch} for Go) instead of this one`,
      exitCode: EXIT.config,
    });
  }
  return info;
}

