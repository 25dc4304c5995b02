// Shared plan/build for targets whose artifacts are rendered text: plan lists the rendered paths, build writes them.
import path from 'node:path';
import { writeFileAtomic } from '../util/fsx.ts';
import type { ArtifactKind, BuiltFile, PlannedArtifact, RenderContext, Target } from './types.ts';

export function textTarget(spec: {
  id: string;
  description: string;
  kindOf: (path: string) => ArtifactKind;
  /** Paths only (no digests needed), so planning stays pure and cheap. */
  paths: (ctx: Omit<RenderContext, 'digestOf'>) => string[];
  render: (ctx: RenderContext) => Map<string, string>;
  component?: (path: string) => string | undefined;
}): Target {
  return {
    id: spec.id,
    description: spec.description,
    plan(ctx) {
      return spec.paths(ctx).map((p): PlannedArtifact => {
        const component = spec.component?.(p);
        return { path: p, kind: spec.kindOf(p), target: spec.id, release: false, ...(component ? { component } : {}) };
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
