// The planner: a pure function of (product, version, platforms, targets) -> every artifact to build.
// `plan` prints it; `build` executes it; both call this one function.
import { UserError, EXIT } from '../errors.ts';
import type { Platform, Product } from '../product/model.ts';
import { mapVersion, type Versions } from '../version.ts';
import { defaultRegistry, type BuildRegistry } from '../targets/registry.ts';
import { planGraph } from '../graph/index.ts';
import type { PlannedArtifact, Target } from '../targets/types.ts';
import { buildMatrix, type BuildMatrix } from './matrix.ts';
import { SCHEMA_VERSION } from '../manifest/schema-version.ts';

export const PLAN_SCHEMA_VERSION = SCHEMA_VERSION;

export interface Plan {
  schemaVersion: typeof PLAN_SCHEMA_VERSION;
  product: string;
  version: string;
  versions: Versions;
  snapshot: boolean;
  platforms: Platform[];
  targets: string[];
  artifacts: PlannedArtifact[];
  /** The release workflow's per-platform build jobs (.github/workflows/release.yml reads it). */
  matrix: BuildMatrix;
}

export interface PlanOptions {
  version: string;
  platforms?: string[];
  targets?: string[];
  snapshot: boolean;
  /** The targets to plan with (default: the built-in ones). */
  registry?: BuildRegistry;
}

export function makePlan(product: Product, opts: PlanOptions): Plan {
  const versions = mapVersion(opts.version);
  const platforms = selectPlatforms(product, opts.platforms);
  const registry = opts.registry ?? defaultRegistry();
  const known = registry.ids();
  const unknown = (opts.targets ?? []).filter((t) => !known.includes(t));
  if (unknown.length) {
    throw new UserError(`unknown target${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, { hint: `choose from: ${known.join(', ')}`, exitCode: EXIT.usage });
  }
  const targets = registry.targets.filter((t) => !opts.targets?.length || opts.targets.includes(t.id));
  const ctx = { product, versions, platforms, snapshot: opts.snapshot };
  // Planned by role queries; a missing input, a cycle or two artifacts at one path fail here, naming both ids.
  const artifacts = planGraph(targets, ctx).artifacts as PlannedArtifact[];
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    product: product.meta.name,
    version: versions.semver,
    versions,
    snapshot: opts.snapshot,
    platforms,
    targets: targets.map((t) => t.id),
    artifacts,
    matrix: buildMatrix(product, versions, platforms, (p) => xzContentComponents(product, targets, artifacts, p).size > 0),
  };
}

/**
 * The payload components that the targets' planned local artifacts on `platform` compress through the xz
 * content cache (Target.xzContents): what a `compress` job prepares for the platform's package jobs.
 */
export function xzContentComponents(product: Product, targets: readonly Pick<Target, 'id' | 'xzContents'>[], artifacts: readonly PlannedArtifact[], platform: Platform): Set<string> {
  const components = new Set<string>();
  for (const t of targets) {
    if (!t.xzContents || !artifacts.some((a) => a.target === t.id && a.scope === 'local' && a.platform === platform)) continue;
    for (const c of t.xzContents(product, platform)) components.add(c);
  }
  return components;
}

function selectPlatforms(product: Product, requested?: string[]): Platform[] {
  if (!requested?.length) return [...product.platforms];
  const bad = requested.filter((p) => !product.platforms.includes(p as Platform));
  if (bad.length) {
    throw new UserError(`platform${bad.length > 1 ? 's' : ''} not in the product definition: ${bad.join(', ')}`, {
      hint: `choose from: ${product.platforms.join(', ')}`,
      exitCode: EXIT.usage,
    });
  }
  return product.platforms.filter((p) => requested.includes(p));
}

/** Human-readable table of a plan. */
export function formatPlanTable(plan: Plan): string {
  const rows = plan.artifacts.map((a) => [a.target, a.platform ?? '-', a.component ?? '-', a.path]);
  const head = ['TARGET', 'PLATFORM', 'COMPONENT', 'ARTIFACT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [
    `${plan.product} ${plan.version}${plan.snapshot ? ' (snapshot)' : ''}: ${plan.artifacts.length} artifacts for ${plan.platforms.join(', ')}`,
    line(head),
    ...rows.map(line),
  ].join('\n');
}
