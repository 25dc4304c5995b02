// <product>_<version>.cdx.json: the release's CycloneDX 1.6 SBOM (src/sbom/cyclonedx.ts), a release asset listed
// in SHA256SUMS. An artifact about its inputs: every archive and package with the digest it was built with, and
// every binary as the archives hold it (Go build info, PyInstaller contents); plus the upstream components the
// definition pins.
import path from 'node:path';
import { artifactId, releaseAssets, type ArtifactRole } from '../../graph/index.ts';
import { exeName, type Component, type Platform, type Product } from '../../product/model.ts';
import { buildSbom, describeBinary, type SbomInput } from '../../sbom/cyclonedx.ts';
import { extractMember } from '../../sources/extract.ts';
import { makeTempDir } from '../../util/cleanup.ts';
import { hashFile, writeFileAtomic } from '../../util/fsx.ts';
import { sbomFileName } from '../release.ts';
import type { BuildContext, PlannedArtifact, Target } from '../types.ts';

/** The release assets the SBOM describes as artifacts (packages and archives); the archives also give the binaries. */
const ARCHIVE_ROLES = ['cli-archive', 'service-archive'] as const satisfies readonly ArtifactRole[];
const DESCRIBED = [...ARCHIVE_ROLES, 'deb', 'rpm', 'msi'] as const satisfies readonly ArtifactRole[];

const componentsOn = (product: Product, platform: Platform): Component[] => product.components.filter((c) => c.platforms.includes(platform));

/** purl of an upstream release asset: pkg:github/<owner>/<repo>@<tag> for a GitHub release download, else generic. */
export function upstreamPurl(name: string, version: string, url: string): string {
  const gh = /^https:\/\/github\.com\/([^/]+)\/([^/]+)\/releases\/download\/([^/]+)\//.exec(url);
  if (gh) return `pkg:github/${gh[1]!.toLowerCase()}/${gh[2]!.toLowerCase()}@${encodeURIComponent(decodeURIComponent(gh[3]!))}`;
  return `pkg:generic/${encodeURIComponent(name)}@${encodeURIComponent(version)}?download_url=${encodeURIComponent(url)}`;
}

/**
 * Every component binary, read back out of its release archive (an input): the bytes users get, and available
 * in a join, which has the archives but not the payloads.
 */
async function binariesOf(ctx: BuildContext, archives: PlannedArtifact[], tmp: string): Promise<SbomInput['binaries']> {
  const out: SbomInput['binaries'] = [];
  for (const a of archives) {
    const component = ctx.product.components.find((c) => c.name === a.component)!;
    const file = exeName(component.binary, a.platform!);
    const dest = path.join(tmp, `${a.id.replace(/[^A-Za-z0-9._-]/g, '_')}-${file}`);
    await extractMember(path.join(ctx.outDir, a.path), a.path.endsWith('.zip') ? 'zip' : 'tar.gz', { basename: file }, dest, { label: a.path });
    out.push({ component: component.name, platform: a.platform!, file, sha256: (await hashFile(dest)).sha256, contents: await describeBinary(dest) });
  }
  return out;
}

async function sbomInput(ctx: BuildContext, sbom: PlannedArtifact, tmp: string): Promise<SbomInput> {
  const { product, versions } = ctx;
  const inputs = ctx.inputsOf(sbom);
  const binaries = await binariesOf(ctx, inputs.filter((a) => (ARCHIVE_ROLES as readonly string[]).includes(a.role)), tmp);
  // A release build always takes a pinned upstream component from its pinned download (src/sources); a snapshot
  // packages a stand-in in its place, which is described as a binary only.
  const upstream: SbomInput['upstream'] = [];
  for (const platform of ctx.snapshot ? [] : ctx.platforms) {
    for (const c of componentsOn(product, platform)) {
      const asset = c.upstream?.assets[platform];
      if (asset) upstream.push({ component: c.name, platform, name: c.name, version: c.upstream!.version, purl: upstreamPurl(c.name, c.upstream!.version, asset.url), url: asset.url, sha256: asset.sha256 });
    }
  }
  const artifacts = inputs.map((a) => ({
    name: a.path,
    sha256: ctx.built(a.path).sha256,
    role: a.role,
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
  produces: ['sbom'],
  consumes: DESCRIBED,
  plan(ctx, planned) {
    const id = artifactId('sbom');
    const described = planned.require(id, DESCRIBED, releaseAssets).filter((a) => !a.path?.includes('/'));
    return [{ id, role: 'sbom', scope: 'global', inputs: described.map((a) => a.id), path: sbomFileName(ctx.product, ctx.versions.semver), target: 'sbom', release: true }];
  },
  async build(ctx, artifacts) {
    const sbom = artifacts[0]!;
    const tmp = await makeTempDir('sd-sbom-');
    try {
      const json = await buildSbom(await sbomInput(ctx, sbom, tmp.path));
      return new Map([[sbom.path, await writeFileAtomic(path.join(ctx.outDir, sbom.path), json)]]);
    } finally {
      await tmp.dispose();
    }
  },
};
