// A per-user install by install.ps1, without an administrator: binaries below %LOCALAPPDATA%\Programs (or the
// script's -Prefix), the env file below %APPDATA%, each service's folders below %LOCALAPPDATA%\<DisplayName>.
// The script computes each folder at run time from a Windows environment folder; the service paths name them
// by placeholders (@DATA@ ...) that it expands when it registers the scheduled tasks. Paths below a root are
// "\"-separated.
import path from 'node:path';
import type { Product } from '../product/model.ts';
import type { InstallLayout } from './path.ts';

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
}

export function userPsLayout(product: Product): UserPsLayout {
  const app = product.meta.displayName;
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
    envFile: { root: folders.config.placeholder, path: path.basename(product.def.install.envFile) },
    service: (s) => ({
      stateDir: { root: folders.data.placeholder, path: s.name },
      logsDir: { root: folders.logs.placeholder, path: '' },
      runtimeDir: { root: folders.temp.placeholder, path: s.name },
      configDir: { root: folders.config.placeholder, path: '' },
    }),
  };
}
