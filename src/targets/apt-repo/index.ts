// The apt-repo target: this build's .deb packages (plus those already published, --repo-base) as a signed APT
// repository below dist/<version>/repo/apt/, servable as static files:
//   deb [signed-by=/usr/share/keyrings/<name>.gpg] <url>/apt stable main
import path from 'node:path';
import { splitPlatform, type Product } from '../../product/model.ts';
import { artifactId } from '../../graph/index.ts';
import { generatedNotice, renderTemplate } from '../../render/templates.ts';
import { writeFileAtomic } from '../../util/fsx.ts';
import { definitionName } from '../../render/envfile.ts';
import { repoUrl, withRepoOptions } from '../repo-common.ts';
import type { BuiltFile, PlannedArtifact, Target } from '../types.ts';
import { buildAptRepo, type AptRepoMeta } from './repo.ts';

export { buildAptRepo, type AptRepoMeta, type AptRepoOptions, type AptRepoResult } from './repo.ts';

/** Below dist/<version>/: the repository tree is served from its parent (repo/), so apt/ and yum/ share one URL. */
export const APT_REPO_DIR = 'repo/apt';
export const APT_SUITE = 'stable';
export const APT_COMPONENT = 'main';

/** Debian architectures of the product's Linux platforms (Debian and Go both say amd64/arm64). */
export function aptArchitectures(product: Product): string[] {
  return [...new Set(product.platforms.filter((p) => splitPlatform(p).os === 'linux').map((p) => splitPlatform(p).arch))].sort();
}

export function aptRepoMeta(product: Product): AptRepoMeta {
  return {
    origin: product.meta.vendor,
    label: product.meta.displayName,
    suite: APT_SUITE,
    codename: APT_SUITE,
    component: APT_COMPONENT,
    architectures: aptArchitectures(product),
    description: product.meta.summary,
  };
}

/** Keyring file name in the repository and under /usr/share/keyrings/ on clients. */
export const aptKeyringName = (product: Product) => `${product.meta.name}.gpg`;

/** The one-line sources.list entry for a repository served at `url` (the apt/ folder's URL). */
export function renderAptSourceList(product: Product, url: string, signed: boolean): string {
  return renderTemplate('apt-repo/sources.list.hbs', {
    notice: generatedNotice(definitionName(product)),
    displayName: product.meta.displayName,
    name: product.meta.name,
    signed,
    url: url.replace(/\/+$/, ''),
    keyring: aptKeyringName(product),
    suite: APT_SUITE,
    component: APT_COMPONENT,
  });
}

export const aptRepoTarget: Target = {
  id: 'apt-repo',
  description: `signed APT repository (${APT_REPO_DIR}/: pool, dists/${APT_SUITE}, InRelease, Release.gpg, keyring) from this build's and the published .deb packages`,
  tools: [{ command: 'gpg', install: 'apt-get install gnupg' }],
  produces: ['repo-metadata'],
  consumes: ['deb'],
  plan({ product }, planned) {
    const debs = planned.query('deb').map((a) => a.id);
    const archs = aptArchitectures(product);
    if (!archs.length) return [];
    const dists = `${APT_REPO_DIR}/dists/${APT_SUITE}`;
    const paths = [`${dists}/Release`, ...archs.flatMap((a) => [`${dists}/${APT_COMPONENT}/binary-${a}/Packages`, `${dists}/${APT_COMPONENT}/binary-${a}/Packages.gz`])];
    return paths.map((p): PlannedArtifact => ({ id: artifactId('repo-metadata', 'apt', p.slice(APT_REPO_DIR.length + 1)), role: 'repo-metadata', scope: 'global', inputs: debs, path: p, target: 'apt-repo', release: false }));
  },
  async build(ctx, artifacts) {
    return withRepoOptions(ctx, async (repo) => {
      const debs = ctx.inputsOf(artifacts[0]!).map((a) => path.join(ctx.outDir, a.path));
      if (!debs.length) ctx.report.warn('apt-repo: this build made no .deb packages (deb target not selected or skipped): the repository holds only the packages from --repo-base');
      const signer = await repo.signer();
      const repoDir = path.join(ctx.outDir, APT_REPO_DIR);
      ctx.report.progress(`apt-repo: indexing ${debs.length} new package(s)`);
      const result = await buildAptRepo({
        repoDir,
        packages: debs,
        base: repo.base ? path.join(repo.base, path.basename(APT_REPO_DIR)) : undefined,
        signer,
        meta: aptRepoMeta(ctx.product),
        sourceDateEpoch: ctx.sourceDateEpoch,
        keyringName: ctx.product.meta.name,
      });
      const url = repoUrl(ctx, repo);
      if (url) await writeFileAtomic(path.join(repoDir, `${ctx.product.meta.name}.list`), renderAptSourceList(ctx.product, `${url}/${path.basename(APT_REPO_DIR)}`, Boolean(signer)));
      ctx.report.info(
        `apt-repo: ${result.packages.length} package(s) indexed for ${result.architectures.join(', ')}, ${signer ? `signed by ${signer.fingerprint}` : 'UNSIGNED (--unsigned)'}`,
      );
      const out = new Map<string, BuiltFile>();
      for (const a of artifacts) {
        const built = result.files.get(a.path.slice(APT_REPO_DIR.length + 1));
        if (built) out.set(a.path, built);
      }
      return out;
    });
  },
};
