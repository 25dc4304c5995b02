// `compress --platform P --shard I/N --xz-cache DIR`: one share of a platform's package compression, for a split
// release. Each Linux package copies its binaries' contents compressed in fixed-size xz blocks (the xz content
// cache, src/util/xz-content.ts); on one runner that compression is most of a platform's packaging time. N jobs
// each compress a share of the blocks into their own folder; the package jobs get every share in one folder and
// pass it as `build --xz-cache`, which checks each block against the payload before copying it. The blocks are
// those a single build makes, so the packages are the same bytes.
import { EXIT, UserError } from '../errors.ts';
import { xzContentComponents, type Plan } from '../plan/plan.ts';
import type { Platform, Product } from '../product/model.ts';
import type { BuildRegistry } from '../targets/registry.ts';
import type { Payload } from '../targets/types.ts';
import { blockRanges, XzContentCache } from '../util/xz-content.ts';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** "I/N" with 1 <= I <= N <= 64. */
export function parseShard(text: string): Shard {
  const m = /^(\d{1,2})\/(\d{1,2})$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!(index >= 1 && index <= count && count <= 64)) {
    throw new UserError(`--shard ${JSON.stringify(text)}: expected I/N with 1 <= I <= N <= 64`, { hint: 'for example --shard 2/3 (the second of three jobs)', exitCode: EXIT.usage });
  }
  return { index, count };
}

/** One block of one content: what a shard job compresses. */
export interface ContentBlock {
  sha256: string;
  index: number;
  size: number;
}

/** The distinct payload contents the platform's planned packages compress (by sha256, each once). */
export function contentsToCompress(plan: Plan, registry: BuildRegistry, product: Product, platform: Platform, payloads: readonly Payload[]): Payload[] {
  const targets = plan.targets.flatMap((id) => registry.get(id) ?? []);
  const components = xzContentComponents(product, targets, plan.artifacts, platform);
  const bySha = new Map<string, Payload>();
  for (const p of payloads) if (p.platform === platform && components.has(p.component) && !bySha.has(p.sha256)) bySha.set(p.sha256, p);
  return [...bySha.values()];
}

/**
 * The blocks shard `shard` compresses: every block of every content, largest first (ties by content and index,
 * so every job computes the same split), each given to the shard with the fewest bytes so far.
 */
export function shardBlocks(contents: readonly { sha256: string; size: number }[], blockSize: number, shard: Shard): ContentBlock[] {
  const blocks = contents
    .flatMap((c) => blockRanges(c.size, blockSize).map((r): ContentBlock => ({ sha256: c.sha256, index: r.index, size: r.end - r.start })))
    .sort((a, b) => b.size - a.size || (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0) || a.index - b.index);
  const load = new Array<number>(shard.count).fill(0);
  const mine: ContentBlock[] = [];
  for (const b of blocks) {
    const least = load.indexOf(Math.min(...load));
    load[least]! += b.size;
    if (least === shard.index - 1) mine.push(b);
  }
  return mine;
}

/** Compresses the shard's blocks into the cache (as many xz processes at once as the xz slots allow). */
export async function compressShard(cache: XzContentCache, contents: readonly Payload[], shard: Shard, what: string): Promise<ContentBlock[]> {
  const mine = shardBlocks(contents, cache.blockSize, shard);
  const wanted = new Map<string, Set<number>>();
  for (const b of mine) wanted.set(b.sha256, (wanted.get(b.sha256) ?? new Set()).add(b.index));
  // Largest content first: its blocks queue first for the slots.
  const order = contents.filter((c) => wanted.has(c.sha256)).sort((a, b) => b.size - a.size);
  await Promise.all(order.map((c) => cache.fill(c.sha256, c.path, c.size, what, (i) => wanted.get(c.sha256)!.has(i))));
  return mine;
}
