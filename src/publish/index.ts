// `stigmer-dist publish`: every publisher plans first (reads only), then the writes run in order. When any
// plan fails (a conflicting asset, a missing scope found by a read, a missing file) nothing is written.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import type { Product } from '../product/model.ts';
import { createGithubClient, githubApiBase, githubToken } from '../sources/github-api.ts';
import { DEFAULT_HTTP, type HttpOptions } from '../sources/http.ts';
import { Secrets } from '../util/secrets.ts';
import { redactingReporter, type Reporter } from '../util/progress.ts';
import { mapVersion } from '../version.ts';
import { readBuildRecord, releaseFiles } from './dist.ts';
import { releasePublisher } from './release.ts';
import { reposPublisher } from './repos.ts';
import { tapPublisher } from './tap.ts';
import { Skip, type PublishContext, type Publisher, type Write } from './types.ts';
import { wingetPublisher } from './winget.ts';

export const PUBLISHERS: Publisher[] = [
  releasePublisher, // first: the formulae and manifests download its assets
  tapPublisher, // after the release is public
  wingetPublisher, // after the release is public
  reposPublisher, // a local directory, independent of GitHub
];

export interface PublishOptions {
  product: Product;
  version: string;
  /** The build output root (dist/). */
  outRoot: string;
  dryRun: boolean;
  replace: boolean;
  notesFile?: string;
  repoDir?: string;
  tapPullRequest?: boolean;
  /** Limit to these publishers (ids of PUBLISHERS). */
  only?: string[];
  report: Reporter;
  /** Where a dry run prints its requests (stdout). */
  print: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  http?: HttpOptions;
  sourceDateEpoch: number;
}

export interface PublishResult {
  writes: number;
  skipped: { publisher: string; reason: string }[];
}

export async function publish(opts: PublishOptions): Promise<PublishResult> {
  const env = opts.env ?? process.env;
  const secrets = Secrets.fromEnv(env);
  const report = redactingReporter(opts.report, secrets);
  const print = (line: string) => opts.print(secrets.redact(line));
  const known = PUBLISHERS.map((p) => p.id);
  const unknown = (opts.only ?? []).filter((o) => !known.includes(o));
  if (unknown.length) throw new UserError(`unknown publisher${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, { hint: `choose from: ${known.join(', ')}`, exitCode: EXIT.usage });
  const versions = mapVersion(opts.version);
  const distDir = path.resolve(opts.outRoot, versions.semver);
  const record = await readBuildRecord(distDir);
  if (record.version !== versions.semver) {
    throw new UserError(`${distDir}/plan.json is for version ${record.version}, not ${versions.semver}`, { hint: 'rebuild this version', exitCode: EXIT.config });
  }
  if (record.snapshot && !opts.dryRun) {
    throw new UserError(`${distDir} is a snapshot build (stand-in payloads); it cannot be published`, { hint: 'build the release with --from DIR or --from github:OWNER/REPO@TAG, then publish', exitCode: EXIT.config });
  }
  const selected = PUBLISHERS.filter((x) => !opts.only?.length || opts.only.includes(x.id));
  const token = githubToken(env);
  if (!token && !opts.dryRun && selected.some((p) => p.github)) {
    throw new UserError('publishing needs a GitHub token', { hint: 'export GITHUB_TOKEN (or GH_TOKEN) with write access to the release repository and the tap; --dry-run works without one', exitCode: EXIT.usage });
  }
  const notes = opts.notesFile !== undefined ? await readNotes(opts.notesFile) : undefined;
  if (notes !== undefined && secrets.leaks(notes)) throw new UserError(`${opts.notesFile} contains a secret from the environment`, { hint: 'remove the token from the release notes', exitCode: EXIT.config });
  const http = opts.http ?? DEFAULT_HTTP;
  const apiBase = githubApiBase(env);
  const github = createGithubClient({
    baseUrl: apiBase,
    token,
    http,
    secrets,
    warn: (l) => report.warn(l),
    onRequest: opts.dryRun ? (method, url) => print(`${method} ${url}`) : undefined,
  });
  if (opts.dryRun) {
    // Belt and braces: a dry run never sends anything but reads.
    github.hook.wrap('request', async (request, options) => {
      if (options.method !== 'GET' && options.method !== 'HEAD') throw new Error(`internal: dry run attempted ${options.method} ${options.url}`);
      return request(options);
    });
  }
  const ctx: PublishContext = {
    product: opts.product,
    versions,
    distDir,
    record,
    assets: await releaseFiles(distDir, record),
    github,
    apiBase,
    token,
    http,
    dryRun: opts.dryRun,
    replace: opts.replace,
    notes,
    repoDir: opts.repoDir ? path.resolve(opts.repoDir) : undefined,
    tapPullRequest: Boolean(opts.tapPullRequest),
    sourceDateEpoch: opts.sourceDateEpoch,
    env,
    report,
    secrets,
  };

  // Phase 1: plan everything (reads only).
  const planned: { id: string; writes: Write[] }[] = [];
  const skipped: PublishResult['skipped'] = [];
  for (const p of selected) {
    const result = await p.plan(ctx);
    if (result instanceof Skip) {
      skipped.push({ publisher: p.id, reason: result.reason });
      report.info(`${p.id}: skipped: ${result.reason}`);
      continue;
    }
    report.info(`${p.id}: ${result.summary}`);
    planned.push({ id: p.id, writes: result.writes });
  }

  // Phase 2: write, in publisher order.
  let writes = 0;
  for (const { id, writes: list } of planned) {
    for (const w of list) {
      if (opts.dryRun) {
        print(`would ${w.request}`);
      } else {
        report.info(`${id}: ${w.what}`);
        await w.run();
      }
      writes++;
    }
  }
  report.info(
    opts.dryRun
      ? `dry run: ${writes} write${writes === 1 ? '' : 's'} would be made; nothing was changed`
      : writes
        ? `published ${opts.product.meta.name} ${versions.semver}: ${writes} change${writes === 1 ? '' : 's'}`
        : `${opts.product.meta.name} ${versions.semver} is already published; nothing to do`,
  );
  return { writes, skipped };
}

async function readNotes(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read the release notes ${file}: ${(err as Error).message}`, { hint: 'pass an existing file to --notes', exitCode: EXIT.usage });
  }
}
