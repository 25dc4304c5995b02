// Scoop manifest (bucket/<app>.json) for the CLI's Windows zip, serialised from data. Scoop has no service
// support, so it ships the CLI only; the notes point at the MSI for the services.
import { UserError, EXIT } from '../../errors.ts';
import { exeName, type Component, type Product } from '../../product/model.ts';
import { generatedNotice } from '../../render/templates.ts';
import type { Versions } from '../../version.ts';
import { archiveFileName } from '../archive/index.ts';
import { definitionName } from '../envfile.ts';
import { MSI_PLATFORM } from '../msi/model.ts';
import { releaseUrl, repositoryUrl } from '../release.ts';
import { textTarget } from '../text.ts';
import type { DigestOf, Target } from '../types.ts';
import { knownDigest } from '../winget/index.ts';

/** The CLI: the component named like the product, else the first one that is not a service, if built for Windows. */
export function scoopComponent(product: Product): Component | undefined {
  const windows = product.components.filter((c) => !c.service && c.platforms.includes(MSI_PLATFORM));
  return windows.find((c) => c.name === product.meta.name) ?? windows[0];
}

export const scoopPath = (product: Product) => `scoop/${product.meta.name}.json`;

const SCOOP_VERSION = /^[\w.\-+]+$/;

export function renderScoop(product: Product, versions: Versions, digestOf: DigestOf): string {
  const cli = scoopComponent(product)!;
  if (!SCOOP_VERSION.test(versions.semver)) {
    throw new UserError(`version "${versions.semver}" is not a Scoop version (letters, digits, ".", "-", "+", "_")`, { exitCode: EXIT.usage });
  }
  const asset = archiveFileName(product, cli, MSI_PLATFORM, versions.semver);
  // autoupdate: the same URL with Scoop's $version variable (the tag is v$version).
  const template = releaseUrl(product, 'v$version', archiveFileName(product, cli, MSI_PLATFORM, '$version'));
  const services = product.components.some((c) => c.service && c.platforms.includes(MSI_PLATFORM));
  const manifest = {
    '##': generatedNotice(definitionName(product)),
    version: versions.semver,
    description: cli.description,
    homepage: product.meta.homepage,
    license: product.meta.license,
    ...(services
      ? {
          notes: [
            `This installs the ${product.meta.displayName} command-line interface only: Scoop cannot register Windows services.`,
            `For the services, install the MSI: winget install --id ${product.def.identifiers.wingetId} (or the .msi of ${repositoryUrl(product)}/releases/tag/${versions.tag}).`,
          ],
        }
      : {}),
    architecture: { '64bit': { url: releaseUrl(product, versions.tag, asset), hash: digestOf(asset) } },
    bin: `bin\\${exeName(cli.binary, MSI_PLATFORM)}`,
    checkver: { github: repositoryUrl(product) },
    autoupdate: {
      architecture: { '64bit': { url: template } },
      hash: { url: '$baseurl/SHA256SUMS' },
    },
  };
  return JSON.stringify(manifest, null, 4) + '\n';
}

const base = textTarget({
  id: 'scoop',
  description: 'Scoop manifest for the CLI zip (Windows, x64)',
  kindOf: () => 'scoop-manifest',
  paths: ({ product, platforms }) => (platforms.includes(MSI_PLATFORM) && scoopComponent(product) ? [scoopPath(product)] : []),
  render: ({ product, versions, platforms, digestOf }) => {
    const cli = scoopComponent(product);
    if (!platforms.includes(MSI_PLATFORM) || !cli || !knownDigest(digestOf, archiveFileName(product, cli, MSI_PLATFORM, versions.semver))) return new Map();
    return new Map([[scoopPath(product), renderScoop(product, versions, digestOf)]]);
  },
});

export const scoopTarget: Target = {
  ...base,
  async build(ctx, artifacts) {
    const cli = scoopComponent(ctx.product)!;
    const asset = archiveFileName(ctx.product, cli, MSI_PLATFORM, ctx.versions.semver);
    if (!ctx.plan.some((a) => a.path === asset)) {
      throw new UserError(`the Scoop manifest needs ${asset}, which this build does not make`, { hint: 'build the archive target too (--target archive,scoop)', exitCode: EXIT.usage });
    }
    return base.build(ctx, artifacts);
  },
};
