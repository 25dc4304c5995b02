// The bundled CLI (scripts/bundle.ts) behaves as the sources do: same output, same errors, same files, and
// bin/stigmer-dist.js takes it only while every file it was built from is unchanged.
import { execa } from 'execa';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_RECORD, PLAN_CODE_CACHE, bundleIsCurrent } from '../bin/bundle-state.js';
import { bundleCli } from '../scripts/bundle.ts';
import { ACME_YAML, CLI, REPO, tempDir } from './helpers.ts';

let bundleDir: string;

beforeAll(async () => {
  // Inside the repository, as .bundle/cli is: the packages left out of the bundle resolve from its node_modules.
  bundleDir = await mkdtemp(path.join(REPO, '.bundle', 'test-'));
  await bundleCli(bundleDir);
});

afterAll(async () => {
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
});

const env = { CI: 'true', SOURCE_DATE_EPOCH: '1700000000' };

async function fromSources(args: string[]) {
  const r = await execa(process.execPath, [CLI, ...args], { cwd: REPO, env: { ...env, STIGMER_DIST_SOURCES: '1' }, reject: false, stdin: 'ignore' });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

async function fromBundle(args: string[]) {
  const run = 'const { main } = await import(process.argv[1]); process.exitCode = await main(process.argv.slice(2));';
  const entry = pathToFileURL(path.join(bundleDir, 'main.mjs')).href;
  const r = await execa(process.execPath, ['--input-type=module', '-e', run, entry, ...args], { cwd: REPO, env, reject: false, stdin: 'ignore' });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** The classic script `plan` runs (bin/stigmer-dist.js), with its code cache; stderr says whether V8 took the cache. */
async function fromPlanScript(args: string[], dir = bundleDir) {
  const state = pathToFileURL(path.join(REPO, 'bin', 'bundle-state.js')).href;
  const run = [
    `const { loadPlanScript } = await import(${JSON.stringify(state)});`,
    'let script;',
    'const { main } = loadPlanScript(process.argv[1], (s) => { script = s; });',
    'process.exitCode = await main(process.argv.slice(2));',
    "process.stderr.write(`code cache rejected: ${script.cachedDataRejected}\\n`);",
  ].join('\n');
  const r = await execa(process.execPath, ['--input-type=module', '-e', run, dir, ...args], { cwd: REPO, env, reject: false, stdin: 'ignore' });
  const [stderr, cache] = r.stderr.split(/^code cache rejected: /m);
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: stderr!.replace(/\n$/, ''), cacheRejected: cache?.trim() };
}

async function filesBelow(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())) {
    const file = path.join(rel.parentPath, rel.name);
    out[path.relative(dir, file)] = await readFile(file, 'utf8');
  }
  return out;
}

describe('the bundled CLI', () => {
  it.each([
    ['plan --json (stigmer)', ['plan', '--json', '--version', '0.1.0']],
    ['plan --json --snapshot (acme)', ['plan', '--json', '--snapshot', '--config', ACME_YAML, '--version', '2.3.4']],
    ['plan table, one platform (acme)', ['plan', '--config', ACME_YAML, '--version', '2.3.4', '--platform', 'linux-arm64']],
    ['--help', ['--help']],
    ['an unknown target', ['plan', '--target', 'nope']],
  ])('prints what the sources print: %s', async (_name, args) => {
    const bundle = await fromBundle(args);
    expect(bundle).toEqual(await fromSources(args));
    expect(bundle.stdout + bundle.stderr).not.toBe('');
  });

  it.each([
    ['plan --json (stigmer)', ['plan', '--json', '--version', '0.1.0']],
    ['plan --json --snapshot (acme)', ['plan', '--json', '--snapshot', '--config', ACME_YAML, '--version', '2.3.4']],
    ['plan table, one platform (acme)', ['plan', '--config', ACME_YAML, '--version', '2.3.4', '--platform', 'linux-arm64']],
    ['plan --help', ['plan', '--help']],
    ['an unknown target', ['plan', '--target', 'nope']],
  ])('runs plan from its classic script as the sources do, with the code cache made at bundling: %s', async (_name, args) => {
    const { cacheRejected, ...script } = await fromPlanScript(args);
    expect(script).toEqual(await fromSources(args));
    expect(cacheRejected).toBe('false'); // made by this Node without flags, as bin/ runs it
  });

  it('uses a code cache only with the script text it was made from (V8 itself checks only the length)', async () => {
    const other = await mkdtemp(path.join(REPO, '.bundle', 'test-'));
    try {
      await cp(bundleDir, other, { recursive: true });
      const cache = await readFile(path.join(other, PLAN_CODE_CACHE));
      await writeFile(path.join(other, PLAN_CODE_CACHE), Buffer.concat([Buffer.from('0'.repeat(32)), cache.subarray(32)]));
      const args = ['plan', '--json', '--version', '0.1.0'];
      const { cacheRejected, ...script } = await fromPlanScript(args, other);
      expect(cacheRejected).toBe('undefined'); // not offered to V8 at all
      expect(script).toEqual(await fromSources(args));
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("reports a bad definition as the sources do (the definition's messages and zod's own)", async () => {
    const dir = tempDir();
    const bad = path.join(dir, 'bad.yaml');
    const text = (await readFile(ACME_YAML, 'utf8')).replace(/^(\s*name:\s*).*$/m, '$1"Not A Name"').replace(/^(\s*version:\s*).*$/m, '$1[2, 4]');
    await writeFile(bad, text.replace(/^product:$/m, 'product:\n  colour: blue'));
    const bundle = await fromBundle(['plan', '--json', '--config', bad]);
    expect(bundle.exitCode).toBe(3);
    expect(bundle.stderr).toMatch(/colour/);
    expect(bundle).toEqual(await fromSources(['plan', '--json', '--config', bad]));
    const { cacheRejected: _, ...script } = await fromPlanScript(['plan', '--json', '--config', bad]);
    expect(script).toEqual(bundle);
  });

  it('renders every text artifact byte for byte as the sources do (templates and packages found from the bundle)', async () => {
    const dir = tempDir();
    const args = (which: string) => ['render', '--version', '0.1.0', '--checksums', path.join(REPO, 'formula', 'SHA256SUMS'), '--tap-dir', path.join(dir, which, 'tap'), '--out', path.join(dir, which, 'out')];
    const bundle = await fromBundle(args('bundle'));
    const sources = await fromSources(args('sources'));
    expect(bundle.exitCode, bundle.stderr).toBe(0);
    expect(bundle.stdout.replaceAll('/bundle/', '/sources/')).toBe(sources.stdout);
    const rendered = await filesBelow(path.join(dir, 'bundle'));
    expect(Object.keys(rendered).some((f) => f.endsWith('.plist'))).toBe(true);
    expect(rendered).toEqual(await filesBelow(path.join(dir, 'sources')));
  });

  it('is current only while every file it was built from is unchanged', async () => {
    expect(bundleIsCurrent(bundleDir)).toBe(true);
    const record = JSON.parse(await readFile(path.join(bundleDir, BUNDLE_RECORD), 'utf8')) as { inputs: Record<string, [number, number]> };
    expect(Object.keys(record.inputs)).toContain('src/cli/main.ts');
    expect((await readdir(bundleDir)).sort()).toEqual(expect.arrayContaining(['main.mjs', 'plan.cjs', PLAN_CODE_CACHE]));
    const edited = tempDir();
    for (const [file, change] of [
      ['src/product/load.ts', ([size, mtime]: [number, number]) => [size, mtime + 1]],
      ['src/cli/main.ts', ([size, mtime]: [number, number]) => [size + 1, mtime]],
    ] as const) {
      await writeFile(path.join(edited, BUNDLE_RECORD), JSON.stringify({ inputs: { ...record.inputs, [file]: change(record.inputs[file]!) } }));
      expect(bundleIsCurrent(edited), file).toBe(false);
    }
    await writeFile(path.join(edited, BUNDLE_RECORD), JSON.stringify({ inputs: { ...record.inputs, 'src/no-such-file.ts': [1, 1] } }));
    expect(bundleIsCurrent(edited)).toBe(false);
    expect(bundleIsCurrent(tempDir())).toBe(false); // no record: never built, or interrupted before the end
  });
});
