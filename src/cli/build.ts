// The `build` command's work, shared with `verify --reproduce` (which rebuilds a finished dist to compare).
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { runBuild, type BuildResult } from '../build/build.ts';
import { readPartials } from '../build/split.ts';
import type { Plan } from '../plan/plan.ts';
import type { Platform } from '../product/model.ts';
import { CHECKSUMS_SIGNATURE_TARGET } from '../targets/checksums-signature/index.ts';
import { SIGNING_KEY_ENV } from '../signing/gpg.ts';
import { resolvePayloads } from '../sources/index.ts';
import { DigestCache } from '../util/digest-cache.ts';
import { smokeCheck } from '../sources/smoke.ts';
import { createReporter, type Reporter } from '../util/progress.ts';
import { cacheDir } from '../util/cache-dir.ts';
import { planFor, resolveSourceDateEpoch, type CommonOptions } from './context.ts';
import { repoSession, type RepoFlags } from './repo.ts';
import type { AuthenticodeRequest } from '../build/windows-signing.ts';

export type { CommonOptions } from './context.ts';

export interface BuildFlags extends CommonOptions, RepoFlags {
  from?: string;
  offline?: boolean;
  out: string;
  /** Build only the local artifacts of the one --platform (a partial build for --join). */
  localOnly?: boolean;
  /** With --local-only: build only these targets' local artifacts of the platform (one part of it, for --join). */
  localTargets?: string[];
  /** Folders of --local-only builds: build the global artifacts over their local ones. */
  join?: string[];
  /** Ship the Windows files without Authenticode signatures (a release build without a code-signing key refuses otherwise). */
  unsignedWindows?: boolean;
  /** RFC 3161 time-stamping service for the Authenticode signatures (default: $STIGMER_DIST_AUTHENTICODE_TIMESTAMP_URL). */
  authenticodeTimestampUrl?: string;
  /** A kept xz content cache (compressed payload blocks reused across builds or made by `compress` jobs). */
  xzCache?: string;
}

export async function executeBuild(opts: BuildFlags, overrides: { sourceDateEpoch?: number; report?: Reporter } = {}): Promise<BuildResult> {
  if (opts.join) return executeJoin(opts, overrides.report ?? createReporter());
  if (opts.localOnly) {
    if (opts.platform?.length !== 1) throw new UserError('--local-only builds one platform: pass exactly one --platform', { exitCode: EXIT.usage });
  } else if (opts.localTargets) {
    throw new UserError('--local-targets selects part of a --local-only build: add --local-only and one --platform', { exitCode: EXIT.usage });
  }
  if (Boolean(opts.snapshot) === Boolean(opts.from)) {
    throw new UserError('choose exactly one payload source: --snapshot (stand-ins) or --from DIR (real binaries)', { exitCode: EXIT.usage });
  }
  const report = overrides.report ?? createReporter();
  // A --local-only run plans every platform (the same plan and ids as the join) and builds one.
  const localOnly = opts.localOnly ? (opts.platform![0] as Platform) : undefined;
  const { product, plan: planned } = planFor(localOnly ? { ...opts, platform: undefined } : opts);
  const plan = withoutUnsignedTargets(planned, opts);
  if (localOnly && !plan.platforms.includes(localOnly)) throw new UserError(`platform not in the product definition: ${localOnly}`, { hint: `choose from: ${plan.platforms.join(', ')}`, exitCode: EXIT.usage });
  const localTargets = localOnly && opts.localTargets ? partTargets(plan, localOnly, opts.localTargets) : undefined;
  report.info(`${product.meta.name} ${plan.version}: ${plan.artifacts.length} artifacts planned (${plan.snapshot ? 'snapshot, stand-in payloads' : `payloads from ${opts.from}`})`);
  const payloads = await resolvePayloads({ product, platforms: localOnly ? [localOnly] : plan.platforms, version: plan.version, from: opts.from, snapshot: plan.snapshot, offline: Boolean(opts.offline), cacheDir: cacheDir(), report });
  const sourceDateEpoch = overrides.sourceDateEpoch ?? resolveSourceDateEpoch(product);
  // A --local-only run makes no OpenPGP signature and pins no key (those, the RPMs' too, are made in the join): it
  // needs no signing key, which the release workflow gives only to the join.
  const building = localOnly ? { ...plan, targets: [] } : plan;
  const repo = await repoSession(product, building, opts, report, sourceDateEpoch);
  const result = await runBuild({
    authenticode: authenticodeRequest(opts),
    product,
    plan,
    outRoot: opts.out,
    payloads,
    sourceDateEpoch,
    report,
    repo: repo.options,
    digests: new DigestCache(cacheDir()),
    checkPayloads: () => smokeCheck(product, payloads, { report }), // never package a binary that cannot start
    signingKeySupplied: Boolean(opts.signingKey || process.env[SIGNING_KEY_ENV]) && !opts.unsigned,
    ...(opts.xzCache ? { xzCache: path.resolve(opts.xzCache) } : {}),
    ...(localOnly ? { split: { localOnly, ...(localTargets ? { targets: localTargets } : {}) } } : {}),
  }).finally(() => repo.close());
  report.info(`built ${result.artifacts.length} artifacts in ${path.relative(process.cwd(), result.outDir) || result.outDir}${result.skipped.length ? ` (${result.skipped.length} target${result.skipped.length > 1 ? 's' : ''} skipped)` : ''}`);
  return result;
}

/** `build --join DIR...`: the global artifacts over the local ones of --local-only builds (no payloads needed). */
async function executeJoin(opts: BuildFlags, report: Reporter): Promise<BuildResult> {
  if (opts.from || opts.localOnly || opts.xzCache) throw new UserError('--join builds from the folders it joins: drop --from, --local-only and --xz-cache', { exitCode: EXIT.usage });
  const join = await readPartials(opts.join!);
  const first = join.parts[0]!.manifest;
  // The plan of the partial builds: every platform, their targets and snapshot mode.
  const { product, plan: planned } = planFor({ ...opts, platform: first.platforms, target: first.targets, version: first.version, snapshot: first.snapshot });
  const plan = withoutUnsignedTargets(planned, opts);
  report.info(`${product.meta.name} ${plan.version}: joining ${join.parts.map(({ manifest: { partial } }) => partial.platform + (partial.targets ? ` (${partial.targets.join(',')})` : '')).join(', ')}`);
  const repo = await repoSession(product, plan, opts, report, join.sourceDateEpoch);
  const result = await runBuild({
    authenticode: authenticodeRequest(opts),
    product,
    plan,
    outRoot: opts.out,
    payloads: [],
    sourceDateEpoch: join.sourceDateEpoch,
    report,
    repo: repo.options,
    split: { join },
  }).finally(() => repo.close());
  report.info(`joined ${result.artifacts.length} artifacts in ${path.relative(process.cwd(), result.outDir) || result.outDir}`);
  return result;
}

/** The Authenticode flags; runBuild takes the decision (src/build/windows-signing.ts). */
const authenticodeRequest = (opts: BuildFlags): AuthenticodeRequest => ({ unsignedWindows: opts.unsignedWindows, timestampUrl: opts.authenticodeTimestampUrl });

/** The --local-targets of a part, in plan order: each a planned target with local artifacts on the platform. */
function partTargets(plan: Plan, platform: Platform, given: string[]): string[] {
  const wanted = given.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  const local = plan.targets.filter((t) => plan.artifacts.some((a) => a.target === t && a.scope === 'local' && a.platform === platform));
  const unknown = wanted.filter((t) => !local.includes(t));
  if (unknown.length || !wanted.length) {
    throw new UserError(`--local-targets ${wanted.join(',') || '(none)'}: ${unknown.length ? `${unknown.join(', ')} builds no local artifact of ${platform} in this plan` : 'name at least one target'}`, {
      hint: `choose from: ${local.join(', ')}`,
      exitCode: EXIT.usage,
    });
  }
  return local.filter((t) => wanted.includes(t));
}

/** An unsigned release has no SHA256SUMS.asc and no release key; its install.sh pins no key (and says so). */
function withoutUnsignedTargets(plan: Plan, opts: RepoFlags): Plan {
  if (!opts.unsigned) return plan;
  const dropped = new Set(plan.artifacts.filter((a) => a.target === CHECKSUMS_SIGNATURE_TARGET).map((a) => a.id));
  return {
    ...plan,
    targets: plan.targets.filter((t) => t !== CHECKSUMS_SIGNATURE_TARGET),
    artifacts: plan.artifacts.filter((a) => !dropped.has(a.id)).map((a) => (a.inputs.some((i) => dropped.has(i)) ? { ...a, inputs: a.inputs.filter((i) => !dropped.has(i)) } : a)),
  };
}
