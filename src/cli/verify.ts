// The `verify` command: the platforms' own checkers over a built dist/<version>/, reported as one table.
import type { Command } from 'commander';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { createReporter } from '../util/progress.ts';
import { formatVerifyTable, runVerify } from '../verify/index.ts';
import { DEFAULT_CONFIG, loadConfig, resolveVersion } from './context.ts';

export function addVerifyCommand(program: Command, helpText: string): void {
  program
    .command('verify')
    .description(
      'check a build with the platforms\' own tools: dpkg-deb, lintian, rpm -qp, rpmlint, shellcheck (maintainer scripts taken out of the packages, installer scripts), systemd-analyze verify (units as shipped), plistutil, ruby -c, and the APT/YUM repository signatures; prints one table and fails if any check fails (a missing tool is a failed check)',
    )
    .option('-c, --config <path>', 'product definition the build was made from', DEFAULT_CONFIG)
    .option('--version <semver>', "version to verify (default: the git tag on HEAD, else the definition's version)")
    .option('-o, --out <dir>', 'output root the build wrote to', 'dist')
    .addHelpText('after', helpText)
    .action(async (opts: { config?: string; version?: string; out: string }) => {
      const product = loadConfig(opts.config);
      const version = resolveVersion(product, opts.version);
      const dir = path.resolve(opts.out, version);
      const rows = await runVerify({ dir, product, report: createReporter() });
      process.stdout.write(formatVerifyTable(rows) + '\n');
      const failed = rows.filter((r) => !r.ok);
      if (failed.length) {
        throw new UserError(`${failed.length} of ${rows.length} checks failed for ${path.relative(process.cwd(), dir) || dir}`, {
          hint: 'see the FAIL rows above; a missing tool names its install command',
          exitCode: EXIT.failure,
        });
      }
      process.stdout.write(`all ${rows.length} checks passed\n`);
    });
}
