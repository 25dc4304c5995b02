// Checks on a whole graph of artifacts, shared by the planner and the executor: ids unique, every input
// planned, no cycle, and no local artifact waiting on a global one (a platform's runner cannot build it).
import { EXIT } from '../errors.ts';
import type { Artifact } from './artifact.ts';
import { GraphError } from './errors.ts';

export interface GraphCheckOptions {
  /** Ids that exist outside this graph (already built elsewhere, e.g. the local artifacts a join reads). */
  external?: ReadonlySet<string>;
}

export function indexById(artifacts: readonly Artifact[]): Map<string, Artifact> {
  const byId = new Map<string, Artifact>();
  for (const a of artifacts) {
    const other = byId.get(a.id);
    if (other) {
      throw new GraphError(`two artifacts have the id "${a.id}" (planned by ${other.target} and ${a.target})`, [a.id], {
        hint: 'an id names one artifact: add what tells them apart (platform, component) to the id',
      });
    }
    byId.set(a.id, a);
  }
  return byId;
}

export function checkGraph(artifacts: readonly Artifact[], opts: GraphCheckOptions = {}): Map<string, Artifact> {
  const byId = indexById(artifacts);
  for (const a of artifacts) {
    for (const input of a.inputs) {
      if (input === a.id) throw new GraphError(`artifact "${a.id}" lists itself as an input`, [a.id], { hint: 'an artifact cannot read itself' });
      const from = byId.get(input);
      if (!from) {
        if (opts.external?.has(input)) continue;
        throw new GraphError(`artifact "${a.id}" (${a.target}) needs "${input}", which no selected target plans`, [a.id, input], {
          hint: 'select the target and platform that build it (--target, --platform), or drop the target that needs it',
          exitCode: EXIT.usage,
        });
      }
      if (a.scope === 'local' && from.scope === 'global') {
        throw new GraphError(`local artifact "${a.id}" needs global artifact "${input}": a platform's own build cannot wait for the join`, [a.id, input], {
          hint: `make "${a.id}" global, or make "${input}" local to ${a.platform ?? 'its platform'}`,
        });
      }
      if (a.scope === 'local' && from.scope === 'local' && from.platform !== a.platform) {
        throw new GraphError(`local artifact "${a.id}" (${a.platform}) needs "${input}" of another platform (${from.platform})`, [a.id, input], {
          hint: `make "${a.id}" global: it reads more than one platform`,
        });
      }
    }
  }
  const cycle = findCycle(artifacts, byId);
  if (cycle) {
    throw new GraphError(`dependency cycle: ${cycle.join(' -> ')}`, cycle.slice(0, -1), {
      hint: 'an artifact cannot (indirectly) read itself: one of these must stop listing the other as an input',
    });
  }
  return byId;
}

/** A cycle as [a, b, ..., a], or undefined. Iterative depth-first search (plans have thousands of artifacts). */
function findCycle(artifacts: readonly Artifact[], byId: Map<string, Artifact>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  for (const root of artifacts) {
    if (state.has(root.id)) continue;
    const stack: { id: string; next: number }[] = [{ id: root.id, next: 0 }];
    state.set(root.id, 'open');
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const inputs = byId.get(top.id)!.inputs.filter((i) => byId.has(i));
      if (top.next >= inputs.length) {
        state.set(top.id, 'done');
        stack.pop();
        continue;
      }
      const child = inputs[top.next++]!;
      const s = state.get(child);
      if (s === 'open') {
        const from = stack.findIndex((f) => f.id === child);
        return [...stack.slice(from).map((f) => f.id), child];
      }
      if (!s) {
        state.set(child, 'open');
        stack.push({ id: child, next: 0 });
      }
    }
  }
  return undefined;
}

/** Dependency order: every artifact after its inputs; among the ready ones, plan order. */
export function topologicalOrder(artifacts: readonly Artifact[], opts: GraphCheckOptions = {}): Artifact[] {
  const byId = checkGraph(artifacts, opts);
  const position = new Map(artifacts.map((a, i) => [a.id, i]));
  const waiting = new Map(artifacts.map((a) => [a.id, new Set(a.inputs.filter((i) => byId.has(i))).size]));
  const dependents = dependentsOf(artifacts, byId);
  const ready = artifacts.filter((a) => waiting.get(a.id) === 0);
  const out: Artifact[] = [];
  while (ready.length) {
    ready.sort((x, y) => position.get(x.id)! - position.get(y.id)!);
    const a = ready.shift()!;
    out.push(a);
    for (const d of dependents.get(a.id) ?? []) {
      const left = waiting.get(d.id)! - 1;
      waiting.set(d.id, left);
      if (left === 0) ready.push(d);
    }
  }
  return out;
}

export function dependentsOf(artifacts: readonly Artifact[], byId: Map<string, Artifact>): Map<string, Artifact[]> {
  const out = new Map<string, Artifact[]>();
  for (const a of artifacts) {
    for (const i of new Set(a.inputs)) {
      if (!byId.has(i)) continue;
      const list = out.get(i) ?? [];
      list.push(a);
      out.set(i, list);
    }
  }
  return out;
}
