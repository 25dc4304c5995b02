// Runs a graph: each artifact once all its inputs are done, at most `limit` at once. When a slot frees, the
// ready artifact with the longest chain of work behind it goes first, so the last artifacts to finish are
// not the ones everything else waited for. The first failure stops new work; work in flight finishes.
import { Limiter } from '../util/concurrency.ts';
import type { Artifact } from './artifact.ts';
import { checkGraph, dependentsOf } from './graph.ts';

export interface ExecuteOptions<R> {
  /** A number, or a Limiter shared with other work. */
  limit: number | Limiter;
  /** Results of inputs built elsewhere (a join reads the local artifacts of every platform). */
  given?: ReadonlyMap<string, R>;
  /** Relative cost of building an artifact (default 1), for the longest-chain-first order. */
  cost?: (a: Artifact) => number;
}

export async function executeGraph<R>(
  artifacts: readonly Artifact[],
  run: (artifact: Artifact, inputs: ReadonlyMap<string, R>) => Promise<R>,
  opts: ExecuteOptions<R>,
): Promise<Map<string, R>> {
  const given = opts.given ?? new Map<string, R>();
  const byId = checkGraph(artifacts, { external: new Set(given.keys()) });
  const limiter = typeof opts.limit === 'number' ? new Limiter(opts.limit) : opts.limit;
  const dependents = dependentsOf(artifacts, byId);
  const priority = chainCosts(artifacts, dependents, opts.cost ?? (() => 1));
  const position = new Map(artifacts.map((a, i) => [a.id, i]));
  const waiting = new Map(artifacts.map((a) => [a.id, new Set(a.inputs.filter((i) => byId.has(i))).size]));
  const results = new Map<string, R>();
  const ready: Artifact[] = [];
  const inFlight: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;

  // One slot request per ready artifact; which artifact runs is chosen when the slot is granted.
  const request = () => {
    inFlight.push(
      limiter.run(async () => {
        if (failure) return;
        ready.sort((x, y) => priority.get(y.id)! - priority.get(x.id)! || position.get(x.id)! - position.get(y.id)!);
        const a = ready.shift()!;
        const inputs = new Map<string, R>();
        for (const i of a.inputs) inputs.set(i, results.has(i) ? results.get(i)! : given.get(i)!);
        try {
          results.set(a.id, await run(a, inputs));
        } catch (error) {
          failure ??= { error };
          return;
        }
        const next: Artifact[] = [];
        for (const d of dependents.get(a.id) ?? []) {
          const left = waiting.get(d.id)! - 1;
          waiting.set(d.id, left);
          if (left === 0) next.push(d);
        }
        markReady(next);
      }),
    );
  };
  // All of them in the ready list before the first request: a free slot runs its task synchronously.
  const markReady = (list: Artifact[]) => {
    ready.push(...list);
    for (let n = 0; n < list.length; n++) request();
  };
  markReady(artifacts.filter((a) => waiting.get(a.id) === 0));
  // Requests are added while earlier ones run: wait until no new one appeared.
  for (let seen = 0; seen < inFlight.length; ) {
    const batch = inFlight.slice(seen);
    seen = inFlight.length;
    await Promise.all(batch);
  }
  if (failure) throw failure.error;
  return results;
}

/** Per artifact: its own cost plus the costliest chain of dependents after it. */
function chainCosts(artifacts: readonly Artifact[], dependents: Map<string, Artifact[]>, cost: (a: Artifact) => number): Map<string, number> {
  const memo = new Map<string, number>();
  const visit = (a: Artifact): number => {
    const known = memo.get(a.id);
    if (known !== undefined) return known;
    const value = cost(a) + Math.max(0, ...(dependents.get(a.id) ?? []).map(visit));
    memo.set(a.id, value);
    return value;
  };
  for (const a of artifacts) visit(a);
  return memo;
}
