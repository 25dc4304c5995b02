import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DigestCache } from '../src/util/digest-cache.ts';
import { sha256Hex } from '../src/util/fsx.ts';
import { tempDir } from './helpers.ts';

const indexFile = (cacheDir: string) => path.join(cacheDir, 'file-digests.json');
const readIndex = (cacheDir: string) => JSON.parse(readFileSync(indexFile(cacheDir), 'utf8')) as Record<string, string>;
const indexedPaths = (cacheDir: string) => Object.keys(readIndex(cacheDir)).map((k) => k.split('|').slice(0, -5).join('|'));
/** Replaces every recorded digest with `fake`: a hash() that returns it read the index instead of the file. */
const fakeDigests = (cacheDir: string, fake: string) => writeFileSync(indexFile(cacheDir), JSON.stringify(Object.fromEntries(Object.keys(readIndex(cacheDir)).map((k) => [k, fake]))));
const FAKE = 'f'.repeat(64);

describe('DigestCache', () => {
  it('answers from the index while the file is unchanged, and hashes it again after it changes', async () => {
    const cacheDir = tempDir();
    const file = path.join(tempDir(), 'payload');
    writeFileSync(file, 'one');
    const first = new DigestCache(cacheDir);
    expect(await first.hash(file)).toEqual({ sha256: sha256Hex('one'), size: 3 });
    await first.save();
    expect(indexedPaths(cacheDir)).toEqual([file]);
    fakeDigests(cacheDir, FAKE);
    expect(await new DigestCache(cacheDir).hash(file)).toEqual({ sha256: FAKE, size: 3 });
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

    fakeDigests(cacheDir, FAKE);
    rmSync(deleted);
    writeFileSync(rewritten, 'new bytes');
    writeFileSync(added, 'added');
    const second = new DigestCache(cacheDir);
    await second.hash(added);
    await second.save();
    expect(indexedPaths(cacheDir).sort()).toEqual([added, kept].sort());
    // The kept entry is still the recorded one, and still answers.
    expect((await new DigestCache(cacheDir).hash(kept)).sha256).toBe(FAKE);
  });

  it('writes nothing when nothing was hashed anew', async () => {
    const cacheDir = tempDir();
    const file = path.join(tempDir(), 'f');
    writeFileSync(file, 'x');
    const first = new DigestCache(cacheDir);
    await first.hash(file);
    await first.save();
    const before = readFileSync(indexFile(cacheDir), 'utf8');
    rmSync(file);
    await new DigestCache(cacheDir).save(); // not dirty: the stale entry stays until the next write
    expect(readFileSync(indexFile(cacheDir), 'utf8')).toBe(before);
  });
});
