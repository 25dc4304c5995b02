// The rpm payload swap (src/targets/rpm/payload.ts): rpmbuild's uncompressed payload replaced by the level-6 xz
// stream of the once-compressed contents, PAYLOADCOMPRESSOR added to the main header; checked with rpm -K, rpm -qp,
// rpm2cpio, and against the header rpmbuild itself writes for an xz payload.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PackageFile } from '../src/targets/linux/layout.ts';
import { recompressRpmPayload } from '../src/targets/rpm/payload.ts';
import { XzContentCache } from '../src/util/xz-content.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'sd-rpm-payload-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let built: string;
/** The same spec built by rpmbuild with an xz payload: the header the swapped package must have. */
let builtXz: string;
let files: PackageFile[];
const big = Buffer.alloc(3_000_000);
for (let i = 0; i < big.length; i++) big[i] = i % 7 === 0 ? (i * 2654435761) >>> 24 : i >> 10;

const rpm = (args: string[]) => execa('rpm', args, { reject: false, env: { HOME: work } });
const query = async (file: string, format: string) => (await rpm(['-qp', '--qf', format, file])).stdout;

beforeAll(async () => {
  const bigFile = path.join(work, 'big.bin');
  writeFileSync(bigFile, big);
  const spec = path.join(work, 't.spec');
  writeFileSync(
    spec,
    ['Name: t', 'Version: 1', 'Release: 1', 'Summary: t', 'License: MIT', 'BuildArch: noarch', 'Requires: rpmlib(PayloadIsXz) <= 5.2-1', '%description', 't', '%install',
      'mkdir -p %{buildroot}/usr/bin', `cp ${bigFile} %{buildroot}/usr/bin/big`, 'echo hi > %{buildroot}/usr/bin/small', '%files', '/usr/bin/big', '/usr/bin/small', ''].join('\n'),
  );
  const define = (k: string, v: string) => ['--define', `${k} ${v}`];
  const rpmbuild = (payload: string, name: string) =>
    execa('rpmbuild', ['-bb', ...define('_topdir', path.join(work, 'top')), ...define('_rpmdir', path.join(work, 'out')), ...define('_build_name_fmt', name), ...define('_binary_payload', payload), ...define('_buildhost', 'reproducible'), ...define('use_source_date_epoch_as_buildtime', '1'), ...define('clamp_mtime_to_source_date_epoch', '1'), spec], { env: { HOME: work, SOURCE_DATE_EPOCH: '1700000000' } });
  await rpmbuild('w0.ufdio', 't.rpm');
  await rpmbuild('w6.xzdio', 't-xz.rpm');
  built = path.join(work, 'out', 't.rpm');
  builtXz = path.join(work, 'out', 't-xz.rpm');
  files = [{ path: '/usr/bin/big', mode: 0o755, role: 'binary', source: { file: bigFile, size: big.length }, sha256: createHash('sha256').update(big).digest('hex') }];
}, 120_000);

/** The main header's bytes: after the 96-byte lead and the signature header padded to 8 bytes. */
function mainHeader(rpmFile: Buffer): Buffer {
  const length = (at: number) => 16 + rpmFile.readUInt32BE(at + 8) * 16 + rpmFile.readUInt32BE(at + 12);
  const sig = length(96);
  const start = 96 + sig + ((8 - (sig % 8)) % 8);
  return rpmFile.subarray(start, start + length(start));
}

describe('rpm payload swap', () => {
  it('gives a package whose digests verify, with an xz level-6 payload holding the same files', async () => {
    const patched = path.join(work, 'patched.rpm');
    copyFileSync(built, patched);
    await recompressRpmPayload(patched, files, new XzContentCache(path.join(work, 'cache')), 'test');
    const k = await rpm(['-K', '-v', patched]);
    expect(k.exitCode, k.stdout).toBe(0);
    expect(k.stdout).toMatch(/Header SHA256 digest: OK[\s\S]*Header SHA1 digest: OK[\s\S]*Payload SHA256 digest: OK[\s\S]*MD5 digest: OK/);
    expect(await query(built, '%{PAYLOADCOMPRESSOR} %{PAYLOADFLAGS}')).toBe('(none) 0');
    expect(await query(patched, '%{PAYLOADCOMPRESSOR} %{PAYLOADFLAGS}')).toBe('xz 6');
    // The main header is the one rpmbuild writes for an xz payload, byte for byte, but the payload digest.
    const [ours, theirs] = [mainHeader(readFileSync(patched)), mainHeader(readFileSync(builtXz))];
    expect(ours.length).toBe(theirs.length);
    const digest = (await query(patched, '%{PAYLOADDIGEST}')).trim();
    const theirDigest = (await query(builtXz, '%{PAYLOADDIGEST}')).trim();
    expect(ours.toString('latin1').replace(digest, 'D')).toBe(theirs.toString('latin1').replace(theirDigest, 'D'));
    expect(await query(patched, '[%{REQUIRENAME}\n]')).toBe(await query(builtXz, '[%{REQUIRENAME}\n]'));
    // The uncompressed payload is the same archive: its digest and size are rpmbuild's.
    for (const tag of ['%{PAYLOADDIGESTALT}', '%{NAME} %{VERSION} %{SIZE}', '[%{FILENAMES} %{FILEDIGESTS}\n]']) expect(await query(patched, tag)).toBe(await query(built, tag));
    const list = async (file: string) => (await execa('sh', ['-c', `rpm2cpio "${file}" | cpio -t --quiet`])).stdout;
    expect(await list(patched)).toBe(await list(built));
    const content = await execa('sh', ['-c', `rpm2cpio "${patched}" | cpio -i --quiet --to-stdout ./usr/bin/big`], { encoding: 'buffer', stripFinalNewline: false });
    expect(Buffer.from(content.stdout).equals(big)).toBe(true);
    // The payload is one xz stream that xz itself accepts, holding the content's compressed blocks.
    const payload = path.join(work, 'payload.xz');
    const headerEnd = readFileSync(patched).indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
    writeFileSync(payload, readFileSync(patched).subarray(headerEnd));
    await execa('xz', ['-t', payload]);
    expect(readFileSync(patched).length).toBeLessThan(readFileSync(built).length);
  });

  it('a tampered payload or header fails rpm -K', async () => {
    const patched = path.join(work, 'tamper.rpm');
    copyFileSync(built, patched);
    await recompressRpmPayload(patched, files, new XzContentCache(path.join(work, 'cache-t')), 'test');
    const bytes = readFileSync(patched);
    const payloadAt = bytes.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
    for (const at of [payloadAt + 1000, payloadAt - 20]) {
      const tampered = Buffer.from(bytes);
      tampered[at]! ^= 0x01;
      const file = path.join(work, `tampered-${at}.rpm`);
      writeFileSync(file, tampered);
      const k = await rpm(['-K', file]);
      expect(k.exitCode, `byte ${at}: ${k.stdout}`).not.toBe(0);
    }
  });

  it('refuses a package whose archived file is not the payload it claims', async () => {
    const patched = path.join(work, 'wrong.rpm');
    copyFileSync(built, patched);
    const wrong = [{ ...files[0]!, sha256: '0'.repeat(64) }];
    await expect(recompressRpmPayload(patched, wrong, new XzContentCache(path.join(work, 'cache-w')), 'test')).rejects.toThrow(/is not the payload/);
    expect(readFileSync(patched).equals(readFileSync(built))).toBe(true);
  });

  it('refuses a package whose payload rpmbuild already compressed', async () => {
    const compressed = path.join(work, 'compressed.rpm');
    copyFileSync(builtXz, compressed);
    await expect(recompressRpmPayload(compressed, files, new XzContentCache(path.join(work, 'cache-c')), 'test')).rejects.toThrow(/expected rpmbuild's uncompressed payload/);
    expect(readFileSync(compressed).equals(readFileSync(builtXz))).toBe(true);
  });
});
