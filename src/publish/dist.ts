// What a build left in dist/<version>/: plan.json lists every artifact with its digest and size. Publishing
// reads it and re-hashes each file it will upload, so nothing changed since the build reaches a release.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { readManifest, type BuildManifest, type ManifestArtifact } from '../manifest/manifest.ts';
import { readFile } from 'node:fs/promises';
import { hashFile } from '../util/fsx.ts';
import { CHECKSUMS_FILE, SIGSTORE_BUNDLE_FILE } from '../targets/release.ts';

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
  const bundle = await sigstoreBundle(distDir, out);
  if (bundle) out.push(bundle);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export { filesBelow } from '../util/fsx.ts';

/**
 * SHA256SUMS.sigstore.json, when the release workflow's cosign step wrote it next to the build (it is made after
 * the build, so plan.json cannot list it): a release asset too. Refused when it is not a Sigstore bundle or signs
 * other bytes than this build's SHA256SUMS (a bundle left over from another build).
 */
async function sigstoreBundle(distDir: string, assets: readonly ReleaseFile[]): Promise<ReleaseFile | undefined> {
  const file = path.join(distDir, SIGSTORE_BUNDLE_FILE);
  if (!existsSync(file)) return undefined;
  const bad = (why: string) => new UserError(`${file}: ${why}`, { hint: `write it with \`cosign sign-blob --bundle ${SIGSTORE_BUNDLE_FILE} ${CHECKSUMS_FILE}\` over this build's ${CHECKSUMS_FILE}, or remove it`, exitCode: EXIT.config });
  let bundle: { mediaType?: unknown; messageSignature?: { messageDigest?: { algorithm?: unknown; digest?: unknown } } };
  try {
    bundle = JSON.parse(await readFile(file, 'utf8')) as typeof bundle;
  } catch {
    throw bad('not JSON');
  }
  if (typeof bundle.mediaType !== 'string' || !bundle.mediaType.startsWith('application/vnd.dev.sigstore.bundle')) throw bad('not a Sigstore bundle (no application/vnd.dev.sigstore.bundle mediaType)');
  const sums = assets.find((a) => a.name === CHECKSUMS_FILE);
  const digest = bundle.messageSignature?.messageDigest;
  if (sums && digest?.algorithm === 'SHA2_256' && typeof digest.digest === 'string' && Buffer.from(digest.digest, 'base64').toString('hex') !== sums.sha256) {
    throw bad(`signs other bytes than this build's ${CHECKSUMS_FILE} (sha256 ${sums.sha256})`);
  }
  const got = await hashFile(file);
  return { name: SIGSTORE_BUNDLE_FILE, file, sha256: got.sha256, size: got.size };
}
