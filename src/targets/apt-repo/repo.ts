// An APT repository written in TypeScript (no apt-ftparchive): pool/ + dists/<suite>/<component>/binary-<arch>/
// Packages(.gz) + Release, signed as InRelease and Release.gpg, plus the exported keyring. The indexes are
// regenerated from everything in the pool, so the versions published before stay installable.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { constants, gzipSync } from 'node:zlib';
import { EXIT, UserError } from '../../errors.ts';
import type { Signer } from '../../signing/gpg.ts';
import { writeFileAtomic } from '../../util/fsx.ts';
import type { BuiltFile } from '../types.ts';
import { listFiles, placeInPool, posix } from '../repo-common.ts';
import { compareDebVersions, digestsOf, fileDigests, readDeb, type DebInfo, type FileDigests } from './deb.ts';

export interface AptRepoMeta {
  /** Keep Origin, Label, Suite and Codename stable: apt refuses a change until `apt-get update --allow-releaseinfo-change`. */
  origin: string;
  label: string;
  suite: string;
  codename: string;
  component: string;
  /** Architectures always indexed (an empty Packages beats a 404); architectures found in the pool are added. */
  architectures: string[];
  description: string;
}

export interface AptRepoOptions {
  /** Repository root: receives pool/, dists/ and the keyrings. May already hold a published pool. */
  repoDir: string;
  /** .deb files to add to the pool. */
  packages: string[];
  /** An already-published repository root whose pool/ is merged in (may be repoDir itself). */
  base?: string;
  /** Signs Release (InRelease, Release.gpg) and exports the keyring; undefined builds an unsigned repository. */
  signer?: Signer;
  meta: AptRepoMeta;
  sourceDateEpoch: number;
  /** Keyring file names: <keyringName>.gpg (binary, for signed-by) and <keyringName>.asc (armored). */
  keyringName: string;
}

export interface PoolPackage extends DebInfo {
  /** Path relative to the repository root ("pool/main/s/stigmer/stigmer_1.0.0-1_amd64.deb"). */
  filename: string;
  digests: FileDigests;
}

export interface AptRepoResult {
  /** Every file written or kept, by path relative to repoDir. */
  files: Map<string, BuiltFile>;
  packages: PoolPackage[];
  architectures: string[];
}

/** Debian's pool folder for a source package: "lib" packages get a 4-letter prefix. */
export function poolDir(component: string, source: string): string {
  const prefix = source.startsWith('lib') && source.length > 3 ? source.slice(0, 4) : source[0]!;
  return `pool/${component}/${prefix}/${source}`;
}

export function debFileName(info: Pick<DebInfo, 'package' | 'version' | 'architecture'>): string {
  return `${info.package}_${info.version.replace(/^\d+:/, '')}_${info.architecture}.deb`;
}

// The field order apt-ftparchive writes; fields not listed keep their order after these.
const FIELD_ORDER = [
  'Package', 'Source', 'Version', 'Architecture', 'Essential', 'Multi-Arch', 'Maintainer', 'Installed-Size',
  'Pre-Depends', 'Depends', 'Recommends', 'Suggests', 'Enhances', 'Conflicts', 'Breaks', 'Replaces', 'Provides',
  'Filename', 'Size', 'MD5sum', 'SHA1', 'SHA256', 'SHA512', 'Section', 'Priority', 'Homepage', 'Description',
];
// Control fields that describe the control.tar itself or the build, not the package in an index.
const DROPPED = new Set(['filename', 'size', 'md5sum', 'sha1', 'sha256', 'sha512']);

export function packagesStanza(p: PoolPackage): string {
  const fields = p.fields.filter((f) => !DROPPED.has(f.name.toLowerCase())).map((f) => ({ name: f.name, value: f.value }));
  fields.push(
    { name: 'Filename', value: p.filename },
    { name: 'Size', value: String(p.digests.size) },
    { name: 'MD5sum', value: p.digests.md5 },
    { name: 'SHA1', value: p.digests.sha1 },
    { name: 'SHA256', value: p.digests.sha256 },
    { name: 'SHA512', value: p.digests.sha512 },
  );
  const rank = (n: string) => {
    const i = FIELD_ORDER.findIndex((o) => o.toLowerCase() === n.toLowerCase());
    return i < 0 ? FIELD_ORDER.length : i;
  };
  const sorted = fields.map((f, i) => ({ ...f, i })).sort((a, b) => rank(a.name) - rank(b.name) || a.i - b.i);
  return sorted.map((f) => `${f.name}: ${f.value}`).join('\n') + '\n';
}

/** RFC 2822 date in UTC, as apt expects in Release ("Sat, 21 Nov 2026 23:32:52 +0000"). */
export function releaseDate(epoch: number): string {
  return new Date(epoch * 1000).toUTCString().replace(/GMT$/, '+0000');
}

export function releaseText(meta: AptRepoMeta, architectures: string[], date: string, indexes: { path: string; digests: FileDigests }[]): string {
  const head = [
    `Origin: ${meta.origin}`,
    `Label: ${meta.label}`,
    `Suite: ${meta.suite}`,
    `Codename: ${meta.codename}`,
    `Date: ${date}`,
    `Architectures: ${architectures.join(' ')}`,
    `Components: ${meta.component}`,
    `Description: ${meta.description}`,
  ];
  const list = (title: string, key: keyof FileDigests) => [`${title}:`, ...indexes.map((x) => ` ${x.digests[key]} ${String(x.digests.size).padStart(16)} ${x.path}`)];
  return [...head, ...list('MD5Sum', 'md5'), ...list('SHA1', 'sha1'), ...list('SHA256', 'sha256'), ...list('SHA512', 'sha512')].join('\n') + '\n';
}

/** gzip -9n equivalent: no name, no mtime, OS byte pinned, so identical input gives identical bytes. */
export function gzipDeterministic(data: Buffer | string): Buffer {
  const out = gzipSync(data, { level: 9, memLevel: 9, strategy: constants.Z_DEFAULT_STRATEGY });
  out[9] = 3;
  return out;
}

function byPackage(a: PoolPackage, b: PoolPackage): number {
  return a.package < b.package ? -1 : a.package > b.package ? 1 : compareDebVersions(a.version, b.version) || (a.architecture < b.architecture ? -1 : a.architecture > b.architecture ? 1 : 0);
}

export async function buildAptRepo(opts: AptRepoOptions): Promise<AptRepoResult> {
  const { repoDir, meta } = opts;
  const files = new Map<string, BuiltFile>();
  const isDeb = (n: string) => n.endsWith('.deb');

  // 1. The published pool (when merging from elsewhere), then this build's packages.
  if (opts.base && path.resolve(opts.base) !== path.resolve(repoDir)) {
    for (const src of await listFiles(path.join(opts.base, 'pool'), isDeb)) {
      await placeInPool(src, path.join(repoDir, path.relative(opts.base, src)));
    }
  }
  for (const src of opts.packages) {
    const info = await readDeb(src);
    await placeInPool(src, path.join(repoDir, poolDir(meta.component, info.source), debFileName(info)));
  }

  // 2. Index everything in the pool.
  const packages: PoolPackage[] = [];
  for (const file of await listFiles(path.join(repoDir, 'pool'), isDeb)) {
    const info = await readDeb(file);
    const digests = await fileDigests(file);
    const filename = posix(path.relative(repoDir, file));
    packages.push({ ...info, filename, digests });
    files.set(filename, { size: digests.size, sha256: digests.sha256 });
  }
  packages.sort(byPackage);
  for (let i = 1; i < packages.length; i++) {
    const [a, b] = [packages[i - 1]!, packages[i]!];
    if (a.package === b.package && a.architecture === b.architecture && compareDebVersions(a.version, b.version) === 0) {
      throw new UserError(`the pool holds ${a.package} ${a.version} (${a.architecture}) twice: ${a.filename} and ${b.filename}`, {
        hint: 'remove one of them: apt cannot tell two packages with the same name, version and architecture apart',
        exitCode: EXIT.config,
      });
    }
  }
  const architectures = [...new Set([...meta.architectures, ...packages.map((p) => p.architecture).filter((a) => a !== 'all')])].sort();

  // 3. Packages indexes per architecture ("all" packages are listed under every one), then Release.
  const dists = path.join(repoDir, 'dists', meta.suite);
  await rm(dists, { recursive: true, force: true });
  await mkdir(dists, { recursive: true });
  const indexes: { path: string; digests: FileDigests }[] = [];
  for (const arch of architectures) {
    const text = packages.filter((p) => p.architecture === arch || p.architecture === 'all').map(packagesStanza).join('\n');
    const rel = `${meta.component}/binary-${arch}/Packages`;
    const gz = gzipDeterministic(text);
    // The uncompressed index must be listed in Release even though clients fetch the .gz: without it apt
    // "succeeds" but silently ignores the component.
    for (const [name, data] of [[rel, Buffer.from(text)], [`${rel}.gz`, gz]] as const) {
      const built = await writeFileAtomic(path.join(dists, name), data);
      indexes.push({ path: name, digests: digestsOf(data) });
      files.set(posix(path.join('dists', meta.suite, name)), built);
    }
  }
  const release = path.join(dists, 'Release');
  files.set(`dists/${meta.suite}/Release`, await writeFileAtomic(release, releaseText(meta, architectures, releaseDate(opts.sourceDateEpoch), indexes)));

  // 4. Signatures and the keyring clients pin with signed-by.
  for (const stale of ['InRelease', 'Release.gpg']) await rm(path.join(dists, stale), { force: true });
  for (const stale of ['gpg', 'asc']) await rm(path.join(repoDir, `${opts.keyringName}.${stale}`), { force: true });
  if (opts.signer) {
    files.set(`dists/${meta.suite}/InRelease`, await opts.signer.clearsign(release, path.join(dists, 'InRelease')));
    files.set(`dists/${meta.suite}/Release.gpg`, await opts.signer.detachSign(release, path.join(dists, 'Release.gpg'), true));
    files.set(`${opts.keyringName}.gpg`, await opts.signer.exportPublicKey(path.join(repoDir, `${opts.keyringName}.gpg`), false));
    files.set(`${opts.keyringName}.asc`, await opts.signer.exportPublicKey(path.join(repoDir, `${opts.keyringName}.asc`), true));
  }
  return { files, packages, architectures };
}
