// The snapshot stand-ins are built from the checkout they sit in: their bytes (and so every archive and package
// of a snapshot build) must not depend on where that checkout is, and neither must their cache key.
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { buildStandins, STANDIN_SOURCE_DIR } from '../src/payloads/standin.ts';
import { loadProduct } from '../src/product/load.ts';
import type { Platform } from '../src/product/model.ts';
import { GOPATH_TEMP_PREFIX } from '../src/util/go-build.ts';
import { TEST_GOCACHE } from './go-programs.ts';
import { STIGMER_YAML, tempDir } from './helpers.ts';

const PLATFORMS: Platform[] = ['linux-amd64', 'windows-amd64'];

it('builds the same stand-ins, under the same cache key, from two checkout paths', async () => {
  const full = loadProduct(STIGMER_YAML);
  // One component on an ELF and a PE platform is enough: every stand-in is the same program.
  const component = full.components.find((c) => PLATFORMS.every((p) => c.platforms.includes(p)))!;
  expect(component).toBeDefined();
  const product = { ...full, components: [component] };
  const checkouts = [path.join(tempDir(), 'a', 'standin'), path.join(tempDir(), 'some', 'deeper', 'checkout', 'standin')];
  for (const dir of checkouts) cpSync(STANDIN_SOURCE_DIR, dir, { recursive: true });
  const cacheDir = tempDir();
  // Go's own build cache is the tests' shared one (see TEST_GOCACHE); the stand-in cache is this test's own.
  mkdirSync(TEST_GOCACHE, { recursive: true });
  symlinkSync(TEST_GOCACHE, path.join(cacheDir, 'go-build'));
  const build = (sourceDir: string) => {
    const lines: string[] = [];
    return buildStandins({ product, platforms: PLATFORMS, version: '1.2.3', cacheDir, sourceDir, report: (l) => lines.push(l) }).then((payloads) => ({ payloads, lines }));
  };

  const first = await build(checkouts[0]);
  expect(first.lines.every((l) => l.includes(': built '))).toBe(true);
  const bytes = first.payloads.map((p) => readFileSync(p.path));
  expect(bytes.map((b) => b.subarray(0, 4).toString('latin1'))).toEqual(['\x7fELF', expect.stringMatching(/^MZ/)]);

  // The other checkout finds the first one's builds: the key holds the sources, not their folder.
  const cached = await build(checkouts[1]);
  expect(cached.lines.every((l) => l.includes(': cached '))).toBe(true);
  expect(cached.payloads).toEqual(first.payloads);

  // Built again from the other checkout: the same bytes.
  rmSync(path.join(cacheDir, 'standins'), { recursive: true });
  const second = await build(checkouts[1]);
  expect(second.lines.every((l) => l.includes(': built '))).toBe(true);
  expect(second.payloads).toEqual(first.payloads);
  for (const [i, p] of second.payloads.entries()) {
    const b = readFileSync(p.path);
    expect(b.equals(bytes[i])).toBe(true);
    // Neither source folder, nor the throwaway GOPATH, nor this checkout is named inside.
    const text = b.toString('latin1');
    for (const dir of [...checkouts, STANDIN_SOURCE_DIR]) expect(text).not.toContain(path.dirname(dir));
    expect(text).not.toContain(GOPATH_TEMP_PREFIX);
  }
}, 300_000);
