// A per-user install by install.ps1, without an administrator: binaries below %LOCALAPPDATA%\Programs (or the
// script's -Prefix), the env file below %APPDATA%, each service's folders below %LOCALAPPDATA%\<DisplayName>.
// The script computes each folder at run time from a Windows environment folder; the service paths name them
// by placeholders (@DATA@ ...) that it expands when it registers the scheduled tasks. Paths below a root are
// "\"-separated.
import path from 'node:path';
import type { Product } from '../product/model.ts';
import type { InstallLayout, LayoutPath } from './path.ts';
import { installedFilesManifest } from './user-sh.ts';

/** A folder the script computes at run time: a Windows environment folder with literal segments below it. */
export interface PsFolder {
  /** How the layout's paths name this folder (their `root`); the script replaces it with the folder. */
  placeholder: string;
  /** The script variable that holds the folder. */
  variable: string;
  /** The environment variable of the Windows folder it lies below. */
  env: 'LOCALAPPDATA' | 'APPDATA';
  below: string[];
}

export interface UserPsLayout extends InstallLayout {
  /** The install prefix's default (-Prefix), and the folders the services' paths lie below. */
  folders: { prefix: PsFolder; config: PsFolder; data: PsFolder; logs: PsFolder; temp: PsFolder };
  /** The script's record of the files it installed (install.sh's, below the prefix). */
  manifest: LayoutPath;
  /** The launcher the scheduled tasks run: it loads the env file and starts the service. */
  launcher: LayoutPath;
}

export function userPsLayout(product: Product): UserPsLayout {
  const app = product.meta.displayName;
  const { stateDir } = product.def.install;
  const folders: UserPsLayout['folders'] = {
    prefix: { placeholder: '@PREFIX@', variable: 'Prefix', env: 'LOCALAPPDATA', below: ['Programs', app] },
    config: { placeholder: '@CONFIG@', variable: 'ConfigDir', env: 'APPDATA', below: [product.meta.name] },
    data: { placeholder: '@DATA@', variable: 'DataRoot', env: 'LOCALAPPDATA', below: [app, 'data'] },
    logs: { placeholder: '@LOGS@', variable: 'LogsRoot', env: 'LOCALAPPDATA', below: [app, 'logs'] },
    temp: { placeholder: '@TEMP@', variable: 'TempRoot', env: 'LOCALAPPDATA', below: [app, 'tmp'] },
  };
  return {
    folders,
    binDir: { root: folders.prefix.placeholder, path: 'bin' },
    manifest: { root: folders.prefix.placeholder, path: installedFilesManifest(product).join('\\') },
    launcher: { root: folders.prefix.placeholder, path: ['libexec', product.meta.name, 'run-service.ps1'].join('\\') },
    envFile: { root: folders.config.placeholder, path: path.basename(product.def.install.envFile) },
    service: (s) => ({
      // Below install.stateDir, as every other install kind's state folders.
      stateDir: { root: folders.data.placeholder, path: `${stateDir}\\${s.name}` },
      logsDir: { root: folders.logs.placeholder, path: '' },
      runtimeDir: { root: folders.temp.placeholder, path: s.name },
      configDir: { root: folders.config.placeholder, path: '' },
    }),
  };
}
