// `stigmer-dist verify --install`: boots real systems, installs the built packages the way users install
// them, and proves every service runs and answers its health check, before anything is published.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EXIT, UserError } from '../../errors.ts';
import { readManifest } from '../../manifest/manifest.ts';
import { mapVersion } from '../../version.ts';
import type { Product } from '../../product/model.ts';
import type { Reporter } from '../../util/progress.ts';
import { DISTROS, verifyAptInstall, type Distro } from './apt.ts';
import { olderMsiPath, verifyMsiInstall, WINDOWS_PLATFORM } from './msi.ts';
import { INSTALL_SH } from '../../targets/installer/index.ts';
import { hostToolProblem } from './nspawn.ts';
import type { InstallRow } from './steps.ts';

export { DISTROS, type Distro } from './apt.ts';
export { formatInstallTable, type InstallRow } from './steps.ts';

export const DEFAULT_DISTROS: Distro[] = ['debian-12', 'debian-13'];
/** What --distro accepts: the Debian releases, and "windows" for the MSI under wine64. */
export type InstallPlatform = Distro | typeof WINDOWS_PLATFORM;
export const DEFAULT_SETTLE_SECONDS = 10;

export interface InstallVerifyOptions {
  dir: string;
  product: Product;
  /** Default: DEFAULT_DISTROS, plus windows when the build has an MSI. */
  distros?: InstallPlatform[];
  from?: { version: string; repoBase: string };
  settleSeconds?: number;
  /** Day in the root cache key (the CLI passes today, UTC); undefined: the suite's undated cached root. */
  rootDate?: string;
  report: Reporter;
}

export interface InstallVerifyResult {
  rows: InstallRow[];
  /** Where the logs of failing steps are (removed when nothing failed). */
  logDir: string;
}

export function parseDistros(list: string): InstallPlatform[] {
  const names = list.split(',').map((d) => d.trim()).filter(Boolean);
  const bad = names.filter((d) => !(d in DISTROS) && d !== WINDOWS_PLATFORM);
  if (bad.length || !names.length) {
    throw new UserError(`--distro: unknown distribution ${bad.map((b) => `"${b}"`).join(', ') || '(none given)'}`, { hint: `use a comma-separated list of ${[...Object.keys(DISTROS), WINDOWS_PLATFORM].join(', ')}`, exitCode: EXIT.usage });
  }
  return [...new Set(names)] as InstallPlatform[];
}

export async function runInstallVerify(opts: InstallVerifyOptions): Promise<InstallVerifyResult> {
  const manifest = await readManifest(opts.dir);
  const msi = manifest.artifacts.find((a) => a.role === 'msi');
  const platforms = opts.distros ?? [...DEFAULT_DISTROS, ...(msi ? [WINDOWS_PLATFORM] : [])];
  const distros = platforms.filter((p): p is Distro => p !== WINDOWS_PLATFORM);
  const problem = hostToolProblem();
  if (problem) throw new UserError(`verify --install: ${problem}`, { hint: 'verify --install boots Debian roots with mmdebstrap and systemd-nspawn, and runs wine64 in a network namespace, on a Linux host as root', exitCode: EXIT.failure });
  if (manifest.product !== opts.product.meta.name) {
    throw new UserError(`${opts.dir} was built for "${manifest.product}", but the definition is "${opts.product.meta.name}"`, { hint: 'pass the definition it was built from with --config', exitCode: EXIT.usage });
  }
  // The booted roots run this machine's architecture.
  const platform = process.arch === 'arm64' ? 'linux-arm64' : 'linux-amd64';
  const debs = manifest.artifacts.filter((a) => a.role === 'deb' && a.platform === platform);
  if (platforms.includes(WINDOWS_PLATFORM) && !msi) {
    throw new UserError(`${opts.dir} has no MSI, but --distro asks for ${WINDOWS_PLATFORM}`, { hint: 'build with --target msi --platform windows-amd64, or leave windows out of --distro', exitCode: EXIT.config });
  }
  if (distros.length && debs.length !== 1) {
    throw new UserError(`${opts.dir} has ${debs.length} .deb for ${platform} (this host's architecture); verify --install needs exactly one`, {
      hint: `build with --target deb,apt-repo --platform ${platform}`,
      exitCode: EXIT.config,
    });
  }
  if (distros.length && !manifest.artifacts.some((a) => a.target === 'apt-repo')) {
    throw new UserError(`${opts.dir} has no APT repository: verify --install installs from it the way users do`, { hint: 'build with the apt-repo target', exitCode: EXIT.config });
  }
  // The .rpm, when built, goes through its scriptlets in the same booted root (Debian's rpm), then its signed
  // YUM repository into a dnf installroot; install.sh, when built with the archives, runs as a user there.
  const rpm = manifest.artifacts.find((a) => a.role === 'rpm' && a.release && a.platform === platform);
  const logDir = await mkdtemp(path.join(os.tmpdir(), 'stigmer-dist-verify-install-'));
  const rows: InstallRow[] = [];
  for (const distro of distros) {
    rows.push(
      ...(await verifyAptInstall({
        product: opts.product,
        dir: opts.dir,
        deb: debs[0]!.path,
        rpm: rpm?.path,
        yumRepo: manifest.artifacts.some((a) => a.target === 'yum-repo'),
        installScript: ['installer', 'checksums', 'archive'].every((need) => manifest.artifacts.some((a) => (need === 'installer' ? a.role === 'installer' && a.path === INSTALL_SH : need === 'archive' ? a.target === 'archive' && a.platform === platform : a.role === need))),
        platform,
        debianVersion: manifest.versions.debian,
        distro,
        from: opts.from,
        settleSeconds: opts.settleSeconds ?? DEFAULT_SETTLE_SECONDS,
        rootDate: opts.rootDate,
        logDir,
        report: opts.report,
      })),
    );
  }
  if (msi && platforms.includes(WINDOWS_PLATFORM)) {
    // With --from-version: X's MSI under --repo-base (olderMsiPath) first, then the build's as a MajorUpgrade.
    const from = opts.from ? { version: mapVersion(opts.from.version, { source: '--from-version' }).semver, msi: olderMsiPath(opts.product, opts.from) } : undefined;
    rows.push(...(await verifyMsiInstall({ product: opts.product, msi: path.join(opts.dir, msi.path), version: manifest.versions.semver, from, settleSeconds: opts.settleSeconds ?? DEFAULT_SETTLE_SECONDS, logDir, report: opts.report })));
  }
  if (!rows.some((r) => r.result === 'FAIL')) await rm(logDir, { recursive: true, force: true });
  return { rows, logDir };
}
