// Release assets: their names, what identifies them, and where they are downloaded from (the GitHub release of
// the version's tag). Shared by the targets that make them and the ones that point at them (formulae, manifests,
// install scripts), so that no target imports a sibling.
import { splitPlatform, WINDOWS_PLATFORM, type Component, type Platform, type Product } from '../product/model.ts';
import { uuidV5 } from '../util/uuid.ts';
import { msiVersion, parseVersion, type Versions } from '../version.ts';

/** The checksum list every release carries (`sha256sum -c` format). */
export const CHECKSUMS_FILE = 'SHA256SUMS';
/** Detached armored OpenPGP signature of SHA256SUMS by the release key. */
export const CHECKSUMS_SIGNATURE_FILE = `${CHECKSUMS_FILE}.asc`;
/** The release workflow's keyless cosign bundle over SHA256SUMS (.github/workflows/release.yml), a release asset. */
export const SIGSTORE_BUNDLE_FILE = `${CHECKSUMS_FILE}.sigstore.json`;
/** The exported public release key: armored (.asc, for `gpg --import`) or binary (.gpg, the keyring gpgv reads). */
export const releaseKeyFile = (product: Product, armor: boolean) => `${product.meta.name}-release-key.${armor ? 'asc' : 'gpg'}`;
/** The release's CycloneDX SBOM. */
export const sbomFileName = (product: Product, version: string) => `${product.meta.name}_${version}.cdx.json`;

export function releaseUrl(product: Product, tag: string, asset: string): string {
  const { owner, repo } = product.def.release.github;
  return `https://github.com/${owner}/${repo}/releases/download/${tag}/${asset}`;
}

export function repositoryUrl(product: Product): string {
  const { owner, repo } = product.def.release.github;
  return `https://github.com/${owner}/${repo}`;
}

/** A release asset's base name from release.archiveName ({name} {version} {os} {arch}), without extension. */
export function assetBaseName(product: Product, name: string, platform: Platform, version: string): string {
  const { os, arch } = splitPlatform(platform);
  return product.def.release.archiveName
    .replace(/\{name\}/g, name)
    .replace(/\{version\}/g, version)
    .replace(/\{os\}/g, os)
    .replace(/\{arch\}/g, arch);
}

/** Release asset name of the MSI (release.archiveName with the product as {name}). */
export function msiFileName(product: Product, version: string): string {
  return `${assetBaseName(product, product.meta.name, WINDOWS_PLATFORM, version)}.msi`;
}

/** The MSI ProductVersion: three numeric fields (a pre-release cannot be expressed and is dropped). */
export function productVersion(versions: Versions): string {
  return msiVersion(parseVersion(versions.semver), '--version');
}

/** The MSI ProductCode: stable per product line and version, so winget manifests can state it and rebuilds are identical. */
export function productCode(product: Product, versions: Versions): string {
  return uuidV5(product.def.identifiers.msiUpgradeCode, `ProductCode/${versions.semver}`);
}

/** A component's release archive for a platform: tar.gz for unix, zip for Windows. */
export function archiveFileName(product: Product, component: Component, platform: Platform, version: string): string {
  return `${assetBaseName(product, component.name, platform, version)}${splitPlatform(platform).os === 'windows' ? '.zip' : '.tar.gz'}`;
}
