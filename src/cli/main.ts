// The stigmer-dist command line. The only place that maps errors to exit codes.
import { Command, CommanderError } from 'commander';
import { EXIT, UserError } from '../errors.ts';
import { formatPlanTable } from '../plan/plan.ts';
import type { BuildFlags, CommonOptions } from './build.ts';
import { TARGETS } from '../targets/registry.ts';
import { installSignalHandlers, interruption } from '../util/cleanup.ts';
import { redact } from '../util/secrets.ts';
import { SIGNING_KEY_ENV, SIGNING_PASSPHRASE_ENV } from '../signing/gpg.ts';
import { AUTHENTICODE_PASSWORD_ENV, AUTHENTICODE_PKCS12_ENV, AUTHENTICODE_TIMESTAMP_URL_ENV } from '../signing/authenticode.ts';
import { DEFAULT_CONFIG, loadConfig, planFor, resolveVersion } from './context.ts';
import { addRenderCommand } from './render.ts';

// Commands whose modules load only when used: publishing and verification pull in the GitHub client, the
// downloader and the checkers, which plan/build/render never need (start-up time of `plan`).
const CORE_COMMANDS = ['plan', 'build', 'render', 'compress'];

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  the work failed (a build step, a check, render --check found drift)
  2  bad command line (unknown option, bad --version, unknown platform or target)
  3  invalid input file (product definition, payload folder, checksums file)
  4  a release build needs an external tool that is not installed
  5  a download or publish failed after its retries`;

const collect = (value: string, prev: string[] = []) => [...prev, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

function common(cmd: Command): Command {
  return cmd
    .option('-c, --config <path>', 'product definition', DEFAULT_CONFIG)
    .option('--version <semver>', "version to build (default: the git tag on HEAD, else the definition's version)")
    .option('-p, --platform <platform>', 'limit to platforms (repeat or comma-separate)', collect)
    .option('-t, --target <target>', `limit to targets: ${TARGETS.map((t) => t.id).join(', ')}`, collect);
}

export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('stigmer-dist')
    .description('Build native packages and service definitions for a multi-service product from one definition.')
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError()
    .exitOverride();

  common(program.command('plan'))
    .description('show what a build would produce (pure: writes nothing)')
    .option('--snapshot', 'plan a snapshot build (stand-in payloads; targets with missing tools are skipped)')
    .option('--json', 'print the plan as JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((opts: CommonOptions & { json?: boolean }) => {
      const { plan } = planFor(opts);
      process.stdout.write(opts.json ? JSON.stringify(plan, null, 2) + '\n' : formatPlanTable(plan) + '\n');
    });

  common(program.command('build'))
    .description('build every planned artifact into <out>/<version>/')
    .option('--snapshot', 'build from stand-in payloads the project compiles itself; skip targets whose tools are missing')
    .option('--from <source>', 'build from real binaries: a folder laid out as DIR/<platform>/<binary>[.exe], or github:OWNER/REPO@TAG (that release\'s assets, matched by release.payloadAsset)')
    .option('--offline', 'use only the download cache (no network); fails naming what is missing')
    .option('-o, --out <dir>', 'output root', 'dist')
    .option('--signing-key <file>', `secret key signing the APT/YUM repositories (default: $${SIGNING_KEY_ENV}, a path or the armored key; passphrase: $${SIGNING_PASSPHRASE_ENV})`)
    .option('--unsigned', 'build an unsigned release: no SHA256SUMS.asc, unsigned APT/YUM repositories (a release build without a key refuses otherwise; a snapshot signs with a throwaway key)')
    .option(
      '--unsigned-windows',
      `ship the Windows files (.exe, MSI) without Authenticode signatures; a release build refuses without a code-signing key: $${AUTHENTICODE_PKCS12_ENV} (a PKCS#12 .p12/.pfx path, or the file base64-encoded) and $${AUTHENTICODE_PASSWORD_ENV} (its password); a snapshot signs with the committed INSECURE pair`,
    )
    .option('--authenticode-timestamp-url <url>', `RFC 3161 time-stamping service for the Authenticode signatures (default: $${AUTHENTICODE_TIMESTAMP_URL_ENV}, else release.authenticode.timestampUrl; off when neither is set; a time-stamp makes rebuilds differ)`)
    .option('--repo-base <dir>', 'the published repository tree (apt/, yum/) whose packages stay installable next to this build\'s')
    .option('--repo-url <url>', 'URL the repository tree is served at, for the client .list/.repo files (default: release.repository.url)')
    .option('--local-only', 'split build: only the local artifacts (archives, packages, MSI) of the one --platform, with a partial plan.json for --join')
    .option('--local-targets <target>', 'split build, with --local-only: build only these targets\' local artifacts of the platform (one part of it; repeat or comma-separate); --join takes every part, each local artifact in exactly one', collect)
    .option('--join <dirs...>', 'split build: the global artifacts (checksums, formulae, manifests, repositories, installers) over the <out>/<version>/ folders of --local-only builds')
    .option('--xz-cache <dir>', "keep the Linux packages' compressed payload blocks in DIR and reuse those found there (each checked against its payload by decompression): across builds, or filled by `compress --shard` jobs")
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (opts: BuildFlags) => {
      const { executeBuild } = await import('./build.ts');
      await executeBuild(opts);
    });

  common(program.command('compress'))
    .description("split release: compress one share (--shard I/N) of one --platform's package payloads into --xz-cache, for the package job's `build --xz-cache`")
    .option('--snapshot', 'compress the stand-in payloads')
    .option('--from <source>', 'the payloads, as for build --from')
    .option('--offline', 'use only the download cache (no network)')
    .requiredOption('--xz-cache <dir>', 'folder the compressed blocks are written to')
    .option('--shard <i/n>', 'which share of the blocks: the I-th of N jobs (the same N for every job of the platform)', '1/1')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (opts: import('./compress.ts').CompressFlags) => {
      const { executeCompress } = await import('./compress.ts');
      await executeCompress(opts);
    });

  addRenderCommand(program, EXIT_CODES_HELP);

  const command = argv.find((a) => !a.startsWith('-'));
  if (!command || !CORE_COMMANDS.includes(command)) {
    (await import('./publish.ts')).addPublishCommand(program, EXIT_CODES_HELP);
    (await import('./verify.ts')).addVerifyCommand(program, EXIT_CODES_HELP);
  }

  return program;
}

export async function main(argv: string[]): Promise<number> {
  installSignalHandlers();
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    // Interrupted: the signal handler stops the children, cleans up and exits 128+signal; the errors of the
    // work it cut short are not the story.
    if (interruption()) return EXIT.failure;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    // Every message leaves through the one redaction path: no token, key or passphrase is ever printed.
    if (err instanceof UserError) {
      process.stderr.write(redact(`error: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`));
      return err.exitCode;
    }
    process.stderr.write(redact(`internal error: ${(err as Error).stack ?? String(err)}\n`));
    return EXIT.failure;
  }
}

