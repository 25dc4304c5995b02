// Executes a plan: runs each target's build into a staging directory, then renames it to dist/<version>/.
// Nothing half-written is ever left at the final path.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { MissingToolError, UserError } from '../errors.ts';
import type { Plan } from '../plan/plan.ts';
import type { Platform, Product } from '../product/model.ts';
import { TARGETS } from '../targets/registry.ts';
import type { BuildContext, BuiltFile, Payload, PlannedArtifact, RepoOptions, Target, ToolRequirement } from '../targets/types.ts';
import { hasTool } from '../util/exec.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { buildInputsDigest } from './inputs.ts';
import type { Reporter } from '../util/progress.ts';

export interface SkippedTarget {
  target: string;
  reason: string;
  install: string;
}

export interface BuildResult {
  outDir: string;
  artifacts: (PlannedArtifact & BuiltFile)[];
  skipped: SkippedTarget[];
}

/** Targets whose tools are missing: skipped (with the reason) in a snapshot build, an error in a release build. */
export function checkTools(plan: Plan, opts: { probe?: (cmd: string) => boolean } = {}): SkippedTarget[] {
  const probe = opts.probe ?? hasTool;
  const skipped: SkippedTarget[] = [];
  for (const t of TARGETS.filter((x) => plan.targets.includes(x.id))) {
    const missing = (t.tools ?? []).filter((tool: ToolRequirement) => !probe(tool.command));
    if (!missing.length) continue;
    if (!plan.snapshot) throw new MissingToolError(missing[0]!.command, missing[0]!.install, `target "${t.id}" (${t.description})`);
    skipped.push({ target: t.id, reason: `\`${missing.map((m) => m.command).join('`, `')}\` not installed`, install: missing.map((m) => m.install).join(' && ') });
  }
  return skipped;
}

export interface BuildOptions {
  product: Product;
  plan: Plan;
  outRoot: string;
  payloads: Payload[];
  sourceDateEpoch: number;
  report: Reporter;
  skipped?: SkippedTarget[];
  /** Signing and merge options for the apt-repo/yum-repo targets (the caller closes the signer afterwards). */
  repo?: RepoOptions;
  /** A signing key was supplied: signatures depend on it, so such a build is never reused from a previous one. */
  signingKeySupplied?: boolean;
}

/** The artifacts of a previous build with the same inputs, when every one is still there with its size. */
function upToDate(dir: string, inputs: string): (PlannedArtifact & BuiltFile)[] | undefined {
  try {
    const record = JSON.parse(readFileSync(path.join(dir, 'plan.json'), 'utf8')) as { inputs?: string; artifacts: (PlannedArtifact & BuiltFile)[] };
    if (record.inputs !== inputs) return undefined;
    return record.artifacts.every((a) => statSync(path.join(dir, a.path), { throwIfNoEntry: false })?.size === a.size) ? record.artifacts : undefined;
  } catch {
    return undefined;
  }
}

export async function runBuild(opts: BuildOptions): Promise<BuildResult> {
  const { plan, product, report } = opts;
  const skipped = opts.skipped ?? checkTools(plan);
  for (const s of skipped) report.warn(`skipping ${s.target}: ${s.reason}; install: ${s.install}`);
  const skippedIds = new Set(skipped.map((s) => s.target));
  const artifacts = plan.artifacts.filter((a) => !skippedIds.has(a.target));
  const finalDir = path.resolve(opts.outRoot, plan.version);
  // Signatures depend on the key and a published base may change between runs: builds that use either are
  // always redone. (A snapshot's throwaway key is exported next to the repositories it signed, so reusing
  // such a build stays consistent.)
  const reusable = !opts.repo?.base && !opts.signingKeySupplied;
  const inputs = buildInputsDigest({ product, plan, payloads: opts.payloads, sourceDateEpoch: opts.sourceDateEpoch, skipped, extra: { repoUrl: opts.repo?.url ?? null } });
  if (reusable) {
    const previous = upToDate(finalDir, inputs);
    if (previous) {
      report.info(`${path.relative(process.cwd(), finalDir) || finalDir} is up to date (same inputs digest ${inputs.slice(0, 12)}): nothing to build`);
      return { outDir: finalDir, artifacts: previous, skipped };
    }
  }
  const staging = path.resolve(opts.outRoot, `.staging-${plan.version}-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });

  const payloadByKey = new Map(opts.payloads.map((p) => [`${p.component}/${p.platform}`, p]));
  const built = new Map<string, BuiltFile>();
  const ctx: BuildContext = {
    product,
    versions: plan.versions,
    platforms: plan.platforms,
    snapshot: plan.snapshot,
    outDir: staging,
    sourceDateEpoch: opts.sourceDateEpoch,
    report,
    plan: artifacts,
    repo: opts.repo,
    payload(component: string, platform: Platform) {
      const p = payloadByKey.get(`${component}/${platform}`);
      if (!p) throw new UserError(`no payload for ${component} on ${platform}`, { hint: 'provide it with --from DIR or build with --snapshot' });
      return p;
    },
    built(p: string) {
      const b = built.get(p);
      if (!b) throw new Error(`internal: ${p} was read before it was built (target order in src/targets/registry.ts)`);
      return b;
    },
  };

  const buildTarget = async (target: Target) => {
    const mine = artifacts.filter((a) => a.target === target.id);
    if (!mine.length) return;
    report.info(`${target.id}: building ${mine.length} artifact${mine.length > 1 ? 's' : ''}`);
    const results = await target.build(ctx, mine);
    for (const a of mine) {
      const r = results.get(a.path);
      if (!r) throw new Error(`internal: target ${target.id} did not build ${a.path}`);
      built.set(a.path, r);
    }
  };

  try {
    const selected = TARGETS.filter((t: Target) => plan.targets.includes(t.id) && !skippedIds.has(t.id));
    // Local targets only read payloads: run them together. Global ones read earlier outputs: run them in order.
    const settled = await Promise.allSettled(selected.filter((t) => t.phase === 'local').map(buildTarget));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const target of selected.filter((t) => t.phase !== 'local')) await buildTarget(target);
    const record = {
      ...plan,
      sourceDateEpoch: opts.sourceDateEpoch,
      inputs,
      artifacts: artifacts.map((a) => ({ ...a, ...built.get(a.path)! })),
      skipped,
    };
    await writeFileAtomic(path.join(staging, 'plan.json'), JSON.stringify(record, null, 2) + '\n');
    // Swap into place: the previous build of this version is removed only after the new one is complete.
    const old = `${finalDir}.old-${process.pid}`;
    if (existsSync(finalDir)) await rename(finalDir, old);
    await rename(staging, finalDir);
    await rm(old, { recursive: true, force: true });
    report.done();
    return { outDir: finalDir, artifacts: record.artifacts, skipped };
  } catch (err) {
    report.done();
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}
