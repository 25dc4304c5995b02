// The yum-repo target: this build's RPMs (plus those already published, --repo-base) as a signed YUM/DNF
// repository below dist/<version>/repo/yum/, servable as static files, with a client .repo file.
import path from 'node:path';
import { splitPlatform, type Product } from '../../product/model.ts';
import { artifactId, releaseAssets } from '../../graph/index.ts';
import { generatedNotice, renderTemplate } from '../../render/templates.ts';
import { writeFileAtomic } from '../../util/fsx.ts';
import { definitionName } from '../../render/envfile.ts';
import { repoUrl, withRepoOptions } from '../repo-common.ts';
import type { BuiltFile, PlannedArtifact, Target } from '../types.ts';
import { buildYumRepo, CREATEREPO_INSTALL, rpmKeyName } from './repo.ts';

export { buildYumRepo, rpmKeyName, type YumRepoOptions, type YumRepoResult } from './repo.ts';

export const YUM_REPO_DIR = 'repo/yum';

/** The client .repo file for a repository served at `url` (the yum/ folder's URL). */
export function renderYumRepoFile(product: Product, url: string, signed: boolean): string {
  const base = url.replace(/\/+$/, '');
  return renderTemplate('yum-repo/repo.hbs', {
    notice: generatedNotice(definitionName(product)),
    displayName: product.meta.displayName,
    name: product.meta.name,
    id: product.meta.name,
    url: base,
    signed,
    gpgkey: signed ? `${base}/${rpmKeyName(product.meta.name)}` : null,
  });
}

export const yumRepoTarget: Target = {
  id: 'yum-repo',
  description: `signed YUM/DNF repository (${YUM_REPO_DIR}/: signed RPMs, repodata with repomd.xml.asc, RPM-GPG-KEY) from this build's and the published RPMs`,
  tools: [
    { command: 'createrepo_c', install: CREATEREPO_INSTALL },
    { command: 'gpg', install: 'apt-get install gnupg' },
    { command: 'rpmsign', install: 'apt-get install rpm' },
  ],
  produces: ['repo-metadata'],
  consumes: ['rpm'],
  plan({ product }, planned) {
    if (!product.platforms.some((p) => splitPlatform(p).os === 'linux')) return [];
    // The signed release RPMs: the repository serves the same bytes as the release assets.
    const rpms = planned.query('rpm', releaseAssets).map((a) => a.id);
    return [{ id: artifactId('repo-metadata', 'yum'), role: 'repo-metadata', scope: 'global', inputs: rpms, path: `${YUM_REPO_DIR}/repodata/repomd.xml`, target: 'yum-repo', release: false } satisfies PlannedArtifact];
  },
  async build(ctx, artifacts) {
    return withRepoOptions(ctx, async (repo) => {
      const rpms = ctx.inputsOf(artifacts[0]!).map((a) => path.join(ctx.outDir, a.path));
      if (!rpms.length) ctx.report.warn('yum-repo: this build made no RPMs (rpm target not selected or skipped): the repository holds only the packages from --repo-base');
      const signer = await repo.signer();
      const repoDir = path.join(ctx.outDir, YUM_REPO_DIR);
      ctx.report.progress(`yum-repo: ${signer ? 'signing and ' : ''}indexing ${rpms.length} new package(s)`);
      const result = await buildYumRepo({
        repoDir,
        packages: rpms,
        base: repo.base ? path.join(repo.base, path.basename(YUM_REPO_DIR)) : undefined,
        signer,
        // The rpm target signed them with this same signer: the repository holds the release assets' bytes.
        packagesSigned: true,
        sourceDateEpoch: ctx.sourceDateEpoch,
        keyName: ctx.product.meta.name,
      });
      const url = repoUrl(ctx, repo);
      if (url) await writeFileAtomic(path.join(repoDir, `${ctx.product.meta.name}.repo`), renderYumRepoFile(ctx.product, `${url}/${path.basename(YUM_REPO_DIR)}`, Boolean(signer)));
      ctx.report.info(`yum-repo: ${result.packages.length} package(s) indexed, ${signer ? `RPMs and repomd.xml signed by ${signer.fingerprint}` : 'UNSIGNED (--unsigned)'}`);
      const out = new Map<string, BuiltFile>();
      for (const a of artifacts) {
        const built = result.files.get(a.path.slice(YUM_REPO_DIR.length + 1));
        if (built) out.set(a.path, built);
      }
      return out;
    });
  },
};
