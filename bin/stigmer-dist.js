#!/usr/bin/env node
// Entry point: Node >= 22.18 runs the TypeScript sources directly (type stripping).
import module from 'node:module';

// Cache compiled (and type-stripped) modules on disk: start-up drops from ~1 s to a few hundred ms.
module.enableCompileCache?.();
// For the benchmark: this process's own peak memory, apart from the external tools it runs.
if (process.env.STIGMER_DIST_REPORT_RSS) {
  process.on('exit', () => process.stderr.write(`stigmer-dist max RSS: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB\n`));
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
