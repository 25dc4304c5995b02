// Shared plan/build for targets whose artifacts are rendered text: plan lists the rendered paths, build writes them.
import path from 'node:path';
import { UserError } from '../errors.ts';
import { artifactId, type ArtifactRole, type Planned } from '../graph/index.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import type { BuiltFile, DigestOf, PlanContext, PlannedArtifact, RenderContext, Target } from './types.ts';

export function textTarget(spec: {
  id: string;
  description: string;
  /** The graph role of each rendered path (one of `produces`). */
  roleOf: (path: string) => ArtifactRole;
  produces: readonly ArtifactRole[];
  consumes?: readonly ArtifactRole[];
  /** Paths only (no digests needed), so planning stays pure and cheap. */
  paths: (ctx: Omit<RenderContext, 'digestOf'>) => string[];
  /** Ids of the artifacts a path's text is rendered from (their digests), found by role through `planned`. */
  inputs?: (ctx: PlanContext, planned: Planned, path: string) => string[];
  render: (ctx: RenderContext) => Map<string, string>;
  component?: (path: string) => string | undefined;
}): Target {
  return {
    id: spec.id,
    description: spec.description,
    produces: spec.produces,
    ...(spec.consumes ? { consumes: spec.consumes } : {}),
    plan(ctx, planned) {
      return spec.paths(ctx).map((p): PlannedArtifact => {
        const component = spec.component?.(p);
        const role = spec.roleOf(p);
        return { id: artifactId(role, p), role, scope: 'global', inputs: spec.inputs?.(ctx, planned, p) ?? [], path: p, target: spec.id, release: false, ...(component ? { component } : {}) };
      });
    },
    render: spec.render,
    async build(ctx, artifacts) {
      const files = spec.render({ ...ctx, digestOf: (asset) => ctx.built(asset).sha256 });
      const out = new Map<string, BuiltFile>();
      for (const a of artifacts) {
        const text = files.get(a.path);
        if (text === undefined) throw new Error(`internal: ${spec.id} planned ${a.path} but did not render it`);
        out.set(a.path, await writeFileAtomic(path.join(ctx.outDir, a.path), text));
      }
      return out;
    },
  };
}

/** `render` from a release's SHA256SUMS: a release without the asset has nothing for a manifest to describe. */
export function knownDigest(digestOf: DigestOf, asset: string): boolean {
  try {
    digestOf(asset);
    return true;
  } catch (err) {
    if (err instanceof UserError) return false;
    throw err;
  }
}
