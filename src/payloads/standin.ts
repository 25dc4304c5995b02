// Stand-in payloads for snapshot builds: small real executables built from this project's own Go
// source (standin/) with the local Go toolchain, one per (component, platform), that behave like
// the component they replace (version, ports, health endpoint, clean stop, PyInstaller unpacking).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import { exeName, splitPlatform, type Component, type Platform, type Product } from '../product/model.ts';
import type { UncheckedPayload } from '../targets/types.ts';
import { mapLimit } from '../util/concurrency.ts';
import { hashFile, sha256Hex } from '../util/fsx.ts';
import { buildGoProgram, goBuildRecipe, goSourceDigests, goVersionOutput } from '../util/go-build.ts';

/** Directory holding the stand-in's Go source. */
export const STANDIN_SOURCE_DIR = fileURLToPath(new URL('../../standin/', import.meta.url));

/** The stand-in's Go import path inside the throwaway GOPATH (see buildGoProgram). */
export const STANDIN_IMPORT_PATH = 'stigmer-dist/standin';

const CONCURRENCY = 2;

/** The configuration baked into one stand-in binary (main.configB64). */
export interface StandinConfig {
  component: string;
  binary: string;
  version: string;
  ports: { name: string; port: number }[];
  health: { type: 'http' | 'tcp'; port: string; path: string } | null;
  env: string[];
  secrets: string[];
  frozen: boolean;
  stopSignal: string;
  /** The upstream program's command-line contract, enforced at run time like the real program does. */
  contract: { program: string; version: string; command: string[]; flags: { name: string; short?: string; value: boolean; values?: string[] }[] } | null;
  /** What `--version` prints instead of the stand-in's own line (the upstream program's exact output). */
  versionOutput: string | null;
}

export function standinConfig(component: Component, version: string): StandinConfig {
  const s = component.service;
  return {
    component: component.name,
    binary: component.binary,
    version,
    ports: (s?.ports ?? []).map((p) => ({ name: p.name, port: p.port })),
    health: s?.health ? { type: s.health.type, port: s.health.port, path: s.health.path } : null,
    env: Object.keys(s?.env ?? {}).sort(),
    secrets: [...(s?.secrets ?? [])].sort(),
    frozen: component.frozen,
    stopSignal: s?.stop.signal ?? 'SIGTERM',
    contract: component.contract
      ? { program: component.contract.program, version: component.contract.version, command: [...component.contract.command], flags: component.contract.flags.map((f) => ({ ...f })) }
      : null,
    versionOutput: component.contract?.versionOutput ?? null,
  };
}

export async function buildStandins(opts: {
  product: Product;
  platforms: Platform[];
  version: string;
  cacheDir: string;
  report?: (line: string) => void;
  /** For tests only: the same Go source from another checkout path. */
  sourceDir?: string;
}): Promise<UncheckedPayload[]> {
  const report = opts.report ?? (() => {});
  const cacheDir = path.resolve(opts.cacheDir);
  const sourceDir = opts.sourceDir ?? STANDIN_SOURCE_DIR;
  const goVersion = await goVersionOutput('building the snapshot stand-in payloads');
  // The key holds the sources' names and digests, never their folder: another checkout builds the same bytes.
  const sources = await goSourceDigests({ sourceDir, importPath: STANDIN_IMPORT_PATH, what: 'the stand-in' });

  const jobs: { component: Component; platform: Platform }[] = [];
  for (const component of opts.product.components) {
    for (const platform of opts.platforms) {
      if (component.platforms.includes(platform)) jobs.push({ component, platform });
    }
  }

  return mapLimit(jobs, CONCURRENCY, async ({ component, platform }) => {
    const { os: goos, arch: goarch } = splitPlatform(platform);
    const config = standinConfig(component, opts.version);
    const configB64 = Buffer.from(JSON.stringify(config), 'utf8').toString('base64');
    const build = { importPath: STANDIN_IMPORT_PATH, goos, goarch, extraLdflags: `-X main.configB64=${configB64}` };
    const key = sha256Hex(JSON.stringify({ sources, config, goVersion, recipe: goBuildRecipe(build) }));
    const dir = path.join(cacheDir, 'standins', key, platform);
    const file = path.join(dir, exeName(component.binary, platform));
    if (existsSync(file)) {
      report(`stand-in ${component.name} ${platform}: cached ${file}`);
    } else {
      await mkdir(dir, { recursive: true });
      const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        await buildGoProgram({ ...build, sourceDir, goCache: path.join(cacheDir, 'go-build'), out: tmp, what: `the ${component.name} stand-in for ${platform}` });
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      report(`stand-in ${component.name} ${platform}: built ${file}`);
    }
    const { sha256, size } = await digestFile(file);
    return { component: component.name, platform, path: file, sha256, size, origin: 'standin' } satisfies UncheckedPayload;
  });
}

/** Digest of a built stand-in; a size change while reading means another process was writing it. */
async function digestFile(file: string): Promise<{ sha256: string; size: number }> {
  const digest = await hashFile(file);
  if ((await stat(file)).size !== digest.size) throw new UserError(`${file} changed while it was being read`);
  return digest;
}
