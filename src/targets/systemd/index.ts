// systemd: one unit per service plus a grouping target, for system installs (deb/rpm) and per-user installs.
import path from 'node:path';
import { expandArgs, type Product, type Service, type ServiceDirs } from '../../product/model.ts';
import { generatedNotice, renderTemplate } from '../../render/templates.ts';
import { systemdEnv, systemdWord } from '../../render/quote.ts';
import { definitionName, renderEnvFile } from '../envfile.ts';
import type { PlannedArtifact } from '../types.ts';
import { textTarget } from '../text.ts';

export type UnitScope = 'system' | 'user';

/** Where a scope's units find binaries, the env file and their directories. */
export function unitLayout(product: Product, scope: UnitScope, service: Service): { binDir: string; envFile: string; dirs: ServiceDirs } {
  const { stateDir, logsDir, configDir, envFile } = product.def.install;
  if (scope === 'system') {
    return {
      binDir: '/usr/bin',
      envFile,
      dirs: { stateDir: `/var/lib/${stateDir}/${service.name}`, logsDir: `/var/log/${logsDir}`, runtimeDir: `/run/${stateDir}/${service.name}`, configDir },
    };
  }
  // User units: %h home, %E config home, %S state, %L logs, %t runtime dir (systemd.unit(5) specifiers).
  return {
    binDir: '%h/.local/bin',
    envFile: `%E/${product.meta.name}/${path.basename(envFile)}`,
    dirs: { stateDir: `%S/${stateDir}/${service.name}`, logsDir: `%L/${logsDir}`, runtimeDir: `%t/${stateDir}/${service.name}`, configDir: `%E/${product.meta.name}` },
  };
}

export const targetUnitName = (product: Product) => `${product.meta.name}.target`;

const RESTART = { always: 'always', 'on-failure': 'on-failure', never: 'no' } as const;

export function renderServiceUnit(product: Product, service: Service, scope: UnitScope): string {
  const { binDir, envFile, dirs } = unitLayout(product, scope, service);
  const deps = service.after.map((d) => `${d}.service`);
  const environment = Object.entries(service.env).map(([k, v]) => systemdEnv(k, v));
  if (service.frozen) environment.push(`TMPDIR=${dirs.runtimeDir}`);
  const { stateDir, logsDir } = product.def.install;
  return renderTemplate('systemd/service.hbs', {
    notice: generatedNotice(definitionName(product)),
    system: scope === 'system',
    description: service.description,
    documentation: product.meta.homepage,
    after: scope === 'system' ? ['network-online.target', ...deps] : deps,
    wants: scope === 'system' ? ['network-online.target', ...deps] : deps,
    partOf: targetUnitName(product),
    user: product.def.install.user,
    group: product.def.install.group,
    environment,
    envFile,
    execStart: [`${binDir}/${service.binary}`, ...expandArgs(service, dirs, (s) => s.replace(/%/g, '%%'))].map((w) => systemdWord(w, true)).join(' '),
    restart: RESTART[service.restart.policy],
    restartSec: service.restart.delaySeconds,
    killSignal: service.stop.signal,
    killModeMixed: service.frozen,
    killModeReason: 'The PyInstaller bootloader forwards the stop signal to its child: signal only the main process (the rest is killed after the timeout), so the program gets it once.',
    timeoutStopSec: service.stop.timeoutSeconds,
    stateDirectory: `${stateDir}/${service.name}`,
    logsDirectory: logsDir,
    runtimeDirectory: service.frozen ? `${stateDir}/${service.name}` : '',
    runtimeReason: 'A PyInstaller one-file payload unpacks itself into TMPDIR at every start: give it a private, writable, exec-able one.',
    // W^X breaks Python's ctypes/cffi; only compiled (Go) services get it.
    memoryDenyWriteExecute: service.frozen === false && product.components.find((c) => c.name === service.component)?.language === 'go',
  });
}

export function renderTargetUnit(product: Product, scope: UnitScope): string {
  return renderTemplate('systemd/target.hbs', {
    notice: generatedNotice(definitionName(product)),
    description: `${product.meta.displayName} services`,
    documentation: product.meta.homepage,
    units: product.services.map((s) => `${s.name}.service`),
    wantedBy: scope === 'system' ? 'multi-user.target' : 'default.target',
  });
}

export function renderSysusers(product: Product): string {
  const { user, group, stateDir } = product.def.install;
  return renderTemplate('systemd/sysusers.hbs', {
    notice: generatedNotice(definitionName(product)),
    user,
    group,
    gecos: `${product.meta.displayName} services`,
    home: `/var/lib/${stateDir}`,
  });
}

/** Every text file this target renders, by path below dist/<version>/, each rendered only when asked for (planning needs the paths alone). */
function systemdSources(product: Product): Map<string, () => string> {
  const files = new Map<string, () => string>();
  for (const scope of ['system', 'user'] as const) {
    for (const s of product.services) files.set(`systemd/${scope}/${s.name}.service`, () => renderServiceUnit(product, s, scope));
    files.set(`systemd/${scope}/${targetUnitName(product)}`, () => renderTargetUnit(product, scope));
  }
  files.set(`systemd/sysusers.d/${product.meta.name}.conf`, () => renderSysusers(product));
  files.set(`env/${path.basename(product.def.install.envFile)}`, () => renderEnvFile(product));
  return files;
}

/** Every text file this target renders, by path below dist/<version>/ (shared with deb/rpm/installer). */
export function systemdFiles(product: Product): Map<string, { kind: PlannedArtifact['kind']; text: string }> {
  return new Map([...systemdSources(product)].map(([p, render]) => [p, { kind: systemdKind(p), text: render() }]));
}

function systemdKind(p: string): PlannedArtifact['kind'] {
  return p.startsWith('env/') ? 'env-file' : p.startsWith('systemd/sysusers.d/') ? 'sysusers' : 'systemd-unit';
}

export const systemdTarget = textTarget({
  id: 'systemd',
  description: 'systemd units, grouping target, sysusers.d entry and the env file',
  kindOf: systemdKind,
  paths: ({ product }) => [...systemdSources(product).keys()],
  render: ({ product }) => new Map([...systemdSources(product)].map(([p, render]) => [p, render()])),
});
