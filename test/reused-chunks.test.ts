// reusedChunks: a file's bytes through a ring of reused buffers (src/util/fsx.ts).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { READ_CHUNK, reusedChunks } from '../src/util/fsx.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';

describe('reusedChunks', () => {
  const data = randomBytes(3 * READ_CHUNK + 12_345);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-chunks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'data');
  writeFileSync(file, data);

  it('gives the range [start, end) in chunks of at most READ_CHUNK bytes', async () => {
    for (const [start, end] of [[0, undefined], [5, 2 * READ_CHUNK + 7], [READ_CHUNK, READ_CHUNK], [data.length - 3, data.length + 100]] as const) {
      const copies: Buffer[] = [];
      for await (const chunk of reusedChunks(file, { start, end })) {
        expect(chunk.length).toBeLessThanOrEqual(READ_CHUNK);
        copies.push(Buffer.from(chunk));
      }
      expect(Buffer.concat(copies).equals(data.subarray(start, end))).toBe(true);
    }
  });

  it('keeps a chunk valid while fewer than `ring` more are read, and reuses the buffers after that', async () => {
    const seen: Buffer[] = [];
    for await (const chunk of reusedChunks(file, { ring: 2 })) {
      seen.push(chunk);
      // The previous chunk still holds its bytes with a ring of 2.
      if (seen.length >= 2) expect(seen.at(-2)!.equals(data.subarray((seen.length - 2) * READ_CHUNK, (seen.length - 1) * READ_CHUNK))).toBe(true);
    }
    expect(seen).toHaveLength(4);
    // The first buffer was read into again for the third chunk: the same memory.
    expect(seen[0]!.buffer).toBe(seen[2]!.buffer);
    expect(seen[0]!.buffer).not.toBe(seen[1]!.buffer);
  });
});
