// The Scoop manifest against Scoop's own schema.json (ajv, draft-07): the CLI's Windows zip, its digest,
// a shim for the CLI, checkver/autoupdate that follow the GitHub releases; negative cases prove the schema bites.
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProduct } from '../src/product/load.ts';
import { mapVersion } from '../src/version.ts';
import { makePlan } from '../src/plan/plan.ts';
import { archiveFileName } from '../src/targets/release.ts';
import { renderScoop, scoopComponent, scoopPath, scoopTarget } from '../src/targets/scoop/index.ts';
import { ACME_YAML, REPO, STIGMER_YAML, fakeDigest } from './helpers.ts';

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/schemas/scoop/schema.json'), 'utf8')));

describe.each([
  { label: 'stigmer', file: STIGMER_YAML, version: '1.2.3-rc.1', cli: 'stigmer' },
  { label: 'acme', file: ACME_YAML, version: '2.4.0', cli: 'acmectl' },
])('scoop manifest: $label', ({ file, version, cli }) => {
  const product = loadProduct(file);
  const versions = mapVersion(version);
  const text = renderScoop(product, versions, fakeDigest);
  const manifest = JSON.parse(text);

  it('validates against Scoop schema.json', () => {
    const ok = validate(manifest);
    expect(validate.errors ?? [], text).toEqual([]);
    expect(ok).toBe(true);
  });

  it('installs the CLI zip of this release, pinned by its sha256, with a shim for the CLI', () => {
    const component = scoopComponent(product)!;
    expect(component.name).toBe(cli);
    const asset = archiveFileName(product, component, 'windows-amd64', versions.semver);
    const { owner, repo } = product.def.release.github;
    expect(manifest).toMatchObject({
      version: versions.semver,
      homepage: product.meta.homepage,
      license: product.meta.license,
      architecture: { '64bit': { url: `https://github.com/${owner}/${repo}/releases/download/${versions.tag}/${asset}`, hash: fakeDigest(asset) } },
      bin: `bin\\${component.binary}.exe`,
      checkver: { github: `https://github.com/${owner}/${repo}` },
      autoupdate: { hash: { url: '$baseurl/SHA256SUMS' } },
    });
    // autoupdate is the same URL with Scoop's $version: substituting the version gives the URL back.
    expect(manifest.autoupdate.architecture['64bit'].url.replaceAll('$version', versions.semver)).toBe(manifest.architecture['64bit'].url);
    expect(manifest.notes.join('\n')).toMatch(/Scoop cannot register Windows services/);
    expect(text.endsWith('}\n')).toBe(true);
    const scoopPlan = (platforms: string[], targets: string[]) => makePlan(product, { version: versions.semver, platforms, targets, snapshot: false }).artifacts.filter((a) => a.target === scoopTarget.id);
    expect(scoopPlan(['windows-amd64'], ['archive', 'scoop']).map((a) => [a.path, a.inputs])).toEqual([[scoopPath(product), [`cli-archive:${scoopComponent(product)!.name}:windows-amd64`]]]);
    expect(scoopPlan(['linux-amd64'], ['scoop'])).toEqual([]);
    // Without the zip it describes, planning fails and names both artifacts.
    expect(() => scoopPlan(['windows-amd64'], ['scoop'])).toThrow(/artifact "manifest:scoop\/.*\.json" \(scoop\) needs a cli-archive artifact/);
  });

  it('the schema rejects what Scoop rejects (the validator is not a no-op)', () => {
    const { license: _l, ...noLicense } = manifest;
    expect(validate(noLicense)).toBe(false);
    expect(validate({ ...manifest, version: '1.0 beta' })).toBe(false);
    expect(validate({ ...manifest, services: ['x'] })).toBe(false);
    expect(validate({ ...manifest, architecture: { '64bit': { ...manifest.architecture['64bit'], hash: 'sha256:xyz' } } })).toBe(false);
  });
});
