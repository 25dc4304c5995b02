// The `verify` command: the platforms' own checkers over a built dist/<version>/, reported as one table.
import type { Command } from 'commander';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { createReporter } from '../util/progress.ts';
import { formatVerifyTable, runVerify } from '../verify/index.ts';
import { reproduce } from '../verify/reproduce.ts';
import { executeBuild } from './build.ts';
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
    .option('--reproduce', 'instead: rebuild the dist into a temp dir (same plan and SOURCE_DATE_EPOCH, payloads from --snapshot or --from) and report every file that differs')
    .option('--snapshot', 'with --reproduce: the build was a snapshot')
    .option('--from <source>', 'with --reproduce: the payload source the build used')
    .option('--unsigned', 'with --reproduce: the build\'s repositories were unsigned')
    .option('--signing-key <file>', 'with --reproduce: the key the build signed with')
    .addHelpText('after', helpText)
    .action(async (opts: { config?: string; version?: string; out: string; reproduce?: boolean; snapshot?: boolean; from?: string; unsigned?: boolean; signingKey?: string }) => {
      const product = loadConfig(opts.config);
      const version = resolveVersion(product, opts.version);
      const dir = path.resolve(opts.out, version);
      if (opts.reproduce) {
        const report = createReporter();
        const flags = { config: opts.config, snapshot: opts.snapshot, from: opts.from, unsigned: opts.unsigned, signingKey: opts.signingKey };
        const rows = await reproduce(dir, (r) =>
          executeBuild({ ...flags, version: r.version, platform: r.platforms, target: r.targets, out: r.out }, { sourceDateEpoch: r.sourceDateEpoch, report }).then(() => undefined),
        );
        const width = Math.max(...rows.map((r) => r.file.length), 4);
        process.stdout.write(['FILE'.padEnd(width) + '  RESULT', ...rows.map((r) => `${r.file.padEnd(width)}  ${r.result}`)].join('\n') + '\n');
        const bad = rows.filter((r) => r.result !== 'same');
        if (bad.length) throw new UserError(`${bad.length} of ${rows.length} files did not reproduce`, { hint: 'see the rows above: an artifact that differs depends on something outside the definition, payloads and SOURCE_DATE_EPOCH' });
        process.stdout.write(`all ${rows.length} files reproduced byte for byte\n`);
        return;
      }
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
