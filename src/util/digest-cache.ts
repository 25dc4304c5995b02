// Remembers the sha256 of large local files by (device, inode, size, mtime), so an unchanged payload is
// read and hashed once, not on every build. The index is a small JSON file in the cache dir, replaced atomically.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BuiltFile } from './fsx.ts';
import { hashFile, writeFileAtomic } from './fsx.ts';

export class DigestCache {
  private readonly file: string;
  private readonly index: Record<string, string>;
  private dirty = false;

  constructor(cacheDir: string) {
    this.file = path.join(cacheDir, 'file-digests.json');
    let index: Record<string, string> = {};
    try {
      if (existsSync(this.file)) index = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>;
    } catch {
      index = {}; // a damaged index only costs re-hashing
    }
    this.index = index;
  }

  async hash(file: string): Promise<BuiltFile> {
    const st = statSync(file, { bigint: true });
    const key = `${path.resolve(file)}|${st.dev}|${st.ino}|${st.size}|${st.mtimeNs}|${st.ctimeNs}`;
    const known = this.index[key];
    if (known) return { sha256: known, size: Number(st.size) };
    const result = await hashFile(file);
    this.index[key] = result.sha256;
    this.dirty = true;
    return result;
  }

  async save(): Promise<void> {
    if (this.dirty) await writeFileAtomic(this.file, JSON.stringify(this.index));
    this.dirty = false;
  }
}
