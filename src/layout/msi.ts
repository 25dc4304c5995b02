// The MSI: a per-machine Windows install. Binaries below the install folder (Program Files\<DisplayName>), the
// env file and each service's folders below %ProgramData%\<DisplayName>. Roots are Windows Installer folder
// properties, resolved at install time; paths below them are "\"-separated (the property ends with a "\").
import path from 'node:path';
import type { Product } from '../product/model.ts';
import type { InstallLayout, LayoutPath } from './path.ts';

/** A folder the MSI creates below a Windows Installer system folder (a standard directory property). */
export interface MsiTopFolder {
  parent: 'ProgramFiles64Folder' | 'CommonAppDataFolder';
  name: string;
}

const MSI_DATA_PARENT: MsiTopFolder['parent'] = 'CommonAppDataFolder';
export const MSI_DATA_ROOT = `[${MSI_DATA_PARENT}]`;
/** The install folder's directory id (Program Files\<DisplayName>), and its property as a layout root. */
export const MSI_INSTALL_DIR = 'INSTALLDIR';
export const MSI_INSTALL_ROOT = `[${MSI_INSTALL_DIR}]`;

export interface MsiLayout extends InstallLayout {
  envFile: { root: string; path: string };
  /** The install folder (INSTALLDIR, 64-bit Program Files) and the data folder (%ProgramData%), by their parents. */
  installFolder: MsiTopFolder;
  dataFolder: MsiTopFolder;
  /** Where the service host that runs the wrapped services is installed. */
  serviceHostDir: LayoutPath;
}

export function msiLayout(product: Product): MsiLayout {
  const data = (...rel: string[]) => ({ root: MSI_DATA_ROOT, path: [product.meta.displayName, ...rel].join('\\') });
  return {
    installFolder: { parent: 'ProgramFiles64Folder', name: product.meta.displayName },
    dataFolder: { parent: MSI_DATA_PARENT, name: product.meta.displayName },
    binDir: { root: MSI_INSTALL_ROOT, path: 'bin' },
    serviceHostDir: { root: MSI_INSTALL_ROOT, path: 'services' },
    envFile: data(path.basename(product.def.install.envFile)),
    service: (s) => ({ stateDir: data('data', s.name), logsDir: data('logs'), runtimeDir: data('run', s.name), configDir: data() }),
  };
}
