// <product>_<version>.cdx.json: the release's CycloneDX 1.6 SBOM (src/sbom/cyclonedx.ts), a release asset listed
// in SHA256SUMS. An artifact about its inputs: every archive and package with the digest it was built with, and
// every binary as the archives hold it (Go build info, PyInstaller contents); plus the upstream components the
// definition pins.
import path from 'node:path';
import { artifactId, releaseAssets, type ArtifactRole } from '../../graph/index.ts';
import { EXIT, UserError } from '../../errors.ts';
import type { Component, Platform, Product } from '../../product/model.ts';
import { buildSbom, type SbomInput } from '../../sbom/cyclonedx.ts';
import { writeFileAtomic } from '../../util/fsx.ts';
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
 * Every component binary as its release archive (an input) holds it: the bytes users get, described by the archive
 * target as it wrote the archive (ctx.describesBinaries); a join has them from the parts' manifests.
 */
function binariesOf(ctx: BuildContext, archives: PlannedArtifact[]): SbomInput['binaries'] {
  return archives.map((a) => {
    const binary = ctx.built(a.path).binary;
    if (!binary) {
      throw new UserError(`${a.path}: its build did not describe the binary it holds, which the SBOM lists`, {
        hint: 'build the archives with this stigmer-dist (for --join: rebuild that platform with --local-only)',
        exitCode: EXIT.config,
      });
    }
    return { component: a.component!, platform: a.platform!, ...binary };
  });
}

function sbomInput(ctx: BuildContext, sbom: PlannedArtifact): SbomInput {
  const { product, versions } = ctx;
  const inputs = ctx.inputsOf(sbom);
  const binaries = binariesOf(ctx, inputs.filter((a) => (ARCHIVE_ROLES as readonly string[]).includes(a.role)));
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
    const json = await buildSbom(sbomInput(ctx, sbom));
    return new Map([[sbom.path, await writeFileAtomic(path.join(ctx.outDir, sbom.path), json)]]);
  },
};
