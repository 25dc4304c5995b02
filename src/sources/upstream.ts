// Upstream binaries pinned in the definition (components[].upstream, e.g. the Temporal server): downloaded
// into the cache, checked against the pinned sha256 before use, and the named member extracted.
import { EXIT, UserError } from '../errors.ts';
import { exeName, type Product } from '../product/model.ts';
import type { UncheckedPayload } from '../targets/types.ts';
import type { DownloadCache } from './cache.ts';
import { extractMember, sniffArchive } from './extract.ts';
import { Limiter, mapLimited } from '../util/concurrency.ts';
import type { PayloadNeed } from '../payloads/local.ts';

export function isUpstream(product: Product, component: string): boolean {
  return Boolean(product.components.find((c) => c.name === component)?.upstream);
}

export async function upstreamPayloads(opts: { product: Product; needs: PayloadNeed[]; cache: DownloadCache; report: (line: string) => void }): Promise<UncheckedPayload[]> {
  const { product, cache } = opts;
  const jobs = opts.needs.filter((n) => isUpstream(product, n.component));
  if (!jobs.length) return [];
  return mapLimited(new Limiter(jobs.length), jobs, async (need): Promise<UncheckedPayload> => {
    const index = product.components.findIndex((c) => c.name === need.component);
    const component = product.components[index]!;
    const upstream = component.upstream!;
    const asset = upstream.assets[need.platform];
    const field = `components[${index}](${component.name}).upstream.assets.${need.platform}`;
    if (!asset) {
      throw new UserError(`${product.file}: ${field} is missing`, { hint: `pin the ${need.platform} download (url + sha256) or drop the platform`, exitCode: EXIT.config });
    }
    const label = `${component.name} ${upstream.version} for ${need.platform}`;
    const blob = await cache.fetch({
      key: `url:${asset.url}`,
      url: asset.url,
      sha256: asset.sha256,
      label,
      mismatchHint: `the pin is ${field}.sha256 in ${product.file}: compare the digest above with upstream's published checksums for ${upstream.version}, and put the right one in the definition`,
    });
    const exe = exeName(component.binary, need.platform);
    let file;
    if (asset.member) {
      const kind = await sniffArchive(blob.path);
      if (kind === 'bare') {
        throw new UserError(`${asset.url} is not an archive (tar, tar.gz or zip), but ${field}.member names a file inside it`, {
          hint: `remove ${field}.member if the URL is the binary itself, or fix the URL`,
          exitCode: EXIT.config,
        });
      }
      const member = asset.member;
      file = await cache.derived(`extract:${blob.sha256}:member:${member}`, exe, async (dest) => {
        await extractMember(blob.path, kind, { member }, dest, { label: asset.url, missingHint: `fix ${field}.member in ${product.file}` });
      });
    } else {
      file = await cache.named(blob, exe);
    }
    opts.report(`upstream ${label}: ${file.path}`);
    return { component: need.component, platform: need.platform, path: file.path, sha256: file.sha256, size: file.size, origin: 'upstream' };
  });
}
