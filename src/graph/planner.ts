// The planner registry: targets plan in dependency order of the roles they consume, each by querying the
// artifacts already planned (never by importing a sibling), and the finished graph is checked before any
// build starts: a missing input, a cycle or a local artifact reading a global one fails here, naming the ids.
import { EXIT } from '../errors.ts';
import type { Artifact, ArtifactRole, PlannedArtifact } from './artifact.ts';
import { GraphError } from './errors.ts';
import { byRole, select, type Filter } from './filter.ts';
import { checkGraph, type GraphCheckOptions } from './graph.ts';

/** What a target sees while it plans: the artifacts of the roles it declared in `consumes`. */
export interface Planned {
  /** Artifacts of `role` planned so far (all of them: producers of a consumed role plan first), in plan order. */
  query(role: ArtifactRole | readonly ArtifactRole[], ...filters: Filter[]): Artifact[];
  /** Like query, but at least one must exist: otherwise a plan-time error naming `by` and what it asked for. */
  require(by: string, role: ArtifactRole | readonly ArtifactRole[], ...filters: Filter[]): Artifact[];
}

export interface GraphTarget<Ctx> {
  id: string;
  /** Roles of the artifacts it plans. */
  produces: readonly ArtifactRole[];
  /** Roles it reads: it plans after every target producing them, and may query only these. */
  consumes?: readonly ArtifactRole[];
  plan(ctx: Ctx, planned: Planned): PlannedArtifact[];
}

export class TargetRegistry<Ctx> {
  private readonly list: GraphTarget<Ctx>[] = [];
  constructor(targets: readonly GraphTarget<Ctx>[] = []) {
    for (const t of targets) this.register(t);
  }
  register(target: GraphTarget<Ctx>): this {
    if (this.list.some((t) => t.id === target.id)) throw new Error(`internal: target "${target.id}" registered twice`);
    this.list.push(target);
    return this;
  }
  get targets(): readonly GraphTarget<Ctx>[] {
    return this.list;
  }
  ids(): string[] {
    return this.list.map((t) => t.id);
  }
}

/** Planning order: a target after every other target producing a role it consumes; else registry order. */
export function planningOrder<Ctx>(targets: readonly GraphTarget<Ctx>[]): GraphTarget<Ctx>[] {
  const before = new Map(targets.map((t) => [t.id, targets.filter((o) => o !== t && (t.consumes ?? []).some((r) => o.produces.includes(r)))]));
  const out: GraphTarget<Ctx>[] = [];
  const left = [...targets];
  while (left.length) {
    const i = left.findIndex((t) => before.get(t.id)!.every((o) => out.includes(o)));
    if (i < 0) {
      // Name one pair that waits on each other.
      const t = left.find((x) => before.get(x.id)!.some((o) => left.includes(o)))!;
      const o = before.get(t.id)!.find((x) => left.includes(x))!;
      const roles = (a: GraphTarget<Ctx>, b: GraphTarget<Ctx>) => (a.consumes ?? []).filter((r) => b.produces.includes(r)).join(', ');
      throw new GraphError(`targets "${t.id}" and "${o.id}" each consume what the other produces (${t.id} reads ${roles(t, o)}; ${o.id} reads ${roles(o, t) || 'through others'})`, [t.id, o.id], {
        hint: 'split one of them, or have one stop consuming the other\'s role',
      });
    }
    out.push(left.splice(i, 1)[0]!);
  }
  return out;
}

export interface GraphPlan {
  /** Every artifact, in planning order (targets in planningOrder, each target's artifacts as it returned them). */
  artifacts: Artifact[];
  byId: Map<string, Artifact>;
}

export function planGraph<Ctx>(registry: TargetRegistry<Ctx> | readonly GraphTarget<Ctx>[], ctx: Ctx, opts: GraphCheckOptions = {}): GraphPlan {
  const targets = registry instanceof TargetRegistry ? registry.targets : registry;
  const artifacts: Artifact[] = [];
  const paths = new Map<string, string>();
  for (const target of planningOrder(targets)) {
    const consumes = new Set(target.consumes ?? []);
    const query = (role: ArtifactRole | readonly ArtifactRole[], ...filters: Filter[]) => {
      const roles: readonly ArtifactRole[] = typeof role === 'string' ? [role] : role;
      const undeclared = roles.filter((r) => !consumes.has(r));
      if (undeclared.length) throw new Error(`internal: target "${target.id}" queries ${undeclared.join(', ')} without declaring it in consumes`);
      return select(artifacts, byRole(roles), ...filters);
    };
    const planned: Planned = {
      query,
      require(by, role, ...filters) {
        const found = query(role, ...filters);
        if (!found.length) {
          const wanted = typeof role === 'string' ? role : role.join('|');
          throw new GraphError(`artifact "${by}" (${target.id}) needs a ${wanted} artifact, and no selected target plans one`, [by, wanted], {
            hint: 'select the target and platform that build it (--target, --platform), or drop the target that needs it',
            exitCode: EXIT.usage,
          });
        }
        return found;
      },
    };
    for (const p of target.plan(ctx, planned)) {
      const a: Artifact = { ...p, target: target.id, inputs: [...(p.inputs ?? [])], release: p.release ?? false };
      if (!target.produces.includes(a.role)) throw new Error(`internal: target "${target.id}" planned ${a.id} with role ${a.role}, which it does not declare in produces`);
      if (a.scope === 'local' && !a.platform) throw new Error(`internal: local artifact ${a.id} has no platform`);
      if (a.path !== undefined) {
        const other = paths.get(a.path);
        if (other) {
          throw new GraphError(`artifacts "${other}" and "${a.id}" would both be written to ${a.path}`, [other, a.id], {
            hint: 'make release.archiveName unique per component and platform (use {name} {os} {arch})',
            exitCode: EXIT.config,
          });
        }
        paths.set(a.path, a.id);
      }
      artifacts.push(a);
    }
  }
  return { artifacts, byId: checkGraph(artifacts, opts) };
}
