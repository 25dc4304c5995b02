// A Homebrew install: the formula's own prefix for binaries and the launcher, and Homebrew's var/ and etc/ for
// the services' folders and the env file. Roots are the formula's Ruby path methods (var, etc, opt_bin), so the
// paths follow wherever the user's Homebrew lives.
import path from 'node:path';
import type { Product } from '../product/model.ts';
import type { InstallLayout } from './path.ts';

export interface HomebrewLayout extends InstallLayout {
  /** Below etc: the caveats and the formula's env file template name it through the `etc` method. */
  envFile: { root: string; path: string };
}

export function homebrewLayout(product: Product): HomebrewLayout {
  const { stateDir, logsDir, envFile } = product.def.install;
  return {
    binDir: { root: 'opt_bin', path: '' },
    envFile: { root: 'etc', path: `${product.meta.name}/${path.basename(envFile)}` },
    service: (s) => ({
      stateDir: { root: 'var', path: `lib/${stateDir}/${s.name}` },
      logsDir: { root: 'var', path: `log/${logsDir}` },
      runtimeDir: { root: 'var', path: `run/${stateDir}/${s.name}` },
      configDir: { root: 'etc', path: product.meta.name },
    }),
  };
}
