// The `compress` command: one share of a platform's package compression for a split release
// (src/build/compress.ts), written to --xz-cache for the package jobs' `build --xz-cache`.
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { compressShard, contentsToCompress, parseShard } from '../build/compress.ts';
import type { Platform } from '../product/model.ts';
import { resolvePayloads } from '../sources/index.ts';
import { defaultRegistry } from '../targets/registry.ts';
import { cacheDir } from '../util/cache-dir.ts';
import { createReporter } from '../util/progress.ts';
import { XzContentCache } from '../util/xz-content.ts';
import { planFor, type CommonOptions } from './context.ts';

export interface CompressFlags extends CommonOptions {
  from?: string;
  offline?: boolean;
  xzCache: string;
  shard: string;
}

const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

export async function executeCompress(opts: CompressFlags): Promise<void> {
  if (opts.platform?.length !== 1) throw new UserError('compress prepares one platform: pass exactly one --platform', { exitCode: EXIT.usage });
  if (Boolean(opts.snapshot) === Boolean(opts.from)) {
    throw new UserError('choose exactly one payload source: --snapshot (stand-ins) or --from DIR (real binaries)', { exitCode: EXIT.usage });
  }
  const shard = parseShard(opts.shard);
  const platform = opts.platform[0] as Platform;
  // The whole plan (as the package job plans it), then this platform's share.
  const { product, plan } = planFor({ ...opts, platform: undefined });
  if (!plan.platforms.includes(platform)) throw new UserError(`platform not in the product definition: ${platform}`, { hint: `choose from: ${plan.platforms.join(', ')}`, exitCode: EXIT.usage });
  const registry = defaultRegistry();
  const report = createReporter();
  const payloads = await resolvePayloads({ product, platforms: [platform], version: plan.version, from: opts.from, snapshot: plan.snapshot, offline: Boolean(opts.offline), cacheDir: cacheDir(), report });
  const contents = contentsToCompress(plan, registry, product, platform, payloads);
  if (!contents.length) {
    throw new UserError(`no planned package of ${platform} compresses payloads through the xz cache`, {
      hint: 'compress jobs serve the .deb (linux.deb.compression: xz) and .rpm packages of a Linux platform',
      exitCode: EXIT.usage,
    });
  }
  const cache = new XzContentCache(path.resolve(opts.xzCache), { kept: true });
  const blocks = await compressShard(cache, contents, shard, `compress --platform ${platform} --shard ${shard.index}/${shard.count}`);
  report.done();
  const { reused, compressed } = cache.counts;
  report.info(`${platform} shard ${shard.index}/${shard.count}: ${blocks.length} blocks (${MiB(blocks.reduce((n, b) => n + b.size, 0))} of ${MiB(contents.reduce((n, c) => n + c.size, 0))}) in ${opts.xzCache} (${compressed} compressed, ${reused} already there)`);
}
