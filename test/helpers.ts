// Shared test helpers: temp dirs cleaned up after each test, the real CLI run as a child process,
// fixture payload folders, and the deterministic fake digests golden files use.
import { execa } from 'execa';
import type { Planned } from '../src/graph/index.ts';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, onTestFinished } from 'vitest';
import { DefinitionError } from '../src/errors.ts';
import { exeName, type Platform, type Product } from '../src/product/model.ts';
import { fixtureExecutable } from './go-programs.ts';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const STIGMER_YAML = path.join(REPO, 'packaging/stigmer.yaml');
export const ACME_YAML = path.join(REPO, 'test/fixtures/acme/acme.yaml');
export const CLI = path.join(REPO, 'bin/stigmer-dist.js');

/** The problems a definition load reports; fails the test when it loads. */
export function definitionProblems(load: () => unknown): DefinitionError['problems'] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(DefinitionError);
    return (err as DefinitionError).problems;
  }
  throw new Error('expected the definition to be refused');
}

export function tempDir(prefix = 'sd-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const r = await execa(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { CI: 'true', SOURCE_DATE_EPOCH: '1700000000', ...opts.env },
    reject: false,
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A --from folder with a real, small, distinct executable per component and platform (test/go-programs.ts: the
 * platform's format and CPU, with a line naming component and platform appended). `dir` defaults to a temp
 * dir of the current test.
 */
export async function fixturePayloads(product: Product, platforms: Platform[] = [...product.platforms], dir = tempDir('sd-payloads-')): Promise<string> {
  for (const c of product.components) {
    for (const p of c.platforms.filter((x) => platforms.includes(x))) {
      const file = path.join(dir, p, exeName(c.binary, p));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, await fixtureExecutable(p, `fixture payload ${c.name} ${p}`));
      chmodSync(file, 0o755);
    }
  }
  return dir;
}

/** Fake but stable digests for golden renders: sha256 of the asset name. */
export const fakeDigest = (asset: string) => createHash('sha256').update(asset).digest('hex');

/** What a target sees when it plans alone: nothing planned before it (a query finds nothing). */
export const nothingPlanned: Planned = {
  query: () => [],
  require(by, role) {
    throw new Error(`test: ${by} requires ${String(role)}, and nothing is planned`);
  },
};
