// The stigmer-dist command line. The only place that maps errors to exit codes.
import { Command, CommanderError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { makePlan, formatPlanTable } from '../plan/plan.ts';
import type { BuildFlags, CommonOptions } from './build.ts';
import { TARGETS } from '../targets/registry.ts';
import { CHECKSUMS_FILE, parseChecksums } from '../targets/checksums/index.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { installSignalHandlers, interruption } from '../util/cleanup.ts';
import { redact } from '../util/secrets.ts';
import { generatedNotice } from '../render/templates.ts';
import { definitionName } from '../render/envfile.ts';
import type { Product } from '../product/model.ts';
import { SIGNING_KEY_ENV, SIGNING_PASSPHRASE_ENV } from '../signing/gpg.ts';
import { DEFAULT_CONFIG, loadConfig, planFor, resolveVersion } from './context.ts';

// Commands whose modules load only when used: publishing and verification pull in the GitHub client, the
// downloader and the checkers, which plan/build/render never need (start-up time of `plan`).
const CORE_COMMANDS = ['plan', 'build', 'render'];

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

function checksumsLookup(file: string): (asset: string) => string {
  if (!existsSync(file)) {
    throw new UserError(`no checksums file at ${file}`, { hint: 'run `stigmer-dist build` first, or pass --checksums PATH to a release\'s SHA256SUMS', exitCode: EXIT.config });
  }
  const sums = parseChecksums(readFileSync(file, 'utf8'), file);
  return (asset) => {
    const d = sums.get(asset);
    if (!d) throw new UserError(`${file} has no entry for ${asset}`, { hint: 'render with the SHA256SUMS of the same version and platforms', exitCode: EXIT.config });
    return d;
  };
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
    .option('--repo-base <dir>', 'the published repository tree (apt/, yum/) whose packages stay installable next to this build\'s')
    .option('--repo-url <url>', 'URL the repository tree is served at, for the client .list/.repo files (default: release.repository.url)')
    .option('--local-only', 'split build: only the local artifacts (archives, packages, MSI) of the one --platform, with a partial plan.json for --join')
    .option('--join <dirs...>', 'split build: the global artifacts (checksums, formulae, manifests, repositories, installers) over the <out>/<version>/ folders of --local-only builds')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (opts: BuildFlags) => {
      const { executeBuild } = await import('./build.ts');
      await executeBuild(opts);
    });

  program
    .command('render')
    .description('render the text artifacts without building: the Homebrew tap formulae into --tap-dir, and with --out every text artifact')
    .option('-c, --config <path>', 'product definition', DEFAULT_CONFIG)
    .option('--version <semver>', "version (default: the git tag on HEAD, else the definition's version)")
    .option('--tap-dir <dir>', 'the committed tap formulae', 'formula')
    .option('--checksums <file>', `release ${CHECKSUMS_FILE} whose digests the formulae pin (default: dist/<version>/${CHECKSUMS_FILE}, else <tap-dir>/${CHECKSUMS_FILE})`)
    .option('-o, --out <dir>', 'also write every text artifact (units, plists, env file, formulae) below this folder')
    .option('--check', 'write nothing; fail when <tap-dir> differs from what the definition renders')
    .option('--release-key-fingerprint <fpr>', 'with --out: the key install.sh pins for SHA256SUMS.asc (a build pins its signing key; without this, install.sh is rendered as for an --unsigned release)')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (opts: { config?: string; version?: string; tapDir: string; checksums?: string; out?: string; check?: boolean; releaseKeyFingerprint?: string }) => {
      const product = loadConfig(opts.config);
      if (!opts.check) await refuseForeignTap(opts.tapDir, product);
      const version = resolveVersion(product, opts.version);
      const plan = makePlan(product, { version, snapshot: false });
      const sumsFile =
        opts.checksums ??
        (!opts.check && existsSync(path.join('dist', version, CHECKSUMS_FILE)) ? path.join('dist', version, CHECKSUMS_FILE) : path.join(opts.tapDir, CHECKSUMS_FILE));
      const releaseKeyFingerprint = opts.releaseKeyFingerprint?.replace(/\s+/g, '').toUpperCase();
      if (releaseKeyFingerprint !== undefined && !/^[0-9A-F]{40}$/.test(releaseKeyFingerprint)) {
        throw new UserError(`--release-key-fingerprint ${opts.releaseKeyFingerprint}: not an OpenPGP v4 fingerprint`, { hint: 'pass the 40 hex digits `gpg --fingerprint` prints for the release key', exitCode: EXIT.usage });
      }
      const ctx = { product, versions: plan.versions, platforms: plan.platforms, snapshot: false, digestOf: checksumsLookup(sumsFile), releaseKeyFingerprint };
      const rendered = new Map<string, string>();
      for (const t of TARGETS) for (const [p, text] of t.render?.(ctx) ?? []) rendered.set(p, text);
      const formulae = new Map([...rendered].filter(([p]) => p.startsWith('formula/')).map(([p, text]) => [path.basename(p), text]));
      formulae.set(CHECKSUMS_FILE, await readFile(sumsFile, 'utf8'));
      if (opts.check) {
        const drift = await tapDrift(opts.tapDir, formulae);
        if (drift.length) throw new UserError(`${opts.tapDir}/ is out of date with ${path.relative(process.cwd(), product.file)}:\n${drift.map((d) => `  ${d}`).join('\n')}`, { hint: 'run `npx stigmer-dist render` and commit the result' });
        process.stdout.write(`${opts.tapDir}/ matches the definition (${formulae.size - 1} formulae)\n`);
        return;
      }
      await mkdir(opts.tapDir, { recursive: true });
      for (const [name, text] of formulae) await writeFileAtomic(path.join(opts.tapDir, name), text);
      if (opts.out) for (const [p, text] of rendered) await writeFileAtomic(path.join(opts.out, p), text);
      process.stdout.write(`rendered ${formulae.size - 1} formulae into ${opts.tapDir}/${opts.out ? ` and ${rendered.size} text artifacts into ${opts.out}/` : ''}\n`);
    });

  const command = argv.find((a) => !a.startsWith('-'));
  if (!command || !CORE_COMMANDS.includes(command)) {
    (await import('./publish.ts')).addPublishCommand(program, EXIT_CODES_HELP);
    (await import('./verify.ts')).addVerifyCommand(program, EXIT_CODES_HELP);
  }

  return program;
}

/**
 * A tap directory holds one product's formulae (and that product's SHA256SUMS): refuse to write into one that
 * holds a formula not generated from this definition (another product's, or a hand-written one).
 */
async function refuseForeignTap(dir: string, product: Product): Promise<void> {
  if (!existsSync(dir)) return;
  const ours = `# ${generatedNotice(definitionName(product))}`;
  const foreign: string[] = [];
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.rb')).sort()) {
    const first = (await readFile(path.join(dir, f), 'utf8')).split('\n', 1)[0]!;
    if (first !== ours) foreign.push(`${f} (${first.startsWith('# Generated by stigmer-dist from ') ? `from ${first.slice(33).split('. ')[0]}` : 'not generated by stigmer-dist'})`);
  }
  if (foreign.length) {
    throw new UserError(`${dir}/ holds formulae that are not ${product.meta.name}'s: ${foreign.join(', ')}; a tap directory belongs to one product`, {
      hint: `render ${product.meta.name} into its own directory with --tap-dir (e.g. --tap-dir ${path.join(path.dirname(dir), `${product.meta.name}-formula`)}), or remove those files`,
      exitCode: EXIT.usage,
    });
  }
}

async function tapDrift(dir: string, expected: Map<string, string>): Promise<string[]> {
  const drift: string[] = [];
  const present = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith('.rb')) : [];
  for (const [name, text] of expected) {
    const file = path.join(dir, name);
    if (!existsSync(file)) drift.push(`${name}: missing`);
    else if ((await readFile(file, 'utf8')) !== text) drift.push(`${name}: differs`);
  }
  for (const f of present) if (!expected.has(f)) drift.push(`${f}: not rendered from the definition (remove it)`);
  return drift;
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

