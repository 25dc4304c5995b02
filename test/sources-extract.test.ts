// Archive extraction refuses what could escape or exhaust the target: absolute paths, "..", links pointing
// outside, device files, entries over the size bound; and says what the archive holds when a member is missing.
import { describe, expect, it, onTestFinished } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import yazl from 'yazl';
import { UserError } from '../src/errors.ts';
import { extractMember, sniffArchive, UnsafeArchiveError, type ArchiveKind } from '../src/sources/extract.ts';
import { rawTar, type RawTarEntry } from './helpers/raw-tar.ts';


async function zipOf(entries: { name: string; data: Buffer; mode?: number }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) zip.addBuffer(e.data, e.name, { mode: e.mode ?? 0o100755, mtime: new Date(0) });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function tmpDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'sd-extract-'));
  onTestFinished(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function extract(archive: Buffer, select: { member?: string; basename?: string }, maxEntryBytes?: number): Promise<{ dest: string; member: string; kind: ArchiveKind }> {
  const dir = await tmpDir();
  const file = path.join(dir, 'archive');
  writeFileSync(file, archive);
  const kind = await sniffArchive(file);
  if (kind === 'bare') throw new Error('not an archive');
  const dest = path.join(dir, 'out');
  const member = await extractMember(file, kind, select, dest, { label: 'temporal.tar.gz', maxEntryBytes, missingHint: 'fix components[1](temporal).upstream.assets.linux-amd64.member' });
  return { dest, member, kind };
}

const BIN = Buffer.from('#!/bin/sh\necho temporal-server 1.28.0\n');

describe('archive extraction', () => {
  it('extracts the named member of a tar.gz, executable, ignoring "./"', async () => {
    const tgz = gzipSync(rawTar([{ name: './', type: '5' }, { name: './LICENSE', type: '0', data: Buffer.from('MIT') }, { name: './temporal-server', type: '0', data: BIN }]));
    const { dest, member, kind } = await extract(tgz, { member: 'temporal-server' });
    expect(kind).toBe('tar.gz');
    expect(member).toBe('temporal-server');
    expect(readFileSync(dest).equals(BIN)).toBe(true);
    expect(statSync(dest).mode & 0o111).not.toBe(0);
  });

  it('finds a binary by name in a plain tar and in a zip', async () => {
    const tar = rawTar([{ name: 'stigmer_1.0.0/bin/stigmer-server', type: '0', data: BIN }, { name: 'stigmer_1.0.0/README', type: '0', data: Buffer.from('x') }]);
    expect((await extract(tar, { basename: 'stigmer-server' })).member).toBe('stigmer_1.0.0/bin/stigmer-server');
    const zip = await zipOf([{ name: 'bin/stigmer-server.exe', data: BIN }, { name: 'doc/readme.txt', data: Buffer.from('x'), mode: 0o100644 }]);
    const z = await extract(zip, { basename: 'stigmer-server.exe' });
    expect(z.kind).toBe('zip');
    expect(readFileSync(z.dest).equals(BIN)).toBe(true);
  });

  it('names what the archive holds when the member is missing', async () => {
    const tgz = gzipSync(rawTar([{ name: 'temporal', type: '0', data: BIN }, { name: 'LICENSE', type: '0', data: Buffer.from('MIT') }]));
    const err = (await extract(tgz, { member: 'temporal-server' }).catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe('temporal.tar.gz: the archive has no member "temporal-server"');
    expect(err.hint).toBe('fix components[1](temporal).upstream.assets.linux-amd64.member; the archive holds: temporal, LICENSE');
  });

  it('refuses two candidates for one binary', async () => {
    const tar = rawTar([{ name: 'a/stigmer', type: '0', data: BIN }, { name: 'b/stigmer', type: '0', data: BIN }]);
    await expect(extract(tar, { basename: 'stigmer' })).rejects.toThrow('temporal.tar.gz: more than one file named "stigmer": a/stigmer, b/stigmer');
  });

  const unsafe: [string, RawTarEntry, RegExp][] = [
    ['an absolute path', { name: '/etc/cron.d/evil', type: '0', data: BIN }, /entry "\/etc\/cron\.d\/evil" has an absolute path/],
    ['a ".." segment', { name: 'bin/../../evil', type: '0', data: BIN }, /entry "bin\/\.\.\/\.\.\/evil" has a "\.\." path segment/],
    ['a symlink pointing outside', { name: 'bin/link', type: '2', linkname: '../../etc/passwd' }, /entry "bin\/link" links outside the archive \(\.\.\/\.\.\/etc\/passwd\)/],
    ['an absolute symlink', { name: 'link', type: '2', linkname: '/etc/passwd' }, /entry "link" links to an absolute path \(\/etc\/passwd\)/],
    ['a hard link pointing outside', { name: 'hard', type: '1', linkname: '../outside' }, /entry "hard" links outside the archive/],
    ['a device file', { name: 'dev', type: '3' }, /entry "dev" is a CharacterDevice/],
  ];
  for (const [what, entry, message] of unsafe) {
    it(`refuses a tar with ${what}, even when the member itself is fine`, async () => {
      const tgz = gzipSync(rawTar([{ name: 'temporal-server', type: '0', data: BIN }, entry]));
      const dir = await tmpDir();
      const err = await extract(tgz, { member: 'temporal-server' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsafeArchiveError);
      expect(String((err as Error).message)).toMatch(message);
      expect((err as UserError).hint).toMatch(/malformed or malicious/);
      void dir;
    });
  }

  it('accepts a symlink that stays inside the archive', async () => {
    const tar = rawTar([{ name: 'lib/temporal-server', type: '0', data: BIN }, { name: 'bin/temporal', type: '2', linkname: '../lib/temporal-server' }]);
    expect((await extract(tar, { member: 'lib/temporal-server' })).member).toBe('lib/temporal-server');
  });

  it('refuses an entry over the size bound', async () => {
    const tar = rawTar([{ name: 'temporal-server', type: '0', data: Buffer.alloc(5000) }]);
    await expect(extract(tar, { member: 'temporal-server' }, 4096)).rejects.toThrow(/entry "temporal-server" is 5000 bytes, over the 4096-byte limit/);
  });

  it('refuses a zip with ".." or a symlink leading out, and leaves no output', async () => {
    // yazl will not write "..": write "xx" and patch the name bytes in both headers.
    const zip = await zipOf([{ name: 'xx/evil', data: BIN }, { name: 'stigmer', data: BIN }]);
    const patched = Buffer.from(zip.toString('latin1').replaceAll('xx/evil', '../evil'), 'latin1');
    const dir = await tmpDir();
    const file = path.join(dir, 'a.zip');
    writeFileSync(file, patched);
    const dest = path.join(dir, 'out');
    await expect(extractMember(file, 'zip', { basename: 'stigmer' }, dest, { label: 'a.zip' })).rejects.toThrow(/entry "\.\.\/evil" has a "\.\." path segment/);
    expect(() => statSync(dest)).toThrow();
    const link = await zipOf([{ name: 'stigmer', data: BIN }, { name: 'up', data: Buffer.from('../../../etc'), mode: 0o120777 }]);
    await expect(extract(link, { basename: 'stigmer' })).rejects.toThrow(/entry "up" links outside the archive/);
  });

  it('says so when a download is not a readable archive', async () => {
    const tgz = gzipSync(rawTar([{ name: 'temporal-server', type: '0', data: Buffer.alloc(100_000, 1) }]));
    await expect(extract(tgz.subarray(0, tgz.length - 40), { member: 'temporal-server' })).rejects.toThrow(/temporal\.tar\.gz/);
  });

  it('tells archives from bare binaries by their bytes', async () => {
    const dir = await tmpDir();
    const probe = async (data: Buffer) => {
      const f = path.join(dir, 'f');
      writeFileSync(f, data);
      return sniffArchive(f);
    };
    expect(await probe(gzipSync(Buffer.from('x')))).toBe('tar.gz');
    expect(await probe(rawTar([{ name: 'a', type: '0', data: BIN }]))).toBe('tar');
    expect(await probe(await zipOf([{ name: 'a', data: BIN }]))).toBe('zip');
    expect(await probe(Buffer.from('\x7fELF\x02\x01\x01'))).toBe('bare');
  });
});
