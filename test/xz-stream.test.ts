// xz streams assembled from stored bytes and already compressed blocks (src/util/xz-stream.ts), checked with xz itself.
import { execa } from 'execa';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc64, readXzBlocks, xzStreamOf, type XzPart } from '../src/util/xz-stream.ts';
import { XzContentCache } from '../src/util/xz-content.ts';
import { compressorEnv } from '../src/util/compress.ts';
import { createHash } from 'node:crypto';

const work = mkdtempSync(path.join(os.tmpdir(), 'sd-xz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Deterministic, partly compressible bytes. */
function data(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = i % 3 === 0 ? x >>> 24 : (i >> 6) & 0xff;
  }
  return b;
}

async function assemble(parts: XzPart[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of xzStreamOf(parts)) chunks.push(Buffer.from(c)); // a copy: copied blocks come in a reused buffer
  return Buffer.concat(chunks);
}

async function compressed(name: string, content: Buffer, blockSize: number) {
  const file = path.join(work, `${name}.xz`);
  writeFileSync(file, (await execa('xz', ['-6', '-c', '-T2', `--block-size=${blockSize}`], { input: content, encoding: 'buffer', stripFinalNewline: false })).stdout);
  return readXzBlocks(file);
}

/** `xz --robot -lvv`: the stream's block lines and the file's totals. */
async function robotList(xz: Buffer): Promise<{ blocks: string[][]; check: string }> {
  const file = path.join(work, 'listed.xz');
  writeFileSync(file, xz);
  const lines = (await execa('xz', ['--robot', '-lvv', file])).stdout.split('\n').map((l) => l.split('\t'));
  return { blocks: lines.filter((l) => l[0] === 'block'), check: lines.find((l) => l[0] === 'file')![6]! };
}

describe('xz stream assembly', () => {
  it('computes xz CRC64 (the check value of the xz spec\'s test vector)', () => {
    expect(crc64(Buffer.from('123456789')).readBigUInt64LE()).toBe(0x995dc9bbdf1939fan);
  });

  it('round-trips stored bytes and copied blocks through xz -t and xz -d, one index record per block', async () => {
    const a = data(3_000_000, 1);
    const b = data(200_000, 2);
    const aBlocks = await compressed('a', a, 1_000_000); // three blocks
    const bBlocks = await compressed('b', b, 24 << 20); // one block
    expect(aBlocks.blocks).toHaveLength(3);
    expect(aBlocks.uncompressedSize).toBe(a.length);
    const big = data(2_500_000, 3); // stored: more than one stored block (1 MiB each) and many 64 KiB chunks
    const parts: XzPart[] = [Buffer.from('head'), aBlocks, Buffer.from('mid'), big, bBlocks, Buffer.alloc(0), Buffer.from('tail')];
    const xz = await assemble(parts);
    await execa('xz', ['-t'], { input: xz });
    const out = Buffer.from((await execa('xz', ['-dc'], { input: xz, encoding: 'buffer', stripFinalNewline: false })).stdout);
    expect(out.equals(Buffer.concat([Buffer.from('head'), a, Buffer.from('mid'), big, b, Buffer.from('tail')]))).toBe(true);
    const listed = await robotList(xz);
    // head+? stored (1), a (3), mid+big stored in 1 MiB blocks (3), b (1), tail (1).
    expect(listed.blocks).toHaveLength(1 + 3 + 3 + 1 + 1);
    expect(listed.check).toBe('CRC64');
    // The copied blocks are the compressed file's bytes verbatim.
    const aFile = readFileSync(aBlocks.blocks[0]!.file);
    expect(xz.indexOf(aFile.subarray(12, aBlocks.blocks.at(-1)!.offset + aBlocks.blocks.at(-1)!.unpaddedSize))).toBeGreaterThan(0);
  });

  it('writes a valid empty stream and one of stored bytes only', async () => {
    for (const parts of [[], [Buffer.from('only stored')]]) {
      const xz = await assemble(parts);
      await execa('xz', ['-t'], { input: xz });
      expect(Buffer.from((await execa('xz', ['-dc'], { input: xz, encoding: 'buffer', stripFinalNewline: false })).stdout).equals(Buffer.concat(parts))).toBe(true);
    }
  });

  it('refuses a file that is not one CRC64 stream', async () => {
    const file = path.join(work, 'sha256.xz');
    writeFileSync(file, (await execa('xz', ['-6', '-c', '-T2', '--check=sha256'], { input: data(1000, 4), encoding: 'buffer', stripFinalNewline: false })).stdout);
    await expect(readXzBlocks(file)).rejects.toThrow(/not CRC64/);
    const two = path.join(work, 'two.xz');
    const one = (await execa('xz', ['-c', '-T2'], { input: data(1000, 5), encoding: 'buffer', stripFinalNewline: false })).stdout;
    writeFileSync(two, Buffer.concat([one, one]));
    await expect(readXzBlocks(two)).rejects.toThrow(/do not fill the stream/);
  });

  it('compresses each content once per cache, checks its sha256 and keeps its md5', async () => {
    const content = data(300_000, 6);
    const file = path.join(work, 'payload');
    writeFileSync(file, content);
    const sha = createHash('sha256').update(content).digest('hex');
    const cache = new XzContentCache(path.join(work, 'cache'));
    const [one, two] = await Promise.all([cache.get(sha, file, content.length, 'test'), cache.get(sha, file, content.length, 'test')]);
    expect(one).toBe(two);
    expect(one.md5).toBe(createHash('md5').update(content).digest('hex'));
    expect((await assemble([one.blocks])).equals(Buffer.from((await execa('xz', ['-6', '-c', '-T2', `--block-size=${24 << 20}`], { input: content, encoding: 'buffer', stripFinalNewline: false })).stdout))).toBe(true);
    await expect(new XzContentCache(path.join(work, 'cache2')).get('0'.repeat(64), file, content.length, 'test')).rejects.toThrow(/changed while being packaged/);
  });

  it('compresses a content of several blocks one block per xz process, giving the bytes of one multi-threaded run', async () => {
    const blockSize = 1 << 20;
    for (const size of [3 * blockSize + 12_345, 2 * blockSize, 1, 0]) {
      const content = data(size, 7 + size);
      const file = path.join(work, `blocks-${size}`);
      writeFileSync(file, content);
      const sha = createHash('sha256').update(content).digest('hex');
      const got = await new XzContentCache(path.join(work, `cache-blocks-${size}`), { blockSize }).get(sha, file, size, 'test');
      expect(got.blocks.blocks).toHaveLength(Math.ceil(size / blockSize));
      expect(got.blocks.uncompressedSize).toBe(size);
      expect(got.md5).toBe(createHash('md5').update(content).digest('hex'));
      const whole = Buffer.from((await execa('xz', ['-6', '-c', '-T2', `--block-size=${blockSize}`], { input: content, encoding: 'buffer', stripFinalNewline: false })).stdout);
      expect((await assemble([got.blocks])).equals(whole)).toBe(true);
    }
  });

  it('a kept cache filled by shards is reused whole, checked block by block: a wrong or broken block is compressed again', async () => {
    const blockSize = 1 << 20;
    const size = 3 * blockSize + 999;
    const content = data(size, 42);
    const file = path.join(work, 'kept-content');
    writeFileSync(file, content);
    const sha = createHash('sha256').update(content).digest('hex');
    const dir = path.join(work, 'kept');
    const whole = Buffer.from((await execa('xz', ['-6', '-c', '-T2', `--block-size=${blockSize}`], { input: content, encoding: 'buffer', stripFinalNewline: false })).stdout);

    // Two shard jobs, each filling its share of the blocks (as `compress --shard 1/2` and `2/2` do).
    const shardA = new XzContentCache(dir, { blockSize, kept: true });
    await shardA.fill(sha, file, size, 'test', (i) => i % 2 === 0);
    const shardB = new XzContentCache(dir, { blockSize, kept: true });
    await shardB.fill(sha, file, size, 'test', (i) => i % 2 === 1);
    expect([shardA.counts.compressed, shardB.counts.compressed]).toEqual([2, 2]);
    expect(readdirSync(dir).sort()).toEqual([0, 1, 2, 3].map((i) => `${sha}.${blockSize}.${i}.xz`));

    const reader = new XzContentCache(dir, { blockSize, kept: true });
    const got = await reader.get(sha, file, size, 'test');
    expect(reader.counts).toEqual({ reused: 4, compressed: 0, rejected: [] });
    expect((await assemble([got.blocks])).equals(whole)).toBe(true);
    expect(got.md5).toBe(createHash('md5').update(content).digest('hex'));

    // Block 1 replaced by a valid block of other bytes, block 2 truncated: both compressed again, same output.
    const other = data(blockSize, 43);
    writeFileSync(reader.blockFile(sha, 1), Buffer.from((await execa('xz', ['-6', '-c', '-T1', `--block-size=${blockSize}`], { input: other, encoding: 'buffer', stripFinalNewline: false })).stdout));
    writeFileSync(reader.blockFile(sha, 2), readFileSync(reader.blockFile(sha, 2)).subarray(0, 100));
    const again = new XzContentCache(dir, { blockSize, kept: true });
    const fixed = await again.get(sha, file, size, 'test');
    expect({ ...again.counts, rejected: again.counts.rejected.toSorted() }).toEqual({ reused: 2, compressed: 2, rejected: [`${sha}.${blockSize}.1.xz`, `${sha}.${blockSize}.2.xz`] });
    expect((await assemble([fixed.blocks])).equals(whole)).toBe(true);
    expect(readdirSync(dir)).toHaveLength(4); // no temporary file left

    // A payload changed since: the cache cannot hide it.
    await expect(new XzContentCache(dir, { blockSize, kept: true }).get('1'.repeat(64), file, size, 'test')).rejects.toThrow(/changed while being packaged/);
  });

  it('runs compressors without the caller\'s xz/zstd settings, with huge pages unless the caller chose otherwise', () => {
    const env = compressorEnv({ PATH: '/bin', XZ_OPT: '-9e', XZ_DEFAULTS: '--check=sha256', ZSTD_CLEVEL: '19', ZSTD_NBTHREADS: '4' });
    expect(env).toEqual({ PATH: '/bin', XZ_OPT: '', XZ_DEFAULTS: '', ZSTD_CLEVEL: '', ZSTD_NBTHREADS: '', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
    expect(compressorEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES).toBe('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
    expect(compressorEnv({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }).GLIBC_TUNABLES).toBe('glibc.malloc.hugetlb=0');
    expect(compressorEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2' }).GLIBC_TUNABLES).toBe('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2');
  });

  it('compresses the same bytes whatever XZ_OPT, XZ_DEFAULTS and GLIBC_TUNABLES the caller has set', async () => {
    const content = data((1 << 20) + 77, 5);
    const file = path.join(work, 'env-content');
    writeFileSync(file, content);
    const sha = createHash('sha256').update(content).digest('hex');
    const saved = { ...process.env };
    const compressed = async (dir: string) => assemble([(await new XzContentCache(path.join(work, dir), { blockSize: 1 << 20 }).get(sha, file, content.length, 'test')).blocks]);
    const plain = await compressed('env-plain');
    try {
      Object.assign(process.env, { XZ_OPT: '-9e', XZ_DEFAULTS: '--check=sha256', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' });
      expect((await compressed('env-set')).equals(plain)).toBe(true);
    } finally {
      for (const k of ['XZ_OPT', 'XZ_DEFAULTS', 'GLIBC_TUNABLES']) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    }
  });
});
