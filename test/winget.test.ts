// winget manifests against the official 1.28.0 JSON schemas (ajv, draft-07), read back by a YAML 1.1 reader,
// and the names winget rejects refused before anything is written.
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { UserError } from '../src/errors.ts';
import { loadProduct } from '../src/product/load.ts';
import type { Product } from '../src/product/model.ts';
import { mapVersion } from '../src/version.ts';
import { msiFileName, productCode } from '../src/targets/release.ts';
import { WINGET_MANIFEST_VERSION, renderWinget, wingetFiles, wingetTarget } from '../src/targets/winget/index.ts';
import { ACME_YAML, REPO, STIGMER_YAML, fakeDigest, fixturePayloads, nothingPlanned, runCli, tempDir } from './helpers.ts';

const SCHEMAS = path.join(REPO, 'test/fixtures/schemas/winget', WINGET_MANIFEST_VERSION);
const TYPES = ['version', 'installer', 'defaultLocale'] as const;

function validators(): Record<(typeof TYPES)[number], ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat('long', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  return Object.fromEntries(TYPES.map((t) => [t, ajv.compile(JSON.parse(readFileSync(path.join(SCHEMAS, `manifest.${t}.${WINGET_MANIFEST_VERSION}.json`), 'utf8')))])) as Record<
    (typeof TYPES)[number],
    ValidateFunction
  >;
}
const validate = validators();

function manifests(product: Product, version: string, digestOf = fakeDigest) {
  const versions = mapVersion(version);
  const files = renderWinget(product, versions, digestOf);
  const paths = wingetFiles(product, versions);
  return Object.fromEntries(TYPES.map((t) => [t, { path: paths[t], text: files.get(paths[t])!, data: parse(files.get(paths[t])!, { version: '1.1' }) }])) as Record<
    (typeof TYPES)[number],
    { path: string; text: string; data: Record<string, unknown> & { Installers?: Record<string, unknown>[] } }
  >;
}

describe.each([
  { label: 'stigmer', file: STIGMER_YAML, version: '1.2.3-rc.1' },
  { label: 'stigmer', file: STIGMER_YAML, version: '0.1.0' },
  { label: 'acme', file: ACME_YAML, version: '2.4.0' },
])('winget manifests: $label $version', ({ file, version }) => {
  const product = loadProduct(file);
  const m = manifests(product, version);

  it.each(TYPES)('%s manifest validates against the 1.28.0 schema', (type) => {
    const ok = validate[type](m[type].data);
    expect(validate[type].errors ?? [], m[type].text).toEqual([]);
    expect(ok).toBe(true);
    expect(m[type].text.split('\n')[0]).toBe(`# yaml-language-server: $schema=https://aka.ms/winget-manifest.${type}.1.28.0.schema.json`);
    expect(m[type].data).toMatchObject({ PackageIdentifier: product.def.identifiers.wingetId, PackageVersion: mapVersion(version).winget, ManifestType: type, ManifestVersion: '1.28.0' });
  });

  it('lives in the winget-pkgs folder layout', () => {
    const id = product.def.identifiers.wingetId;
    const dir = `winget/manifests/${id[0]!.toLowerCase()}/${id.split('.').join('/')}/${mapVersion(version).winget}`;
    expect([m.version.path, m.installer.path, m.defaultLocale.path]).toEqual([`${dir}/${id}.yaml`, `${dir}/${id}.installer.yaml`, `${dir}/${id}.locale.en-US.yaml`]);
    expect(m.version.data.DefaultLocale).toBe('en-US');
    expect(m.defaultLocale.data.PackageLocale).toBe('en-US');
  });

  it('describes the MSI: machine scope, its URL and digest, the deterministic ProductCode and the UpgradeCode', () => {
    const versions = mapVersion(version);
    const asset = msiFileName(product, versions.semver);
    const [installer, ...more] = m.installer.data.Installers!;
    expect(more).toEqual([]);
    expect(m.installer.data).toMatchObject({ InstallerType: 'wix', Scope: 'machine', UpgradeBehavior: 'install' });
    expect(installer).toMatchObject({
      Architecture: 'x64',
      InstallerUrl: `https://github.com/${product.def.release.github.owner}/${product.def.release.github.repo}/releases/download/v${versions.semver}/${asset}`,
      InstallerSha256: fakeDigest(asset).toUpperCase(),
      ProductCode: `{${productCode(product, versions)}}`,
    });
    const arp = (installer!.AppsAndFeaturesEntries as Record<string, string>[])[0]!;
    expect(arp).toMatchObject({ DisplayName: product.meta.displayName, Publisher: product.meta.vendor, UpgradeCode: `{${product.def.identifiers.msiUpgradeCode}}` });
    // Apps & features shows the MSI's numeric version: stated only when it differs from the package version.
    if (versions.prerelease) expect(arp.DisplayVersion).toBe(`${versions.semver.split('-')[0]}`);
    else expect(arp).not.toHaveProperty('DisplayVersion');
  });
});

describe('winget: YAML typing and rejected names', () => {
  const product = loadProduct(STIGMER_YAML);

  it('quotes what a YAML 1.1 reader would not read back as the same string', () => {
    const digits = '1'.repeat(64);
    const m = manifests(product, '1.10.0', () => digits);
    expect(m.installer.data.PackageVersion).toBe('1.10.0');
    expect(m.installer.data.Installers![0]!.InstallerSha256).toBe(digits);
    expect(m.installer.text).toContain(`InstallerSha256: '${digits}'`);
    expect(m.installer.text).toMatch(/ProductCode: '\{[0-9A-F-]{36}\}'/);
    expect(validate.installer(m.installer.data)).toBe(true);
  });

  it('the schemas reject what winget rejects (the validator is not a no-op)', () => {
    const m = manifests(product, '0.1.0');
    expect(validate.version({ ...m.version.data, PackageIdentifier: 'Stigmer' })).toBe(false);
    expect(validate.version({ ...m.version.data, PackageVersion: '1.0/2' })).toBe(false);
    expect(validate.installer({ ...m.installer.data, Installers: [{ ...m.installer.data.Installers![0], InstallerSha256: 'abc' }] })).toBe(false);
    expect(validate.installer({ ...m.installer.data, Scope: 'system' })).toBe(false);
    expect(validate.defaultLocale({ ...m.defaultLocale.data, Publisher: 'S' })).toBe(false);
    const { License: _l, ...noLicense } = m.defaultLocale.data;
    expect(validate.defaultLocale(noLicense)).toBe(false);
  });

  it.each([
    ['product.vendor', (t: string) => t.replace('vendor: Stigmer', 'vendor: S'), /product\.vendor: "S" must be at least 2 characters \(winget Publisher\)/],
    ['product.license', (t: string) => t.replace('license: Apache-2.0', 'license: GP'), /product\.license: "GP" must be at least 3 characters \(winget License\)/],
    ['product.summary', (t: string) => t.replace(/summary: .*/, 'summary: ok'), /product\.summary: "ok"/],
  ])('refuses %s that winget rejects at load, before anything is written', async (_field, edit, message) => {
    const dir = tempDir();
    cpSync(path.dirname(STIGMER_YAML), dir, { recursive: true });
    const file = path.join(dir, 'stigmer.yaml');
    writeFileSync(file, edit(readFileSync(file, 'utf8')));
    expect(() => loadProduct(file)).toThrow(UserError);
    const r = await runCli(['plan', '--config', file, '--target', 'winget']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(message);
  });

  it.each([
    ['a single-segment identifier', 'wingetId: Stigmer'],
    ['spaces', 'wingetId: Stigmer.My App'],
    ['a segment over 32 characters', `wingetId: Stigmer.${'x'.repeat(33)}`],
    ['a forbidden character', 'wingetId: "Stigmer.Std:Edition"'],
  ])('the definition refuses an identifier with %s', async (_case, line) => {
    const dir = tempDir();
    cpSync(path.dirname(STIGMER_YAML), dir, { recursive: true });
    const file = path.join(dir, 'stigmer.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('wingetId: Stigmer.Stigmer', line));
    const r = await runCli(['plan', '--config', file, '--target', 'winget']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/identifiers\.wingetId: .*must be Publisher\.Name like "Stigmer\.Stigmer"/);
  });

  it('without windows-amd64 there is nothing to plan, and a build needs the MSI', async () => {
    expect(wingetTarget.plan({ product, versions: mapVersion('0.1.0'), platforms: ['linux-amd64'], snapshot: false }, nothingPlanned)).toEqual([]);
    const out = tempDir();
    const r = await runCli(['build', '--config', ACME_YAML, '--from', await fixturePayloads(loadProduct(ACME_YAML)), '--target', 'winget', '--platform', 'windows-amd64', '--out', out]);
    expect(r.exitCode).toBe(2);
    // A plan-time error naming the manifest and the role it needs.
    expect(r.stderr).toMatch(/artifact "manifest:winget\/manifests\/.*\.yaml" \(winget\) needs a msi artifact, and no selected target plans one/);
    expect(readdirSync(out)).toEqual([]);
  });
});
