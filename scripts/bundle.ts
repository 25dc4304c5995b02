// Bundles the CLI into .bundle/cli/ (one ESM file for what `plan` loads, plus chunks for the commands loaded on
// use): Node then reads a few files instead of resolving and compiling ~300 modules (zod, yaml, src/), which
// was most of `plan --json`'s start-up time. bin/stigmer-dist.js runs it only while it is current
// (bin/bundle-state.js); tests import the sources.
//
//   node scripts/bundle.ts            (re)build the bundle (npm run bundle; npm's `prepare`)
//   node scripts/bundle.ts --if-stale  only when it is missing or out of date (scripts/setup.sh)
import type { Plugin } from 'esbuild';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE_DIR, BUNDLE_RECORD, ROOT, bundleIsCurrent } from '../bin/bundle-state.js';

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
    plugins: [sourceLocationPlugin(outDir), externalPackagesPlugin()],
    metafile: true,
    logLevel: 'warning',
  });
  const inputs: Record<string, [number, number]> = {};
  for (const file of Object.keys(result.metafile.inputs).sort()) {
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
 */
function sourceLocationPlugin(outDir: string): Plugin {
  return {
    name: 'source-location',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const rel = path.relative(outDir, args.path).split(path.sep).join('/');
        return { contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'ts' };
      });
    },
  };
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
