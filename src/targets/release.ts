// Where release assets are downloaded from: the GitHub release of the version's tag.
import type { Product } from '../product/model.ts';

export function releaseUrl(product: Product, tag: string, asset: string): string {
  const { owner, repo } = product.def.release.github;
  return `https://github.com/${owner}/${repo}/releases/download/${tag}/${asset}`;
}

export function repositoryUrl(product: Product): string {
  const { owner, repo } = product.def.release.github;
  return `https://github.com/${owner}/${repo}`;
}
