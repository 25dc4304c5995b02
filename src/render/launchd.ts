// launchd property lists for macOS (shared by the launchd target and the installer), serialised with a plist library (never string templates):
// LaunchDaemons for a system install and LaunchAgents for a per-user install.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { expandArgs, type Product, type Service } from '../product/model.ts';
import { FROZEN_TMPDIR_VAR, launcherArgv } from './launcher.ts';
import { pathText, serviceDirsText, type InstallLayout } from '../layout/path.ts';
import { launchdSystemLayout } from '../layout/launchd-system.ts';
import { userLaunchdLayout } from '../layout/user-sh.ts';

export type LaunchdScope = 'system' | 'user';

export function launchdLabel(product: Product, service: Service): string {
  return `${product.def.identifiers.launchdPrefix}.${service.name}`;
}

/** The layout a scope's plists are rendered from: LaunchDaemons below /usr/local, LaunchAgents per user. */
const plistLayoutOf = (product: Product, scope: LaunchdScope): InstallLayout => (scope === 'system' ? launchdSystemLayout(product) : userLaunchdLayout(product));

const KEEP_ALIVE = { always: true, 'on-failure': { SuccessfulExit: false, Crashed: true }, never: false } as const;

export function launchdPlistObject(product: Product, service: Service, scope: LaunchdScope, layout = plistLayoutOf(product, scope)): Record<string, unknown> {
  const binDir = pathText(layout.binDir);
  const envFile = pathText(layout.envFile);
  const dirs = serviceDirsText(layout.service(service));
  const env: Record<string, string> = { PATH: `${binDir}:/usr/bin:/bin:/usr/sbin:/sbin`, ...service.env };
  if (service.frozen) env.TMPDIR = env[FROZEN_TMPDIR_VAR] = `${dirs.runtimeDir}/tmp`;
  const log = `${dirs.logsDir}/${service.name}.log`;
  const job: Record<string, unknown> = {
    Label: launchdLabel(product, service),
    ProgramArguments: launcherArgv(`${product.meta.name}-env`, envFile, [`${binDir}/${service.binary}`, ...expandArgs(service, dirs)]),
    RunAtLoad: true,
    KeepAlive: KEEP_ALIVE[service.restart.policy],
    // launchd's only restart pacing knob; it refuses values below 1 second.
    ThrottleInterval: Math.max(1, service.restart.delaySeconds),
    ExitTimeOut: service.stop.timeoutSeconds,
    ProcessType: 'Background',
    WorkingDirectory: dirs.stateDir,
    EnvironmentVariables: env,
    StandardOutPath: log,
    StandardErrorPath: log,
  };
  if (scope === 'system') {
    job.UserName = product.def.install.user;
    job.GroupName = product.def.install.group;
  }
  return job;
}

// plist and its XML libraries (~45 modules) load on the first render, not at start-up: `plan` renders no plist.
// The package is ESM with an import-only export map, so it is resolved as an import and loaded by require(esm).
let plistModule: typeof import('plist') | undefined;
function plistLibrary(): typeof import('plist') {
  plistModule ??= createRequire(import.meta.url)(fileURLToPath(import.meta.resolve('plist'))) as typeof import('plist');
  return plistModule;
}

export function renderLaunchdPlist(product: Product, service: Service, scope: LaunchdScope, layout = plistLayoutOf(product, scope)): string {
  return plistLibrary().build(launchdPlistObject(product, service, scope, layout) as never, { indent: '\t', newline: '\n' } as never) + '\n';
}

export function launchdPlists(product: Product): { path: string; service: Service; scope: LaunchdScope }[] {
  return (['system', 'user'] as const).flatMap((scope) =>
    product.services.map((service) => ({ path: `launchd/${scope === 'system' ? 'LaunchDaemons' : 'LaunchAgents'}/${launchdLabel(product, service)}.plist`, service, scope })),
  );
}

export function launchdFiles(product: Product): Map<string, string> {
  return new Map(launchdPlists(product).map((p) => [p.path, renderLaunchdPlist(product, p.service, p.scope)]));
}

