// MSI for windows-amd64: a per-machine install under Program Files\<DisplayName> with the CLI on PATH and
// every service registered with the Windows service manager (started on install, stopped and removed on
// uninstall), a stable UpgradeCode with MajorUpgrade, built on Linux with msitools' wixl.
import { copyFile, mkdir, utimes } from 'node:fs/promises';
import { makeTempDir } from '../../util/cleanup.ts';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Product } from '../../product/model.ts';
import { artifactId } from '../../graph/index.ts';
import { renderTemplate } from '../../render/templates.ts';
import { hashFile, writeFileAtomic } from '../../util/fsx.ts';
import { uuidV5 } from '../../util/uuid.ts';
import type { BuiltFile, PlannedArtifact, Target } from '../types.ts';
import { envFileName, envFileVariable, MSI_PLATFORM, msiModel, type MsiModel } from './model.ts';
import { msiFileName } from '../release.ts';
import { renderWxs } from './wxs.ts';
import { secretEntries } from '../../render/envfile.ts';
import { buildServiceHost } from './servicehost.ts';
import { msibuild, pinSummary, postProcessSql, wixl } from './wixl.ts';
import { shippedPayload } from '../shipped.ts';

export const wxsPath = (product: Product) => `msi/${product.meta.name}.wxs`;
export const msiEnvTemplatePath = (product: Product) => `msi/config/${envFileName(product)}`;

/** The env file the MSI installs under %ProgramData%: commented, with one line per secret, no values. */
export function renderWindowsEnvFile(product: Product, model: MsiModel): string {
  return renderTemplate('msi/env-file.hbs', {
    path: model.envFilePath,
    displayName: product.meta.displayName,
    envFileVariable: envFileVariable(product),
    secrets: secretEntries(product),
  }).replace(/\n/g, '\r\n');
}

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

export const msiTarget: Target = {
  id: 'msi',
  description: 'Windows MSI (x64): per-machine install, CLI on PATH, services registered with the service manager',
  produces: ['msi', 'wix-source', 'env-file'],
  tools: [
    { command: 'wixl', install: 'apt-get install wixl' },
    { command: 'msibuild', install: 'apt-get install msitools' },
    { command: 'msiinfo', install: 'apt-get install msitools' },
    { command: 'go', install: 'apt-get install golang-go' },
  ],
  plan({ product, versions, platforms }) {
    if (!platforms.includes(MSI_PLATFORM)) return [];
    msiModel(product, versions); // validates: nothing is planned for an MSI that cannot be built
    return [
      { id: artifactId('msi', MSI_PLATFORM), role: 'msi', scope: 'local', inputs: [], path: msiFileName(product, versions.semver), target: 'msi', platform: MSI_PLATFORM, release: true },
      { id: artifactId('wix-source', MSI_PLATFORM), role: 'wix-source', scope: 'local', inputs: [], path: wxsPath(product), target: 'msi', platform: MSI_PLATFORM, release: false },
      { id: artifactId('env-file', MSI_PLATFORM), role: 'env-file', scope: 'local', inputs: [], path: msiEnvTemplatePath(product), target: 'msi', platform: MSI_PLATFORM, release: false },
    ] satisfies PlannedArtifact[];
  },
  async build(ctx, artifacts) {
    const { product } = ctx;
    const model = msiModel(product, ctx.versions);
    const msiName = msiFileName(product, ctx.versions.semver);
    const cabinet = `${product.meta.name}.cab`;
    const wxs = renderWxs(product, model, cabinet);
    const envText = renderWindowsEnvFile(product, model);
    const workDir = await makeTempDir('stigmer-dist-msi-');
  const work = workDir.path;
    const out = new Map<string, BuiltFile>();
    try {
      // The build folder wixl reads (the layout the source's Source paths name), every mtime pinned.
      const digests: string[] = [sha256(wxs)];
      const stage = async (rel: string, from: string | { text: string } | 'host') => {
        const dest = path.join(work, rel);
        await mkdir(path.dirname(dest), { recursive: true });
        if (from === 'host') {
          await buildServiceHost(dest);
          await ctx.windowsSigning?.signBuilt(dest);
        } else if (typeof from === 'string') await copyFile(from, dest);
        else await writeFileAtomic(dest, from.text);
        await utimes(dest, ctx.sourceDateEpoch, ctx.sourceDateEpoch);
        digests.push(`${rel} ${(await hashFile(dest)).sha256}`);
      };
      for (const c of model.components) {
        for (const f of c.files) {
          const o = f.origin;
          if ('payload' in o) {
            ctx.report.progress(`msi: staging ${f.source}`);
            await stage(f.source, (await shippedPayload(ctx, o.payload, MSI_PLATFORM)).path);
          } else if ('file' in o) await stage(f.source, path.resolve(product.dir, o.file));
          else if ('envTemplate' in o) await stage(f.source, { text: envText });
          else {
            ctx.report.progress('msi: building the service host (winsvc/)');
            await stage(f.source, 'host');
          }
        }
      }
      await writeFileAtomic(path.join(work, 'product.wxs'), wxs);
      const sql = postProcessSql(model);
      const dest = path.join(ctx.outDir, msiName);
      await mkdir(path.dirname(dest), { recursive: true });
      ctx.report.progress(`msi: wixl ${msiName}`);
      const started = Date.now();
      await wixl('product.wxs', dest, work);
      await msibuild(dest, sql, work);
      const packageCode = uuidV5(model.upgradeCode, `PackageCode/${sha256([...digests, ...sql].join('\n'))}`);
      await pinSummary(dest, { packageCode, epoch: ctx.sourceDateEpoch, builtBetween: [started, Date.now()] });
      // Signed after its last edit: any later change to the MSI would break the signature.
      if (ctx.windowsSigning) {
        ctx.report.progress(`msi: signing ${msiName}`);
        await ctx.windowsSigning.signBuilt(dest);
      }
      for (const a of artifacts) {
        if (a.path === msiName) out.set(a.path, await hashFile(dest));
        else if (a.path === wxsPath(product)) out.set(a.path, await writeFileAtomic(path.join(ctx.outDir, a.path), wxs));
        else if (a.path === msiEnvTemplatePath(product)) out.set(a.path, await writeFileAtomic(path.join(ctx.outDir, a.path), envText));
      }
      return out;
    } finally {
      await workDir.dispose();
    }
  },
};
