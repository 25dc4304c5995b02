#!/usr/bin/env node
// Entry point: the bundled CLI (.bundle/cli/, `npm run bundle`) while it is current, else the TypeScript sources,
// which Node >= 22.18 runs directly (type stripping). STIGMER_DIST_SOURCES=1 always runs the sources. `plan` runs
// the bundle's classic script with its V8 code cache (bin/bundle-state.js, loadPlanScript), every other command
// the ESM bundle, whose build, publish and verify code imports packages the classic script cannot hold.
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { BUNDLE_DIR, BUNDLE_ENTRY, bundleIsCurrent, loadPlanScript } from './bundle-state.js';

const argv = process.argv.slice(2);
// For the benchmark: this process's own peak memory, apart from the external tools it runs.
if (process.env.STIGMER_DIST_REPORT_RSS) {
  process.on('exit', () => process.stderr.write(`stigmer-dist max RSS: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB\n`));
}
const useBundle = !process.env.STIGMER_DIST_SOURCES && bundleIsCurrent();
let main;
if (useBundle && argv[0] === 'plan') {
  ({ main } = loadPlanScript(BUNDLE_DIR));
} else {
  // Cache compiled (and type-stripped) modules on disk: start-up drops from ~1 s to a few hundred ms.
  module.enableCompileCache?.();
  ({ main } = await import(useBundle ? pathToFileURL(BUNDLE_ENTRY).href : '../src/cli/main.ts'));
}
process.exitCode = await main(argv);
