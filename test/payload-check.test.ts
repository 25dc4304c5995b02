// The payload check every build runs once, before any target (src/payloads/check.ts): on every platform a
// payload is a regular file holding an executable of the platform's format and CPU. A script, another
// platform's binary or a link stops the build, naming component, platform and file, before anything is written.
import { copyFileSync, cpSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import { checkPayloads } from '../src/payloads/check.ts';
import { loadProduct } from '../src/product/load.ts';
import type { Platform } from '../src/product/model.ts';
import type { UncheckedPayload } from '../src/targets/types.ts';
import { fixtureProgram } from './go-programs.ts';
import { ACME_YAML, fixturePayloads, runCli, tempDir } from './helpers.ts';

const acme = loadProduct(ACME_YAML);

/** The platform's fixture program with its PE machine field set to arm64 (0xaa64): a Windows arm64 build. */
async function peArm64(): Promise<Buffer> {
  const b = readFileSync(await fixtureProgram('windows-amd64'));
  b.writeUInt16LE(0xaa64, b.readUInt32LE(0x3c) + 4);
  return b;
}

/** A universal (fat) Mach-O holding the real amd64 and arm64 fixture programs, as `lipo -create` lays it out. */
async function universalMachO(): Promise<Buffer> {
  const slices = [
    { cpu: 0x01000007, subtype: 3, data: readFileSync(await fixtureProgram('darwin-amd64')) },
    { cpu: 0x0100000c, subtype: 0, data: readFileSync(await fixtureProgram('darwin-arm64')) },
  ];
  const align = 14;
  const header = Buffer.alloc(8 + 20 * slices.length);
  header.writeUInt32BE(0xcafebabe, 0);
  header.writeUInt32BE(slices.length, 4);
  const parts: Buffer[] = [header];
  let offset = header.length;
  slices.forEach((s, i) => {
    const start = Math.ceil(offset / 2 ** align) * 2 ** align;
    parts.push(Buffer.alloc(start - offset), s.data);
    const e = 8 + 20 * i;
    header.writeUInt32BE(s.cpu, e);
    header.writeUInt32BE(s.subtype, e + 4);
    header.writeUInt32BE(start, e + 8);
    header.writeUInt32BE(s.data.length, e + 12);
    header.writeUInt32BE(align, e + 16);
    offset = start + s.data.length;
  });
  return Buffer.concat(parts);
}

type Bad = (file: string) => Promise<void>;
const script: Bad = async (file) => writeFileSync(file, '#!/bin/sh\necho acme\n');
const copyOf = (platform: Platform): Bad => async (file) => copyFileSync(await fixtureProgram(platform), file);
const contentOf = (data: () => Promise<Buffer>): Bad => async (file) => writeFileSync(file, await data());
const linkTo = (target: string): Bad => async (file) => {
  rmSync(file);
  symlinkSync(target, file);
};

// [case, component, platform, file in the --from folder, make it bad, what stderr must say about it]
const REFUSED: [string, string, Platform, string, Bad, RegExp][] = [
  ['a darwin payload that is a script', 'acmectl', 'darwin-arm64', 'acmectl', script, /is not an executable \(a script: it starts with #!\); a Mach-O arm64 binary is needed/],
  ['a darwin payload that is an ELF', 'relayd', 'darwin-arm64', 'relayd', copyOf('linux-arm64'), /is an ELF aarch64 binary, but darwin-arm64 needs Mach-O arm64/],
  ['a darwin payload that is a link to /etc/hostname', 'acmectl', 'darwin-arm64', 'acmectl', linkTo('/etc/hostname'), /not a regular file:\n.*acmectl \(acmectl for darwin-arm64: a symbolic link\)/],
  ['a darwin payload for the other CPU', 'relayd', 'darwin-arm64', 'relayd', copyOf('darwin-amd64'), /is a Mach-O amd64 binary, but darwin-arm64 needs Mach-O arm64/],
  ['a windows payload that is a script', 'relayd', 'windows-amd64', 'relayd.exe', script, /is not an executable \(a script: it starts with #!\); a PE amd64 binary is needed/],
  ['a windows payload that is an ELF', 'acmectl', 'windows-amd64', 'acmectl.exe', copyOf('linux-amd64'), /is an ELF x86-64 binary, but windows-amd64 needs PE amd64/],
  ['an arm64 PE for windows-amd64', 'relayd', 'windows-amd64', 'relayd.exe', contentOf(peArm64), /is a PE arm64 binary, but windows-amd64 needs PE amd64/],
];

describe('payload check through `build`', () => {
  it.each(REFUSED)('refuses %s before anything is written', async (_, component, platform, name, makeBad, says) => {
    const payloads = await fixturePayloads(acme);
    const file = path.join(payloads, platform, name);
    await makeBad(file);
    const out = tempDir();
    // Every platform, every target: the check runs before any of them.
    const r = await runCli(['build', '--config', ACME_YAML, '--from', payloads, '--out', out]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(says);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain(component);
    expect(r.stderr).toContain(platform);
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses in a split build too: --local-only checks the one platform it builds', async () => {
    const payloads = await fixturePayloads(acme, ['windows-amd64']);
    const file = path.join(payloads, 'windows-amd64', 'relayd.exe');
    await script(file);
    const out = tempDir();
    const r = await runCli(['build', '--config', ACME_YAML, '--from', payloads, '--out', out, '--platform', 'windows-amd64', '--local-only', '--target', 'archive']);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toContain(`payload of relayd for windows-amd64: ${file} is not an executable (a script: it starts with #!)`);
    expect(readdirSync(out)).toEqual([]);
  });

  it('accepts a universal Mach-O for darwin-amd64 and darwin-arm64 and packages it as it is', async () => {
    const dir = tempDir();
    cpSync(path.dirname(ACME_YAML), dir, { recursive: true });
    const config = path.join(dir, 'acme.yaml');
    const text = readFileSync(config, 'utf8');
    expect(text).toContain('platforms: [linux-amd64, linux-arm64, darwin-arm64, windows-amd64]');
    writeFileSync(config, text.replace('platforms: [linux-amd64, linux-arm64, darwin-arm64, windows-amd64]', 'platforms: [linux-amd64, linux-arm64, darwin-amd64, darwin-arm64, windows-amd64]'));
    const product = loadProduct(config);
    const darwin: Platform[] = ['darwin-amd64', 'darwin-arm64'];
    const payloads = await fixturePayloads(product, darwin);
    const fat = await universalMachO();
    for (const p of darwin) writeFileSync(path.join(payloads, p, 'relayd'), fat);
    const out = path.join(dir, 'dist');
    const r = await runCli(['build', '--config', config, '--from', payloads, '--out', out, '--platform', darwin.join(','), '--target', 'archive']);
    expect(r.exitCode, r.stderr).toBe(0);
    for (const p of darwin) {
      const x = tempDir();
      await execa('tar', ['-xzf', path.join(out, '2.4.0', `acme-relayd-${p}-2.4.0.tar.gz`), '-C', x]);
      expect(readFileSync(path.join(x, 'bin/relayd')).equals(fat), p).toBe(true);
    }
  });
});

describe('checkPayloads', () => {
  const unchecked = (component: string, platform: Platform, file: string, origin: UncheckedPayload['origin'] = 'github'): UncheckedPayload => ({ component, platform, path: file, sha256: '', size: 0, origin });

  it('returns what each payload is, for the targets (an ELF’s linkage for the Linux packages)', async () => {
    const [elf, macho, pe] = await checkPayloads([
      unchecked('relayd', 'linux-amd64', await fixtureProgram('linux-amd64')),
      unchecked('relayd', 'darwin-arm64', await fixtureProgram('darwin-arm64'), 'upstream'),
      unchecked('relayd', 'windows-amd64', await fixtureProgram('windows-amd64'), 'standin'),
    ]);
    expect(elf!.binary).toEqual({ format: 'elf', archs: ['amd64'], description: 'ELF x86-64', elf: { dynamic: false, symbols: false } });
    expect(macho!.binary).toMatchObject({ format: 'macho', archs: ['arm64'] });
    expect(pe!.binary).toMatchObject({ format: 'pe', archs: ['amd64'] });
  });

  it('refuses on Linux too, and a link even to a binary of the platform, whatever the source', async () => {
    const dir = tempDir();
    const sh = path.join(dir, 'sh');
    await script(sh);
    await expect(checkPayloads([unchecked('relayd', 'linux-amd64', sh)])).rejects.toThrow(`payload of relayd for linux-amd64: ${sh} is not an executable (a script: it starts with #!); an ELF x86-64 binary is needed`);
    await expect(checkPayloads([unchecked('relayd', 'linux-arm64', await fixtureProgram('linux-amd64'))])).rejects.toThrow(/payload of relayd for linux-arm64: .* is an ELF x86-64 binary, but linux-arm64 needs ELF aarch64/);
    const link = path.join(dir, 'link');
    symlinkSync(await fixtureProgram('darwin-arm64'), link);
    const err = (await checkPayloads([unchecked('acmectl', 'darwin-arm64', link, 'upstream')]).catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(`payload of acmectl for darwin-arm64: ${link} is a symbolic link, not a regular file`);
    expect(err.exitCode).toBe(3);
  });
});
