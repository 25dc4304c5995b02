// The shared environment file that carries the user's secrets (never baked into units, plists or formulae).
import type { Product } from '../product/model.ts';
import { renderTemplate } from './templates.ts';

/** Every secret variable with the services that read it: the commented lines of each platform's env file. */
export function secretEntries(product: Product): { name: string; description: string }[] {
  return product.secrets.map((name) => ({
    name,
    description: `secret for ${product.services.filter((s) => s.secrets.includes(name)).map((s) => s.name).join(', ')}`,
  }));
}

export function renderEnvFile(product: Product, installedPath = product.def.install.envFile): string {
  const secrets = secretEntries(product);
  return renderTemplate('env/env-file.hbs', {
    path: installedPath,
    displayName: product.meta.displayName,
    secrets,
  });
}

/** How generated files name their source: the definition's file name (stable wherever the repo is checked out). */
export function definitionName(product: Product): string {
  return product.file.split('/').pop()!;
}
