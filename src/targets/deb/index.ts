// .deb packages written by stigmer-dist itself (no dpkg-deb), so they build on any CI runner: an ar archive of
// debian-binary, control.tar.<c> and data.tar.<c> (platform-conventions §2.1). One package per Linux
// architecture holding every component built for it, the systemd units, the sysusers.d entry and the env file.
import { createHash, type Hash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { splitPlatform, type Platform, type Product } from '../../product/model.ts';
import { artifactId } from '../../graph/index.ts';
import { arStream } from '../../util/ar.ts';
import { compressStream, explainCompressorError, writeStream, type StreamCompression } from '../../util/compress.ts';
import { tarPieces, tarStream, type ContentObserver, type TarEntry } from '../../util/tar.ts';
import { writeChunks } from '../../util/fsx.ts';
import { isCachedContent, withContentCache, type CompressedContent, type XzContentCache } from '../../util/xz-content.ts';
import { xzStreamOf, type XzPart } from '../../util/xz-stream.ts';
import { checkPackageName, linuxInstallFiles, linuxPayloadComponents, linuxPayloadFiles, linuxPlatforms, parentDirs, productForPlatform, sortFiles, sourceSize, type PackageFile } from '../linux/layout.ts';
import { buildEach } from '../build-each.ts';
import type { BuildContext, BuiltFile, PlannedArtifact, Target } from '../types.ts';
import {
  checkDebianVersion,
  installedSizeKiB,
  lintianOverrides,
  renderChangelog,
  renderControl,
  renderCopyright,
  renderLintianOverrides,
  renderMaintainerScripts,
} from './metadata.ts';

const EXT: Record<StreamCompression, string> = { gzip: 'gz', xz: 'xz', zstd: 'zst' };

export function debFileName(pkg: string, debianVersion: string, arch: string): string {
  // The file name carries no epoch (dpkg-name does the same).
  return `${pkg}_${debianVersion.replace(/^\d+:/, '')}_${arch}.deb`;
}

async function compressToBuffer(entries: TarEntry[], kind: StreamCompression): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline([tarStream(entries), ...(await compressStream(kind)), new Writable({ write: (chunk: Buffer, _e, cb) => (chunks.push(chunk), cb()) })]);
  return Buffer.concat(chunks);
}

/** Where the Debian-only files go: the doc folder's copyright and changelog, and the lintian overrides. */
function debOwnPaths(product: Product): { copyright: string; changelog: string; lintian: string } {
  const doc = `/usr/share/doc/${product.meta.name}`;
  // A non-native version (with a Debian revision) wants changelog.Debian.gz, not changelog.gz.
  return { copyright: `${doc}/copyright`, changelog: `${doc}/changelog.Debian.gz`, lintian: `/usr/share/lintian/overrides/${product.meta.name}` };
}

/**
 * What `build` would refuse about the definition and version, checked when planning: the package name, the
 * Debian version, and two files at one install path.
 */
function checkDebPlan(product: Product, debianVersion: string, platform: Platform): void {
  checkPackageName(product.meta.name, 'product.name');
  checkDebianVersion(debianVersion, 'version');
  sortFiles([...linuxInstallFiles(product, platform).files.map((f) => f.path), ...Object.values(debOwnPaths(productForPlatform(product, platform)))].map((p) => ({ path: p })));
}

/** Everything the package installs on one platform: the shared Linux layout plus Debian's doc files and overrides. */
export async function debFiles(ctx: BuildContext, platform: Platform): Promise<PackageFile[]> {
  const product = productForPlatform(ctx.product, platform);
  const { files, licenses } = await linuxPayloadFiles(ctx, platform);
  const licenseTexts = await Promise.all(licenses.map((l) => readFile(l.file, 'utf8')));
  const own = debOwnPaths(product);
  const year = new Date(ctx.sourceDateEpoch * 1000).getUTCFullYear();
  const changelog = gzipSync(Buffer.from(renderChangelog(product, ctx.versions.debian, ctx.versions.semver, ctx.sourceDateEpoch)), { level: 9 });
  changelog[9] = 3; // gzip OS byte: Unix on every build host (gzip -n leaves no name or time either).
  const extra: PackageFile[] = [
    { path: own.copyright, mode: 0o644, role: 'doc', source: Buffer.from(renderCopyright(product, year, licenseTexts)) },
    { path: own.changelog, mode: 0o644, role: 'doc', source: changelog },
  ];
  extra.push({ path: own.lintian, mode: 0o644, role: 'lintian', source: Buffer.from(renderLintianOverrides(product, lintianOverrides(product, files))) });
  return sortFiles([...files, ...extra]);
}

/**
 * data.tar as parts of one .xz stream: the payload binaries as their contents compressed once per build
 * (shared with the .rpm of the same architecture), everything else (tar headers, padding, small files) stored.
 * Records the md5 of every content on disk in `md5s`.
 */
async function* xzDataParts(entries: TarEntry[], byName: Map<string, PackageFile>, cache: XzContentCache, what: string, md5s: Map<string, string>): AsyncGenerator<XzPart> {
  // Every compression starts now, so they run side by side as the xz slots allow; they are copied in archive order.
  const compressed = new Map<string, Promise<CompressedContent>>();
  for (const e of entries) {
    const f = byName.get(e.name);
    if (f && isCachedContent(f)) compressed.set(e.name, cache.get(f.sha256, f.source.file, f.source.size, what));
  }
  for (const piece of tarPieces(entries)) {
    if (Buffer.isBuffer(piece)) {
      yield piece;
      continue;
    }
    const content = compressed.get(piece.name);
    if (content) {
      const { blocks, md5 } = await content;
      md5s.set(piece.name, md5);
      yield blocks;
      continue;
    }
    const source = piece.source as { file: string; size: number };
    const bytes = await readFile(source.file);
    if (bytes.length !== source.size) throw new Error(`${source.file} changed size while being archived (${source.size} -> ${bytes.length} bytes)`);
    md5s.set(piece.name, createHash('md5').update(bytes).digest('hex'));
    yield bytes;
  }
}

export async function buildDeb(ctx: BuildContext, platform: Platform, dest: string): Promise<BuiltFile> {
  const product = productForPlatform(ctx.product, platform);
  const arch = splitPlatform(platform).arch;
  const version = ctx.versions.debian;
  const kind = product.def.linux.deb.compression;
  const mtime = ctx.sourceDateEpoch;
  const files = await debFiles(ctx, platform);

  const dirs = parentDirs(files.map((f) => f.path));
  const data: TarEntry[] = [
    { name: './', type: 'dir' as const, mode: 0o755, mtime },
    ...dirs.map((d): TarEntry => ({ name: `.${d}/`, type: 'dir', mode: 0o755, mtime })),
    ...files.map((f): TarEntry => ({ name: `.${f.path}`, type: 'file', mode: f.mode, mtime, source: f.source })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const conffiles = files.filter((f) => f.path.startsWith('/etc/'));
  // deb-systemd-helper/-invoke (essential on Debian 12, versioned so that stays true where it no longer is),
  // useradd for the fallback, and libc for a dynamically linked payload such as a PyInstaller bootloader.
  const depends = ['init-system-helpers (>= 1.54~)', 'passwd'];
  if (files.some((f) => f.binary?.elf?.dynamic)) depends.push('libc6');
  const controlTarFor = (md5sums: string[]) => {
    const control = renderControl({ product, version, arch, installedSizeKiB: installedSizeKiB(files.map((f) => sourceSize(f.source)), dirs.length + 1), depends });
    const scripts = renderMaintainerScripts(product);
    const controlEntries: TarEntry[] = [
      { name: './', type: 'dir', mode: 0o755, mtime },
      { name: './conffiles', type: 'file', mode: 0o644, mtime, source: Buffer.from(conffiles.map((f) => `${f.path}\n`).join('')) },
      { name: './control', type: 'file', mode: 0o644, mtime, source: Buffer.from(control) },
      { name: './md5sums', type: 'file', mode: 0o644, mtime, source: Buffer.from(md5sums.map((l) => `${l}\n`).join('')) },
      { name: './postinst', type: 'file', mode: 0o755, mtime, source: Buffer.from(scripts.postinst) },
      { name: './postrm', type: 'file', mode: 0o755, mtime, source: Buffer.from(scripts.postrm) },
      { name: './prerm', type: 'file', mode: 0o755, mtime, source: Buffer.from(scripts.prerm) },
    ];
    return compressToBuffer(controlEntries, kind);
  };

  // data.tar goes to a temp file first: the ar header needs its size, and the payload must not sit in memory.
  // md5sums (in control.tar, which comes first in the .deb) are taken from that same single read of the payloads.
  const dataTmp = `${dest}.data-${process.pid}.tmp`;
  try {
    const what = `the deb target (linux.deb.compression: ${kind})`;
    const digests = new Map<string, Hash>();
    const observe: ContentObserver = (entry, chunk) => {
      let hash = digests.get(entry.name);
      if (!hash) digests.set(entry.name, (hash = createHash('md5')));
      hash.update(chunk);
    };
    let controlTar: Buffer;
    let dataTar: BuiltFile;
    try {
      let md5Of: (f: PackageFile) => string;
      if (kind === 'xz') {
        const byName = new Map(files.map((f) => [`.${f.path}`, f]));
        const md5s = new Map<string, string>();
        dataTar = await withContentCache(ctx.xzContent, dest, (cache) => writeChunks(xzStreamOf(xzDataParts(data, byName, cache, what, md5s)), dataTmp));
        md5Of = (f) => md5s.get(`.${f.path}`) ?? createHash('md5').update(Buffer.isBuffer(f.source) ? f.source : Buffer.alloc(0)).digest('hex');
      } else {
        dataTar = await writeStream(tarStream(data, observe), dataTmp, await compressStream(kind));
        // An empty file on disk never reaches the observer: it gets the md5 of no bytes.
        md5Of = (f) => (digests.get(`.${f.path}`) ?? createHash('md5')).digest('hex');
      }
      controlTar = await controlTarFor(files.filter((f) => !conffiles.includes(f)).map((f) => `${md5Of(f)}  ${f.path.slice(1)}`));
    } catch (err) {
      throw explainCompressorError(err, kind, what);
    }
    return await writeStream(
      arStream([
        { name: 'debian-binary', mtime, source: Buffer.from('2.0\n') },
        { name: `control.tar.${EXT[kind]}`, mtime, source: controlTar },
        { name: `data.tar.${EXT[kind]}`, mtime, source: { file: dataTmp, size: dataTar.size } },
      ]),
      dest,
    );
  } finally {
    await rm(dataTmp, { force: true });
  }
}

export const debTarget: Target = {
  id: 'deb',
  description: 'Debian packages (.deb) per Linux architecture: binaries, systemd units and target, system user, env file',
  produces: ['deb'],
  // data.tar.xz copies the binaries' compressed contents; other compressions stream the whole tar.
  xzContents: (product, platform) => (product.def.linux.deb.compression === 'xz' ? linuxPayloadComponents(product, platform) : []),
  plan(ctx) {
    return linuxPlatforms(ctx).map((platform): PlannedArtifact => {
      checkDebPlan(ctx.product, ctx.versions.debian, platform);
      return {
        id: artifactId('deb', platform),
        role: 'deb',
        scope: 'local',
        inputs: [],
        path: debFileName(ctx.product.meta.name, ctx.versions.debian, splitPlatform(platform).arch),
        target: 'deb',
        platform,
        release: true,
      };
    });
  },
  build: (ctx, artifacts) => buildEach(ctx, artifacts, (a) => buildDeb(ctx, a.platform!, path.join(ctx.outDir, a.path))),
};
