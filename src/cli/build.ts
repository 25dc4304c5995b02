// The `build` command's work, shared with `verify --reproduce` (which rebuilds a finished dist to compare).
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { runBuild, type BuildResult } from '../build/build.ts';
import { SIGNING_KEY_ENV } from '../signing/gpg.ts';
import { resolvePayloads } from '../sources/index.ts';
import { DigestCache } from '../util/digest-cache.ts';
import { smokeCheck } from '../sources/smoke.ts';
import { createReporter, type Reporter } from '../util/progress.ts';
import { cacheDir, planFor, resolveSourceDateEpoch, type CommonOptions } from './context.ts';
import { repoSession, type RepoFlags } from './repo.ts';

export type { CommonOptions } from './context.ts';

export interface BuildFlags extends CommonOptions, RepoFlags {
  from?: string;
  offline?: boolean;
  out: string;
}

export async function executeBuild(opts: BuildFlags, overrides: { sourceDateEpoch?: number; report?: Reporter } = {}): Promise<BuildResult> {
  if (Boolean(opts.snapshot) === Boolean(opts.from)) {
    throw new UserError('choose exactly one payload source: --snapshot (stand-ins) or --from DIR (real binaries)', { exitCode: EXIT.usage });
  }
  const report = overrides.report ?? createReporter();
  const { product, plan } = planFor(opts);
  report.info(`${product.meta.name} ${plan.version}: ${plan.artifacts.length} artifacts planned (${plan.snapshot ? 'snapshot, stand-in payloads' : `payloads from ${opts.from}`})`);
  const payloads = await resolvePayloads({ product, platforms: plan.platforms, version: plan.version, from: opts.from, snapshot: plan.snapshot, offline: Boolean(opts.offline), cacheDir: cacheDir(), report });
  await smokeCheck(product, payloads, { report }); // never package a binary that cannot start
  const sourceDateEpoch = overrides.sourceDateEpoch ?? resolveSourceDateEpoch(product);
  const repo = await repoSession(product, plan, opts, report, sourceDateEpoch);
  const result = await runBuild({
    product,
    plan,
    outRoot: opts.out,
    payloads,
    sourceDateEpoch,
    report,
    repo: repo.options,
    digests: new DigestCache(cacheDir()),
    signingKeySupplied: Boolean(opts.signingKey || process.env[SIGNING_KEY_ENV]) && !opts.unsigned,
  }).finally(() => repo.close());
  report.info(`built ${result.artifacts.length} artifacts in ${path.relative(process.cwd(), result.outDir) || result.outDir}${result.skipped.length ? ` (${result.skipped.length} target${result.skipped.length > 1 ? 's' : ''} skipped)` : ''}`);
  return result;
}
