// <product>_<version>.cdx.json: the release's CycloneDX 1.6 SBOM (src/sbom/cyclonedx.ts), a release asset listed
// in SHA256SUMS. Built from this build's payloads (every binary: Go build info, PyInstaller contents), the
// upstream components the definition pins, and every archive and package with the digest it was built with.
import path from 'node:path';
import { type Component, type Platform, type Product } from '../../product/model.ts';
import { buildSbom, describeBinary, type SbomInput } from '../../sbom/cyclonedx.ts';
import { writeFileAtomic } from '../../util/fsx.ts';
import type { ArtifactKind, BuildContext, PlannedArtifact, Target } from '../types.ts';

export const sbomFileName = (product: Product, version: string) => `${product.meta.name}_${version}.cdx.json`;

/** The release assets the SBOM describes as artifacts (packages and archives). */
const DESCRIBED: ArtifactKind[] = ['archive', 'deb', 'rpm', 'msi'];

const componentsOn = (product: Product, platform: Platform): Component[] => product.components.filter((c) => c.platforms.includes(platform));

/** purl of an upstream release asset: pkg:github/<owner>/<repo>@<tag> for a GitHub release download, else generic. */
export function upstreamPurl(name: string, version: string, url: string): string {
  const gh = /^https:\/\/github\.com\/([^/]+)\/([^/]+)\/releases\/download\/([^/]+)\//.exec(url);
  if (gh) return `pkg:github/${gh[1]!.toLowerCase()}/${gh[2]!.toLowerCase()}@${encodeURIComponent(decodeURIComponent(gh[3]!))}`;
  return `pkg:generic/${encodeURIComponent(name)}@${encodeURIComponent(version)}?download_url=${encodeURIComponent(url)}`;
}

async function sbomInput(ctx: BuildContext): Promise<SbomInput> {
  const { product, versions } = ctx;
  const binaries: SbomInput['binaries'] = [];
  const upstream: SbomInput['upstream'] = [];
  for (const platform of ctx.platforms) {
    for (const c of componentsOn(product, platform)) {
      const p = ctx.payload(c.name, platform);
      binaries.push({ component: c.name, platform, file: path.basename(p.path), sha256: p.sha256, contents: await describeBinary(p.path) });
      const asset = c.upstream?.assets[platform];
      // Only a payload actually fetched from upstream is the pinned upstream asset (a snapshot uses a stand-in).
      if (asset && p.origin === 'upstream') {
        upstream.push({ component: c.name, platform, name: c.name, version: c.upstream!.version, purl: upstreamPurl(c.name, c.upstream!.version, asset.url), url: asset.url, sha256: asset.sha256 });
      }
    }
  }
  const artifacts = ctx.plan
    .filter((a) => a.release && DESCRIBED.includes(a.kind) && !a.path.includes('/'))
    .map((a) => ({
      name: a.path,
      sha256: ctx.built(a.path).sha256,
      role: a.kind,
      contains: a.platform ? (a.component ? [a.component] : componentsOn(product, a.platform).map((c) => c.name)).map((component) => ({ component, platform: a.platform! })) : undefined,
    }));
  const { owner, repo } = product.def.release.github;
  return {
    product: {
      name: product.meta.name,
      version: versions.semver,
      description: product.meta.summary,
      homepage: product.meta.homepage,
      license: product.meta.license,
      purl: `pkg:github/${owner.toLowerCase()}/${repo.toLowerCase()}@${encodeURIComponent(versions.tag)}`,
      supplier: product.meta.vendor,
    },
    sourceDateEpoch: ctx.sourceDateEpoch,
    binaries,
    upstream,
    artifacts,
  };
}

export const sbomTarget: Target = {
  id: 'sbom',
  description: 'CycloneDX 1.6 SBOM of the release: binaries (Go modules, Python distributions), upstream components, packages and archives',
  plan(ctx) {
    return [{ path: sbomFileName(ctx.product, ctx.versions.semver), kind: 'sbom', target: 'sbom', release: true } satisfies PlannedArtifact];
  },
  async build(ctx, artifacts) {
    const json = await buildSbom(await sbomInput(ctx));
    return new Map([[artifacts[0]!.path, await writeFileAtomic(path.join(ctx.outDir, artifacts[0]!.path), json)]]);
  },
};
