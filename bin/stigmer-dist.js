#!/usr/bin/env node
// Entry point: Node >= 22.18 runs the TypeScript sources directly (type stripping).
import module from 'node:module';

// Cache compiled (and type-stripped) modules on disk: start-up drops from ~1 s to a few hundred ms.
module.enableCompileCache?.();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
