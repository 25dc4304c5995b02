// The view model of the maintainer scripts (deb) and scriptlets (rpm). The shell logic both share (creating
// the system user, the guards) lives in handlebars partials under templates/linux/; values arrive here already
// shell-quoted, and for rpm also %-escaped (rpm expands macros inside scriptlets).
import type { Product } from '../../product/model.ts';
import { generatedNotice } from '../../render/templates.ts';
import { commentText, shPrintLines, shWord } from '../../render/quote.ts';
import { definitionName } from '../../render/envfile.ts';
import { systemLayout } from '../../layout/system.ts';
import { recordDir, runtimeDirs, sysusersEntry, unitNames } from './layout.ts';

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
  /** A command printing the sysusers.d entry's lines (piped into systemd-sysusers). */
  sysusersPrint: string;
  envFile: string;
  /** The env file's directory, removed on purge only once empty (an admin's own files there stay). */
  envDir: string;
  runtimeDirs: string[];
  /** Where the postinst records what the package created (the account, the state and log directories). */
  recordDir: string;
  recordFile: string;
  target: string;
  /** The target and every service unit, space-separated (one shell word each). */
  allUnits: string;
  /** Services of upstream components: their state directory is backed up before another upstream version runs. */
  upstreamStates: { service: string; unit: string; program: string; version: string; dir: string }[];
  /** How the scripts stop one unit (deb: deb-systemd-invoke, which honours policy-rc.d; rpm: systemctl). */
  stopCommand: string;
}

export function scriptView(product: Product, escape: (s: string) => string = (s) => s, stopCommand = 'deb-systemd-invoke stop'): ScriptView {
  const q = (s: string) => escape(shWord(s));
  const { envFile } = product.def.install;
  const { user, group, gecos, home, shell } = systemLayout(product).account;
  const units = unitNames(product);
  const sysusers = sysusersEntry(product);
  return {
    // Comment text only (the scripts' header lines).
    notice: escape(commentText(generatedNotice(definitionName(product)))),
    pkg: escape(commentText(product.meta.name)),
    displayName: escape(commentText(product.meta.displayName)),
    user: q(user),
    group: q(group),
    home: q(home),
    shell: q(shell),
    gecos: q(gecos),
    sysusersPath: q(sysusers.path),
    sysusersPrint: escape(shPrintLines(sysusers.lines)),
    envFile: q(envFile),
    envDir: q(envFile.slice(0, envFile.lastIndexOf('/'))),
    runtimeDirs: runtimeDirs(product).map(q),
    recordDir: q(recordDir(product)),
    recordFile: q(`${recordDir(product)}/created`),
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
      ? [{ service: c.service.name, program: c.contract?.program ?? c.name, version: c.upstream.version, dir: systemLayout(product).service(c.service).stateDir.path }]
      : [],
  );
}
