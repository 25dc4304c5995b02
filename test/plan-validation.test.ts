// Validation at plan time: every check `build` made on the definition and the versions runs in `plan`, with the
// message `build` gave, so that after a successful plan `build` fails only for a tool, a payload or the disk.
// The load already refuses most bad definitions (test/product.test.ts); these are the checks the targets own.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProduct } from '../src/product/load.ts';
import { makePlan } from '../src/plan/plan.ts';
import { mapVersion, type Versions } from '../src/version.ts';
import { debTarget } from '../src/targets/deb/index.ts';
import { rpmTarget } from '../src/targets/rpm/index.ts';
import { scoopTarget } from '../src/targets/scoop/index.ts';
import type { Product } from '../src/product/model.ts';
import { ACME_YAML, nothingPlanned, runCli, tempDir } from './helpers.ts';

/** A copy of the acme fixture with `edit` applied to its definition. */
function acmeVariant(edit: (yaml: string) => string): string {
  const dir = tempDir();
  cpSync(path.dirname(ACME_YAML), dir, { recursive: true });
  const file = path.join(dir, 'acme.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
  return file;
}

const planOf = (product: Product, versions: Versions, target: typeof debTarget) =>
  () => target.plan({ product, versions, platforms: ['linux-amd64', 'windows-amd64'], snapshot: false }, nothingPlanned);

describe('plan runs the checks build made', () => {
  it('rpm: two license files of one name land at one path under /usr/share/licenses (plan fails, exit 3, nothing planned)', async () => {
    const file = acmeVariant((y) =>
      y.replace('  - { src: NOTICE, dest: share/doc/acme/NOTICE }', '  - { src: NOTICE, dest: share/doc/acme/LICENSE }\n  - { src: NOTICE, dest: share/acme/LICENSE }'),
    );
    // The definition itself loads (the two destinations differ), and the deb embeds both texts in its copyright.
    expect((await runCli(['plan', '--config', file, '--target', 'deb'])).exitCode).toBe(0);
    const r = await runCli(['plan', '--config', file, '--target', 'rpm']);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/two files would be installed at \/usr\/share\/licenses\/acme\/LICENSE/);
    expect(r.stdout).toBe('');
  });

  it('deb and rpm: the package name', () => {
    const acme = loadProduct(ACME_YAML);
    const product = { ...acme, meta: { ...acme.meta, name: 'Acme' } };
    for (const target of [debTarget, rpmTarget]) expect(planOf(product, mapVersion('2.4.0'), target)).toThrow(/product\.name: "Acme" is not a valid Linux package name/);
  });

  it('deb: the Debian version; rpm: the rpm version and release; scoop: the Scoop version', () => {
    const product = loadProduct(ACME_YAML);
    const good = mapVersion('2.4.0');
    expect(planOf(product, { ...good, debian: '2.4.0_1' }, debTarget)).toThrow(/version: "2\.4\.0_1" is not a valid Debian version/);
    expect(planOf(product, { ...good, rpm: { version: '2.4.0', release: '1-1' } }, rpmTarget)).toThrow(/version: "1-1" is not a valid rpm release/);
    const scoopPlan = () =>
      scoopTarget.plan({ product, versions: { ...good, semver: '2.4.0 beta' }, platforms: ['windows-amd64'], snapshot: false }, { query: () => [], require: () => [{ id: 'cli-archive:acmectl:windows-amd64' } as never] });
    expect(scoopPlan).toThrow(/version "2\.4\.0 beta" is not a Scoop version/);
    // The same product and versions plan without a word.
    expect(planOf(product, good, debTarget)()).toHaveLength(1);
    // The rpm: built unsigned on its platform, signed in the join (two artifacts, one release asset).
    expect(planOf(product, good, rpmTarget)().filter((a) => a.release)).toHaveLength(1);
  });

  it('msi: the ProductVersion limits fail the plan of every target that needs the MSI, and only those', async () => {
    const product = loadProduct(ACME_YAML);
    expect(() => makePlan(product, { version: '256.0.0', targets: ['msi', 'winget'], snapshot: false })).toThrow(/256\.0\.0 cannot be an MSI ProductVersion/);
    expect(() => makePlan(product, { version: '256.0.0', targets: ['deb'], snapshot: false })).not.toThrow();
  });
});
