// The Windows service host (winsvc/, Go standard library only), built reproducibly for windows-amd64 with the
// local Go toolchain by the shared Go build (src/util/go-build.ts: fixed import path, no checkout path inside).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.ts';
import { cacheDir } from '../../util/cache-dir.ts';
import { buildGoProgram } from '../../util/go-build.ts';

export const SERVICE_HOST_SOURCE_DIR = fileURLToPath(new URL('../../../winsvc/', import.meta.url));

/** The host's Go import path inside the throwaway GOPATH (see buildGoProgram). */
const SERVICE_HOST_IMPORT_PATH = 'stigmer-dist/winsvc';

/** `sourceDir` is for tests only (the same source from another checkout path). */
export async function buildServiceHost(out: string, sourceDir = SERVICE_HOST_SOURCE_DIR): Promise<void> {
  if (!existsSync(sourceDir)) throw new UserError(`the service host source is missing: ${sourceDir}`);
  await buildGoProgram({
    sourceDir,
    importPath: SERVICE_HOST_IMPORT_PATH,
    goos: 'windows',
    goarch: 'amd64',
    goCache: path.join(cacheDir(), 'go-build'), // Go's build cache lives with stigmer-dist's other caches
    out,
    what: 'the Windows service host',
  });
}
