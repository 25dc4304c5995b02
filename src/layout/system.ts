// A system package (.deb, .rpm): the Filesystem Hierarchy Standard's places, and the system units' folders.
import type { Product } from '../product/model.ts';
import type { InstallLayout } from './path.ts';

export const UNIT_DIR = '/usr/lib/systemd/system';
export const SYSUSERS_DIR = '/usr/lib/sysusers.d';
export const BIN_DIR = '/usr/bin';
/** Install root of the definition's extra files (`files[].dest` is relative to it). */
export const EXTRA_FILES_ROOT = '/usr';
export const NOLOGIN = '/usr/sbin/nologin';

/** The system account the services run as: the sysusers.d entry, and what useradd makes where systemd-sysusers is missing. */
export interface ServiceAccount {
  user: string;
  group: string;
  gecos: string;
  home: string;
  shell: string;
}

export interface SystemLayout extends InstallLayout {
  account: ServiceAccount;
  /** The system user's home, and the parent of every service's state folder. */
  stateRoot: string;
  logsDir: string;
  runtimeRoot: string;
}

export function systemLayout(product: Product): SystemLayout {
  const { stateDir, logsDir, configDir, envFile, user, group } = product.def.install;
  const stateRoot = `/var/lib/${stateDir}`;
  return {
    account: { user, group, gecos: `${product.meta.displayName} services`, home: stateRoot, shell: NOLOGIN },
    binDir: { path: BIN_DIR },
    envFile: { path: envFile },
    stateRoot,
    logsDir: `/var/log/${logsDir}`,
    runtimeRoot: `/run/${stateDir}`,
    service: (s) => ({
      stateDir: { path: `${stateRoot}/${s.name}` },
      logsDir: { path: `/var/log/${logsDir}` },
      runtimeDir: { path: `/run/${stateDir}/${s.name}` },
      configDir: { path: configDir },
    }),
  };
}
