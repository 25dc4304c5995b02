// The graph is open: a target registered from a test alone (no change in src/targets/) plans over the real
// registry by role, and the real build runs it after the archives it reads, handing it their digests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBuild } from '../src/build/build.ts';
import { artifactId, byScope } from '../src/graph/index.ts';
import { makePlan } from '../src/plan/plan.ts';
import { loadProduct } from '../src/product/load.ts';
import { BuildRegistry } from '../src/targets/registry.ts';
import type { Target } from '../src/targets/types.ts';
import { hashFile, writeFileAtomic } from '../src/util/fsx.ts';
import { silentReporter } from '../src/util/progress.ts';
import { ACME_YAML, fixturePayloads, tempDir } from './helpers.ts';
import { payloadsFrom } from './linux-helpers.ts';

// A toy SBOM: one global JSON listing every archive with its sha256, found by role (never by target).
const toySbom: Target = {
  id: 'toy-sbom',
  description: 'test-only: lists the archives it reads',
  produces: ['sbom'],
  consumes: ['cli-archive', 'service-archive'],
  plan(_ctx, planned) {
    const archives = planned.query(['cli-archive', 'service-archive'], byScope('local'));
    return [{ id: artifactId('sbom', 'toy'), role: 'sbom', scope: 'global', inputs: archives.map((a) => a.id), path: 'toy-sbom.json', target: 'toy-sbom', release: false }];
  },
  async build(ctx, artifacts) {
    const sbom = artifacts[0]!;
    const listed = ctx.inputsOf(sbom).map((a) => ({ id: a.id, role: a.role, file: a.path, sha256: ctx.built(a.path).sha256 }));
    return new Map([[sbom.path, await writeFileAtomic(path.join(ctx.outDir, sbom.path), JSON.stringify(listed, null, 2) + '\n')]]);
  },
};

describe('a target registered from a test', () => {
  it('plans by role over the real registry and builds after the archives it consumes, with their digests', async () => {
    const product = loadProduct(ACME_YAML);
    const platforms = ['linux-amd64', 'windows-amd64'] as const;
    const registry = new BuildRegistry().register(toySbom);
    const plan = makePlan(product, { version: '2.4.0', platforms: [...platforms], targets: ['archive', 'toy-sbom'], snapshot: false, registry });
    const archives = plan.artifacts.filter((a) => a.target === 'archive');
    const sbomPlan = plan.artifacts.find((a) => a.target === 'toy-sbom')!;
    expect(archives.length).toBeGreaterThan(2);
    expect(sbomPlan).toMatchObject({ id: 'sbom:toy', role: 'sbom', scope: 'global', inputs: archives.map((a) => a.id) });
    expect(archives.map((a) => a.role)).toContain('service-archive');
    expect(archives.map((a) => a.role)).toContain('cli-archive');

    const out = tempDir();
    const payloads = await payloadsFrom(await fixturePayloads(product, [...platforms]), product, [...platforms]);
    const result = await runBuild({ product, plan, outRoot: out, payloads, sourceDateEpoch: 1700000000, report: silentReporter, skipped: [], registry, authenticode: { unsignedWindows: true } });
    const listed = JSON.parse(readFileSync(path.join(result.outDir, 'toy-sbom.json'), 'utf8')) as { id: string; file: string; sha256: string }[];
    expect(listed.map((l) => l.id)).toEqual(archives.map((a) => a.id));
    for (const l of listed) expect(l.sha256).toBe((await hashFile(path.join(result.outDir, l.file))).sha256);
    // The manifest records the toy artifact with its graph fields, like any other.
    expect(result.artifacts.find((a) => a.id === 'sbom:toy')).toMatchObject({ target: 'toy-sbom', inputs: sbomPlan.inputs });
  });

  it('fails at plan, naming both ids, when an artifact needs one no selected target plans', () => {
    const product = loadProduct(ACME_YAML);
    expect(() => makePlan(product, { version: '2.4.0', platforms: ['windows-amd64'], targets: ['winget'], snapshot: false })).toThrow(/artifact "manifest:winget\/.*" \(winget\) needs a msi artifact/);
  });
});
