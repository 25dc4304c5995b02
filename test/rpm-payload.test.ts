// The rpm payload swap (src/targets/rpm/payload.ts): rpmbuild's level-0 payload replaced by the level-6 stream
// of the once-compressed contents, headers patched in place; checked with rpm -K, rpm -qp and rpm2cpio.
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
    ['Name: t', 'Version: 1', 'Release: 1', 'Summary: t', 'License: MIT', 'BuildArch: noarch', '%description', 't', '%install',
      'mkdir -p %{buildroot}/usr/bin', `cp ${bigFile} %{buildroot}/usr/bin/big`, 'echo hi > %{buildroot}/usr/bin/small', '%files', '/usr/bin/big', '/usr/bin/small', ''].join('\n'),
  );
  const define = (k: string, v: string) => ['--define', `${k} ${v}`];
  await execa('rpmbuild', ['-bb', ...define('_topdir', path.join(work, 'top')), ...define('_rpmdir', path.join(work, 'out')), ...define('_build_name_fmt', 't.rpm'), ...define('_binary_payload', 'w0.xzdio'), ...define('_buildhost', 'reproducible'), spec], { env: { HOME: work, SOURCE_DATE_EPOCH: '1700000000' } });
  built = path.join(work, 'out', 't.rpm');
  files = [{ path: '/usr/bin/big', mode: 0o755, role: 'binary', source: { file: bigFile, size: big.length }, sha256: createHash('sha256').update(big).digest('hex') }];
}, 120_000);

describe('rpm payload swap', () => {
  it('gives a package whose digests verify, with an xz level-6 payload holding the same files', async () => {
    const patched = path.join(work, 'patched.rpm');
    copyFileSync(built, patched);
    await recompressRpmPayload(patched, files, new XzContentCache(path.join(work, 'cache')), 'test');
    const k = await rpm(['-K', '-v', patched]);
    expect(k.exitCode, k.stdout).toBe(0);
    expect(k.stdout).toMatch(/Header SHA256 digest: OK[\s\S]*Header SHA1 digest: OK[\s\S]*Payload SHA256 digest: OK[\s\S]*MD5 digest: OK/);
    expect(await query(built, '%{PAYLOADFLAGS}')).toBe('0');
    expect(await query(patched, '%{PAYLOADCOMPRESSOR} %{PAYLOADFLAGS}')).toBe('xz 6');
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
});
