import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  artifactId,
  byPlatform,
  byRole,
  executeGraph,
  GraphError,
  planGraph,
  select,
  TargetRegistry,
  topologicalOrder,
  type Artifact,
  type GraphTarget,
} from '../src/graph/index.ts';
import { loadProduct } from '../src/product/load.ts';
import type { Product } from '../src/product/model.ts';
import { sha256Hex } from '../src/util/fsx.ts';
import { ACME_YAML, tempDir } from './helpers.ts';

interface Ctx {
  product: Product;
}

// Stands in for the archive target: one archive per component and platform, local to the platform.
const archives: GraphTarget<Ctx> = {
  id: 'toy-archive',
  produces: ['cli-archive', 'service-archive'],
  plan: ({ product }) =>
    product.components.flatMap((c) =>
      c.platforms.map((platform) => {
        const role = c.service ? ('service-archive' as const) : ('cli-archive' as const);
        return { id: artifactId(role, c.name, platform), role, scope: 'local' as const, platform, component: c.name, path: `${c.name}_${platform}.txt`, release: true };
      }),
    ),
};

// The toy target the issue asks for: registered from this test alone, it finds the archives by role.
const sboms: GraphTarget<Ctx> = {
  id: 'toy-sbom',
  produces: ['sbom'],
  consumes: ['cli-archive', 'service-archive'],
  plan: (_ctx, planned) =>
    planned.query(['cli-archive', 'service-archive']).map((a) => ({ id: artifactId('sbom', a.id), role: 'sbom' as const, scope: 'local' as const, platform: a.platform, path: `${a.path}.sbom`, inputs: [a.id] })),
};

const tick = () => new Promise<void>((r) => setImmediate(r));

function art(id: string, inputs: string[] = [], extra: Partial<Artifact> = {}): Artifact {
  return { id, role: 'manifest', target: 't', scope: 'global', release: false, inputs, ...extra };
}

function planError(fn: () => unknown): GraphError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GraphError) return err;
    throw err;
  }
  throw new Error('expected a GraphError');
}

describe('planning', () => {
  const product = loadProduct(ACME_YAML);

  it('plans a toy target that consumes archives by role, whatever the registration order, and builds it', async () => {
    // Registered consumer first: the planner orders by roles, not by the registry array.
    const registry = new TargetRegistry<Ctx>().register(sboms).register(archives);
    const plan = planGraph(registry, { product });
    const archiveIds = select(plan.artifacts, byRole(['cli-archive', 'service-archive'])).map((a) => a.id);
    expect(archiveIds.length).toBe(product.components.reduce((n, c) => n + c.platforms.length, 0));
    const sbomArtifacts = select(plan.artifacts, byRole('sbom'));
    expect(sbomArtifacts.map((s) => s.inputs[0])).toEqual(archiveIds);
    expect(sbomArtifacts.every((s) => s.target === 'toy-sbom' && plan.byId.get(s.inputs[0]!)!.platform === s.platform)).toBe(true);

    const out = tempDir();
    const built = await executeGraph(
      plan.artifacts,
      async (a, inputs) => {
        const file = path.join(out, a.path!);
        const body = a.role === 'sbom' ? `sbom of ${[...inputs.values()].join(',')}\n` : `archive ${a.id}\n`;
        writeFileSync(file, body);
        return sha256Hex(body);
      },
      { limit: 2 },
    );
    expect(built.size).toBe(plan.artifacts.length);
    for (const s of sbomArtifacts) {
      expect(readFileSync(path.join(out, s.path!), 'utf8')).toBe(`sbom of ${built.get(s.inputs[0]!)}\n`);
    }
  });

  it('filters by platform as well as role', () => {
    const plan = planGraph([archives], { product });
    const linux = select(plan.artifacts, byRole('service-archive'), byPlatform('linux-amd64'));
    expect(linux.length).toBeGreaterThan(0);
    expect(linux.every((a) => a.platform === 'linux-amd64' && a.role === 'service-archive')).toBe(true);
  });

  it('fails at plan when an artifact needs an input no target plans, naming both ids', () => {
    const winget: GraphTarget<Ctx> = {
      id: 'toy-winget',
      produces: ['manifest'],
      plan: () => [{ id: 'manifest:winget', role: 'manifest', scope: 'global', inputs: ['msi:windows-amd64'] }],
    };
    const err = planError(() => planGraph([archives, winget], { product }));
    expect(err.ids).toEqual(['manifest:winget', 'msi:windows-amd64']);
    expect(err.message).toContain('"manifest:winget"');
    expect(err.message).toContain('"msi:windows-amd64"');
    expect(err.exitCode).toBe(2);
  });

  it('fails at plan when a required role is not planned, naming the asking artifact and the role', () => {
    const scoop: GraphTarget<Ctx> = {
      id: 'toy-scoop',
      produces: ['manifest'],
      consumes: ['msi'],
      plan: (_ctx, planned) => {
        const [msi] = planned.require('manifest:scoop', 'msi', byPlatform('windows-amd64'));
        return [{ id: 'manifest:scoop', role: 'manifest', scope: 'global', inputs: [msi!.id] }];
      },
    };
    const err = planError(() => planGraph([scoop], { product }));
    expect(err.ids).toEqual(['manifest:scoop', 'msi']);
  });

  it('fails at plan when two targets form a cycle, naming both artifact ids', () => {
    const formula: GraphTarget<Ctx> = { id: 'a', produces: ['formula'], plan: () => [{ id: 'formula:x', role: 'formula', scope: 'global', inputs: ['manifest:y'] }] };
    const manifest: GraphTarget<Ctx> = { id: 'b', produces: ['manifest'], plan: () => [{ id: 'manifest:y', role: 'manifest', scope: 'global', inputs: ['formula:x'] }] };
    const err = planError(() => planGraph([formula, manifest], { product }));
    expect(err.message).toBe('dependency cycle: formula:x -> manifest:y -> formula:x');
    expect(err.ids).toEqual(['formula:x', 'manifest:y']);
  });

  it('fails at plan when two targets consume each other\'s roles, naming both targets', () => {
    const a: GraphTarget<Ctx> = { id: 'a', produces: ['formula'], consumes: ['manifest'], plan: () => [] };
    const b: GraphTarget<Ctx> = { id: 'b', produces: ['manifest'], consumes: ['formula'], plan: () => [] };
    expect(planError(() => planGraph([a, b], { product })).ids.sort()).toEqual(['a', 'b']);
  });

  it('refuses a local artifact that reads a global one, and a query of an undeclared role', () => {
    const sums: GraphTarget<Ctx> = { id: 'sums', produces: ['checksums'], plan: () => [{ id: 'checksums', role: 'checksums', scope: 'global' }] };
    const deb: GraphTarget<Ctx> = { id: 'deb', produces: ['deb'], plan: () => [{ id: 'deb:linux-amd64', role: 'deb', scope: 'local', platform: 'linux-amd64', inputs: ['checksums'] }] };
    expect(planError(() => planGraph([sums, deb], { product })).ids).toEqual(['deb:linux-amd64', 'checksums']);
    const sneaky: GraphTarget<Ctx> = { id: 'sneaky', produces: ['sbom'], plan: (_c, planned) => (planned.query('deb'), []) };
    expect(() => planGraph([sneaky], { product })).toThrow(/queries deb without declaring it in consumes/);
  });

  it('refuses two artifacts with one id or one path', () => {
    const twice: GraphTarget<Ctx> = { id: 'twice', produces: ['manifest'], plan: () => [art('m'), art('m')] };
    expect(planError(() => planGraph([twice], { product })).ids).toEqual(['m']);
    const samePath: GraphTarget<Ctx> = { id: 'same', produces: ['manifest'], plan: () => [art('m1', [], { path: 'x' }), art('m2', [], { path: 'x' })] };
    expect(planError(() => planGraph([samePath], { product })).ids).toEqual(['m1', 'm2']);
  });
});

describe('executor', () => {
  // a -> c -> e and b -> d; f alone; g reads c and d.
  const graph = [art('f'), art('a'), art('b'), art('c', ['a']), art('d', ['b']), art('e', ['c']), art('g', ['c', 'd'])];

  it('orders every artifact after its inputs (plan order among the ready ones)', () => {
    expect(topologicalOrder(graph).map((a) => a.id)).toEqual(['f', 'a', 'b', 'c', 'd', 'e', 'g']);
  });

  it('runs each artifact after its inputs, never more than the limit at once, and uses the whole limit', async () => {
    for (const limit of [1, 2, 3]) {
      const finished = new Set<string>();
      let active = 0;
      let peak = 0;
      const results = await executeGraph(
        graph,
        async (a, inputs) => {
          expect([...inputs.keys()]).toEqual(a.inputs);
          for (const i of a.inputs) expect(finished.has(i)).toBe(true);
          peak = Math.max(peak, ++active);
          for (let n = 0; n < 3; n++) await tick();
          active--;
          finished.add(a.id);
          return a.id.toUpperCase();
        },
        { limit },
      );
      expect(peak).toBe(limit);
      expect(results.get('g')).toBe('G');
      expect(results.size).toBe(graph.length);
    }
  });

  it('starts the ready artifact with the longest chain behind it first', async () => {
    const order: string[] = [];
    await executeGraph(graph, async (a) => void order.push(a.id), { limit: 1 });
    // a and b head chains of three; f, planned first, has nothing behind it and ties with e and g.
    expect(order).toEqual(['a', 'b', 'c', 'd', 'f', 'e', 'g']);
  });

  it('uses inputs built elsewhere and refuses an input that is neither planned nor given', async () => {
    const join = [art('sums', ['deb:linux-amd64'])];
    const got = await executeGraph(join, async (_a, inputs) => inputs.get('deb:linux-amd64') ?? 'none', { limit: 1, given: new Map([['deb:linux-amd64', 'digest']]) });
    expect(got.get('sums')).toBe('digest');
    await expect(executeGraph(join, async () => 1, { limit: 1 })).rejects.toThrow(/"sums".*needs "deb:linux-amd64"/);
  });

  it('starts nothing new after a failure and rethrows it once the work in flight is done', async () => {
    const ran: string[] = [];
    const err = await executeGraph(
      graph,
      async (a) => {
        ran.push(a.id);
        if (a.id === 'a') throw new Error('a failed');
      },
      { limit: 1 },
    ).catch((e: Error) => e);
    expect((err as Error).message).toBe('a failed');
    expect(ran).toEqual(['a']);
  });
});
