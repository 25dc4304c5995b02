// The view model of the maintainer scripts (deb) and scriptlets (rpm). The shell logic both share (creating
// the system user, the guards) lives in handlebars partials under templates/linux/; values arrive here already
// shell-quoted, and for rpm also %-escaped (rpm expands macros inside scriptlets).
import type { Product } from '../../product/model.ts';
import { generatedNotice } from '../../render/templates.ts';
import { commentText, shPrintLines, shWord } from '../../render/quote.ts';
import { definitionName } from '../envfile.ts';
import { NOLOGIN, recordDir, runtimeDirs, sysusersEntry, unitNames, userHome } from './layout.ts';

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
}

export function scriptView(product: Product, escape: (s: string) => string = (s) => s): ScriptView {
  const q = (s: string) => escape(shWord(s));
  const { user, group, envFile } = product.def.install;
  const units = unitNames(product);
  const sysusers = sysusersEntry(product);
  return {
    // Comment text only (the scripts' header lines).
    notice: escape(commentText(generatedNotice(definitionName(product)))),
    pkg: escape(commentText(product.meta.name)),
    displayName: escape(commentText(product.meta.displayName)),
    user: q(user),
    group: q(group),
    home: q(userHome(product)),
    shell: q(NOLOGIN),
    gecos: q(`${product.meta.displayName} services`),
    sysusersPath: q(sysusers.path),
    sysusersPrint: escape(shPrintLines(sysusers.lines)),
    envFile: q(envFile),
    envDir: q(envFile.slice(0, envFile.lastIndexOf('/'))),
    runtimeDirs: runtimeDirs(product).map(q),
    recordDir: q(recordDir(product)),
    recordFile: q(`${recordDir(product)}/created`),
    target: q(units.target),
    allUnits: [units.target, ...units.services].map(q).join(' '),
  };
}
