// Scoop manifest (bucket/<app>.json) for the CLI's Windows zip, serialised from data. Scoop has no service
// support, so it ships the CLI only; the notes point at the MSI for the services.
import { UserError, EXIT } from '../../errors.ts';
import { archiveRole, cliComponent, exeName, WINDOWS_PLATFORM, type Component, type Product } from '../../product/model.ts';
import { artifactId, byComponent, byPlatform } from '../../graph/index.ts';
import { generatedNotice } from '../../render/templates.ts';
import type { Versions } from '../../version.ts';
import { definitionName } from '../../render/envfile.ts';
import { archiveFileName, releaseUrl, repositoryUrl } from '../release.ts';
import { knownDigest, textTarget } from '../text.ts';
import type { DigestOf, Target } from '../types.ts';

/** The CLI, if built for Windows. */
export function scoopComponent(product: Product): Component | undefined {
  return cliComponent(product, WINDOWS_PLATFORM);
}

export const scoopPath = (product: Product) => `scoop/${product.meta.name}.json`;

const SCOOP_VERSION = /^[\w.\-+]+$/;

/** What Scoop would refuse, checked when planning. */
function checkScoopVersion(versions: Versions): void {
  if (!SCOOP_VERSION.test(versions.semver)) {
    throw new UserError(`version "${versions.semver}" is not a Scoop version (letters, digits, ".", "-", "+", "_")`, { exitCode: EXIT.usage });
  }
}

export function renderScoop(product: Product, versions: Versions, digestOf: DigestOf): string {
  const cli = scoopComponent(product)!;
  const asset = archiveFileName(product, cli, WINDOWS_PLATFORM, versions.semver);
  // autoupdate: the same URL with Scoop's $version variable (the tag is v$version).
  const template = releaseUrl(product, 'v$version', archiveFileName(product, cli, WINDOWS_PLATFORM, '$version'));
  const services = product.components.some((c) => c.service && c.platforms.includes(WINDOWS_PLATFORM));
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
    bin: `bin\\${exeName(cli.binary, WINDOWS_PLATFORM)}`,
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
  roleOf: () => 'manifest',
  produces: ['manifest'],
  consumes: ['cli-archive'],
  // The manifest states the digest of the CLI's Windows zip: planning fails (naming both) when it is not built.
  inputs: ({ product }, planned, p) => {
    const cli = scoopComponent(product)!;
    return planned.require(artifactId('manifest', p), archiveRole(cli), byComponent(cli.name), byPlatform(WINDOWS_PLATFORM)).map((a) => a.id);
  },
  paths: ({ product, platforms }) => (platforms.includes(WINDOWS_PLATFORM) && scoopComponent(product) ? [scoopPath(product)] : []),
  render: ({ product, versions, platforms, digestOf }) => {
    const cli = scoopComponent(product);
    if (!platforms.includes(WINDOWS_PLATFORM) || !cli || !knownDigest(digestOf, archiveFileName(product, cli, WINDOWS_PLATFORM, versions.semver))) return new Map();
    return new Map([[scoopPath(product), renderScoop(product, versions, digestOf)]]);
  },
});

export const scoopTarget: Target = {
  ...base,
  plan(ctx, planned) {
    const artifacts = base.plan(ctx, planned);
    if (artifacts.length) checkScoopVersion(ctx.versions);
    return artifacts;
  },
};
