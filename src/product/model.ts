// The validated, defaulted and frozen product model that every planner and target reads.
import path from 'node:path';
import type { FlagContract } from './contract.ts';
import type { ComponentSpec, HealthCheckSpec, PortSpec, ProductDefinition, Platform, ServiceSpec } from './schema.ts';

export type { Platform } from './schema.ts';
export type Os = 'linux' | 'darwin' | 'windows';
export type Arch = 'amd64' | 'arm64';

export interface Service {
  /** Component that provides the binary. */
  component: string;
  /** Unit / formula / launchd / Windows service base name. */
  name: string;
  binary: string;
  description: string;
  args: string[];
  env: Record<string, string>;
  secrets: string[];
  ports: PortSpec[];
  /** Names of the services (not components) this one starts after. */
  after: string[];
  health?: HealthCheckSpec & { portNumber: number };
  stop: ServiceSpec['stop'];
  restart: ServiceSpec['restart'];
  frozen: boolean;
}

export interface Component {
  name: string;
  description: string;
  language: ComponentSpec['language'];
  binary: string;
  frozen: boolean;
  smoke: string[];
  platforms: Platform[];
  upstream?: ComponentSpec['upstream'];
  /** The upstream program's command-line contract (loaded from upstream.contract). */
  contract?: FlagContract;
  service?: Service;
}

export interface Product {
  /** Absolute path of the definition file. */
  file: string;
  dir: string;
  def: ProductDefinition;
  meta: ProductDefinition['product'];
  platforms: Platform[];
  components: Component[];
  /** Services, dependencies first (a stable topological order). */
  services: Service[];
  /** Every secret variable name any service reads, sorted. */
  secrets: string[];
}

/** The one Windows platform (x64): the MSI, winget and Scoop describe its artifacts. */
export const WINDOWS_PLATFORM: Platform = 'windows-amd64';

export function splitPlatform(p: Platform): { os: Os; arch: Arch } {
  const [os, arch] = p.split('-') as [Os, Arch];
  return { os, arch };
}

/**
 * The CLI: the component named like the product, else the first that is not a service (among those built for
 * `platform`, when given). Homebrew's product formula, Scoop and winget's command all mean this one.
 */
export function cliComponent(product: Product, platform?: Platform): Component | undefined {
  const clis = product.components.filter((c) => !c.service && (!platform || c.platforms.includes(platform)));
  return clis.find((c) => c.name === product.meta.name) ?? clis[0];
}

/** A CLI's archive and a service's archive are different roles in the artifact graph. */
export function archiveRole(component: Component): 'cli-archive' | 'service-archive' {
  return component.service ? 'service-archive' : 'cli-archive';
}

export function exeName(binary: string, platform: Platform): string {
  return splitPlatform(platform).os === 'windows' ? `${binary}.exe` : binary;
}

export function deriveProduct(def: ProductDefinition, file: string, contracts: ReadonlyMap<string, FlagContract> = new Map()): Product {
  const serviceNameOf = new Map(def.components.map((c) => [c.name, c.service?.name ?? c.name]));
  const components: Component[] = def.components.map((c) => {
    const binary = c.binary ?? c.name;
    const service: Service | undefined = c.service && {
      component: c.name,
      name: c.service.name ?? c.name,
      binary,
      description: c.service.description,
      args: c.service.args,
      env: sortObject(c.service.env),
      secrets: [...c.service.secrets].sort(),
      ports: c.service.ports,
      after: c.service.after.map((a) => serviceNameOf.get(a)!),
      health: c.service.health && {
        ...c.service.health,
        portNumber: c.service.ports.find((p) => p.name === c.service!.health!.port)!.port,
      },
      stop: c.service.stop,
      restart: c.service.restart,
      frozen: c.frozen,
    };
    return {
      name: c.name,
      description: c.description,
      language: c.language,
      binary,
      frozen: c.frozen,
      smoke: c.smoke,
      platforms: c.platforms ?? def.platforms,
      upstream: c.upstream,
      contract: contracts.get(c.name),
      service,
    };
  });
  const services = topoSort(components.flatMap((c) => (c.service ? [c.service] : [])));
  const product: Product = {
    file,
    dir: path.dirname(file),
    def,
    meta: def.product,
    platforms: def.platforms,
    components,
    services,
    secrets: [...new Set(services.flatMap((s) => s.secrets))].sort(),
  };
  return deepFreeze(product);
}

function topoSort(services: Service[]): Service[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const out: Service[] = [];
  const done = new Set<string>();
  const visit = (s: Service) => {
    if (done.has(s.name)) return;
    done.add(s.name);
    for (const d of s.after) visit(byName.get(d)!);
    out.push(s);
  };
  services.forEach(visit);
  return out;
}

function sortObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

export interface ServiceDirs {
  stateDir: string;
  logsDir: string;
  runtimeDir: string;
  configDir: string;
}

/**
 * Substitutes {stateDir} {logsDir} {runtimeDir} {configDir} {port:NAME} with a target's own paths.
 * `escapeLiteral` escapes only the text around placeholders (e.g. "%" for systemd), so a target's paths
 * may use its own specifiers.
 */
export function expandArgs(service: Service, dirs: ServiceDirs, escapeLiteral: (s: string) => string = (s) => s): string[] {
  return service.args.map((arg) => {
    let out = '';
    let last = 0;
    for (const m of arg.matchAll(/\{([a-zA-Z]+)(?::([a-z0-9-]+))?\}/g)) {
      out += escapeLiteral(arg.slice(last, m.index));
      out += m[1] === 'port' ? String(service.ports.find((p) => p.name === m[2])!.port) : dirs[m[1] as keyof ServiceDirs];
      last = m.index! + m[0].length;
    }
    return out + escapeLiteral(arg.slice(last));
  });
}
