// The install layout as data: where each kind of install puts binaries, the env file and each service's
// folders. Units, plists, formulae, maintainer scripts and installers take their paths from here, so a layout
// change is one edit, and no target rewrites another's output.
import type { Service, ServiceDirs } from '../product/model.ts';

/**
 * A path as a layout states it. `root` is resolved by the installed system or the installer, and is written
 * verbatim (a systemd specifier such as %S, a placeholder the install script fills in); `path` is literal text
 * below it, which each format escapes its own way. Without `root`, `path` is absolute.
 */
export interface LayoutPath {
  root?: string;
  path: string;
}

export interface ServicePaths {
  stateDir: LayoutPath;
  logsDir: LayoutPath;
  runtimeDir: LayoutPath;
  configDir: LayoutPath;
}

/** One install kind's paths. */
export interface InstallLayout {
  binDir: LayoutPath;
  envFile: LayoutPath;
  service(service: Service): ServicePaths;
}

/** A layout path as text, its literal part passed through `literal` (a format's escaping; none by default). */
export function pathText(p: LayoutPath, literal: (s: string) => string = (s) => s): string {
  if (p.root === undefined) return literal(p.path);
  return p.path ? `${p.root}/${literal(p.path)}` : p.root;
}

/** A service's folders as text (the {stateDir}-style placeholders of service args). */
export function serviceDirsText(paths: ServicePaths, literal?: (s: string) => string): ServiceDirs {
  return {
    stateDir: pathText(paths.stateDir, literal),
    logsDir: pathText(paths.logsDir, literal),
    runtimeDir: pathText(paths.runtimeDir, literal),
    configDir: pathText(paths.configDir, literal),
  };
}

/** A path below a layout path (a file in one of its folders). */
export function below(p: LayoutPath, rel: string): LayoutPath {
  return { ...p, path: p.path ? `${p.path}/${rel}` : rel };
}
