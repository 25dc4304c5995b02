// "Beacon", a third product for the source and publish tests: a CLI, a service, and an upstream component
// pinned to loopback downloads (the pins are computed from the served archives, or zeros on request).
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { loadProduct } from '../../src/product/load.ts';
import { exeName, splitPlatform, type Platform, type Product } from '../../src/product/model.ts';
import { fixtureExecutable } from '../go-programs.ts';
import { sendFile, serve, type Loopback } from './loopback.ts';
import { tarOf } from './raw-tar.ts';

export const BEACON_PLATFORMS: Platform[] = ['linux-amd64', 'darwin-arm64', 'windows-amd64'];
export const ENGINE_VERSION = '2.0.0';

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export { tarOf };

/** A payload: the platform's fixture executable (test/go-programs.ts), made distinct by `label`. */
export function payloadBinary(platform: Platform, label: string): Promise<Buffer> {
  return fixtureExecutable(platform, label);
}

export interface EngineServer {
  server: Loopback;
  /** URL and sha256 of each platform's engine archive. */
  assets: Record<string, { url: string; sha256: string; member: string }>;
  /** The engine binary inside each archive. */
  binary: (platform: Platform) => Buffer;
}

/** Serves the "engine" upstream archives: engine_<version>_<os>_<arch>.tar.gz holding `engine`. */
export async function engineServer(): Promise<EngineServer> {
  const binaries = new Map<Platform, Buffer>();
  for (const p of BEACON_PLATFORMS) binaries.set(p, await payloadBinary(p, `engine ${p} ${ENGINE_VERSION}`));
  const binary = (p: Platform) => binaries.get(p)!;
  const archives = new Map<string, Buffer>();
  for (const p of BEACON_PLATFORMS) {
    const { os, arch } = splitPlatform(p);
    archives.set(`/engine_${ENGINE_VERSION}_${os}_${arch}.tar.gz`, gzipSync(tarOf({ 'LICENSE': 'MIT', [exeName('engine', p)]: binary(p) })));
  }
  const server = await serve((req, res) => {
    const data = archives.get(new URL(req.url!, 'http://x').pathname);
    if (!data) res.writeHead(404).end();
    else sendFile(req, res, data);
  });
  const assets: EngineServer['assets'] = {};
  for (const p of BEACON_PLATFORMS) {
    const { os, arch } = splitPlatform(p);
    const pathname = `/engine_${ENGINE_VERSION}_${os}_${arch}.tar.gz`;
    assets[p] = { url: `${server.origin}${pathname}`, sha256: sha256(archives.get(pathname)!), member: exeName('engine', p) };
  }
  return { server, assets, binary };
}

export interface BeaconOptions {
  engine: EngineServer;
  /** Pin zeros instead of the real digests (like packaging/stigmer.yaml before its first real release). */
  zeroPins?: boolean;
  payloadAsset?: string;
  /** Override one platform's member name. */
  member?: string;
}

/** Writes beacon.yaml into `dir` and loads it. */
export function writeBeacon(dir: string, opts: BeaconOptions): { file: string; product: Product } {
  const assets = Object.fromEntries(
    Object.entries(opts.engine.assets).map(([p, a]) => [p, { url: a.url, sha256: opts.zeroPins ? '0'.repeat(64) : a.sha256, member: opts.member ?? a.member }]),
  );
  const def = {
    schemaVersion: 1,
    product: {
      name: 'beacon',
      displayName: 'Beacon',
      version: '1.4.0',
      summary: 'Signal relay used by the stigmer-dist source and publish tests',
      description: 'Beacon relays signals.',
      homepage: 'https://example.org/beacon',
      license: 'MIT',
      maintainer: 'Beacon Team <team@example.org>',
      vendor: 'Beacon',
    },
    identifiers: { launchdPrefix: 'org.example.beacon', msiUpgradeCode: '1B2C3D4E-5F60-4718-8293-A4B5C6D7E8F9', wingetId: 'Beacon.Beacon' },
    release: {
      github: { owner: 'beacon-org', repo: 'beacon' },
      archiveName: '{name}_{os}_{arch}_{version}',
      homebrewTap: 'beacon-org/homebrew-tap',
      payloadAsset: opts.payloadAsset ?? '{binary}_{os}_{arch}*',
      winget: { fork: 'beacon-bot/winget-pkgs', upstream: 'microsoft/winget-pkgs' },
    },
    platforms: BEACON_PLATFORMS,
    install: { user: 'beacon', group: 'beacon', configDir: '/etc/beacon', envFile: '/etc/beacon/beacon.env', stateDir: 'beacon', logsDir: 'beacon' },
    files: [],
    components: [
      { name: 'beacon', description: 'Beacon command-line tool', language: 'go' },
      {
        name: 'beacon-server',
        description: 'Server of the Beacon test product',
        language: 'go',
        service: { description: 'Beacon server', ports: [{ name: 'http', port: 19090 }], health: { type: 'http', port: 'http' } },
      },
      {
        name: 'engine',
        description: 'Upstream engine Beacon runs on',
        language: 'upstream',
        binary: 'beacon-engine',
        upstream: { version: ENGINE_VERSION, assets },
        service: { name: 'beacon-engine', description: 'Beacon engine', ports: [{ name: 'grpc', port: 19091 }] },
      },
    ],
  };
  const file = path.join(dir, 'beacon.yaml');
  writeFileSync(file, stringify(def));
  return { file, product: loadProduct(file) };
}

/** A --from folder for Beacon's own components (not the upstream engine), as fixture executables. */
export async function beaconPayloadDir(dir: string, product: Product, version = '1.4.0', tweak: (component: string, platform: Platform) => Buffer | undefined = () => undefined): Promise<string> {
  for (const c of product.components.filter((x) => !x.upstream)) {
    for (const p of c.platforms) {
      const file = path.join(dir, p, exeName(c.binary, p));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, tweak(c.name, p) ?? (await payloadBinary(p, `${c.binary}-${p} ${version}`)));
      chmodSync(file, 0o755);
    }
  }
  return dir;
}
