// The view model of the maintainer scripts (deb) and scriptlets (rpm). The shell logic both share (creating
// the system user, the guards) lives in handlebars partials under templates/linux/; values arrive here already
// shell-quoted, and for rpm also %-escaped (rpm expands macros inside scriptlets).
import type { Product } from '../../product/model.ts';
import { generatedNotice } from '../../render/templates.ts';
import { shQuote } from '../../render/quote.ts';
import { definitionName } from '../envfile.ts';
import { unitLayout } from '../systemd/index.ts';
import { dedicatedConfigDir, NOLOGIN, runtimeDirs, sysusersEntry, unitNames, userHome } from './layout.ts';

export interface ScriptView {
  notice: string;
  pkg: string;
  displayName: string;
  user: string;
  group: string;
  home: string;
  shell: string;
  gecos: string;
  sysusersPath: string;
  sysusersLines: string[];
  envFile: string;
  /** Removed whole on purge when it is the product's own directory; else null (only emptied files go). */
  configDir: string | null;
  /** The env file's directory, removed on purge only if empty (when configDir is null). */
  envDir: string;
  runtimeDirs: string[];
  target: string;
  /** The target and every service unit, space-separated (one shell word each). */
  allUnits: string;
  /** Services of upstream components: their state directory is backed up before another upstream version runs. */
  upstreamStates: { service: string; unit: string; program: string; version: string; dir: string }[];
  /** How the scripts stop one unit (deb: deb-systemd-invoke, which honours policy-rc.d; rpm: systemctl). */
  stopCommand: string;
}

export function scriptView(product: Product, escape: (s: string) => string = (s) => s, stopCommand = 'deb-systemd-invoke stop'): ScriptView {
  const q = (s: string) => escape(shQuote(s));
  const { user, group, envFile } = product.def.install;
  const units = unitNames(product);
  const sysusers = sysusersEntry(product);
  const configDir = dedicatedConfigDir(product);
  return {
    notice: escape(generatedNotice(definitionName(product))),
    pkg: escape(product.meta.name),
    displayName: escape(product.meta.displayName),
    user: q(user),
    group: q(group),
    home: q(userHome(product)),
    shell: q(NOLOGIN),
    gecos: q(`${product.meta.displayName} services`),
    sysusersPath: q(sysusers.path),
    sysusersLines: sysusers.lines.map(escape),
    envFile: q(envFile),
    configDir: configDir ? q(configDir) : null,
    envDir: q(envFile.slice(0, envFile.lastIndexOf('/'))),
    runtimeDirs: runtimeDirs(product).map(q),
    target: q(units.target),
    allUnits: [units.target, ...units.services].map(q).join(' '),
    stopCommand,
    upstreamStates: upstreamStates(product).map((u) => ({ service: escape(u.service), unit: q(`${u.service}.service`), program: escape(u.program), version: q(u.version), dir: q(u.dir) })),
  };
}

/** Each service of an upstream component, with the upstream version it runs and its system state directory. */
export function upstreamStates(product: Product): { service: string; program: string; version: string; dir: string }[] {
  return product.components.flatMap((c) =>
    c.upstream && c.service
      ? [{ service: c.service.name, program: c.contract?.program ?? c.name, version: c.upstream.version, dir: unitLayout(product, 'system', c.service).dirs.stateDir }]
      : [],
  );
}
