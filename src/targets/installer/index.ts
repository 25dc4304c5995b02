// The universal installer scripts attached to the release: install.sh (Linux, macOS) and install.ps1 (Windows).
// For people who use neither Homebrew nor a package manager: per-user, no root, into a prefix (~/.local),
// archives verified against SHA256SUMS, every service registered with the user's own service manager.
// The service definitions are embedded from the same render functions the systemd and launchd targets use, with
// the per-user layout whose binary directory is a placeholder the script fills in at install time (--prefix).
import path from 'node:path';
import { expandArgs, splitPlatform, type Platform, type Product, type Service } from '../../product/model.ts';
import { generatedNotice, renderTemplate } from '../../render/templates.ts';
import { commentText, powershellString, shDoubleQuotedText, shHeredocBody, shSingleQuoted, shWord } from '../../render/quote.ts';
import { artifactId } from '../../graph/index.ts';
import { archiveFileName, CHECKSUMS_FILE } from '../release.ts';
import { definitionName, renderEnvFile } from '../../render/envfile.ts';
import { launchdLabel, launchdPlistObject, renderLaunchdPlist } from '../../render/launchd.ts';
import { renderServiceUnit, targetUnitName, renderTargetUnit } from '../../render/systemd.ts';
import {
  BINDIR_PLACEHOLDER,
  HOME_PLACEHOLDER,
  INSTALL_TIME_BIN_DIR,
  installedFilesManifest,
  USER_LOGS_BELOW_STATE,
  USER_PREFIX,
  userLaunchdLayout,
  userSystemdLayout,
  XDG_CONFIG_HOME,
  XDG_STATE_HOME,
  type XdgDir,
} from '../../layout/user-sh.ts';
import { CHECKSUMS_SIGNATURE_FILE, releaseKeyFile } from '../release.ts';
import { userPsLayout, type PsFolder } from '../../layout/user-ps.ts';
import { pathText, type LayoutPath } from '../../layout/path.ts';
import type { PlannedArtifact, PlanContext, RenderContext, Target } from '../types.ts';
import { writeFileAtomic } from '../../util/fsx.ts';
import type { Versions } from '../../version.ts';

export const INSTALL_SH = 'install.sh';
export const INSTALL_PS1 = 'install.ps1';

/** Here-document terminator for embedded files (checked never to occur inside them). */
const HEREDOC_END = 'END_OF_EMBEDDED_FILE';

const unixPlatforms = (platforms: Platform[]) => platforms.filter((p) => splitPlatform(p).os !== 'windows');
const windowsPlatforms = (platforms: Platform[]) => platforms.filter((p) => splitPlatform(p).os === 'windows');

function servicesOn(product: Product, platform: Platform): Service[] {
  return product.services.filter((s) => product.components.find((c) => c.name === s.component)!.platforms.includes(platform));
}

function archivesOn(product: Product, platform: Platform, version: string): string[] {
  return product.components.filter((c) => c.platforms.includes(platform)).map((c) => archiveFileName(product, c, platform, version));
}

function defaultBaseUrl(product: Product, versions: Versions): string {
  const { owner, repo } = product.def.release.github;
  return `https://github.com/${owner}/${repo}/releases/download/${versions.tag}`;
}

const heredocSafe = (text: string, what: string) => shHeredocBody(text, HEREDOC_END, what);

/** A shell word for a path below $HOME: "$HOME"'/rest with spaces'. */
function homeWord(p: string): string {
  if (!p.startsWith(`${HOME_PLACEHOLDER}/`)) throw new Error(`internal: ${p} is not below ${HOME_PLACEHOLDER}`);
  return `"$HOME"${shWord(p.slice(HOME_PLACEHOLDER.length))}`;
}

/** An XDG base directory as a sh expansion: ${XDG_CONFIG_HOME:-$HOME/.config}, bare or inside "...". */
function xdgExpansion(dir: XdgDir, inQuotes: boolean): string {
  return `\${${dir.variable}:-$HOME/${inQuotes ? shDoubleQuotedText(dir.fallback) : shWord(dir.fallback)}}`;
}

/** A layout path's literal part, checked to lie below the root the script resolves it from. */
function below(p: LayoutPath, root: string): string {
  if (p.root !== root) throw new Error(`internal: ${pathText(p)} is not below ${root}`);
  return p.path;
}

function shViewModel(product: Product, versions: Versions, platforms: Platform[], releaseKeyFingerprint: string | undefined) {
  const unix = unixPlatforms(platforms);
  const envName = path.basename(product.def.install.envFile);
  const linux = unix.filter((p) => splitPlatform(p).os === 'linux');
  const darwin = unix.filter((p) => splitPlatform(p).os === 'darwin');
  const targetUnit = targetUnitName(product);
  // Every service any platform of an OS runs; a platform installs only its own (see `services` per platform).
  const linuxServices = product.services.filter((s) => linux.some((p) => servicesOn(product, p).includes(s)));
  const darwinServices = product.services.filter((s) => darwin.some((p) => servicesOn(product, p).includes(s)));
  const unitLayout = userSystemdLayout(product, INSTALL_TIME_BIN_DIR);
  const agentLayout = userLaunchdLayout(product, INSTALL_TIME_BIN_DIR);
  // The folders below %S and %L the user units' StateDirectory=/LogsDirectory= create: removed on uninstall.
  const unitStateDirs = linuxServices.map((s) => below(unitLayout.service(s).stateDir, '%S'));
  const unitLogsDirs = [...new Set(linuxServices.map((s) => below(unitLayout.service(s).logsDir, '%L')))];
  const unitStateRoots = [...new Set(unitStateDirs.map((d) => path.posix.dirname(d)))];
  if (unitLogsDirs.length > 1 || unitStateRoots.length > 1) throw new Error('internal: install.sh cleans up one state root and one logs folder');
  const units = linuxServices.map((s) => ({
    file: `${s.name}.service`,
    text: heredocSafe(renderServiceUnit(product, s, 'user', unitLayout), `the user unit of ${s.name}`),
  }));
  const agents = darwinServices.map((s) => {
    const job = launchdPlistObject(product, s, 'user');
    const dirs = [job.WorkingDirectory as string, path.posix.dirname(job.StandardOutPath as string)];
    return {
      label: launchdLabel(product, s),
      file: `${launchdLabel(product, s)}.plist`,
      text: heredocSafe(renderLaunchdPlist(product, s, 'user', agentLayout), `the LaunchAgent of ${s.name}`),
      dirs,
    };
  });
  const darwinDirs = [...new Set(agents.flatMap((a) => a.dirs))].sort();
  return {
    // The header comment's text; the script itself takes every value as a shell word ({{sh ...}}).
    notice: commentText(generatedNotice(definitionName(product))),
    displayName: commentText(product.meta.displayName),
    name: product.meta.name,
    version: commentText(versions.semver),
    homepage: commentText(product.meta.homepage),
    defaultBaseUrl: defaultBaseUrl(product, versions),
    checksumsFile: CHECKSUMS_FILE,
    // Pinned at render time: SHA256SUMS.asc must carry a good signature by exactly this primary key.
    signature: releaseKeyFingerprint
      ? { file: CHECKSUMS_SIGNATURE_FILE, keyFile: releaseKeyFile(product, false), fingerprint: releaseFingerprint(releaseKeyFingerprint) }
      : false,
    manifest: installedFilesManifest(product).join('/'),
    heredocEnd: HEREDOC_END,
    bindirPlaceholder: BINDIR_PLACEHOLDER,
    homePlaceholder: HOME_PLACEHOLDER,
    // The default prefix, below $HOME: as a word, and as text inside "$HOME/...".
    defaultPrefix: shWord(USER_PREFIX),
    defaultPrefixText: shDoubleQuotedText(USER_PREFIX),
    defaultPrefixComment: commentText(USER_PREFIX),
    defaultPrefixUsage: heredocSafe(USER_PREFIX, 'the usage text'),
    configHome: xdgExpansion(XDG_CONFIG_HOME, false),
    platforms: unix.map((p) => ({
      platform: p,
      archives: archivesOn(product, p, versions.semver).join(' '),
      services: servicesOn(product, p)
        .map((s) => (splitPlatform(p).os === 'linux' ? `${s.name}.service` : launchdLabel(product, s)))
        .join(' '),
    })),
    supported: unix.join(', '),
    hasServices: product.services.length > 0,
    systemd: linux.length && linuxServices.length
      ? {
          target: targetUnit,
          // Below the config home (%E), which the script holds in $CONFIG_HOME.
          unitDir: below(unitLayout.unitDir, '%E'),
          targetText: heredocSafe(renderTargetUnit(product, 'user'), targetUnit),
          units,
          // Lists of shell words.
          allUnits: [targetUnit, ...units.map((u) => u.file)].map(shWord).join(' '),
          services: units.map((u) => u.file).map(shWord).join(' '),
          // The units' bin folder with the default prefix (the per-user layout's own).
          defaultBinDir: shSingleQuoted(pathText(userSystemdLayout(product).binDir)),
          // %S and %L are $XDG_CONFIG_HOME (systemd <= 253) or $XDG_STATE_HOME (newer): both are cleaned up.
          stateHome: `"${xdgExpansion(XDG_STATE_HOME, true)}"`,
          stateDirs: unitStateDirs.map(shWord).join(' '),
          stateRoot: unitStateRoots[0]!,
          logsBelowState: shDoubleQuotedText(USER_LOGS_BELOW_STATE),
          logsDir: `${USER_LOGS_BELOW_STATE}/${unitLogsDirs[0]!}`,
        }
      : false,
    launchd: darwin.length && agents.length
      ? {
          agents,
          agentsDir: below(agentLayout.agentsDir, HOME_PLACEHOLDER),
          labels: agents.map((a) => shWord(a.label)).join(' '),
          // Created before loading (launchd does not create WorkingDirectory or the log folder).
          dirs: darwinDirs.map(homeWord),
          // Data folders (kept unless --purge) and logs/caches (removed with the services).
          dataDirs: agents.map((a) => homeWord(a.dirs[0]!)),
          disposableDirs: [...new Set(darwinServices.flatMap((s) => {
            const job = launchdPlistObject(product, s, 'user');
            const env = job.EnvironmentVariables as Record<string, string>;
            return [path.posix.dirname(job.StandardOutPath as string), ...(env.TMPDIR ? [path.posix.dirname(env.TMPDIR)] : [])];
          }))].sort().map(homeWord),
        }
      : false,
    env: {
      // Its folder below the config home (Linux, %E) and below $HOME (macOS).
      dir: path.posix.dirname(below(unitLayout.envFile, '%E')),
      darwinDir: path.posix.dirname(below(agentLayout.envFile, HOME_PLACEHOLDER)),
      file: envName,
      text: heredocSafe(renderEnvFile(product, `~/${below(agentLayout.envFile, HOME_PLACEHOLDER)}`), 'the env file'),
    },
  };
}

/** A 40-hex-digit OpenPGP v4 fingerprint, upper case (what gpgv's VALIDSIG status line prints). */
function releaseFingerprint(fpr: string): string {
  const f = fpr.replace(/\s+/g, '').toUpperCase();
  if (!/^[0-9A-F]{40}$/.test(f)) throw new Error(`internal: ${JSON.stringify(fpr)} is not an OpenPGP v4 fingerprint`);
  return f;
}

export function renderInstallSh(product: Product, versions: Versions, platforms: Platform[], releaseKeyFingerprint?: string): string {
  return renderTemplate('installer/install.sh.hbs', shViewModel(product, versions, platforms, releaseKeyFingerprint));
}

/** A PowerShell single-quoted string literal. */
export const psString = powershellString;

// Windows: per-user install below %LOCALAPPDATA%, services as per-user scheduled tasks started at logon
// (Windows services need an administrator; the MSI installs those). Folders from the per-user PowerShell layout.

/** A PowerShell expression for `segments` below `base`: Join-Path a (Join-Path b c). */
function psJoin(base: string, segments: string[]): string {
  const [first, ...rest] = segments;
  if (first === undefined) return base;
  return `Join-Path ${base} ${rest.length ? `(${psJoin(first, rest)})` : first}`;
}

function ps1ViewModel(product: Product, versions: Versions, platforms: Platform[]) {
  const win = windowsPlatforms(platforms);
  const platform = win[0];
  const layout = userPsLayout(product);
  const { folders } = layout;
  const byPlaceholder = new Map(Object.values(folders).map((f) => [f.placeholder, f]));
  const folderOf = (p: LayoutPath): PsFolder => {
    const f = p.root === undefined ? undefined : byPlaceholder.get(p.root);
    if (!f) throw new Error(`internal: ${p.root ?? p.path} is not a folder of the per-user PowerShell layout`);
    return f;
  };
  // The script holds the product name in $Name.
  const segment = (s: string) => (s === product.meta.name ? '$Name' : psString(s));
  const folderExpr = (f: PsFolder) => psJoin(`$env:${f.env}`, f.below.map(segment));
  const pathExpr = (p: LayoutPath) => psJoin(`$${folderOf(p).variable}`, p.path.split('\\').filter(Boolean).map(segment));
  // A service path as the scheduled task's argument states it, before the script expands its placeholder.
  const argPath = (p: LayoutPath) => (p.path ? `${p.root}\\${p.path}` : p.root!);
  const envFile = layout.envFile;
  const envFileText = [`%${folderOf(envFile).env}%`, ...folderOf(envFile).below, envFile.path].join('\\');
  const services = platform ? servicesOn(product, platform) : [];
  const serviceFolders = [folders.data, folders.logs, folders.temp, folders.config];
  return {
    notice: generatedNotice(definitionName(product)),
    displayName: psString(product.meta.displayName),
    displayNameText: commentText(product.meta.displayName),
    name: psString(product.meta.name),
    version: psString(versions.semver),
    defaultBaseUrl: psString(defaultBaseUrl(product, versions)),
    checksumsFile: psString(CHECKSUMS_FILE),
    archives: platform ? archivesOn(product, platform, versions.semver).map(psString).join(', ') : '',
    supported: Boolean(platform),
    folders: {
      prefix: folderExpr(folders.prefix),
      config: folderExpr(folders.config),
      data: folderExpr(folders.data),
      logs: folderExpr(folders.logs),
      temp: folderExpr(folders.temp),
    },
    envFile: pathExpr(envFile),
    binDir: pathExpr(layout.binDir),
    manifest: pathExpr(layout.manifest),
    launcher: pathExpr(layout.launcher),
    // Expand-ServicePath: each placeholder of the services' paths replaced by its folder.
    expandServicePath: serviceFolders.map((f) => `.Replace(${psString(f.placeholder)}, $${f.variable})`).join(''),
    envText: renderEnvFile(product, envFileText).replace(/\n$/, '').split('\n').map(psString).join(',\n  '),
    services: services.map((s) => {
      const paths = layout.service(s);
      const dirs = { stateDir: argPath(paths.stateDir), logsDir: argPath(paths.logsDir), runtimeDir: argPath(paths.runtimeDir), configDir: argPath(paths.configDir) };
      return {
        name: psString(s.name),
        taskName: psString(`${product.meta.displayName} ${s.name}`),
        binary: psString(`${s.binary}.exe`),
        // The scheduled task's working folder, created before it starts.
        dataDir: pathExpr(paths.stateDir),
        args: expandArgs({ ...s }, dirs).map(psString).join(', '),
        env: Object.entries(s.env).map(([k, v]) => ({ name: psString(k), value: psString(v) })),
      };
    }),
    hasServices: services.length > 0,
  };
}

export function renderInstallPs1(product: Product, versions: Versions, platforms: Platform[]): string {
  return renderTemplate('installer/install.ps1.hbs', ps1ViewModel(product, versions, platforms));
}

function installerPaths(ctx: Pick<PlanContext, 'platforms'>): string[] {
  return [...(unixPlatforms(ctx.platforms).length ? [INSTALL_SH] : []), ...(windowsPlatforms(ctx.platforms).length ? [INSTALL_PS1] : [])];
}

function renderInstallers(ctx: Omit<RenderContext, 'digestOf'>): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of installerPaths(ctx)) {
    out.set(p, p === INSTALL_SH ? renderInstallSh(ctx.product, ctx.versions, ctx.platforms, ctx.releaseKeyFingerprint) : renderInstallPs1(ctx.product, ctx.versions, ctx.platforms));
  }
  return out;
}

export const installerTarget: Target = {
  id: 'installer',
  description: 'install.sh (Linux, macOS) and install.ps1 (Windows): per-user installs from the release archives',
  // Text only; reads no other artifact (the scripts fetch SHA256SUMS at install time). install.sh pins the
  // fingerprint of the build's signing key when the build signs SHA256SUMS (not for an --unsigned build).
  produces: ['installer'],
  plan(ctx) {
    return installerPaths(ctx).map((p): PlannedArtifact => ({ id: artifactId('installer', p), role: 'installer', scope: 'global', inputs: [], path: p, target: 'installer', release: true }));
  },
  render: renderInstallers,
  async build(ctx, artifacts) {
    const signer = ctx.signsChecksums ? await ctx.repo?.signer() : undefined;
    const files = renderInstallers({ ...ctx, releaseKeyFingerprint: signer?.fingerprint });
    const out = new Map<string, { size: number; sha256: string }>();
    for (const a of artifacts) {
      const text = files.get(a.path);
      if (text === undefined) throw new Error(`internal: installer planned ${a.path} but did not render it`);
      out.set(a.path, await writeFileAtomic(path.join(ctx.outDir, a.path), text, a.path === INSTALL_SH ? 0o755 : 0o644));
    }
    return out;
  },
};
