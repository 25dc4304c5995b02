// Reproducible `go build` of this project's own Go programs (the stand-in payloads in standin/, the Windows
// service host in winsvc/): standard library only, GOPATH mode, the local toolchain, -trimpath, no build id,
// no VCS stamp, the caller's Go settings dropped, and the source copied to a fixed import path inside a
// throwaway GOPATH so that no checkout path reaches the binary.
import { cp, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingToolError, UserError } from '../errors.ts';
import { makeTempDir } from './cleanup.ts';
import { execa } from './exec.ts';
import { sha256Hex } from './fsx.ts';

/** This project's Go packages shared by its programs (winscm: the Windows SCM protocol), copied into every
 * throwaway GOPATH at their import path. */
export const GO_LIBRARIES: readonly { importPath: string; sourceDir: string }[] = [
  { importPath: 'stigmer-dist/winscm', sourceDir: fileURLToPath(new URL('../../winscm/', import.meta.url)) },
];

/** The flags of every build; `-ldflags` gets `-s -w -buildid=` and then the caller's extra flags. */
const BUILD_FLAGS = ['-trimpath', '-buildvcs=false'] as const;
const BASE_LDFLAGS = '-s -w -buildid=';

/** The throwaway GOPATH's folder name starts with this (tests check that it is not in a binary). */
export const GOPATH_TEMP_PREFIX = 'stigmer-dist-gopath-';

export interface GoProgramBuild {
  /** The package's source folder (in the checkout). */
  sourceDir: string;
  /** The fixed import path it is built under. With GO111MODULE=off a package outside GOPATH is named
   * `_/<absolute dir>`, which -trimpath leaves in the binary (build info, file table). */
  importPath: string;
  goos: string;
  goarch: string;
  /** Linker flags after `-s -w -buildid=` (e.g. `-X main.x=...`). */
  extraLdflags?: string;
  /** Go's build cache folder (GOCACHE). */
  goCache: string;
  /** The file written; the caller writes to a temp path and renames if readers may look at it meanwhile. */
  out: string;
  /** What is being built, for messages: "the Windows service host". */
  what: string;
}

/** Everything that decides the bytes of a build besides the sources and the Go version: for cache keys. */
export function goBuildRecipe(b: Pick<GoProgramBuild, 'importPath' | 'goos' | 'goarch' | 'extraLdflags'>): string[] {
  return ['build', ...BUILD_FLAGS, '-ldflags', ldflags(b.extraLdflags), `importPath=${b.importPath}`, `GOOS=${b.goos}`, `GOARCH=${b.goarch}`];
}

const ldflags = (extra?: string) => (extra ? `${BASE_LDFLAGS} ${extra}` : BASE_LDFLAGS);

export async function buildGoProgram(b: GoProgramBuild): Promise<void> {
  const gopath = await makeTempDir(GOPATH_TEMP_PREFIX);
  try {
    const packageDir = path.join(gopath.path, 'src', ...b.importPath.split('/'));
    for (const pkg of [{ importPath: b.importPath, sourceDir: b.sourceDir }, ...GO_LIBRARIES]) {
      try {
        await cp(pkg.sourceDir, path.join(gopath.path, 'src', ...pkg.importPath.split('/')), { recursive: true });
      } catch (err) {
        throw new UserError(`cannot copy the Go source of ${b.what} from ${pkg.sourceDir}: ${(err as Error).message}`, { cause: err });
      }
    }
    await execa('go', ['build', ...BUILD_FLAGS, '-ldflags', ldflags(b.extraLdflags), '-o', path.resolve(b.out), '.'], {
      cwd: packageDir,
      env: goEnv(b.goos, b.goarch, b.goCache, gopath.path),
      extendEnv: false,
      all: true,
    });
  } catch (err) {
    if (err instanceof UserError) throw err;
    if ((err as { code?: string }).code === 'ENOENT') throw new MissingToolError('go', 'apt-get install golang-go', `building ${b.what}`);
    const output = (err as { all?: string }).all?.trim();
    throw new UserError(`building ${b.what} failed${output ? `:\n${output}` : `: ${(err as Error).message}`}`, {
      hint: `the Go source is in ${b.sourceDir}; it must build with Go 1.19 and the standard library only`,
      cause: err,
    });
  } finally {
    await gopath.dispose();
  }
}

/** The environment `go build` runs with: only what is needed, so builds are reproducible. */
function goEnv(goos: string, goarch: string, goCache: string, gopath: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    // Drop every Go setting of the caller (GOFLAGS=-mod=mod, GOAMD64, GOEXPERIMENT, CGO_*, ...).
    if (k.startsWith('GO') || k.startsWith('CGO_')) continue;
    env[k] = v;
  }
  return {
    ...env,
    GOOS: goos,
    GOARCH: goarch,
    CGO_ENABLED: '0',
    GO111MODULE: 'off',
    GOENV: 'off',
    GOCACHE: goCache,
    GOPATH: gopath,
    GOPROXY: 'off',
    GOTOOLCHAIN: 'local',
  };
}

/**
 * The Go files a program is built from (its own package and the shared libraries), by import path and
 * digest, never by folder: for cache keys, so another checkout builds (and finds) the same bytes.
 */
export async function goSourceDigests(b: Pick<GoProgramBuild, 'sourceDir' | 'importPath' | 'what'>): Promise<{ name: string; sha256: string }[]> {
  const digests: { name: string; sha256: string }[] = [];
  for (const pkg of [{ importPath: b.importPath, sourceDir: b.sourceDir }, ...GO_LIBRARIES]) {
    let names: string[];
    try {
      names = (await readdir(pkg.sourceDir)).filter((n) => n.endsWith('.go') && !n.endsWith('_test.go')).sort();
    } catch (err) {
      throw new UserError(`cannot read the Go source of ${b.what} in ${pkg.sourceDir}: ${(err as Error).message}`, { cause: err });
    }
    if (names.length === 0) throw new UserError(`no Go source of ${b.what} in ${pkg.sourceDir}`);
    for (const name of names) digests.push({ name: `${pkg.importPath}/${name}`, sha256: sha256Hex(await readFile(path.join(pkg.sourceDir, name))) });
  }
  return digests;
}

/** `go version` of the local toolchain (part of every cache key: another Go builds other bytes). */
export async function goVersionOutput(purpose: string): Promise<string> {
  try {
    const { stdout } = await execa('go', ['version'], { env: { GOTOOLCHAIN: 'local' } });
    return stdout.trim();
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new MissingToolError('go', 'apt-get install golang-go', purpose);
    throw new UserError(`\`go version\` failed: ${(err as Error).message}`, { cause: err });
  }
}
