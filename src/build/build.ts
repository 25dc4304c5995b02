// Executes a plan: runs each target's build into a staging directory, then renames it to dist/<version>/.
// Nothing half-written is ever left at the final path.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { MissingToolError, UserError } from '../errors.ts';
import type { Plan } from '../plan/plan.ts';
import type { Platform, Product } from '../product/model.ts';
import { defaultRegistry, type BuildRegistry } from '../targets/registry.ts';
import type { BuildContext, BuiltArtifact, Payload, PlannedArtifact, RepoOptions, ToolRequirement } from '../targets/types.ts';
import { executeGraph, type Artifact } from '../graph/index.ts';
import { manifestPath, readManifestIfPresent, writeManifest, type BuildManifest, type ManifestArtifact, type SkippedTarget } from '../manifest/manifest.ts';
import { availableParallelism } from 'node:os';
import { hasTool } from '../util/exec.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { DigestCache } from '../util/digest-cache.ts';
import { ownerGone, registerCleanup } from '../util/cleanup.ts';
import { parseChecksums } from '../targets/checksums/index.ts';
import { buildInputsDigest } from './inputs.ts';
import { binaryRecords, checkJoin, checkPart, payloadRecords, stageJoined, type JoinInput } from './split.ts';
import { repoSigningSession } from '../targets/repo-common.ts';
import type { Reporter } from '../util/progress.ts';
import { authenticodeForBuild, authenticodeInputs, BuildWindowsSigning, SIGNED_PAYLOADS_DIR, type AuthenticodeRequest } from './windows-signing.ts';
import { XzContentCache } from '../util/xz-content.ts';

/** Where the build keeps the compressed contents the .deb and .rpm payloads share (removed before the swap). */
const XZ_CONTENT_DIR = '.xz-content';

export type { SkippedTarget };

export interface BuildResult {
  outDir: string;
  artifacts: ManifestArtifact[];
  skipped: SkippedTarget[];
}

/** Targets whose tools are missing: skipped (with the reason) in a snapshot build, an error in a release build. */
export function checkTools(plan: Plan, opts: { probe?: (cmd: string) => boolean; registry?: BuildRegistry } = {}): SkippedTarget[] {
  const probe = opts.probe ?? hasTool;
  const registry = opts.registry ?? defaultRegistry();
  const skipped: SkippedTarget[] = [];
  for (const id of plan.targets) {
    const t = registry.get(id)!;
    const missing = (t.tools ?? []).filter((tool: ToolRequirement) => !probe(tool.command));
    if (!missing.length) continue;
    if (!plan.snapshot) throw new MissingToolError(missing[0]!.command, missing[0]!.install, `target "${t.id}" (${t.description})`);
    skipped.push({ target: t.id, reason: `\`${missing.map((m) => m.command).join('`, `')}\` not installed`, install: missing.map((m) => m.install).join(' && ') });
  }
  return skipped;
}

/**
 * The artifacts left once skipped targets are dropped: an artifact that reads only dropped artifacts is dropped
 * too (its target reported as skipped, naming the input), one that aggregates (checksums, repositories) keeps
 * the inputs that remain.
 */
export function dropSkipped(artifacts: readonly PlannedArtifact[], skipped: SkippedTarget[]): { artifacts: PlannedArtifact[]; skipped: SkippedTarget[] } {
  const why = new Map(skipped.map((s) => [s.target, s]));
  const dropped = new Map<string, SkippedTarget>();
  const kept: PlannedArtifact[] = [];
  const all = [...skipped];
  // Plan order lists every artifact after its inputs (producers plan first).
  for (const a of artifacts) {
    const own = why.get(a.target);
    const lost = a.inputs.filter((i) => dropped.has(i));
    if (own || (a.inputs.length && lost.length === a.inputs.length)) {
      const cause = own ?? dropped.get(lost[0]!)!;
      dropped.set(a.id, cause);
      if (!own && !why.has(a.target)) {
        const entry = { target: a.target, reason: `needs ${lost[0]}, skipped: ${cause.reason}`, install: cause.install };
        why.set(a.target, entry);
        all.push(entry);
      }
      continue;
    }
    kept.push(lost.length ? { ...a, inputs: a.inputs.filter((i) => !dropped.has(i)) } : a);
  }
  return { artifacts: kept, skipped: all };
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
  /**
   * The caller's Authenticode flags (--unsigned-windows, the time-stamping URL); the rest comes from the
   * environment (a key, else the INSECURE snapshot pair for a snapshot, else a release refuses).
   */
  authenticode?: AuthenticodeRequest;
  /** A signing key was supplied: signatures depend on it, so such a build is never reused from a previous one. */
  signingKeySupplied?: boolean;
  /** Digests of files by identity (size, mtime, ctime, inode): the reuse check re-hashes only what changed. */
  digests?: DigestCache;
  /** A kept xz content cache folder (`build --xz-cache`): compressed payload blocks reused after a check, new ones kept. */
  xzCache?: string;
  /** The targets the plan was made with (default: the built-in ones). */
  registry?: BuildRegistry;
  /**
   * Checks on the payloads that only matter when something is packaged (the smoke check, which starts them):
   * run after the reuse check, so reusing a build whose payloads passed them when it was made does not start
   * every binary again (a PyInstaller one-file unpacks itself in full at each start).
   */
  checkPayloads?: () => Promise<void>;
  /**
   * A split build (see src/build/split.ts): only one platform's local artifacts, written with a partial
   * manifest; or the global artifacts over the local ones of such partial builds (`join`).
   */
  split?: { localOnly: Platform; /** One part of the platform: only these targets' local artifacts. */ targets?: string[] } | { join: JoinInput };
}

/**
 * The artifacts of a previous build with the same inputs, when every output file is still exactly what was
 * built: each file's digest (re-hashed whenever its size, mtime, ctime or inode differ from when it was last
 * hashed, see DigestCache) equals plan.json's, and the dist passes its own SHA256SUMS. Otherwise the reason.
 */
async function upToDate(dir: string, inputs: string, digests: DigestCache): Promise<{ artifacts: ManifestArtifact[] } | { reason: string }> {
  let record: BuildManifest | undefined;
  try {
    record = await readManifestIfPresent(dir);
  } catch {
    return { reason: 'no readable plan.json' };
  }
  if (!record) return { reason: 'no plan.json' };
  if (record.inputs !== inputs) return { reason: 'inputs changed' };
  const actual = new Map<string, string>();
  for (const a of record.artifacts) {
    const file = path.join(dir, a.path);
    if (statSync(file, { throwIfNoEntry: false })?.size !== a.size) return { reason: `${a.path} is missing or has another size` };
    const d = await digests.hash(file);
    if (d.sha256 !== a.sha256) return { reason: `${a.path} changed since it was built` };
    actual.set(a.path, d.sha256);
  }
  const sums = record.artifacts.find((a) => a.role === 'checksums');
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
  const registry = opts.registry ?? defaultRegistry();
  const { artifacts, skipped } = dropSkipped(plan.artifacts, opts.skipped ?? checkTools(plan, { registry }));
  for (const s of skipped) report.warn(`skipping ${s.target}: ${s.reason}; install: ${s.install}`);
  const finalDir = path.resolve(opts.outRoot, plan.version);
  const split = opts.split;
  const join = split && 'join' in split ? split.join : undefined;
  const localOnly = split && 'localOnly' in split ? split.localOnly : undefined;
  const partTargets = split && 'localOnly' in split ? split.targets : undefined;
  // What this run builds: everything, one platform's local artifacts (or some targets' of them), or (a join) the global ones.
  const selected = localOnly
    ? artifacts.filter((a) => a.scope === 'local' && a.platform === localOnly && (!partTargets || partTargets.includes(a.target)))
    : join
      ? artifacts.filter((a) => a.scope === 'global')
      : artifacts;
  if (partTargets) checkPart(selected, artifacts, partTargets);
  if (join) checkJoin(join, plan, artifacts);
  // Decided before anything is built: a release without a code-signing key (or osslsigncode) fails here.
  const authenticode = authenticodeForBuild({ building: selected, request: opts.authenticode, product, snapshot: plan.snapshot, report });
  // Signatures depend on the key and a published base may change between runs: builds that use either are
  // always redone. (A snapshot's throwaway key is exported next to the repositories it signed, so reusing
  // such a build stays consistent.) Split builds are always redone.
  const reusable = !opts.repo?.base && !opts.signingKeySupplied && authenticode?.mode !== 'key' && !split;
  const payloadDigests = join ? join.payloads : opts.payloads;
  const inputs = buildInputsDigest({ product, plan, payloads: payloadDigests, sourceDateEpoch: opts.sourceDateEpoch, skipped, extra: { repoUrl: opts.repo?.url ?? null, ...authenticodeInputs(authenticode, artifacts) } });
  const digests = opts.digests ?? new DigestCache();
  if (reusable && existsSync(manifestPath(finalDir))) {
    const previous = await upToDate(finalDir, inputs, digests);
    await digests.save();
    if ('artifacts' in previous) {
      report.info(`${path.relative(process.cwd(), finalDir) || finalDir} is up to date (same inputs digest ${inputs.slice(0, 12)}): nothing to build`);
      return { outDir: finalDir, artifacts: previous.artifacts, skipped };
    }
    report.info(`${path.relative(process.cwd(), finalDir) || finalDir} is rebuilt: ${previous.reason}`);
  }
  await opts.checkPayloads?.();
  await removeLeftovers(opts.outRoot, report);
  const staging = path.resolve(opts.outRoot, `.staging-${plan.version}-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const stagingCleanup = registerCleanup(() => rm(staging, { recursive: true, force: true }));
  const windowsSigning = authenticode && authenticode.mode !== 'unsigned' ? new BuildWindowsSigning(authenticode, staging, product, opts.sourceDateEpoch) : undefined;

  // The compressed payload blocks: kept in --xz-cache (checked before reuse), else the build's own, removed with it.
  const xzContent = opts.xzCache ? new XzContentCache(opts.xzCache, { kept: true }) : new XzContentCache(path.join(staging, XZ_CONTENT_DIR));
  const payloadByKey = new Map(opts.payloads.map((p) => [`${p.component}/${p.platform}`, p]));
  const built = new Map<string, BuiltArtifact>();
  const byId = new Map(artifacts.map((a) => [a.id, a]));
  // One signer for the whole build (install.sh pins the key SHA256SUMS.asc is made with): when the caller
  // passed none, signing follows the environment and is decided and opened on first use, closed after the build.
  let ownSession: ReturnType<typeof repoSigningSession> | undefined;
  const ownSigner = () => (ownSession ??= repoSigningSession(product, { snapshot: plan.snapshot, sourceDateEpoch: opts.sourceDateEpoch, warn: (l) => report.warn(l) })).signer();
  const ctx: BuildContext = {
    product,
    versions: plan.versions,
    platforms: plan.platforms,
    snapshot: plan.snapshot,
    outDir: staging,
    sourceDateEpoch: opts.sourceDateEpoch,
    report,
    repo: opts.repo ?? { signer: ownSigner },
    windowsSigning,
    xzContent,
    signsChecksums: artifacts.some((a) => a.role === 'signature' && a.inputs.some((i) => byId.get(i)?.role === 'checksums')),
    describesBinaries: artifacts.some((a) => a.role === 'sbom'),
    payload(component: string, platform: Platform) {
      const p = payloadByKey.get(`${component}/${platform}`);
      if (!p) throw new UserError(`no payload for ${component} on ${platform}`, { hint: 'provide it with --from DIR or build with --snapshot' });
      return p;
    },
    built(p: string) {
      const b = built.get(p);
      if (!b) throw new Error(`internal: ${p} was read before it was built (is it listed in the reader's inputs?)`);
      return b;
    },
    inputsOf: (a) => a.inputs.map((i) => byId.get(i)!),
  };

  let joinStaging: ReturnType<typeof stageJoined> | undefined;
  try {
    // A join starts from the partial builds' local files: copied in, checked against their manifests; each unit
    // waits for the ones it reads.
    joinStaging = join ? stageJoined(join, artifacts, staging, (p, file) => built.set(p, file)) : undefined;
    const { units, cost } = buildUnits(selected, opts.payloads);
    const given = new Map(artifacts.filter((a) => !selected.includes(a)).map((a) => [unitOf(a), undefined]));
    await executeGraph(units, async (unit) => {
      const target = registry.get(unit.target)!;
      const mine = artifacts.filter((a) => unitOf(a) === unit.id);
      await joinStaging?.ready(mine.flatMap((a) => a.inputs));
      report.info(`${unit.id}: building ${mine.length} artifact${mine.length > 1 ? 's' : ''}`);
      const results = await target.build(ctx, mine);
      for (const a of mine) {
        const r = results.get(a.path);
        if (!r) throw new Error(`internal: target ${target.id} did not build ${a.path}`);
        built.set(a.path, r);
      }
    }, { limit: Math.max(4, availableParallelism()), cost, given });
    await joinStaging?.all;
    await rm(path.join(staging, SIGNED_PAYLOADS_DIR), { recursive: true, force: true });
    await rm(path.join(staging, XZ_CONTENT_DIR), { recursive: true, force: true });
    if (opts.xzCache) reportXzCache(xzContent, report);
    const record: BuildManifest = {
      ...plan,
      sourceDateEpoch: opts.sourceDateEpoch,
      inputs,
      // Plan order, not completion order: a joined manifest equals a single build's.
      artifacts: (localOnly ? selected : artifacts).map((a) => ({ ...a, size: built.get(a.path)!.size, sha256: built.get(a.path)!.sha256 })),
      skipped,
      ...(localOnly ? { partial: { platform: localOnly, ...(partTargets ? { targets: partTargets } : {}), payloads: payloadRecords(opts.payloads), ...binaryRecords(selected, built) } } : {}),
    };
    await writeManifest(staging, record);
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
    joinStaging?.abort();
    await joinStaging?.all.catch(() => {}); // no copy still writing into staging while it is removed
    await stagingCleanup.dispose();
    throw err;
  } finally {
    await windowsSigning?.close();
    await ownSession?.close();
  }
}

function reportXzCache(cache: XzContentCache, report: Reporter): void {
  const { reused, compressed, rejected } = cache.counts;
  if (rejected.length) report.warn(`${cache.dir}: ${rejected.length} block(s) did not decompress to their payload's bytes and were compressed again (${rejected.slice(0, 3).join(', ')}${rejected.length > 3 ? ', ...' : ''})`);
  report.info(`${cache.dir}: ${reused} compressed payload block(s) reused, ${compressed} compressed`);
}

/** What one call of a target's build covers: all its artifacts of one platform (local) or all of them (global). */
const unitOf = (a: PlannedArtifact): string => (a.scope === 'local' ? `${a.target}@${a.platform}` : a.target);

/** The graph of build units: a unit waits for every unit holding one of its artifacts' inputs. */
function buildUnits(artifacts: readonly PlannedArtifact[], payloads: readonly Payload[]): { units: Artifact[]; cost: (unit: Artifact) => number } {
  const unitCost = new Map<string, number>();
  const unitById = new Map(artifacts.map((a) => [a.id, unitOf(a)]));
  const units = new Map<string, Artifact>();
  for (const a of artifacts) {
    const id = unitOf(a);
    const unit = units.get(id) ?? { id, role: a.role, target: a.target, scope: a.scope, ...(a.scope === 'local' ? { platform: a.platform } : {}), release: false, inputs: [] };
    for (const i of a.inputs) {
      const from = unitById.get(i);
      if (from && from !== id && !unit.inputs.includes(from)) unit.inputs.push(from);
    }
    units.set(id, unit);
    // Packages cost their payloads' bytes (MiB), text costs 1: the longest chain starts first.
    if (a.scope === 'local') unitCost.set(id, 1 + payloads.filter((p) => p.platform === a.platform).reduce((n, p) => n + p.size, 0) / 2 ** 20);
  }
  return { units: [...units.values()], cost: (u) => unitCost.get(u.id) ?? 1 };
}
