// The `verify` command: the platforms' own checkers over a built dist/<version>/, reported as one table.
import type { Command } from 'commander';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import type { Product } from '../product/model.ts';
import { createReporter } from '../util/progress.ts';
import { formatVerifyTable, runVerify } from '../verify/index.ts';
import { DEFAULT_DISTROS, DEFAULT_SETTLE_SECONDS, formatInstallTable, parseDistros, runInstallVerify } from '../verify/install/index.ts';
import { reproduce } from '../verify/reproduce.ts';
import { isReadableFile } from '../util/fsx.ts';
import type { SigstoreTrust } from '../verify/sigstore.ts';
import { executeBuild } from './build.ts';
import { DEFAULT_CONFIG, loadConfig, resolveVersion } from './context.ts';
import { mapVersion } from '../version.ts';

export function addVerifyCommand(program: Command, helpText: string): void {
  program
    .command('verify')
    .description(
      'check a build with the platforms\' own tools: dpkg-deb, lintian, rpm -qp, rpmlint, shellcheck (maintainer scripts taken out of the packages, installer scripts), systemd-analyze verify (units as shipped), plistutil, ruby -c, the APT/YUM repository signatures, and osslsigncode verify (Authenticode of every PE in the Windows zips and of every MSI); prints one table and fails if any check fails (a missing tool is a failed check)',
    )
    .option('-c, --config <path>', 'product definition the build was made from', DEFAULT_CONFIG)
    .option('--version <semver>', "version to verify (default: the git tag on HEAD, else the definition's version)")
    .option('-o, --out <dir>', 'output root the build wrote to', 'dist')
    .option('--reproduce', 'instead: rebuild the dist into a temp dir (same plan and SOURCE_DATE_EPOCH, payloads from --snapshot or --from) and report every file that differs')
    .option('--snapshot', 'with --reproduce: the build was a snapshot')
    .option('--from <source>', 'with --reproduce: the payload source the build used')
    .option('--unsigned', 'with --reproduce: the build\'s repositories were unsigned')
    .option('--signing-key <file>', 'with --reproduce: the key the build signed with')
    .option('--authenticode-ca <file>', 'PEM file of the CA the Windows files\' Authenticode signatures must chain to (default for a snapshot: the INSECURE snapshot CA)')
    .option('--unsigned-windows', 'with --reproduce: the build\'s Windows files were not Authenticode-signed')
    .option('--install', 'instead: boot each --distro (mmdebstrap + systemd-nspawn; Linux host, root), add the dist\'s signed APT repository served on loopback, apt-get install the product, and prove every service is active, stays up, runs as the product\'s user and answers its health check; then remove and purge')
    .option('--distro <list>', `with --install: comma-separated ${DEFAULT_DISTROS.join(', ')}, windows (the MSI under wine64); default: the Debian releases, and windows when the build has an MSI`)
    .option('--from-version <semver>', 'with --install and --repo-base: install this published older version first, then upgrade to the build (apt-get upgrade on each Debian release; a MajorUpgrade of the MSI on windows)')
    .option('--repo-base <dir>', 'with --install: the published tree that has --from-version: its APT repository in DIR/apt/, and for windows the MSI of that version directly in DIR, under the release asset name build gives it (release.archiveName with the product as {name}, windows/amd64, that version; a missing one fails the "install <version>" row naming the path)')
    .option('--settle <seconds>', 'with --install: how long every service must stay up without a restart', String(DEFAULT_SETTLE_SECONDS))
    .option('--json', 'with --install: print the rows as JSON instead of a table')
    .option('--sigstore-key <pem>', 'verify SHA256SUMS.sigstore.json offline against this public key (a bundle made with cosign sign-blob --key)')
    .option('--sigstore-trusted-root <file>', 'verify SHA256SUMS.sigstore.json offline against this Sigstore trusted_root.json (keyless; with --sigstore-identity and --sigstore-issuer)')
    .option('--sigstore-identity <san>', 'with --sigstore-trusted-root: the certificate identity that must have signed (e.g. the release workflow URL)')
    .option('--sigstore-issuer <url>', 'with --sigstore-trusted-root: the OIDC issuer', 'https://token.actions.githubusercontent.com')
    .option('--cached-root', 'with --install: boot the Debian roots built once and kept (as the test suite does) instead of roots from today\'s archive; faster for repeated runs, not for a release gate')
    .addHelpText('after', helpText)
    .action(async (opts: VerifyOptions) => {
      const product = loadConfig(opts.config);
      const version = resolveVersion(product, opts.version);
      const dir = path.resolve(opts.out, version);
      if (opts.install) return verifyInstall(opts, product, dir);
      if (opts.fromVersion || opts.repoBase || opts.json || opts.cachedRoot) throw new UserError('--from-version, --repo-base, --json and --cached-root go with --install', { hint: 'add --install', exitCode: EXIT.usage });
      if (opts.reproduce) {
        const report = createReporter();
        const flags = { config: opts.config, snapshot: opts.snapshot, from: opts.from, unsigned: opts.unsigned, signingKey: opts.signingKey, unsignedWindows: opts.unsignedWindows };
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
      if (opts.authenticodeCa && !isReadableFile(opts.authenticodeCa)) throw new UserError(`--authenticode-ca ${opts.authenticodeCa}: cannot read the file`, { hint: 'give the PEM file of the CA the code-signing certificate chains to', exitCode: EXIT.usage });
      if (opts.sigstoreKey && opts.sigstoreTrustedRoot) throw new UserError('--sigstore-key and --sigstore-trusted-root contradict each other', { hint: 'pass one of them', exitCode: EXIT.usage });
      if (opts.sigstoreTrustedRoot && !opts.sigstoreIdentity) throw new UserError('--sigstore-trusted-root needs --sigstore-identity (the signer the certificate must name)', { exitCode: EXIT.usage });
      const sigstore: SigstoreTrust | undefined = opts.sigstoreKey
        ? { kind: 'public-key', keyFile: opts.sigstoreKey }
        : opts.sigstoreTrustedRoot
          ? { kind: 'trusted-root', rootFile: opts.sigstoreTrustedRoot, identity: opts.sigstoreIdentity!, issuer: opts.sigstoreIssuer }
          : undefined;
      const rows = await runVerify({ dir, product, report: createReporter(), authenticodeCa: opts.authenticodeCa, trust: { sigstore } });
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

interface VerifyOptions {
  config?: string;
  version?: string;
  out: string;
  reproduce?: boolean;
  snapshot?: boolean;
  from?: string;
  unsigned?: boolean;
  signingKey?: string;
  unsignedWindows?: boolean;
  authenticodeCa?: string;
  install?: boolean;
  distro?: string;
  fromVersion?: string;
  repoBase?: string;
  settle: string;
  json?: boolean;
  sigstoreKey?: string;
  sigstoreTrustedRoot?: string;
  sigstoreIdentity?: string;
  sigstoreIssuer: string;
  cachedRoot?: boolean;
}

async function verifyInstall(opts: VerifyOptions, product: Product, dir: string): Promise<void> {
  if (opts.reproduce) throw new UserError('--install and --reproduce are separate runs', { hint: 'run verify --reproduce and verify --install one after the other', exitCode: EXIT.usage });
  if (Boolean(opts.fromVersion) !== Boolean(opts.repoBase)) {
    throw new UserError('--from-version and --repo-base go together', { hint: 'give the older version and the published tree that holds it (the folder with apt/, and its MSI for windows)', exitCode: EXIT.usage });
  }
  // A malformed version is a usage error now, not a failed row after the roots have booted.
  if (opts.fromVersion) mapVersion(opts.fromVersion, { source: '--from-version' });
  const settleSeconds = Number(opts.settle);
  if (!Number.isInteger(settleSeconds) || settleSeconds < 0) throw new UserError(`--settle: "${opts.settle}" is not a whole number of seconds`, { hint: 'e.g. --settle 10', exitCode: EXIT.usage });
  const report = createReporter({ stream: process.stderr });
  const { rows, logDir } = await runInstallVerify({
    dir,
    product,
    distros: opts.distro === undefined ? undefined : parseDistros(opts.distro),
    from: opts.fromVersion ? { version: opts.fromVersion, repoBase: path.resolve(opts.repoBase!) } : undefined,
    settleSeconds,
    // A root no older than today's archive: a release gate tests against what users get today.
    rootDate: opts.cachedRoot ? undefined : new Date().toISOString().slice(0, 10),
    report,
  });
  report.done();
  process.stdout.write((opts.json ? JSON.stringify(rows, null, 2) : formatInstallTable(rows)) + '\n');
  const failed = rows.filter((r) => r.result === 'FAIL');
  if (failed.length) {
    throw new UserError(`verify --install failed: ${failed.map((r) => `${r.platform} ${r.step}`).join(', ')}`, { hint: `the failing steps' logs are in ${logDir}`, exitCode: EXIT.failure });
  }
  if (!opts.json) process.stdout.write(`all ${rows.length} install steps passed\n`);
}
