// winget multi-file manifests (version, installer, defaultLocale) for the MSI, serialised from data with the
// `yaml` package, in the folder layout of microsoft/winget-pkgs. They need the MSI's digest, so the target runs
// after checksums, and render works from a release's SHA256SUMS.
import path from 'node:path';
import { Document, Scalar, visit } from 'yaml';
import { UserError, EXIT } from '../../errors.ts';
import { cliComponent, exeName, WINDOWS_PLATFORM, type Product } from '../../product/model.ts';
import { artifactId, byPlatform } from '../../graph/index.ts';
import { generatedNotice } from '../../render/templates.ts';
import type { Versions } from '../../version.ts';
import { definitionName } from '../../render/envfile.ts';
import { msiFileName, productCode, productVersion, releaseUrl, repositoryUrl } from '../release.ts';
import { knownDigest, textTarget } from '../text.ts';
import type { DigestOf, Target } from '../types.ts';

export const WINGET_MANIFEST_VERSION = '1.28.0';
const LOCALE = 'en-US';
type ManifestType = 'version' | 'installer' | 'defaultLocale';

/** Folder of one version in winget-pkgs: manifests/<first letter>/<Publisher>/<Package...>/<version>/. */
export function wingetDir(product: Product, versions: Versions): string {
  const id = product.def.identifiers.wingetId;
  return ['winget', 'manifests', id[0]!.toLowerCase(), ...id.split('.'), versions.winget].join('/');
}

export function wingetFiles(product: Product, versions: Versions): Record<ManifestType, string> {
  const id = product.def.identifiers.wingetId;
  const dir = wingetDir(product, versions);
  return { version: `${dir}/${id}.yaml`, installer: `${dir}/${id}.installer.yaml`, defaultLocale: `${dir}/${id}.locale.${LOCALE}.yaml` };
}

/** What the winget community repository rejects, checked before anything is written (the schema's rules). */
function check(product: Product, versions: Versions): void {
  const id = product.def.identifiers.wingetId;
  const problems: string[] = [];
  const bad = /[\\/:*?"<>|\x01-\x1f]/;
  if (!/^[^.\s\\/:*?"<>|\x01-\x1f]{1,32}(\.[^.\s\\/:*?"<>|\x01-\x1f]{1,32}){1,7}$/.test(id) || id.length > 128) {
    problems.push(`identifiers.wingetId "${id}": winget wants 2 to 8 dot-separated parts of 1 to 32 characters, no spaces or \\ / : * ? " < > |`);
  }
  if (bad.test(versions.winget) || versions.winget.length > 128) problems.push(`version "${versions.winget}": no \\ / : * ? " < > | and at most 128 characters`);
  const len = (field: string, value: string, min: number, max: number) => {
    if (value.length < min || value.length > max) problems.push(`${field} "${value}": winget wants ${min} to ${max} characters`);
  };
  len('product.vendor (Publisher)', product.meta.vendor, 2, 256);
  len('product.displayName (PackageName)', product.meta.displayName, 2, 256);
  len('product.license (License)', product.meta.license, 3, 512);
  len('product.summary (ShortDescription)', product.meta.summary, 3, 256);
  len('product.description (Description)', product.meta.description, 3, 10000);
  len('product.name (Moniker)', product.meta.name, 1, 40);
  if (problems.length) {
    throw new UserError(`the winget manifests cannot be written from ${path.basename(product.file)}:\n${problems.map((p) => `  ${p}`).join('\n')}`, {
      hint: 'fix these fields in the product definition (winget-pkgs validates them against its manifest schema)',
      exitCode: EXIT.config,
    });
  }
}

/** YAML from data: plain scalars only where no YAML 1.1 reader can mistake them, single quotes otherwise. */
function toYaml(type: ManifestType, notice: string, data: object): string {
  const doc = new Document(data);
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string') return;
      const v = node.value;
      node.type = v.includes('\n')
        ? Scalar.BLOCK_LITERAL
        : /^[A-Za-z][A-Za-z0-9 ._()/-]*$/.test(v) && !/^(y|n|yes|no|true|false|on|off|null)$/i.test(v) && !v.endsWith(' ')
          ? Scalar.PLAIN
          : Scalar.QUOTE_SINGLE;
    },
  });
  return `# yaml-language-server: $schema=https://aka.ms/winget-manifest.${type}.${WINGET_MANIFEST_VERSION}.schema.json\n# ${notice}\n\n${doc.toString({ lineWidth: 0 })}`;
}

export function renderWinget(product: Product, versions: Versions, digestOf: DigestOf): Map<string, string> {
  check(product, versions);
  const id = product.def.identifiers.wingetId;
  const files = wingetFiles(product, versions);
  const notice = generatedNotice(definitionName(product));
  const common = { PackageIdentifier: id, PackageVersion: versions.winget };
  const tail = (type: ManifestType) => ({ ManifestType: type, ManifestVersion: WINGET_MANIFEST_VERSION });
  const asset = msiFileName(product, versions.semver);
  const code = `{${productCode(product, versions)}}`;
  const displayVersion = productVersion(versions);
  const cli = cliComponent(product, WINDOWS_PLATFORM);
  const arp = {
    DisplayName: product.meta.displayName,
    Publisher: product.meta.vendor,
    // Apps & features shows the MSI's numeric version; say so when the package version differs (pre-releases).
    ...(displayVersion !== versions.winget ? { DisplayVersion: displayVersion } : {}),
    ProductCode: code,
    UpgradeCode: `{${product.def.identifiers.msiUpgradeCode}}`,
    InstallerType: 'wix',
  };
  return new Map([
    [files.version, toYaml('version', notice, { ...common, DefaultLocale: LOCALE, ...tail('version') })],
    [
      files.installer,
      toYaml('installer', notice, {
        ...common,
        InstallerLocale: LOCALE,
        Platform: ['Windows.Desktop'],
        MinimumOSVersion: '10.0.17763.0',
        InstallerType: 'wix',
        // The MSI installs Windows services: per-machine only.
        Scope: 'machine',
        InstallModes: ['interactive', 'silent', 'silentWithProgress'],
        UpgradeBehavior: 'install',
        ...(cli ? { Commands: [path.parse(exeName(cli.binary, WINDOWS_PLATFORM)).name] } : {}),
        Installers: [
          {
            Architecture: 'x64',
            InstallerUrl: releaseUrl(product, versions.tag, asset),
            InstallerSha256: digestOf(asset).toUpperCase(),
            ProductCode: code,
            AppsAndFeaturesEntries: [arp],
          },
        ],
        ...tail('installer'),
      }),
    ],
    [
      files.defaultLocale,
      toYaml('defaultLocale', notice, {
        ...common,
        PackageLocale: LOCALE,
        Publisher: product.meta.vendor,
        PublisherUrl: repositoryUrl(product),
        PackageName: product.meta.displayName,
        PackageUrl: product.meta.homepage,
        License: product.meta.license,
        ShortDescription: product.meta.summary,
        Description: product.meta.description,
        Moniker: product.meta.name,
        ReleaseNotesUrl: `${repositoryUrl(product)}/releases/tag/${versions.tag}`,
        ...tail('defaultLocale'),
      }),
    ],
  ]);
}

const base = textTarget({
  id: 'winget',
  description: 'winget manifests (version, installer, defaultLocale) for the MSI',
  roleOf: () => 'manifest',
  produces: ['manifest'],
  consumes: ['msi'],
  // The manifests state the MSI's digest: planning fails (naming both) when no MSI is planned, and a build that
  // skips the MSI (its tools missing) skips these too.
  inputs: (_ctx, planned, p) => planned.require(artifactId('manifest', p), 'msi', byPlatform(WINDOWS_PLATFORM)).map((a) => a.id),
  paths: ({ product, versions, platforms }) => (platforms.includes(WINDOWS_PLATFORM) ? Object.values(wingetFiles(product, versions)) : []),
  render: ({ product, versions, platforms, digestOf }) =>
    platforms.includes(WINDOWS_PLATFORM) && knownDigest(digestOf, msiFileName(product, versions.semver)) ? renderWinget(product, versions, digestOf) : new Map(),
});

export const wingetTarget: Target = {
  ...base,
  plan(ctx, planned) {
    const artifacts = base.plan(ctx, planned);
    if (artifacts.length) check(ctx.product, ctx.versions);
    return artifacts;
  },
};
