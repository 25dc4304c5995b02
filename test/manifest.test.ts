import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import { MANIFEST_SCHEMA_PATH, readManifest, readManifestIfPresent, serialiseManifest, writeManifest, type BuildManifest } from '../src/manifest/manifest.ts';
import { makePlan } from '../src/plan/plan.ts';
import { loadProduct } from '../src/product/load.ts';
import { PLATFORMS } from '../src/product/schema.ts';
import { sha256Hex } from '../src/util/fsx.ts';
import { ACME_YAML, tempDir } from './helpers.ts';

function manifest(): BuildManifest {
  const plan = makePlan(loadProduct(ACME_YAML), { version: '1.2.3-rc.1', snapshot: true });
  return {
    ...plan,
    sourceDateEpoch: 1700000000,
    inputs: sha256Hex('inputs'),
    artifacts: plan.artifacts.map((a) => ({ ...a, size: a.path.length, sha256: sha256Hex(a.path) })),
    skipped: [{ target: 'msi', reason: '`wixl` not installed', install: 'apt-get install wixl' }],
  };
}

async function rejection(dir: string): Promise<UserError> {
  const err = await readManifest(dir).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe('build manifest', () => {
  it('writes the bytes the build has always written and reads back what it wrote', async () => {
    const dir = tempDir();
    const m = manifest();
    await writeManifest(dir, m);
    const text = readFileSync(path.join(dir, 'plan.json'), 'utf8');
    expect(text).toBe(JSON.stringify(m, null, 2) + '\n');
    expect(text).toBe(serialiseManifest(m));
    expect(await readManifest(dir)).toEqual(m);
  });

  it('refuses a manifest that breaks the schema, naming the file and the field (exit 3)', async () => {
    const dir = tempDir();
    const bad = { ...manifest(), artifacts: [{ ...manifest().artifacts[0]!, sha256: 'not-a-digest' }] };
    writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(bad));
    const err = await rejection(dir);
    expect(err.message).toContain(path.join(dir, 'plan.json'));
    expect(err.message).toContain('/artifacts/0/sha256');
    expect(err.exitCode).toBe(3);

    const { inputs: _dropped, ...noInputs } = manifest();
    writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(noInputs));
    expect((await rejection(dir)).message).toContain("must have required property 'inputs'");

    const escaping = { ...manifest(), artifacts: [{ ...manifest().artifacts[0]!, path: '../../etc/passwd' }] };
    writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(escaping));
    expect((await rejection(dir)).message).toContain('/artifacts/0/path');
  });

  it('names the schema version it reads when a manifest has another one', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'plan.json'), JSON.stringify({ ...manifest(), schemaVersion: 2 }));
    expect((await rejection(dir)).message).toMatch(/has manifest schema version 2; this stigmer-dist reads version 3/);
  });

  it('says what to run when there is no build or the file is not JSON', async () => {
    const dir = tempDir();
    expect((await rejection(dir)).message).toMatch(/^no build at /);
    expect(await readManifestIfPresent(dir)).toBeUndefined();
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'plan.json'), '{');
    expect((await rejection(dir)).message).toMatch(/is not valid JSON/);
  });

  it('lists the same platforms as the product schema', () => {
    const schema = JSON.parse(readFileSync(MANIFEST_SCHEMA_PATH, 'utf8')) as { definitions: { platform: { enum: string[] } } };
    expect(schema.definitions.platform.enum).toEqual([...PLATFORMS]);
  });

  it('refuses to write an invalid manifest', async () => {
    const dir = tempDir();
    await expect(writeManifest(dir, { ...manifest(), sourceDateEpoch: -1 })).rejects.toThrow(/sourceDateEpoch/);
  });
});
