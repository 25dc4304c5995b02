// src/util/binary-format.ts: format, CPU, linkage and symbols read from the headers of real and hand-made files.
import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkPayloadBinary, expectedBinary, readBinaryInfo } from '../src/util/binary-format.ts';
import { tempDir } from './helpers.ts';
import { elfFixtures, type ElfFixtures } from './linux-helpers.ts';

let fx: ElfFixtures;
beforeAll(async () => {
  fx = await elfFixtures();
}, 600_000);

function pe(machine: number): Buffer {
  const b = Buffer.alloc(256);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(machine, 0x84);
  return b;
}

function machO(cpu: number): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(0xfeedfacf, 0);
  b.writeUInt32LE(cpu, 4);
  return b;
}

function universal(cpus: number[]): Buffer {
  const b = Buffer.alloc(8 + 20 * cpus.length + 64);
  b.writeUInt32BE(0xcafebabe, 0);
  b.writeUInt32BE(cpus.length, 4);
  cpus.forEach((c, i) => b.writeUInt32BE(c, 8 + 20 * i));
  return b;
}

function file(name: string, data: Buffer | string): string {
  const f = path.join(tempDir(), name);
  writeFileSync(f, data);
  return f;
}

describe('checkPayloadBinary on links', () => {
  it('refuses a symbolic link even to a valid binary of the platform', async () => {
    const target = file('real', machO(0x0100000c));
    const link = path.join(path.dirname(target), 'link');
    symlinkSync(target, link);
    await expect(checkPayloadBinary(target, 'darwin-arm64', 'x')).resolves.toMatchObject({ format: 'macho' });
    await expect(checkPayloadBinary(link, 'darwin-arm64', 'payload of x for darwin-arm64')).rejects.toThrow(/payload of x for darwin-arm64: .*link is a symbolic link, not a regular file/);
  });
});

describe('readBinaryInfo', () => {
  it('reads ELF CPU, linkage and symbol table from real binaries', async () => {
    expect(await readBinaryInfo(fx.amd64)).toEqual({ format: 'elf', archs: ['amd64'], description: 'ELF x86-64', elf: { dynamic: false, symbols: false } });
    expect(await readBinaryInfo(fx.arm64)).toEqual({ format: 'elf', archs: ['arm64'], description: 'ELF aarch64', elf: { dynamic: false, symbols: false } });
    expect((await readBinaryInfo(fx.amd64Unstripped))?.elf).toEqual({ dynamic: false, symbols: true });
    // The system's /bin/true is dynamically linked, like a PyInstaller bootloader.
    expect((await readBinaryInfo('/bin/true'))?.elf?.dynamic).toBe(true);
  });

  it('recognises PE and Mach-O (thin and universal)', async () => {
    expect(await readBinaryInfo(file('a.exe', pe(0x8664)))).toMatchObject({ format: 'pe', archs: ['amd64'] });
    expect(await readBinaryInfo(file('b.exe', pe(0xaa64)))).toMatchObject({ format: 'pe', archs: ['arm64'] });
    expect(await readBinaryInfo(file('c', machO(0x0100000c)))).toMatchObject({ format: 'macho', archs: ['arm64'], description: 'Mach-O arm64' });
    expect(await readBinaryInfo(file('d', machO(0x01000007)))).toMatchObject({ format: 'macho', archs: ['amd64'] });
    expect(await readBinaryInfo(file('e', universal([0x01000007, 0x0100000c])))).toMatchObject({ format: 'macho', archs: ['amd64', 'arm64'], description: 'Mach-O universal (amd64, arm64)' });
  });

  it('returns undefined for what is not an executable', async () => {
    expect(await readBinaryInfo(file('s', '#!/bin/sh\necho hi\n'))).toBeUndefined();
    expect(await readBinaryInfo(file('empty', ''))).toBeUndefined();
    // A Java class file shares the universal binary's magic; its version word is no architecture count.
    const cls = Buffer.alloc(64);
    cls.writeUInt32BE(0xcafebabe, 0);
    cls.writeUInt32BE(0x00000041, 4);
    expect(await readBinaryInfo(file('A.class', cls))).toBeUndefined();
    expect(await readBinaryInfo(file('mz', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100)])))).toBeUndefined();
  });
});

describe('checkPayloadBinary', () => {
  it('accepts a payload built for the platform', async () => {
    await expect(checkPayloadBinary(fx.arm64, 'linux-arm64', 'x')).resolves.toMatchObject({ archs: ['arm64'] });
    await expect(checkPayloadBinary(file('w.exe', pe(0x8664)), 'windows-amd64', 'x')).resolves.toMatchObject({ format: 'pe' });
    await expect(checkPayloadBinary(file('u', universal([0x01000007, 0x0100000c])), 'darwin-arm64', 'x')).resolves.toMatchObject({ format: 'macho' });
  });

  it('names the file and what it is when the format or CPU is wrong', async () => {
    await expect(checkPayloadBinary(fx.amd64, 'linux-arm64', 'payload of stigmer for linux-arm64')).rejects.toThrow(
      `payload of stigmer for linux-arm64: ${fx.amd64} is an ELF x86-64 binary, but linux-arm64 needs ELF aarch64`,
    );
    const exe = file('w.exe', pe(0x8664));
    await expect(checkPayloadBinary(exe, 'linux-amd64', 'p')).rejects.toThrow(`${exe} is a PE amd64 binary, but linux-amd64 needs ELF x86-64`);
    const script = file('s', '#!/bin/sh\n');
    await expect(checkPayloadBinary(script, 'darwin-arm64', 'p')).rejects.toMatchObject({ name: 'UserError', exitCode: 3, message: expect.stringContaining(`${script} is not an executable`) });
    await expect(checkPayloadBinary(path.join(tempDir(), 'missing'), 'linux-amd64', 'p')).rejects.toThrow(/cannot read/);
  });

  it('describes what each platform needs', () => {
    expect(expectedBinary('linux-amd64')).toEqual({ format: 'elf', arch: 'amd64', description: 'ELF x86-64' });
    expect(expectedBinary('darwin-arm64')).toEqual({ format: 'macho', arch: 'arm64', description: 'Mach-O arm64' });
    expect(expectedBinary('windows-amd64')).toEqual({ format: 'pe', arch: 'amd64', description: 'PE amd64' });
  });
});
