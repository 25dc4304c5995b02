// Where release assets are downloaded from: the GitHub release of the version's tag.
import { splitPlatform, type Platform, type Product } from '../product/model.ts';

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
