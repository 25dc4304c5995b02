// What a build left in dist/<version>/: plan.json lists every artifact with its digest and size. Publishing
// reads it and re-hashes each file it will upload, so nothing changed since the build reaches a release.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { readManifest, type BuildManifest, type ManifestArtifact } from '../manifest/manifest.ts';
import { hashFile } from '../util/fsx.ts';

export type BuiltArtifact = ManifestArtifact;
export type BuildRecord = BuildManifest;

export interface ReleaseFile {
  /** Asset name on the release (the file's base name). */
  name: string;
  file: string;
  sha256: string;
  size: number;
}

export async function readBuildRecord(distDir: string): Promise<BuildRecord> {
  return readManifest(distDir, { hint: 'run `stigmer-dist build --from ...` for this version first, or pass --out / --version to point at the build' });
}

/** The release assets of a build, each re-hashed against the record. */
export async function releaseFiles(distDir: string, record: BuildRecord): Promise<ReleaseFile[]> {
  const out: ReleaseFile[] = [];
  const byName = new Map<string, string>();
  for (const a of record.artifacts.filter((x) => x.release)) {
    const name = path.posix.basename(a.path);
    const other = byName.get(name);
    if (other) throw new UserError(`two release artifacts share the asset name ${name}: ${other} and ${a.path}`, { hint: 'GitHub release assets are flat: give them distinct file names', exitCode: EXIT.config });
    byName.set(name, a.path);
    const file = path.join(distDir, a.path);
    if (!existsSync(file)) throw new UserError(`${file} is listed in plan.json but missing`, { hint: 'rebuild this version', exitCode: EXIT.config });
    const got = await hashFile(file);
    if (got.sha256 !== a.sha256 || got.size !== a.size) {
      throw new UserError(`${file} changed since it was built (sha256 ${got.sha256}, plan.json says ${a.sha256})`, { hint: 'rebuild this version instead of editing dist/ by hand', exitCode: EXIT.config });
    }
    out.push({ name, file, sha256: a.sha256, size: a.size });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export { filesBelow } from '../util/fsx.ts';
