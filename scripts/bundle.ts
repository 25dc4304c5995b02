// Bundles the CLI into .bundle/cli/ (one ESM file for what `plan` loads, plus chunks for the commands loaded on
// use): Node then reads a few files instead of resolving and compiling ~300 modules (zod, yaml, src/), which
// was most of `plan --json`'s start-up time. Beside it, the same CLI as one classic script with V8's code cache
// of a training `plan` run, which `plan` runs (bin/bundle-state.js, loadPlanScript). bin/stigmer-dist.js runs
// the bundle only while it is current (bin/bundle-state.js); tests import the sources.
//
//   node scripts/bundle.ts            (re)build the bundle (npm run bundle; npm's `prepare`)
//   node scripts/bundle.ts --if-stale  only when it is missing or out of date (scripts/setup.sh)
import type { Plugin } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { BUNDLE_DIR, BUNDLE_RECORD, PLAN_CODE_CACHE, PLAN_SCRIPT, ROOT, bundleIsCurrent, planScriptHeader } from '../bin/bundle-state.js';

/** Builds the bundle into `outDir` (entry main.mjs) and, last, its inputs record. */
export async function bundleCli(outDir: string): Promise<void> {
  const esbuild = await import('esbuild');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: path.join(ROOT, 'src/cli/main.ts') },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true, // build, publish and verify stay in chunks that load only when their command runs
    format: 'esm',
    platform: 'node',
    target: 'node22',
    chunkNames: '[name]-[hash]',
    // CommonJS packages (commander, semver, ...) call require() for Node's modules: give the ESM output one.
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);" },
    plugins: [sourceLocationPlugin(outDir, 'import.meta.url'), externalPackagesPlugin()],
    metafile: true,
    logLevel: 'warning',
  });
  // The classic script: CommonJS output inside a function of PLAN_SCRIPT_PARAMS (exports, require, module,
  // __bundleUrl: the script's file URL, __bundleResolve: import.meta.resolve of a package). Dynamic import() of
  // the packages left out stays import().
  const script = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [path.join(ROOT, 'src/cli/main.ts')],
    outfile: path.join(outDir, PLAN_SCRIPT),
    write: false,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node22',
    supported: { 'dynamic-import': true },
    // Less text to read at each start (no comments, no indentation); names kept, so stack traces still say which
    // function failed.
    minifyWhitespace: true,
    legalComments: 'none',
    plugins: [planOnlyPlugin(), sourceLocationPlugin(outDir, '__bundleUrl', '__bundleResolve'), externalPackagesPlugin()],
    logOverride: { 'empty-import-meta': 'error' }, // import.meta left in a CommonJS script would be {}
    metafile: true,
    logLevel: 'warning',
  });
  // The file is one function expression (loadPlanScript calls it), strict as ES modules are, tagged with its
  // text's digest (the code cache is used only with that text). Wrapped here, not at loading: a wrapper added to
  // the text there would copy the whole script into a new string on each run.
  const body = script.outputFiles[0]!.text;
  const tag = createHash('sha256').update(body).digest('hex').slice(0, 32);
  await writeFile(path.join(outDir, PLAN_SCRIPT), `${planScriptHeader(tag)}${body}})\n`);
  await trainPlanScript(outDir);
  const inputs: Record<string, [number, number]> = {};
  // The bundler and the loader too: a bundle made by another version of them is not current (it may lack a file
  // the loader now reads).
  const files = new Set([...Object.keys(result.metafile.inputs), ...Object.keys(script.metafile.inputs)].filter((file) => !file.startsWith('plan-only:')));
  files.add('scripts/bundle.ts').add('bin/bundle-state.js').add('bin/stigmer-dist.js');
  for (const file of [...files].sort()) {
    const st = await stat(path.resolve(ROOT, file));
    inputs[path.relative(ROOT, path.resolve(ROOT, file)).split(path.sep).join('/')] = [st.size, st.mtimeMs];
  }
  const record = path.join(outDir, BUNDLE_RECORD);
  await writeFile(`${record}.tmp`, JSON.stringify({ inputs }, null, 1) + '\n');
  await rename(`${record}.tmp`, record);
}

/**
 * The packages every command loads at start-up (zod and yaml for the definition, commander, semver) go into the
 * bundle; the others stay imports of node_modules, loaded as the sources load them (on use, for build, publish
 * and verify), so the bundle changes nothing about how they run.
 */
const BUNDLED_PACKAGES = new Set(['zod', 'yaml', 'commander', 'semver']);

function externalPackagesPlugin(): Plugin {
  return {
    name: 'external-packages',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || !/[\\/]src[\\/]/.test(args.importer) || args.importer.includes('node_modules')) return undefined;
        const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0]!;
        return BUNDLED_PACKAGES.has(name) ? undefined : { external: true };
      });
    },
  };
}

/**
 * The sources find their data (templates/, schemas/, the snapshot keys, winsvc/, standin/) and resolve
 * packages relative to their own file: in the bundle, import.meta.url still names the source file it came from.
 * `bundleUrl`: the expression for the bundle file's own URL (import.meta.url, or the classic script's __bundleUrl);
 * `resolve`: what stands for import.meta.resolve (packages only: they resolve alike from every folder of ROOT).
 */
function sourceLocationPlugin(outDir: string, bundleUrl: string, resolve = 'import.meta.resolve'): Plugin {
  return {
    name: 'source-location',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.')) return undefined;
        const rel = path.relative(outDir, args.path).split(path.sep).join('/');
        const contents = source.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, ${bundleUrl}).href`).replaceAll('import.meta.resolve(', `${resolve}(`);
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * The classic script runs only `plan` (bin/stigmer-dist.js): the modules of the commands main.ts imports on use
 * (build, publish, verify) stay out of it. Fewer functions for V8 to read from the code cache at each start.
 */
function planOnlyPlugin(): Plugin {
  return {
    name: 'plan-only',
    setup(build) {
      build.onResolve({ filter: /^\.\/(build|publish|verify)\.ts$/ }, (args) =>
        args.kind === 'dynamic-import' && /[\\/]src[\\/]cli[\\/]main\.ts$/.test(args.importer) ? { path: args.path, namespace: 'plan-only' } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'plan-only' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`internal: ${PLAN_SCRIPT} runs only plan, not the command in ${args.path} (bin/stigmer-dist.js runs the ESM bundle for it)`)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Runs `plan --json` on the repository's own definition from the classic script in `outDir`, in a fresh Node
 * (no flags: V8 accepts a code cache only under the flags it was made with), and keeps V8's code cache of the
 * script after it: every function the plan called is in it. Without the definition, or if the run fails, the
 * bundle has no cache and `plan` compiles as it runs.
 */
async function trainPlanScript(outDir: string): Promise<void> {
  const cache = path.join(outDir, PLAN_CODE_CACHE);
  const train = [
    "const { writeFileSync } = await import('node:fs');",
    `const { loadPlanScript } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'bin/bundle-state.js')).href)});`,
    'let script, cacheFor;',
    'const { main } = loadPlanScript(process.argv[1], (s, c) => { script = s; cacheFor = c; });',
    "const code = await main(['plan', '--json', '--config', process.argv[2], '--version', '0.0.0']);",
    'if (code === 0) writeFileSync(process.argv[3], cacheFor(script.createCachedData()));',
  ].join('\n');
  const args = ['--input-type=module', '-e', train, outDir, path.join(ROOT, 'packaging/stigmer.yaml'), `${cache}.tmp`];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    await rename(`${cache}.tmp`, cache);
  } catch (err) {
    await rm(`${cache}.tmp`, { force: true });
    process.stderr.write(`bundle: no code cache for ${PLAN_SCRIPT} (plan compiles as it runs): ${(err as Error).message.split('\n')[0]}\n`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--if-stale') && bundleIsCurrent()) process.exit(0);
  const started = performance.now();
  // Built beside the live one (same depth: the same relative paths to src/), then swapped in, so a CLI starting
  // meanwhile runs either the old bundle or the new one, never a half-written one.
  const fresh = `${BUNDLE_DIR}.new-${process.pid}`;
  const old = `${BUNDLE_DIR}.old-${process.pid}`;
  await bundleCli(fresh);
  await rename(BUNDLE_DIR, old).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(fresh, BUNDLE_DIR);
  await rm(old, { recursive: true, force: true });
  process.stdout.write(`bundled the CLI into ${path.relative(process.cwd(), BUNDLE_DIR) || '.'}/ in ${Math.round(performance.now() - started)} ms\n`);
}
