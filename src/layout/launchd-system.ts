// A system-wide macOS install run by launchd (LaunchDaemons): everything below /usr/local.
import path from 'node:path';
import type { Product } from '../product/model.ts';
import type { InstallLayout } from './path.ts';

export function launchdSystemLayout(product: Product): InstallLayout {
  const { stateDir, logsDir, envFile } = product.def.install;
  const configDir = `/usr/local/etc/${product.meta.name}`;
  return {
    binDir: { path: '/usr/local/bin' },
    envFile: { path: `${configDir}/${path.basename(envFile)}` },
    service: (s) => ({
      stateDir: { path: `/usr/local/var/lib/${stateDir}/${s.name}` },
      logsDir: { path: `/usr/local/var/log/${logsDir}` },
      runtimeDir: { path: `/usr/local/var/run/${stateDir}/${s.name}` },
      configDir: { path: configDir },
    }),
  };
}
