// The build manifest, dist/<version>/plan.json: the one typed, versioned record of what a build produced.
// Build reuse, verify, reproduce and publish read it only through readManifest, which checks it against
// the published JSON Schema (schemas/build-manifest.schema.json) before anyone trusts a field.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, UserError } from '../errors.ts';
import type { Plan } from '../plan/plan.ts';
import type { Platform } from '../product/model.ts';
import type { ArchivedBinary, BuiltFile, PlannedArtifact } from '../targets/types.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { SCHEMA_VERSION } from './schema-version.ts';

export const MANIFEST_FILE = 'plan.json';
export const MANIFEST_SCHEMA_VERSION = SCHEMA_VERSION;
export const MANIFEST_SCHEMA_PATH = fileURLToPath(new URL('../../schemas/build-manifest.schema.json', import.meta.url));

export type ManifestArtifact = PlannedArtifact & BuiltFile;

export interface SkippedTarget {
  target: string;
  reason: string;
  install: string;
}

export interface BuildManifest extends Omit<Plan, 'artifacts'> {
  artifacts: ManifestArtifact[];
  /** Seconds since the epoch stamped into every artifact: `verify --reproduce` rebuilds with it. */
  sourceDateEpoch: number;
  /** Digest of everything the output depends on (src/build/inputs.ts): equal digests, reusable build. */
  inputs: string;
  skipped: SkippedTarget[];
  /** Set by `build --local-only`: this folder holds one platform's local artifacts, for `build --join`. */
  partial?: PartialBuild;
}

export interface PartialBuild {
  platform: Platform;
  /** Set when it is one part of the platform (--local-targets): the targets whose local artifacts it holds. */
  targets?: string[];
  /** The payloads it packaged (the join's inputs digest covers every platform's). */
  payloads: { component: string; platform: Platform; sha256: string }[];
  /** The binary each of its archives holds, by archive id, when the plan has an SBOM: the join lists them from here. */
  binaries?: ({ artifact: string } & ArchivedBinary)[];
}

export function manifestPath(distDir: string): string {
  return path.join(distDir, MANIFEST_FILE);
}

/** The manifest's bytes: key order as given, two-space indent, final newline (it is compared byte for byte). */
export function serialiseManifest(manifest: BuildManifest): string {
  return JSON.stringify(manifest, null, 2) + '\n';
}

export async function writeManifest(distDir: string, manifest: BuildManifest): Promise<BuiltFile> {
  await loadValidator();
  validated(manifest, manifestPath(distDir));
  return writeFileAtomic(manifestPath(distDir), serialiseManifest(manifest));
}

type Validate = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
let validator: Validate | undefined;

// ajv loads only here: plan and build never read a manifest, and their start-up time is budgeted.
async function loadValidator(): Promise<Validate> {
  if (validator) return validator;
  const { Ajv } = await import('ajv');
  const schema = JSON.parse(readFileSync(MANIFEST_SCHEMA_PATH, 'utf8')) as object;
  return (validator = new Ajv({ allErrors: true, strict: true }).compile(schema) as Validate);
}

function validated(data: unknown, file: string): BuildManifest {
  if (!validator) throw new Error('internal: manifest validator used before loadValidator()');
  if (typeof data === 'object' && data !== null && 'schemaVersion' in data && data.schemaVersion !== MANIFEST_SCHEMA_VERSION) {
    throw new UserError(`${file} has manifest schema version ${String(data.schemaVersion)}; this stigmer-dist reads version ${MANIFEST_SCHEMA_VERSION}`, {
      hint: 'rebuild this version with this stigmer-dist (or use the stigmer-dist that built it)',
      exitCode: EXIT.config,
    });
  }
  if (!validator(data)) {
    const problems = (validator.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}`.trim());
    throw new UserError(`${file} is not a valid stigmer-dist build manifest: ${problems.join('; ')}`, {
      hint: `rebuild this version (the format is ${path.relative(process.cwd(), MANIFEST_SCHEMA_PATH)})`,
      exitCode: EXIT.config,
    });
  }
  return data as BuildManifest;
}

export interface ReadManifestOptions {
  /** What to say when there is no build: the command that makes one. */
  hint?: string;
}

/** Reads and validates dist/<version>/plan.json; a missing, unparsable or invalid file is a UserError (exit 3). */
export async function readManifest(distDir: string, opts: ReadManifestOptions = {}): Promise<BuildManifest> {
  const file = manifestPath(distDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserError(`no build at ${distDir} (${file} is missing)`, {
      hint: opts.hint ?? 'run `stigmer-dist build` for this version first, or pass --out / --version to point at the build',
      exitCode: EXIT.config,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file} is not valid JSON: ${(err as Error).message}`, { hint: 'rebuild this version', exitCode: EXIT.config });
  }
  await loadValidator();
  return validated(data, file);
}

/** The manifest when there is one (verify also checks folders that were not built by stigmer-dist). */
export async function readManifestIfPresent(distDir: string): Promise<BuildManifest | undefined> {
  return existsSync(manifestPath(distDir)) ? readManifest(distDir) : undefined;
}
