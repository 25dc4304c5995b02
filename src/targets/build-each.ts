// Builds a target's artifacts side by side, one task per artifact. CPU-heavy compressors take an xz job slot
// (util/compress.ts), so running every artifact at once never oversubscribes the cores.
import { availableParallelism } from 'node:os';
import { mapLimit } from '../util/concurrency.ts';
import type { BuildContext, BuiltArtifact, PlannedArtifact } from './types.ts';

export async function buildEach(ctx: BuildContext, artifacts: PlannedArtifact[], build: (artifact: PlannedArtifact) => Promise<BuiltArtifact>): Promise<Map<string, BuiltArtifact>> {
  const built = await mapLimit(artifacts, availableParallelism(), async (a) => {
    ctx.report.progress(`${a.target} ${a.path}`);
    return [a.path, await build(a)] as const;
  });
  return new Map(built);
}
