// Release archives: one per (component, platform), laid out as an install prefix (bin/, share/...) so the
// same archive serves Homebrew, Scoop and the install script. tar.gz for unix, zip for Windows.
import path from 'node:path';
import { artifactId } from '../../graph/index.ts';
import { archiveRole, exeName, splitPlatform, type Component, type Platform, type Product } from '../../product/model.ts';
import { tarStream, type TarEntry } from '../../util/tar.ts';
import { gzipStream, writeStream, writeZip } from '../../util/compress.ts';
import { statSync } from 'node:fs';
import { buildEach } from '../build-each.ts';
import type { BuildContext, PlannedArtifact, Target } from '../types.ts';
import { archiveFileName } from '../release.ts';
import { shippedPayload } from '../shipped.ts';
import { describeArchivedBinary } from '../../sbom/cyclonedx.ts';


interface ArchiveMember {
  name: string;
  mode: number;
  file: string;
  size: number;
}

async function members(ctx: BuildContext, component: Component, platform: Platform): Promise<ArchiveMember[]> {
  const payload = await shippedPayload(ctx, component.name, platform);
  const list: ArchiveMember[] = [{ name: `bin/${exeName(component.binary, platform)}`, mode: 0o755, file: payload.path, size: payload.size }];
  for (const f of ctx.product.def.files) {
    const file = path.resolve(ctx.product.dir, f.src);
    list.push({ name: f.dest, mode: parseInt(f.mode, 8), file, size: statSync(file).size });
  }
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export const archiveTarget: Target = {
  id: 'archive',
  description: 'release archives (tar.gz per unix platform, zip for Windows), one per component',
  produces: ['cli-archive', 'service-archive'],
  plan({ product, platforms, versions }) {
    return product.components.flatMap((c) =>
      c.platforms
        .filter((p) => platforms.includes(p))
        .map((p): PlannedArtifact => {
          const role = archiveRole(c);
          return { id: artifactId(role, c.name, p), role, scope: 'local', inputs: [], path: archiveFileName(product, c, p, versions.semver), target: 'archive', platform: p, component: c.name, release: true };
        }),
    );
  },
  async build(ctx, artifacts) {
    const componentOf = (a: PlannedArtifact) => ctx.product.components.find((c) => c.name === a.component)!;
    const built = await buildEach(ctx, artifacts, async (a) => {
      const list = await members(ctx, componentOf(a), a.platform!);
      const dest = path.join(ctx.outDir, a.path);
      if (a.path.endsWith('.zip')) return writeZip(list.map((m) => ({ name: m.name, mode: m.mode, source: { file: m.file, size: m.size } })), ctx.sourceDateEpoch, dest);
      const entries: TarEntry[] = list.map((m) => ({ name: m.name, type: 'file', mode: m.mode, mtime: ctx.sourceDateEpoch, source: { file: m.file, size: m.size } }));
      return writeStream(tarStream(entries), dest, gzipStream());
    });
    // The binary each archive holds, for the SBOM: described from the file just archived (a join, which has only
    // the archives, gets it from the part's manifest). One streaming read per binary (src/sbom/bytes.ts).
    if (ctx.describesBinaries) {
      for (const a of artifacts) {
        const component = componentOf(a);
        const binary = { file: exeName(component.binary, a.platform!), ...(await describeArchivedBinary((await shippedPayload(ctx, component.name, a.platform!)).path)) };
        built.set(a.path, { ...built.get(a.path)!, binary });
      }
    }
    return built;
  },
};
