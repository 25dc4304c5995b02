// The MSI as data (pure): install layout, components, services, registry values and the tables wixl 0.101
// cannot express, from the product model. The WiX source template and the wixl post-processing both read it,
// so the two toolsets install the same thing.
import path from 'node:path';
import { UserError, EXIT } from '../../errors.ts';
import { expandArgs, exeName, type Component, type Platform, type Product, type Service, WINDOWS_PLATFORM } from '../../product/model.ts';
import type { Versions } from '../../version.ts';
import { uuidV5 } from '../../util/uuid.ts';
import { formatted, registryMultiString, registryString, windowsArg, type FormattedPart } from './escape.ts';
import { productCode, productVersion } from '../release.ts';
import type { LayoutPath } from '../../layout/path.ts';
import { MSI_DATA_ROOT, MSI_INSTALL_DIR, MSI_INSTALL_ROOT, msiLayout } from '../../layout/msi.ts';

export const MSI_PLATFORM: Platform = WINDOWS_PLATFORM;

export type WindowsServiceMode = 'wrapper' | 'native';

/** How the SCM runs a component's service (components[].windows.service; the service host by default). */
export function windowsServiceMode(product: Product, component: Component): WindowsServiceMode {
  return product.def.components.find((c) => c.name === component.name)?.windows?.service ?? 'wrapper';
}

/** Components the MSI installs: those built for windows-amd64. */
export function msiComponents(product: Product): Component[] {
  return product.components.filter((c) => c.platforms.includes(MSI_PLATFORM));
}

/** Windows service name: CamelCase of the service name (stigmer-server -> StigmerServer). */
export function windowsServiceName(service: Service): string {
  return service.name
    .split('-')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/** "Stigmer Server", "Stigmer Workflow Runner": the product's display name unless the service name starts with the product name. */
export function windowsDisplayName(product: Product, service: Service): string {
  const words = service.name.split('-');
  const title = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join(' ');
  return words[0] === product.meta.name ? `${product.meta.displayName}${title.slice(words[0]!.length)}` : `${product.meta.displayName} ${title}`;
}

/** The environment variable that names the env file for services registered natively (they read it themselves). */
export function envFileVariable(product: Product): string {
  return `${product.meta.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_ENV_FILE`;
}

export const serviceHostExe = (product: Product) => `${product.meta.name}-service.exe`;

// ---- identifiers ----------------------------------------------------------------------------------

/** An MSI identifier (letters, digits, "_" and "."; at most 72 characters), stable for a given name. */
function msiId(prefix: string, name: string): string {
  const id = `${prefix}_${name.replace(/[^A-Za-z0-9_.]/g, '_')}`;
  return id.length <= 72 ? id : `${id.slice(0, 60)}_${uuidV5('00000000-0000-0000-0000-000000000000', id).replace(/-/g, '').slice(0, 11)}`;
}

// ---- the model ------------------------------------------------------------------------------------

export interface MsiFile {
  id: string;
  name: string;
  /** Path relative to the build folder (also the WiX Source attribute). */
  source: string;
  origin: { payload: string } | { file: string } | { envTemplate: true } | { serviceHost: true };
  keyPath: boolean;
  /** WiX-toolset Permission children (wixl: LockPermissions rows). */
  lockedTo: string[];
}

export interface MsiServiceInstall {
  id: string;
  name: string;
  displayName: string;
  description: string;
  arguments: string;
  dependencies: string[];
  /** MsiServiceConfigFailureActions (restart after delayMs, three times, counter reset after a day); null: never restart. */
  recovery: { id: string; delayMs: number; resetSeconds: number } | null;
}

export interface MsiRegistryValue {
  id: string;
  key: string;
  name: string;
  type: 'string' | 'integer';
  value: string;
}

export interface MsiComponent {
  id: string;
  /** "" for the env file: an unmanaged component, never removed or replaced once installed. */
  guid: string;
  neverOverwrite: boolean;
  createFolder: boolean;
  files: MsiFile[];
  services: MsiServiceInstall[];
  registry: MsiRegistryValue[];
  /** PATH entry (Environment table): the folder's path appended to the system PATH. */
  pathEntry: { id: string; directory: string } | null;
}

export interface MsiDirectory {
  id: string;
  name: string;
  components: MsiComponent[];
  dirs: MsiDirectory[];
}

export interface MsiModel {
  productCode: string;
  upgradeCode: string;
  version: string;
  name: string;
  manufacturer: string;
  description: string;
  homepage: string;
  /** Each top folder below its Windows Installer system folder (the directory id of its parent). */
  installDir: MsiDirectory & { parent: string };
  dataDir: MsiDirectory & { parent: string };
  components: MsiComponent[];
  /** Where the env file is installed, as Formatted text (documented in the env file itself). */
  envFilePath: string;
}

interface WinDirs {
  stateDir: FormattedPart[];
  logsDir: FormattedPart[];
  runtimeDir: FormattedPart[];
  configDir: FormattedPart[];
}

const DATA_ROOT = MSI_DATA_ROOT;

/** A layout path as Formatted text: its root property, resolved at install time, then the literal rest. */
const formattedPath = (p: LayoutPath): FormattedPart[] => [...(p.root === undefined ? [] : [{ ref: p.root }]), { literal: p.path }];

/** Per-service folders under %ProgramData%\<DisplayName> (src/layout/msi.ts): data\<service>, logs, run\<service>. */
export function windowsDirs(product: Product, service: Service): WinDirs {
  const dirs = msiLayout(product).service(service);
  return {
    stateDir: formattedPath(dirs.stateDir),
    logsDir: formattedPath(dirs.logsDir),
    runtimeDir: formattedPath(dirs.runtimeDir),
    configDir: formattedPath(dirs.configDir),
  };
}

/** The service's arguments with placeholders as install-time paths: one FormattedPart[] per argument. */
function serviceArgs(product: Product, service: Service): FormattedPart[][] {
  const dirs = windowsDirs(product, service);
  const sentinel = (k: string) => `\u0000${k}\u0000`;
  const expanded = expandArgs(service, { stateDir: sentinel('stateDir'), logsDir: sentinel('logsDir'), runtimeDir: sentinel('runtimeDir'), configDir: sentinel('configDir') });
  return expanded.map((arg) =>
    arg
      .split('\u0000')
      .flatMap((p, i): FormattedPart[] => (i % 2 === 1 ? dirs[p as keyof WinDirs] : p ? [{ literal: p }] : [])),
  );
}

function serviceEnv(product: Product, service: Service, mode: WindowsServiceMode): FormattedPart[][] {
  const env: FormattedPart[][] = Object.entries(service.env).map(([k, v]) => [{ literal: `${k}=${v}` }]);
  if (service.frozen) {
    // A PyInstaller one-file payload unpacks into %TEMP% at every start: give it a private folder.
    const run = windowsDirs(product, service).runtimeDir;
    env.push([{ literal: 'TEMP=' }, ...run], [{ literal: 'TMP=' }, ...run]);
  }
  if (mode === 'native') env.push([{ literal: `${envFileVariable(product)}=` }, ...formattedPath(msiLayout(product).envFile)]);
  return env;
}

export const envFileName = (product: Product) => path.basename(product.def.install.envFile);

/** Problems that stop an MSI from being planned, as one UserError (nothing is written). */
function check(product: Product, versions: Versions): void {
  productVersion(versions);
  const included = new Set(msiComponents(product).map((c) => c.name));
  const problems: string[] = [];
  for (const c of msiComponents(product)) {
    for (const dep of c.service?.after ?? []) {
      const depComponent = product.services.find((s) => s.name === dep)!.component;
      if (!included.has(depComponent)) {
        problems.push(`components "${c.name}": its service starts after "${dep}", but component "${depComponent}" has no ${MSI_PLATFORM} payload (its platforms exclude it)`);
      }
    }
    for (const [i, arg] of (c.service ? serviceArgs(product, c.service) : []).entries()) {
      if (formatted(arg) === '') problems.push(`components "${c.name}": service.args[${i}] is empty, which a Windows service's argument list cannot carry`);
    }
  }
  if (problems.length) {
    throw new UserError(`the MSI cannot be built from ${path.basename(product.file)}:\n${problems.map((p) => `  ${p}`).join('\n')}`, {
      hint: `add ${MSI_PLATFORM} to the platforms of the components named, or remove the dependency; or build without it: --target without msi, or --platform without ${MSI_PLATFORM}`,
      exitCode: EXIT.config,
    });
  }
}

export function msiModel(product: Product, versions: Versions): MsiModel {
  check(product, versions);
  const upgradeCode = product.def.identifiers.msiUpgradeCode;
  const guidOf = (componentId: string, keyPath: string) => uuidV5(upgradeCode, `Component/${componentId}/${keyPath}`);
  const components = msiComponents(product);
  const allComponents: MsiComponent[] = [];
  const component = (c: Omit<MsiComponent, 'guid' | 'neverOverwrite' | 'createFolder' | 'services' | 'registry' | 'pathEntry'> & Partial<MsiComponent>, keyPath: string): MsiComponent => {
    const full: MsiComponent = { guid: guidOf(c.id, keyPath), neverOverwrite: false, createFolder: false, services: [], registry: [], pathEntry: null, ...c };
    allComponents.push(full);
    return full;
  };

  const serviceInstall = (service: Service, args: string): MsiServiceInstall => ({
    id: msiId('Svc', service.name),
    name: windowsServiceName(service),
    displayName: formatted([{ literal: windowsDisplayName(product, service) }]),
    description: formatted([{ literal: service.description }]),
    arguments: args,
    dependencies: service.after.map((d) => windowsServiceName(product.services.find((s) => s.name === d)!)),
    recovery: service.restart.policy === 'never' ? null : { id: msiId('Recovery', service.name), delayMs: service.restart.delaySeconds * 1000, resetSeconds: 86400 },
  });
  const serviceKey = (service: Service) => `SYSTEM\\CurrentControlSet\\Services\\${windowsServiceName(service)}`;

  // The install folder's subfolders (src/layout/msi.ts); each is one folder name below INSTALLDIR, also the
  // build folder's subfolder its files are staged in.
  const installSubdir = (p: LayoutPath): string => {
    if (p.root !== MSI_INSTALL_ROOT || !p.path || /[\\/]/.test(p.path)) throw new Error(`internal: ${p.root ?? ''}${p.path} is not one folder below ${MSI_INSTALL_ROOT}`);
    return p.path;
  };
  const layout = msiLayout(product);
  const binName = installSubdir(layout.binDir);
  // INSTALLDIR\bin: every payload; a natively registered service sits in its payload's component.
  const binDir: MsiDirectory = { id: msiId('Dir', binName), name: binName, components: [], dirs: [] };
  const wrapped: { service: Service; fileId: string }[] = [];
  for (const c of components) {
    const name = exeName(c.binary, MSI_PLATFORM);
    const file: MsiFile = { id: msiId('File', c.name), name, source: `${binName}/${name}`, origin: { payload: c.name }, keyPath: true, lockedTo: [] };
    const mine = component({ id: msiId('Cmp', c.name), files: [file] }, `${binName}/${name}`);
    const s = c.service;
    if (s && windowsServiceMode(product, c) === 'native') {
      mine.services.push(serviceInstall(s, serviceArgs(product, s).map(windowsArg).join(' ')));
      const env = serviceEnv(product, s, 'native');
      if (env.length) mine.registry.push({ id: msiId('Reg', `${s.name}_Environment`), key: serviceKey(s), name: 'Environment', type: 'string', value: registryMultiString(env) });
    } else if (s) {
      wrapped.push({ service: s, fileId: file.id });
    }
    binDir.components.push(mine);
  }
  // The CLI's folder goes on the system PATH (the CLI's component, else the first one in bin).
  const cli = binDir.components.find((m) => m.id === msiId('Cmp', product.meta.name)) ?? binDir.components[0];
  if (cli) cli.pathEntry = { id: 'Env_PATH', directory: binDir.id };

  const installDirs: MsiDirectory[] = [binDir];
  // INSTALLDIR\services: the service host registered once per wrapped service, configured under Parameters.
  if (wrapped.length) {
    const host = serviceHostExe(product);
    const hostDir = installSubdir(layout.serviceHostDir);
    const hostComponent = component(
      { id: 'Cmp_ServiceHost', files: [{ id: 'File_ServiceHost', name: host, source: `${hostDir}/${host}`, origin: { serviceHost: true }, keyPath: true, lockedTo: [] }] },
      `${hostDir}/${host}`,
    );
    for (const { service: s, fileId } of wrapped) {
      hostComponent.services.push(serviceInstall(s, `run ${windowsServiceName(s)}`));
      const key = `${serviceKey(s)}\\Parameters`;
      const reg = (name: string, type: MsiRegistryValue['type'], value: string) => hostComponent.registry.push({ id: msiId('Reg', `${s.name}_${name}`), key, name, type, value });
      const dirs = windowsDirs(product, s);
      reg('AppPath', 'string', registryString([{ ref: `[#${fileId}]` }]));
      const args = serviceArgs(product, s);
      if (args.length) reg('AppParameters', 'string', registryMultiString(args));
      const env = serviceEnv(product, s, 'wrapper');
      if (env.length) reg('AppEnvironment', 'string', registryMultiString(env));
      reg('AppEnvironmentFile', 'string', registryString(formattedPath(msiLayout(product).envFile)));
      reg('AppDirectory', 'string', registryString(dirs.stateDir));
      reg('AppLog', 'string', registryString([...dirs.logsDir, { literal: `\\${s.name}.log` }]));
      reg('AppRestart', 'string', registryString([{ literal: s.restart.policy }]));
      reg('AppRestartDelay', 'integer', String(s.restart.delaySeconds));
      reg('AppStopTimeout', 'integer', String(s.stop.timeoutSeconds));
    }
    installDirs.push({ id: msiId('Dir', hostDir), name: hostDir, components: [hostComponent], dirs: [] });
  }

  // Extra files (definition `files`), in the same layout as the archives.
  for (const f of [...product.def.files].sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0))) {
    const parts = f.dest.split('/');
    let dirs = installDirs;
    let dirPath = '';
    let dir: MsiDirectory | undefined;
    for (const seg of parts.slice(0, -1)) {
      dirPath = dirPath ? `${dirPath}/${seg}` : seg;
      dir = dirs.find((d) => d.name === seg);
      if (!dir) {
        dir = { id: msiId('Dir', dirPath), name: seg, components: [], dirs: [] };
        dirs.push(dir);
      }
      dirs = dir.dirs;
    }
    const fileName = parts[parts.length - 1]!;
    const mine = component(
      { id: msiId('Cmp_F', f.dest), files: [{ id: msiId('File_F', f.dest), name: fileName, source: `files/${f.dest}`, origin: { file: f.src }, keyPath: true, lockedTo: [] }] },
      `files/${f.dest}`,
    );
    if (dir) dir.components.push(mine);
    else throw new UserError(`files: ${f.dest} would be installed at the root of the install folder`, { hint: 'give it a folder, e.g. share/doc/<name>/', exitCode: EXIT.config });
  }

  // %ProgramData%\<DisplayName>: the env file (installed once, kept on upgrade and uninstall, readable by
  // Administrators and SYSTEM only), one data folder per service, the logs folder, TEMP of frozen services.
  const envName = envFileName(product);
  const envComponent = component(
    {
      id: 'Cmp_EnvFile',
      files: [{ id: 'File_EnvFile', name: envName, source: `config/${envName}`, origin: { envTemplate: true }, keyPath: true, lockedTo: ['Administrators', 'SYSTEM'] }],
      guid: '',
      neverOverwrite: true,
    },
    `config/${envName}`,
  );
  const folder = (rel: string[]): MsiDirectory => {
    const id = msiId('Data', rel.join('_'));
    return { id, name: rel[rel.length - 1]!, components: [component({ id: msiId('Cmp', id), files: [], createFolder: true }, `${DATA_ROOT}${rel.join('\\')}`)], dirs: [] };
  };
  const services = components.flatMap((c) => (c.service ? [c.service] : []));
  const dataDirs: MsiDirectory[] = [];
  if (services.length) {
    dataDirs.push({ id: 'Data_data', name: 'data', components: [], dirs: services.map((s) => folder(['data', s.name])) });
    dataDirs.push(folder(['logs']));
    const frozen = services.filter((s) => s.frozen || s.args.some((a) => a.includes('{runtimeDir}')));
    if (frozen.length) dataDirs.push({ id: 'Data_run', name: 'run', components: [], dirs: frozen.map((s) => folder(['run', s.name])) });
  }

  return {
    productCode: productCode(product, versions),
    upgradeCode,
    version: productVersion(versions),
    name: product.meta.displayName,
    manufacturer: product.meta.vendor,
    description: product.meta.summary,
    homepage: product.meta.homepage,
    installDir: { id: MSI_INSTALL_DIR, name: layout.installFolder.name, parent: layout.installFolder.parent, components: [], dirs: installDirs },
    dataDir: { id: 'DATADIR', name: layout.dataFolder.name, parent: layout.dataFolder.parent, components: [envComponent], dirs: dataDirs },
    components: allComponents,
    envFilePath: `%ProgramData%\\${msiLayout(product).envFile.path}`,
  };
}
