// A per-user install by install.sh, without root: binaries in ~/.local/bin (or the script's --prefix), services
// run by the user's own service manager. On Linux the user units name their folders with systemd specifiers;
// on macOS the LaunchAgents name them below the home folder, which launchd does not expand (@HOME@, filled in
// by the script).
import path from 'node:path';
import type { Product } from '../product/model.ts';
import type { InstallLayout, LayoutPath } from './path.ts';

/** Placeholder for the user's home in LaunchAgents: launchd expands neither "~" nor $HOME. The install script substitutes it. */
export const HOME_PLACEHOLDER = '@HOME@';

/** What install.sh writes where the user units and LaunchAgents expect the binaries; replaced at install time. */
export const BINDIR_PLACEHOLDER = '@BINDIR@';

/** The bin folder the script fills in at install time (its --prefix), for the units and plists it embeds. */
export const INSTALL_TIME_BIN_DIR: LayoutPath = { root: BINDIR_PLACEHOLDER, path: '' };

/** install.sh's default prefix, below the home folder; binaries go to its bin folder. */
export const USER_PREFIX = '.local';

/** An XDG base directory: its environment variable, and the folder below $HOME it defaults to. */
export interface XdgDir {
  variable: string;
  fallback: string;
}

/** %E: the user's config home. */
export const XDG_CONFIG_HOME: XdgDir = { variable: 'XDG_CONFIG_HOME', fallback: '.config' };
/** %S since systemd 254 (before it, %S was %E's folder). */
export const XDG_STATE_HOME: XdgDir = { variable: 'XDG_STATE_HOME', fallback: '.local/state' };
/** %L: this folder below %S's. */
export const USER_LOGS_BELOW_STATE = 'log';

/** Where the script records the files it installed, below its prefix (its uninstall list); install.ps1's too. */
export const installedFilesManifest = (product: Product): string[] => ['share', product.meta.name, 'installed-files'];

export interface UserSystemdLayout extends InstallLayout {
  /** Where the user's own units go (systemd.unit(5): $XDG_CONFIG_HOME/systemd/user). */
  unitDir: LayoutPath;
}

export interface UserLaunchdLayout extends InstallLayout {
  /** Where the user's LaunchAgents go. */
  agentsDir: LayoutPath;
}

/** User units: %h home, %E config home, %S state, %L logs, %t runtime dir (systemd.unit(5) specifiers). */
export function userSystemdLayout(product: Product, binDir: LayoutPath = { root: '%h', path: `${USER_PREFIX}/bin` }): UserSystemdLayout {
  const { stateDir, logsDir, envFile } = product.def.install;
  return {
    binDir,
    unitDir: { root: '%E', path: 'systemd/user' },
    envFile: { root: '%E', path: `${product.meta.name}/${path.basename(envFile)}` },
    service: (s) => ({
      stateDir: { root: '%S', path: `${stateDir}/${s.name}` },
      logsDir: { root: '%L', path: logsDir },
      runtimeDir: { root: '%t', path: `${stateDir}/${s.name}` },
      configDir: { root: '%E', path: product.meta.name },
    }),
  };
}

/** LaunchAgents: the macOS per-user folders (Application Support, Logs, Caches) and ~/.config for the env file. */
export function userLaunchdLayout(product: Product, binDir: LayoutPath = { root: HOME_PLACEHOLDER, path: `${USER_PREFIX}/bin` }): UserLaunchdLayout {
  const app = product.meta.displayName;
  const config = `${XDG_CONFIG_HOME.fallback}/${product.meta.name}`;
  return {
    binDir,
    agentsDir: { root: HOME_PLACEHOLDER, path: 'Library/LaunchAgents' },
    envFile: { root: HOME_PLACEHOLDER, path: `${config}/${path.basename(product.def.install.envFile)}` },
    service: (s) => ({
      stateDir: { root: HOME_PLACEHOLDER, path: `Library/Application Support/${app}/${s.name}` },
      logsDir: { root: HOME_PLACEHOLDER, path: `Library/Logs/${app}` },
      runtimeDir: { root: HOME_PLACEHOLDER, path: `Library/Caches/${app}/${s.name}` },
      configDir: { root: HOME_PLACEHOLDER, path: config },
    }),
  };
}
