// .rpm packages built with rpmbuild from a rendered spec (templates/rpm/package.spec.hbs): one per Linux
// architecture, cross-built with --target, reproducible (SOURCE_DATE_EPOCH, fixed build host, clamped mtimes).
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { makeTempDir } from '../../util/cleanup.ts';
import path from 'node:path';
import { execa } from '../../util/exec.ts';
import { EXIT, UserError } from '../../errors.ts';
import { splitPlatform, type Platform, type Product } from '../../product/model.ts';
import { artifactId } from '../../graph/index.ts';
import { XZ_THREADS, xzJobs } from '../../util/compress.ts';
import { hashFile } from '../../util/fsx.ts';
import { prefetchContents, withContentCache } from '../../util/xz-content.ts';
import { recompressRpmPayload } from './payload.ts';
import { checkPackageName, linuxInstallFiles, linuxPayloadComponents, linuxPayloadFiles, linuxPlatforms, productForPlatform, RPM_ARCH, sortFiles, type PackageFile } from '../linux/layout.ts';
import { buildEach } from '../build-each.ts';
import { withRepoOptions } from '../repo-common.ts';
import type { BuildContext, BuiltFile, PlannedArtifact, Target } from '../types.ts';
import { checkRpmVersion, presetPath, renderPreset, renderSpec, specPath, specSources } from './spec.ts';

/**
 * rpm's payload as rpmbuild itself would write ours: xz level 6 through liblzma's multi-threaded encoder (what
 * the benchmark's reference rpmbuild uses). Ours has the same level and block size, but is assembled from the
 * contents compressed once per build (./payload.ts), so rpmbuild writes an uncompressed one.
 */
export const RPM_PAYLOAD = `w6T${XZ_THREADS}.xzdio`;
/**
 * What rpmbuild writes: the cpio archive uncompressed (PAYLOADFLAGS "0", no PAYLOADCOMPRESSOR), replaced by the
 * level-6 xz payload after the build. No compression pass: even xz level 0 cost ~20 s of CPU per 175 MB.
 */
const RPMBUILD_PAYLOAD = 'w0.ufdio';
/** Names the target in errors about a payload file. */
const RPM_WHAT = 'the rpm target';

export function rpmFileName(pkg: string, version: string, release: string, rpmArch: string): string {
  return `${pkg}-${version}-${release}.${rpmArch}.rpm`;
}

/** rpm installs the license texts of `files` under its own licenses folder, by file name. */
const licensePath = (product: Product, name: string) => `/usr/share/licenses/${product.meta.name}/${name}`;

/**
 * What `build` would refuse about the definition and version, checked when planning: the package name, the rpm
 * version and release, two files at one install path, and a path %files cannot list.
 */
function checkRpmPlan(product: Product, versions: { version: string; release: string }, platform: Platform): void {
  checkPackageName(product.meta.name, 'product.name');
  checkRpmVersion(versions.version, versions.release, 'version');
  const own = productForPlatform(product, platform);
  const { files, licenses } = linuxInstallFiles(product, platform);
  const paths = [...files.map((f) => f.path), ...licenses.map((l) => licensePath(own, l.name)), presetPath(own)];
  for (const f of sortFiles(paths.map((p) => ({ path: p })))) specPath(f.path);
}

/** Everything the package installs on one platform: the shared Linux layout, the license texts and the preset. */
export async function rpmFiles(ctx: BuildContext, platform: Platform): Promise<PackageFile[]> {
  const product = productForPlatform(ctx.product, platform);
  const { files, licenses } = await linuxPayloadFiles(ctx, platform);
  return sortFiles([
    ...files,
    ...licenses.map((l): PackageFile => ({ path: licensePath(product, l.name), mode: 0o644, role: 'license', source: { file: l.file, size: l.size } })),
    // Fedora and RHEL enable nothing without a preset saying so; admins override it in /etc/systemd/system-preset/.
    { path: presetPath(product), mode: 0o644, role: 'preset', source: Buffer.from(renderPreset(product)) },
  ]);
}

/** The spec for one platform (also what the golden tests read). */
export async function rpmSpec(ctx: BuildContext, platform: Platform): Promise<{ spec: string; files: PackageFile[] }> {
  const product = productForPlatform(ctx.product, platform);
  const { version, release } = ctx.versions.rpm;
  const files = await rpmFiles(ctx, platform);
  return { spec: renderSpec({ product, version, release, semver: ctx.versions.semver, files, sourceDateEpoch: ctx.sourceDateEpoch }), files };
}

export async function buildRpm(ctx: BuildContext, platform: Platform, dest: string): Promise<BuiltFile> {
  const product = productForPlatform(ctx.product, platform);
  const rpmArch = RPM_ARCH[splitPlatform(platform).arch];
  const { spec, files } = await rpmSpec(ctx, platform);
  const topDir = await makeTempDir('stigmer-dist-rpm-');
  const top = topDir.path;
  try {
    const sources = path.join(top, 'SOURCES');
    await mkdir(sources);
    for (const s of specSources(files)) {
      const file = path.join(sources, s.name);
      // Payloads are linked, never copied into memory; rpmbuild's %install streams them into the buildroot.
      if (Buffer.isBuffer(s.file.source)) await writeFile(file, s.file.source);
      else await symlink(path.resolve(s.file.source.file), file);
    }
    const specFile = path.join(top, `${product.meta.name}.spec`);
    await writeFile(specFile, spec);
    const outDir = path.dirname(dest);
    await mkdir(outDir, { recursive: true });
    const define = (name: string, value: string) => ['--define', `${name} ${value}`];
    const args = [
      '-bb',
      '--target',
      rpmArch,
      ...define('_topdir', top),
      ...define('_sourcedir', sources),
      ...define('_builddir', path.join(top, 'BUILD')),
      ...define('_buildrootdir', path.join(top, 'BUILDROOT')),
      ...define('_tmppath', path.join(top, 'tmp')),
      ...define('_rpmdir', outDir),
      ...define('_build_name_fmt', path.basename(dest).replace(/%/g, '%%')),
      // Reproducible: the same inputs give the same bytes on any build host.
      ...define('_buildhost', 'reproducible'),
      ...define('clamp_mtime_to_source_date_epoch', '1'),
      ...define('use_source_date_epoch_as_buildtime', '1'),
      ...define('source_date_epoch_from_changelog', '0'),
      // xz payload: every rpm since 4.7 (RHEL 6, Amazon Linux 2) reads it. Uncompressed here, replaced below.
      ...define('_binary_payload', RPMBUILD_PAYLOAD),
      specFile,
    ];
    await mkdir(path.join(top, 'tmp'));
    await withContentCache(ctx.xzContent, dest, async (cache) => {
      // rpmbuild (copying, digesting and archiving the files: one core) takes one xz slot, first, so that the
      // payloads' compression (queued right after it) runs on the other slots meanwhile, not after it.
      const rpmbuild = xzJobs.run(
        () =>
          execa('rpmbuild', args, {
            cwd: top,
            // HOME: no ~/.rpmmacros of the build user leaks in.
            env: { SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch), HOME: top, LC_ALL: 'C', TZ: 'UTC' },
            stdin: 'ignore',
          }),
        1,
        Infinity, // before any waiting compression: the package's assembly waits for it
      );
      prefetchContents(cache, files, RPM_WHAT);
      try {
        await rpmbuild;
      } catch (err) {
        const e = err as { stderr?: string; code?: string };
        if (e.code === 'ENOENT') throw err;
        const tail = (e.stderr ?? '').split('\n').filter(Boolean).slice(-15).join('\n');
        throw new UserError(`rpmbuild failed for ${path.basename(dest)}:\n${tail}`, {
          hint: 'the spec is rendered from the product definition with templates/rpm/package.spec.hbs: fix the field the message names',
          exitCode: EXIT.failure,
          cause: err,
        });
      }
      if (!existsSync(dest)) throw new Error(`internal: rpmbuild did not write ${dest}`);
      await recompressRpmPayload(dest, files, cache, RPM_WHAT);
    });
    return await hashFile(dest);
  } finally {
    await topDir.dispose();
  }
}

/** Where the unsigned RPMs wait for the join to sign them (not release assets). */
export const UNSIGNED_RPM_DIR = 'rpm-unsigned';

/**
 * Copies the unsigned package to `dest` and signs the copy with the build's key (rpmsign, at SOURCE_DATE_EPOCH):
 * the one signed RPM that is the release asset and, byte for byte, the YUM repository's copy. Unsigned builds
 * (--unsigned) copy it as it is.
 */
async function signedCopy(ctx: BuildContext, unsigned: string, known: BuiltFile, dest: string): Promise<BuiltFile> {
  return withRepoOptions(ctx, async (repo) => {
    const signer = await repo.signer();
    const tmp = `${dest}.tmp-${process.pid}`;
    try {
      await copyFile(unsigned, tmp);
      if (signer) await signer.signRpm(tmp);
      await rename(tmp, dest);
    } finally {
      await rm(tmp, { force: true });
    }
    // Unsigned, the copy has the digest of the package it copies (already known).
    return signer ? hashFile(dest) : known;
  });
}

export const rpmTarget: Target = {
  id: 'rpm',
  description: 'RPM packages (.rpm) per Linux architecture, signed with the release key: binaries, systemd units and target, system user, env file',
  produces: ['rpm'],
  tools: [
    { command: 'rpmbuild', install: 'apt-get install rpm (Fedora/RHEL: dnf install rpm-build; macOS: brew install rpm)' },
    { command: 'rpmsign', install: 'apt-get install rpm (Fedora/RHEL: dnf install rpm-sign)' },
  ],
  // The cpio payload's binaries are copied as their compressed contents (src/targets/rpm/payload.ts).
  xzContents: linuxPayloadComponents,
  // Built on each platform's runner (local) and signed in the join, which alone holds the signing key (global).
  plan(ctx) {
    const { version, release } = ctx.versions.rpm;
    return linuxPlatforms(ctx).flatMap((platform): PlannedArtifact[] => {
      checkRpmPlan(ctx.product, ctx.versions.rpm, platform);
      const file = rpmFileName(ctx.product.meta.name, version, release, RPM_ARCH[splitPlatform(platform).arch]);
      const unsigned: PlannedArtifact = { id: artifactId('rpm', platform, 'unsigned'), role: 'rpm', scope: 'local', inputs: [], path: `${UNSIGNED_RPM_DIR}/${file}`, target: 'rpm', platform, release: false };
      return [unsigned, { id: artifactId('rpm', platform), role: 'rpm', scope: 'global', inputs: [unsigned.id], path: file, target: 'rpm', platform, release: true }];
    });
  },
  build: (ctx, artifacts) =>
    buildEach(ctx, artifacts, (a) => {
      if (a.scope === 'local') return buildRpm(ctx, a.platform!, path.join(ctx.outDir, a.path));
      const unsigned = ctx.inputsOf(a)[0]!.path;
      return signedCopy(ctx, path.join(ctx.outDir, unsigned), ctx.built(unsigned), path.join(ctx.outDir, a.path));
    }),
};
