import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DigestCache } from '../src/util/digest-cache.ts';
import { sha256Hex } from '../src/util/fsx.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'digest-cache-'));
  dirs.push(d);
  return d;
};
const indexedPaths = (cacheDir: string) => Object.keys(JSON.parse(readFileSync(path.join(cacheDir, 'file-digests.json'), 'utf8')) as Record<string, string>).map((k) => k.split('|').slice(0, -5).join('|'));

describe('DigestCache', () => {
  it('hashes a file once, and again after it changes', async () => {
    const cacheDir = tempDir();
    const file = path.join(tempDir(), 'payload');
    writeFileSync(file, 'one');
    const first = new DigestCache(cacheDir);
    expect(await first.hash(file)).toEqual({ sha256: sha256Hex('one'), size: 3 });
    await first.save();
    expect(indexedPaths(cacheDir)).toEqual([file]);
    appendFileSync(file, ' two');
    expect(await new DigestCache(cacheDir).hash(file)).toEqual({ sha256: sha256Hex('one two'), size: 7 });
  });

  it('keeps only entries whose file still is what was hashed (deleted and rewritten files drop out)', async () => {
    const cacheDir = tempDir();
    const work = tempDir();
    // A '|' in a path: the identity's fields are taken from the end.
    const [kept, deleted, rewritten, added] = ['kept', 'deleted|one', 'rewritten', 'added'].map((n) => path.join(work, n)) as [string, string, string, string];
    for (const f of [kept, deleted, rewritten]) writeFileSync(f, f);
    const first = new DigestCache(cacheDir);
    for (const f of [kept, deleted, rewritten]) await first.hash(f);
    await first.save();
    expect(indexedPaths(cacheDir).sort()).toEqual([deleted, kept, rewritten].sort());

    rmSync(deleted);
    writeFileSync(rewritten, 'new bytes');
    writeFileSync(added, 'added');
    const second = new DigestCache(cacheDir);
    await second.hash(added);
    await second.save();
    expect(indexedPaths(cacheDir).sort()).toEqual([added, kept].sort());
    // The kept entry is still used: its digest is the one recorded.
    expect((await new DigestCache(cacheDir).hash(kept)).sha256).toBe(sha256Hex(kept));
  });

  it('writes nothing when nothing was hashed anew', async () => {
    const cacheDir = tempDir();
    const file = path.join(tempDir(), 'f');
    writeFileSync(file, 'x');
    const first = new DigestCache(cacheDir);
    await first.hash(file);
    await first.save();
    const before = readFileSync(path.join(cacheDir, 'file-digests.json'), 'utf8');
    rmSync(file);
    await new DigestCache(cacheDir).save(); // not dirty: the stale entry stays until the next write
    expect(readFileSync(path.join(cacheDir, 'file-digests.json'), 'utf8')).toBe(before);
  });
});
