// How a Linux platform's package compression is shared among `compress --shard I/N` jobs (src/build/compress.ts).
import { describe, expect, it } from 'vitest';
import { parseShard, shardBlocks } from '../src/build/compress.ts';

const MiB = 2 ** 20;

describe('compress shards', () => {
  it('reads I/N, refusing a share outside 1..N or N above 64', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard(' 1/1 ')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/2', '3/2', '1/0', '1/65', '1', 'a/b', '1/2/3', '-1/2']) expect(() => parseShard(bad), bad).toThrow(/expected I\/N with 1 <= I <= N <= 64/);
  });

  it('gives every block to exactly one shard, largest first to the least loaded, the same split in every job', () => {
    // The bench's Linux payloads: 60, 10, 25, 60 and 20 MiB in 24 MiB blocks (10 blocks, 175 MiB).
    const contents = [60, 10, 25, 60, 20].map((mib, i) => ({ sha256: String(i).repeat(64), size: mib * MiB }));
    for (const count of [1, 2, 3, 5]) {
      const shards = Array.from({ length: count }, (_, i) => shardBlocks(contents, 24 * MiB, { index: i + 1, count }));
      const all = shards.flat().map((b) => `${b.sha256}.${b.index}`);
      expect(new Set(all).size).toBe(all.length);
      expect(all).toHaveLength(10);
      const loads = shards.map((s) => s.reduce((n, b) => n + b.size, 0) / MiB);
      expect(loads.reduce((a, b) => a + b, 0)).toBe(175);
      // Longest-processing-time first: no shard exceeds the mean by more than the largest block.
      expect(Math.max(...loads)).toBeLessThanOrEqual(175 / count + 24);
      expect(shardBlocks([...contents].reverse(), 24 * MiB, { index: 1, count })).toEqual(shards[0]);
    }
    expect(shardBlocks(contents, 24 * MiB, { index: 1, count: 2 }).map((b) => b.size / MiB)).toEqual([24, 24, 24, 12, 1]);
  });

  it('an empty content is one empty block (the xz stream of nothing)', () => {
    expect(shardBlocks([{ sha256: 'e'.repeat(64), size: 0 }], 24 * MiB, { index: 1, count: 2 })).toEqual([{ sha256: 'e'.repeat(64), index: 0, size: 0 }]);
    expect(shardBlocks([{ sha256: 'e'.repeat(64), size: 0 }], 24 * MiB, { index: 2, count: 2 })).toEqual([]);
  });
});
