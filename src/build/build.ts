// Executes a plan: runs each target's build into a staging directory, then renames it to dist/<version>/.
// Nothing half-written is ever left at the final path.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { MissingToolError, UserError } from '../errors.ts';
import type { Plan } from '../plan/plan.ts';
import type { Platform, Product } from '../product/model.ts';
import { TARGETS } from '../targets/registry.ts';
import type { BuildContext, BuiltFile, Payload, PlannedArtifact, RepoOptions, Target, ToolRequirement } from '../targets/types.ts';
import { hasTool } from '../util/exec.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { DigestCache } from '../util/digest-cache.ts';
import { ownerGone, registerCleanup } from '../util/cleanup.ts';
import { parseChecksums } from '../targets/checksums/index.ts';
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
  /** Digests of files by identity (size, mtime, ctime, inode): the reuse check re-hashes only what changed. */
  digests?: DigestCache;
}

/**
 * The artifacts of a previous build with the same inputs, when every output file is still exactly what was
 * built: each file's digest (re-hashed whenever its size, mtime, ctime or inode differ from when it was last
 * hashed, see DigestCache) equals plan.json's, and the dist passes its own SHA256SUMS. Otherwise the reason.
 */
async function upToDate(dir: string, inputs: string, digests: DigestCache): Promise<{ artifacts: (PlannedArtifact & BuiltFile)[] } | { reason: string }> {
  let record: { inputs?: string; artifacts: (PlannedArtifact & BuiltFile)[] };
  try {
    record = JSON.parse(readFileSync(path.join(dir, 'plan.json'), 'utf8')) as typeof record;
  } catch {
    return { reason: 'no readable plan.json' };
  }
  if (record.inputs !== inputs) return { reason: 'inputs changed' };
  const actual = new Map<string, string>();
  for (const a of record.artifacts) {
    const file = path.join(dir, a.path);
    if (statSync(file, { throwIfNoEntry: false })?.size !== a.size) return { reason: `${a.path} is missing or has another size` };
    const d = await digests.hash(file);
    if (d.sha256 !== a.sha256) return { reason: `${a.path} changed since it was built` };
    actual.set(a.path, d.sha256);
  }
  const sums = record.artifacts.find((a) => a.kind === 'checksums');
  if (sums) {
    try {
      for (const [name, sha256] of parseChecksums(readFileSync(path.join(dir, sums.path), 'utf8'), sums.path)) {
        const rel = path.posix.join(path.posix.dirname(sums.path), name);
        const got = actual.get(rel) ?? (existsSync(path.join(dir, rel)) ? (await digests.hash(path.join(dir, rel))).sha256 : undefined);
        if (got !== sha256) return { reason: `${rel} fails ${sums.path}` };
      }
    } catch {
      return { reason: `${sums.path} is unreadable` };
    }
  }
  return { artifacts: record.artifacts };
}

/**
 * Staging folders (`.staging-<version>-<pid>`) and replaced builds (`<version>.old-<pid>`) of runs that were
 * killed outright (kill -9, power loss): removed once the process that made them is gone.
 */
async function removeLeftovers(outRoot: string, report: Reporter): Promise<void> {
  let names: string[];
  try {
    names = await readdir(outRoot);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^\.staging-.+-(\d+)$/.exec(name) ?? /^[^.].*\.old-(\d+)$/.exec(name);
    if (!m || !ownerGone(Number(m[1]))) continue;
    await rm(path.join(outRoot, name), { recursive: true, force: true });
    report.info(`removed ${path.join(outRoot, name)}, left by an interrupted build (process ${m[1]} is gone)`);
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
  const digests = opts.digests ?? new DigestCache();
  if (reusable && existsSync(path.join(finalDir, 'plan.json'))) {
    const previous = await upToDate(finalDir, inputs, digests);
    await digests.save();
    if ('artifacts' in previous) {
      report.info(`${path.relative(process.cwd(), finalDir) || finalDir} is up to date (same inputs digest ${inputs.slice(0, 12)}): nothing to build`);
      return { outDir: finalDir, artifacts: previous.artifacts, skipped };
    }
    report.info(`${path.relative(process.cwd(), finalDir) || finalDir} is rebuilt: ${previous.reason}`);
  }
  await removeLeftovers(opts.outRoot, report);
  const staging = path.resolve(opts.outRoot, `.staging-${plan.version}-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const stagingCleanup = registerCleanup(() => rm(staging, { recursive: true, force: true }));

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
    await stagingCleanup.dispose(); // nothing left at the staging path
    await rm(old, { recursive: true, force: true });
    // The next build's reuse check re-hashes only files that changed since now.
    digests.forget(finalDir);
    for (const a of record.artifacts) digests.remember(path.join(finalDir, a.path), a.sha256);
    await digests.save();
    report.done();
    return { outDir: finalDir, artifacts: record.artifacts, skipped };
  } catch (err) {
    report.done();
    await stagingCleanup.dispose();
    throw err;
  }
}
