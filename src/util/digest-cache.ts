// Remembers the sha256 of large local files by (device, inode, size, mtime), so an unchanged payload is
// read and hashed once, not on every build. The index is a small JSON file in the cache dir, replaced atomically.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BuiltFile } from './fsx.ts';
import { hashFile, writeFileAtomic } from './fsx.ts';

export class DigestCache {
  private readonly file: string | undefined;
  private readonly index: Record<string, string>;
  private dirty = false;

  /** Without a cache dir the index lives in memory only. */
  constructor(cacheDir?: string) {
    this.file = cacheDir === undefined ? undefined : path.join(cacheDir, 'file-digests.json');
    let index: Record<string, string> = {};
    try {
      if (this.file && existsSync(this.file)) index = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>;
    } catch {
      index = {}; // a damaged index only costs re-hashing
    }
    this.index = index;
  }

  /** The file's identity: any write to it changes its ctime (which, unlike mtime, cannot be set back). */
  private static identity(file: string): { key: string; size: number } {
    const st = statSync(file, { bigint: true });
    return { key: `${path.resolve(file)}|${st.dev}|${st.ino}|${st.size}|${st.mtimeNs}|${st.ctimeNs}`, size: Number(st.size) };
  }

  /** Whether the file an entry was made for still has that identity (the path is all before the last 5 fields). */
  private static current(key: string): boolean {
    const file = key.split('|').slice(0, -5).join('|');
    try {
      return DigestCache.identity(file).key === key;
    } catch {
      return false; // gone, or no longer readable
    }
  }

  async hash(file: string): Promise<BuiltFile> {
    const { key, size } = DigestCache.identity(file);
    const known = this.index[key];
    if (known) return { sha256: known, size };
    const result = await hashFile(file);
    this.index[key] = result.sha256;
    this.dirty = true;
    return result;
  }

  /** Records the digest of a file just written (its bytes were hashed as they were written). */
  remember(file: string, sha256: string): void {
    this.index[DigestCache.identity(file).key] = sha256;
    this.dirty = true;
  }

  /** Drops every entry below `dir` (a build replaced by a new one leaves no stale entries). */
  forget(dir: string): void {
    const prefix = path.resolve(dir) + path.sep;
    for (const k of Object.keys(this.index)) {
      if (k.startsWith(prefix)) {
        delete this.index[k];
        this.dirty = true;
      }
    }
  }

  /**
   * Writes the index with only the entries whose file is still what was hashed: every build's temp and
   * replaced files would otherwise stay in it for ever (28,219 entries, 5.5 MB read by every build, were found
   * on a machine that had run the tests and benchmarks for a few days). One stat per entry, only when dirty.
   */
  async save(): Promise<void> {
    if (this.dirty && this.file) {
      const current = Object.fromEntries(Object.entries(this.index).filter(([key]) => DigestCache.current(key)));
      await writeFileAtomic(this.file, JSON.stringify(current));
    }
    this.dirty = false;
  }
}
