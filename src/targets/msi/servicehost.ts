// The Windows service host (winsvc/, Go standard library only), built reproducibly for windows-amd64 with the
// local Go toolchain: -trimpath, no build id, no VCS stamp, the caller's Go settings dropped, and the source
// copied to a fixed import path inside a throwaway GOPATH so that no checkout path reaches the binary.
import { execa } from '../../util/exec.ts';
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingToolError, UserError } from '../../errors.ts';
import { makeTempDir } from '../../util/cleanup.ts';

export const SERVICE_HOST_SOURCE_DIR = fileURLToPath(new URL('../../../winsvc/', import.meta.url));

/** The host's Go import path. With GO111MODULE=off a package outside GOPATH is named `_/<absolute dir>`, which
 * -trimpath leaves in the binary (build info, file table): the MSI's bytes then depended on the checkout path. */
const SERVICE_HOST_IMPORT_PATH = 'stigmer-dist/winsvc';

/** Go's build cache lives with stigmer-dist's other caches (STIGMER_DIST_CACHE, else XDG_CACHE_HOME). */
function goCacheRoot(): string {
  if (process.env.STIGMER_DIST_CACHE) return path.resolve(process.env.STIGMER_DIST_CACHE);
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'stigmer-dist');
}

/** `sourceDir` is for tests only (the same source from another checkout path). */
export async function buildServiceHost(out: string, sourceDir = SERVICE_HOST_SOURCE_DIR): Promise<void> {
  if (!existsSync(sourceDir)) throw new UserError(`the service host source is missing: ${sourceDir}`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GO') && !k.startsWith('CGO_')) env[k] = v;
  const cache = goCacheRoot();
  Object.assign(env, {
    GOOS: 'windows',
    GOARCH: 'amd64',
    CGO_ENABLED: '0',
    GO111MODULE: 'off',
    GOENV: 'off',
    GOPROXY: 'off',
    GOTOOLCHAIN: 'local',
    GOCACHE: path.join(cache, 'go-build'),
  });
  const gopath = await makeTempDir('stigmer-dist-winsvc-');
  try {
    const packageDir = path.join(gopath.path, 'src', ...SERVICE_HOST_IMPORT_PATH.split('/'));
    await cp(sourceDir, packageDir, { recursive: true });
    env.GOPATH = gopath.path;
    await execa('go', ['build', '-trimpath', '-buildvcs=false', '-ldflags', '-s -w -buildid=', '-o', path.resolve(out), '.'], { cwd: packageDir, env, extendEnv: false, all: true });
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new MissingToolError('go', 'apt-get install golang-go', 'building the Windows service host (winsvc/)');
    const output = (err as { all?: string }).all?.trim();
    throw new UserError(`building the Windows service host failed${output ? `:\n${output}` : `: ${(err as Error).message}`}`, {
      hint: `the Go source is in ${sourceDir}; it must build with Go 1.19 and the standard library only`,
      cause: err,
    });
  } finally {
    await gopath.dispose();
  }
}
