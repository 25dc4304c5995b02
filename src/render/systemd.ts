// systemd units (one per service plus a grouping target), the sysusers.d entry and the env file, for system
// installs (deb/rpm) and per-user installs (install.sh). Shared by the systemd target, deb/rpm and the installer.
import path from 'node:path';
import { expandArgs, type Product, type Service } from '../product/model.ts';
import { pathText, serviceDirsText, type InstallLayout } from '../layout/path.ts';
import { systemLayout } from '../layout/system.ts';
import { userSystemdLayout } from '../layout/user-sh.ts';
import { generatedNotice, renderTemplate } from './templates.ts';
import { commentText, sysusersField, systemdEnv, systemdEnvWord, systemdExecWord, systemdLineValue, systemdLiteral, systemdUnitText } from './quote.ts';
import { definitionName, renderEnvFile } from './envfile.ts';

export type UnitScope = 'system' | 'user';

/** The layout a scope's units are rendered from: the system package's, or the per-user install's. */
export const unitLayoutOf = (product: Product, scope: UnitScope): InstallLayout => (scope === 'system' ? systemLayout(product) : userSystemdLayout(product));

export const targetUnitName = (product: Product) => `${product.meta.name}.target`;

const RESTART = { always: 'always', 'on-failure': 'on-failure', never: 'no' } as const;

/** A service's unit; `layout` gives every path (unit text: literal parts have "%" escaped, roots are specifiers). */
export function renderServiceUnit(product: Product, service: Service, scope: UnitScope, layout = unitLayoutOf(product, scope)): string {
  const binDir = pathText(layout.binDir, systemdLiteral);
  const envFile = pathText(layout.envFile, systemdLiteral);
  const dirs = serviceDirsText(layout.service(service), systemdLiteral);
  const deps = service.after.map((d) => `${d}.service`);
  const environment = Object.entries(service.env).map(([k, v]) => systemdEnv(k, v));
  // dirs.runtimeDir is unit text already (its specifiers intended): quoted, not escaped again.
  if (service.frozen) environment.push(systemdEnvWord(`TMPDIR=${dirs.runtimeDir}`));
  const { stateDir, logsDir } = product.def.install;
  return renderTemplate('systemd/service.hbs', {
    notice: commentText(generatedNotice(definitionName(product))),
    system: scope === 'system',
    description: systemdLineValue(service.description, 'service description'),
    documentation: systemdLineValue(product.meta.homepage, 'homepage'),
    after: (scope === 'system' ? ['network-online.target', ...deps] : deps).map((u) => systemdLineValue(u)),
    wants: (scope === 'system' ? ['network-online.target', ...deps] : deps).map((u) => systemdLineValue(u)),
    partOf: systemdLineValue(targetUnitName(product)),
    user: systemdLineValue(product.def.install.user),
    group: systemdLineValue(product.def.install.group),
    environment,
    envFile: systemdUnitText(envFile, 'env file path'),
    // Every word is unit text: specifiers escaped in literal parts (systemdLiteral), then "$" and quotes.
    execStart: [`${binDir}/${systemdLiteral(service.binary)}`, ...expandArgs(service, dirs, systemdLiteral)].map(systemdExecWord).join(' '),
    restart: RESTART[service.restart.policy],
    restartSec: service.restart.delaySeconds,
    killSignal: service.stop.signal,
    killModeMixed: service.frozen,
    killModeReason: 'The PyInstaller bootloader forwards the stop signal to its child: signal only the main process (the rest is killed after the timeout), so the program gets it once.',
    timeoutStopSec: service.stop.timeoutSeconds,
    stateDirectory: systemdLineValue(`${stateDir}/${service.name}`),
    logsDirectory: systemdLineValue(logsDir),
    runtimeDirectory: service.frozen ? systemdLineValue(`${stateDir}/${service.name}`) : '',
    runtimeReason: 'A PyInstaller one-file payload unpacks itself into TMPDIR at every start: give it a private, writable, exec-able one.',
    // W^X breaks Python's ctypes/cffi; only compiled (Go) services get it.
    memoryDenyWriteExecute: service.frozen === false && product.components.find((c) => c.name === service.component)?.language === 'go',
  });
}

export function renderTargetUnit(product: Product, scope: UnitScope): string {
  return renderTemplate('systemd/target.hbs', {
    notice: commentText(generatedNotice(definitionName(product))),
    description: systemdLineValue(`${product.meta.displayName} services`),
    documentation: systemdLineValue(product.meta.homepage),
    units: product.services.map((s) => systemdLineValue(`${s.name}.service`)),
    wantedBy: scope === 'system' ? 'multi-user.target' : 'default.target',
  });
}

/** The sysusers.d(5) entries (no comments) that create the services' group and user, from the system layout's account. */
export function sysusersLines(product: Product): string[] {
  const { user, group, gecos, home, shell } = systemLayout(product).account;
  return [`g ${sysusersField(group)} -`, `u ${sysusersField(user)} -:${sysusersField(group)} ${sysusersField(gecos)} ${sysusersField(home)} ${sysusersField(shell)}`];
}

export function renderSysusers(product: Product): string {
  return renderTemplate('systemd/sysusers.hbs', { notice: commentText(generatedNotice(definitionName(product))), lines: sysusersLines(product) });
}

/** Every text file this target renders, by path below dist/<version>/, each rendered only when asked for (planning needs the paths alone). */
export function systemdSources(product: Product): Map<string, () => string> {
  const files = new Map<string, () => string>();
  for (const scope of ['system', 'user'] as const) {
    for (const s of product.services) files.set(`systemd/${scope}/${s.name}.service`, () => renderServiceUnit(product, s, scope));
    files.set(`systemd/${scope}/${targetUnitName(product)}`, () => renderTargetUnit(product, scope));
  }
  files.set(`systemd/sysusers.d/${product.meta.name}.conf`, () => renderSysusers(product));
  files.set(`env/${path.basename(product.def.install.envFile)}`, () => renderEnvFile(product));
  return files;
}

/** Every text file, rendered, by path below dist/<version>/ (shared with deb/rpm/installer). */
export function systemdFiles(product: Product): Map<string, string> {
  return new Map([...systemdSources(product)].map(([p, render]) => [p, render()]));
}

