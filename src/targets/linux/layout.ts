// What a Linux system package (.deb or .rpm) installs, shared by the deb and rpm targets: the binaries of the
// components built for the platform, the systemd units and grouping target, the sysusers.d entry, the env file
// and the definition's extra files. The format-specific files (Debian copyright, lintian overrides, the rpm
// preset) are added by each target.
import { statSync } from 'node:fs';
import path from 'node:path';
import { EXIT, UserError } from '../../errors.ts';
import { splitPlatform, type Arch, type Platform, type Product } from '../../product/model.ts';
import type { BinaryInfo } from '../../util/binary-format.ts';
import { systemdSources, sysusersLines, targetUnitName } from '../../render/systemd.ts';
import type { BuildContext, PlanContext } from '../types.ts';
import { BIN_DIR, EXTRA_FILES_ROOT, SYSUSERS_DIR, systemLayout, UNIT_DIR } from '../../layout/system.ts';

/** Directories the distribution owns: a package never claims them (rpm %dir) nor removes them. */
export const SYSTEM_DIRS = new Set([
  '/',
  '/etc',
  '/etc/default',
  '/etc/systemd',
  '/etc/systemd/system',
  '/run',
  '/usr',
  '/usr/bin',
  '/usr/sbin',
  '/usr/lib',
  '/usr/lib64',
  '/usr/libexec',
  '/usr/lib/systemd',
  '/usr/lib/systemd/system',
  '/usr/lib/systemd/system-preset',
  '/usr/lib/systemd/user',
  '/usr/lib/sysusers.d',
  '/usr/lib/tmpfiles.d',
  '/usr/share',
  '/usr/share/doc',
  '/usr/share/licenses',
  '/usr/share/lintian',
  '/usr/share/lintian/overrides',
  '/usr/share/man',
  '/usr/share/man/man1',
  '/usr/share/man/man5',
  '/usr/share/man/man8',
  '/var',
  '/var/lib',
  '/var/log',
]);

export type LinuxArch = Arch;
export const RPM_ARCH: Record<LinuxArch, string> = { amd64: 'x86_64', arm64: 'aarch64' };

export type FileSource = { file: string; size: number } | Buffer;

export interface PackageFile {
  /** Absolute install path. */
  path: string;
  mode: number;
  role: 'binary' | 'unit' | 'sysusers' | 'env-file' | 'extra' | 'license' | 'doc' | 'preset' | 'lintian';
  source: FileSource;
  /** For binaries: what the payload is (static or dynamic, stripped or not). */
  binary?: BinaryInfo;
  /** For binaries: the payload's sha256, which keys its one compression per build (src/util/xz-content.ts). */
  sha256?: string;
  component?: string;
}

export const sourceSize = (s: FileSource) => (Buffer.isBuffer(s) ? s.length : s.size);

/** The Linux platforms the deb and rpm targets package for: those in the plan with at least one component. */
export function linuxPlatforms(ctx: Pick<PlanContext, 'product' | 'platforms'>): Platform[] {
  return ctx.platforms.filter((p) => splitPlatform(p).os === 'linux' && ctx.product.components.some((c) => c.platforms.includes(p)));
}

/**
 * The product as packaged for one platform: only the components built for it, and only their services.
 * A service ordered after a service missing here keeps its After=/Wants= line; systemd ignores a missing unit.
 */
export function productForPlatform(product: Product, platform: Platform): Product {
  const components = product.components.filter((c) => c.platforms.includes(platform));
  if (components.length === product.components.length) return product;
  const names = new Set(components.map((c) => c.name));
  const services = product.services.filter((s) => names.has(s.component));
  return { ...product, components, services, secrets: [...new Set(services.flatMap((s) => s.secrets))].sort() };
}

/** Rejects a package name the distributions refuse (Debian policy 5.6.1; rpm is laxer, so Debian's rule rules). */
export function checkPackageName(name: string, source: string): void {
  if (!/^[a-z0-9][a-z0-9+.-]+$/.test(name)) {
    throw new UserError(`${source}: "${name}" is not a valid Linux package name`, {
      hint: 'use at least two characters: lower-case letters, digits, "+", "-" and ".", starting with a letter or digit',
      exitCode: EXIT.config,
    });
  }
}

/**
 * The env file's directory is removed on purge (and claimed by the rpm) only when it is the product's own:
 * /etc/<product> or /etc/<stateDir>. A shared directory such as /etc/default is never touched.
 */
export function dedicatedConfigDir(product: Product): string | undefined {
  const dir = product.def.install.configDir;
  const own = [product.meta.name, product.def.install.stateDir].map((n) => `/etc/${n}`);
  return own.includes(dir) && path.posix.dirname(product.def.install.envFile) === dir ? dir : undefined;
}

/** Paths outside the package that exist at run time and go on purge. */
export function runtimeDirs(product: Product): string[] {
  const layout = systemLayout(product);
  return [...new Set([layout.stateRoot, layout.logsDir])];
}

/**
 * The package's record of what it created (see templates/linux/create-user.hbs). Named with a ".", which no
 * stateDir may contain, so it never is one of the product's directories.
 */
export const recordDir = (product: Product) => `/var/lib/${product.meta.name}.package`;

/** The sysusers.d entry's path and its lines without comments (the maintainer scripts feed them to systemd-sysusers). */
export function sysusersEntry(product: Product): { path: string; lines: string[] } {
  return { path: `${SYSUSERS_DIR}/${product.meta.name}.conf`, lines: sysusersLines(product) };
}

export function unitNames(product: Product): { target: string; services: string[] } {
  return { target: targetUnitName(product), services: product.services.map((s) => `${s.name}.service`) };
}

/** A license text among the definition's extra files (LICENSE, COPYING, ...): packaged the distribution's way. */
export const isLicenseFile = (dest: string) => /^(LICEN[CS]E|COPYING)([.-][A-Za-z0-9.-]+)?$/i.test(path.posix.basename(dest));

/** One file a Linux package installs, as planned: where it goes and where its bytes come from (nothing read yet). */
export interface PlannedPackageFile extends Omit<PackageFile, 'source' | 'binary'> {
  // A text file is rendered only when its bytes are needed: planning checks the paths alone.
  from: { payload: string } | { file: string } | { render: () => string };
}

/**
 * The files every Linux package of the product installs on one platform, from the definition alone (plan checks
 * their paths before anything is built). License texts from `files` are returned apart (`licenses`) for the
 * target to place.
 */
export function linuxInstallFiles(product: Product, platform: Platform): { files: PlannedPackageFile[]; licenses: { name: string; file: string }[] } {
  const own = productForPlatform(product, platform);
  const files: PlannedPackageFile[] = [];
  for (const c of own.components) files.push({ path: `${BIN_DIR}/${c.binary}`, mode: 0o755, role: 'binary', from: { payload: c.name }, component: c.name });
  for (const [rel, render] of systemdSources(own)) {
    if (rel.startsWith('systemd/system/')) files.push({ path: `${UNIT_DIR}/${path.posix.basename(rel)}`, mode: 0o644, role: 'unit', from: { render } });
    else if (rel.startsWith('systemd/sysusers.d/')) files.push({ path: `${SYSUSERS_DIR}/${path.posix.basename(rel)}`, mode: 0o644, role: 'sysusers', from: { render } });
    // 0640: it will hold secrets. The group (the services' group) is set by the package manager or postinst.
    else if (rel.startsWith('env/')) files.push({ path: own.def.install.envFile, mode: 0o640, role: 'env-file', from: { render } });
  }
  const licenses: { name: string; file: string }[] = [];
  for (const f of own.def.files) {
    const file = path.resolve(own.dir, f.src);
    if (isLicenseFile(f.dest)) licenses.push({ name: path.posix.basename(f.dest), file });
    else files.push({ path: path.posix.join(EXTRA_FILES_ROOT, f.dest), mode: parseInt(f.mode, 8), role: 'extra', from: { file } });
  }
  return { files, licenses };
}

/** The components whose payloads a Linux package of the platform installs. */
export function linuxPayloadComponents(product: Product, platform: Platform): string[] {
  return linuxInstallFiles(product, platform).files.flatMap(({ from }) => ('payload' in from ? [from.payload] : []));
}

/**
 * linuxInstallFiles with their bytes, sorted by path.
 */
export async function linuxPayloadFiles(ctx: BuildContext, platform: Platform): Promise<{ files: PackageFile[]; licenses: { name: string; file: string; size: number }[] }> {
  const planned = linuxInstallFiles(ctx.product, platform);
  const files: PackageFile[] = [];
  for (const { from, ...f } of planned.files) {
    if ('render' in from) files.push({ ...f, source: Buffer.from(from.render()) });
    else if ('file' in from) files.push({ ...f, source: { file: from.file, size: statSync(from.file).size } });
    else {
      const payload = ctx.payload(from.payload, platform);
      // Checked with every payload before the build (src/payloads/check.ts): an executable for this platform.
      files.push({ ...f, source: { file: payload.path, size: statSync(payload.path).size }, binary: payload.binary, sha256: payload.sha256 });
    }
  }
  return { files: sortFiles(files), licenses: planned.licenses.map((l) => ({ ...l, size: statSync(l.file).size })) };
}

export function sortFiles<T extends { path: string }>(files: T[]): T[] {
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new UserError(`two files would be installed at ${f.path}`, { hint: 'give each component binary and each files[].dest its own path', exitCode: EXIT.config });
    seen.add(f.path);
  }
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Every directory above the files (not "/"), sorted, parents first. */
export function parentDirs(paths: string[]): string[] {
  const dirs = new Set<string>();
  for (const p of paths) for (let d = path.posix.dirname(p); d !== '/'; d = path.posix.dirname(d)) dirs.add(d);
  return [...dirs].sort();
}
