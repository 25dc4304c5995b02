// The `publish` command: GitHub release, Homebrew tap, winget pull request and APT/YUM repositories from what
// `build` left in dist/<version>/.
import type { Command } from 'commander';
import { UserError } from '../errors.ts';
import { publish, PUBLISHERS } from '../publish/index.ts';
import { createReporter } from '../util/progress.ts';
import { Secrets } from '../util/secrets.ts';
import { DEFAULT_CONFIG, loadConfig, resolveSourceDateEpoch, resolveVersion } from './context.ts';

interface PublishFlags {
  config?: string;
  version?: string;
  out: string;
  dryRun?: boolean;
  replace?: boolean;
  notes?: string;
  repoDir?: string;
  tapPr?: boolean;
  only?: string[];
}

const collect = (value: string, prev: string[] = []) => [...prev, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

export function addPublishCommand(program: Command, helpText: string): void {
  program
    .command('publish')
    .description('publish a build: upsert the GitHub release and upload its artifacts, update the Homebrew tap, open the winget pull request, merge the APT/YUM repositories into --repo-dir (re-runnable: it finishes what a previous run left)')
    .option('-c, --config <path>', 'product definition', DEFAULT_CONFIG)
    .option('--version <semver>', "version to publish (default: the git tag on HEAD, else the definition's version)")
    .option('-o, --out <dir>', 'output root the build wrote to', 'dist')
    .option('--dry-run', 'read what is published and print every write that would be made; change nothing')
    .option('--replace', 'overwrite release assets that exist with different contents (never packages in --repo-dir)')
    .option('--notes <file>', 'release notes (default: a list of the artifacts and their checksums)')
    .option('--repo-dir <dir>', 'publish the APT/YUM repositories into this directory (merged with what it holds)')
    .option('--tap-pr', 'update the tap through a pull request instead of a commit on its default branch')
    .option('--only <publishers>', `limit to: ${PUBLISHERS.map((p) => p.id).join(', ')}`, collect)
    .addHelpText('after', `\nEnvironment:\n  GITHUB_TOKEN / GH_TOKEN   token with write access to the release repository, the tap and the winget fork\n  STIGMER_DIST_GITHUB_API   GitHub API base (default https://api.github.com)\n  HTTPS_PROXY / NO_PROXY    proxy settings${helpText}`)
    .action(async (opts: PublishFlags) => {
      const product = loadConfig(opts.config);
      const report = createReporter();
      try {
        await publish({
          product,
          version: resolveVersion(product, opts.version),
          outRoot: opts.out,
          dryRun: Boolean(opts.dryRun),
          replace: Boolean(opts.replace),
          notesFile: opts.notes,
          repoDir: opts.repoDir,
          tapPullRequest: Boolean(opts.tapPr),
          only: opts.only,
          report,
          print: (line) => process.stdout.write(`${line}\n`),
          sourceDateEpoch: resolveSourceDateEpoch(product),
        });
      } catch (err) {
        // Last line of defence: no error leaves this command with a token in it.
        const secrets = Secrets.fromEnv();
        if (err instanceof UserError) throw new UserError(secrets.redact(err.message), { hint: err.hint && secrets.redact(err.hint), exitCode: err.exitCode });
        throw new Error(secrets.redact((err as Error).stack ?? String(err)));
      } finally {
        report.done();
      }
    });
}
