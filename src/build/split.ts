// The split build (cargo-dist's model): `build --platform P --local-only` builds one platform's local artifacts
// (archives, packages, the MSI) with a partial manifest; `build --join DIR...` copies every platform's local
// files in, checks them against their manifests, and builds the global artifacts over them. Same tool, same
// definition, same payloads and SOURCE_DATE_EPOCH: the joined dist equals a single-machine build byte for byte.
// `--local-only --local-targets deb` builds one part of a platform (some targets' local artifacts): a platform
// may be joined from several parts, each local artifact in exactly one of them.
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { readManifest, type BuildManifest, type PartialBuild } from '../manifest/manifest.ts';
import type { Plan } from '../plan/plan.ts';
import { availableParallelism } from 'node:os';
import type { BuiltArtifact, Payload, PlannedArtifact } from '../targets/types.ts';
import { mapLimit } from '../util/concurrency.ts';
import { hashFile } from '../util/fsx.ts';

export interface JoinInput {
  /** Each partial build's folder (<out>/<version>/ of a --local-only run) with its manifest. */
  parts: { dir: string; manifest: BuildManifest & { partial: PartialBuild } }[];
  sourceDateEpoch: number;
  /** Every platform's payloads, for the inputs digest. */
  payloads: PartialBuild['payloads'];
}

export const payloadRecords = (payloads: readonly Payload[]): PartialBuild['payloads'] =>
  payloads.map((p) => ({ component: p.component, platform: p.platform, sha256: p.sha256 }));

/** Reads the partial builds to join; refuses a folder that is not one, or two that disagree on version or epoch. */
export async function readPartials(dirs: string[]): Promise<JoinInput> {
  if (!dirs.length) throw new UserError('--join needs at least one folder of a `build --local-only` run', { exitCode: EXIT.usage });
  const parts: JoinInput['parts'] = [];
  for (const dir of dirs) {
    const manifest = await readManifest(dir, { hint: 'pass the <out>/<version>/ folders that `build --platform P --local-only` wrote' });
    if (!manifest.partial) throw new UserError(`${dir} is a complete build, not a --local-only one`, { hint: 'join only the folders of `build --platform P --local-only` runs', exitCode: EXIT.usage });
    // Several parts of one platform (--local-targets) join as long as no artifact is in two of them.
    for (const same of parts.filter((p) => p.manifest.partial.platform === manifest.partial!.platform)) {
      const ids = new Set(manifest.artifacts.map((a) => a.id));
      const both = same.manifest.artifacts.filter((a) => ids.has(a.id)).map((a) => a.id);
      if (both.length) {
        throw new UserError(`${same.dir} and ${dir} both hold ${both.join(', ')}`, {
          hint: `join one folder per platform, or parts of ${manifest.partial.platform} built with --local-targets that share no target`,
          exitCode: EXIT.usage,
        });
      }
    }
    const first = parts[0];
    if (first && (first.manifest.version !== manifest.version || first.manifest.sourceDateEpoch !== manifest.sourceDateEpoch)) {
      throw new UserError(`${first.dir} (version ${first.manifest.version}, epoch ${first.manifest.sourceDateEpoch}) and ${dir} (version ${manifest.version}, epoch ${manifest.sourceDateEpoch}) are not parts of one build`, {
        hint: 'build every platform with the same --version and SOURCE_DATE_EPOCH',
        exitCode: EXIT.usage,
      });
    }
    parts.push({ dir, manifest: manifest as JoinInput['parts'][number]['manifest'] });
  }
  return { parts, sourceDateEpoch: parts[0]!.manifest.sourceDateEpoch, payloads: joinedPayloads(parts) };
}

/** Every platform's payloads once (the parts of one platform each record them): parts that packaged different binaries are refused. */
function joinedPayloads(parts: JoinInput['parts']): PartialBuild['payloads'] {
  const byKey = new Map<string, { record: PartialBuild['payloads'][number]; dir: string }>();
  for (const { dir, manifest } of parts) {
    for (const record of manifest.partial.payloads) {
      const key = `${record.component}/${record.platform}`;
      const seen = byKey.get(key);
      if (seen && seen.record.sha256 !== record.sha256) {
        throw new UserError(`${seen.dir} and ${dir} packaged different ${record.component} binaries for ${record.platform} (sha256 ${seen.record.sha256.slice(0, 12)}… and ${record.sha256.slice(0, 12)}…)`, {
          hint: 'build every part of a platform from the same payloads',
          exitCode: EXIT.usage,
        });
      }
      if (!seen) byKey.set(key, { record, dir });
    }
  }
  return [...byKey.values()].map((v) => v.record);
}

/** One part of a platform (--local-targets) builds what it needs: no artifact of it reads a local one left to another part. */
export function checkPart(selected: readonly PlannedArtifact[], artifacts: readonly PlannedArtifact[], targets: readonly string[]): void {
  const byId = new Map(artifacts.map((a) => [a.id, a]));
  const chosen = new Set(selected.map((a) => a.id));
  const outside = selected.flatMap((a) => a.inputs.filter((i) => byId.get(i)?.scope === 'local' && !chosen.has(i)).map((i) => `${a.id} reads ${i}`));
  if (outside.length) {
    throw new UserError(`--local-targets ${targets.join(',')}: ${outside.join('; ')}, which this part does not build`, {
      hint: `add the target of ${[...new Set(outside.map((o) => o.split(' reads ')[1]!))].map((i) => byId.get(i)!.target).join(', ')} to --local-targets`,
      exitCode: EXIT.usage,
    });
  }
}

/** The partial builds match this plan, and together hold every local artifact it builds. */
export function checkJoin(join: JoinInput, plan: Plan, artifacts: readonly PlannedArtifact[]): void {
  for (const { dir, manifest } of join.parts) {
    if (manifest.version !== plan.version) throw new UserError(`${dir} holds version ${manifest.version}, this join builds ${plan.version}`, { hint: 'pass the same --version to every step', exitCode: EXIT.usage });
    if (JSON.stringify(manifest.platforms) !== JSON.stringify(plan.platforms) || JSON.stringify(manifest.targets) !== JSON.stringify(plan.targets)) {
      throw new UserError(`${dir} was planned for platforms ${manifest.platforms.join(',')} and targets ${manifest.targets.join(',')}; this join plans ${plan.platforms.join(',')} and ${plan.targets.join(',')}`, {
        hint: 'plan every step with the same definition, --target and --version (--platform selects what a --local-only run builds)',
        exitCode: EXIT.usage,
      });
    }
  }
  const held = new Set(join.parts.flatMap((p) => p.manifest.artifacts.map((a) => a.id)));
  const missing = artifacts.filter((a) => a.scope === 'local' && !held.has(a.id));
  if (missing.length) {
    throw new UserError(`no folder given to --join holds ${missing.map((a) => a.id).join(', ')}`, {
      hint: `build ${[...new Set(missing.map((a) => a.platform))].join(', ')} with --local-only (a part: --local-targets ${[...new Set(missing.map((a) => a.target))].join(',')}) and join that folder too`,
      exitCode: EXIT.usage,
    });
  }
}

/** What a --local-only build records of its archives' binaries (BuiltArtifact.binary), when it described them. */
export function binaryRecords(selected: readonly PlannedArtifact[], built: ReadonlyMap<string, BuiltArtifact>): Pick<PartialBuild, 'binaries'> {
  const binaries = selected.flatMap((a) => {
    const binary = built.get(a.path)?.binary;
    return binary ? [{ artifact: a.id, ...binary }] : [];
  });
  return binaries.length ? { binaries } : {};
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The local files of a join on their way into staging: the build waits only for the ones a unit reads. */
export interface JoinStaging {
  /** Resolves once every one of these artifacts (the local ones; others are ignored) is in staging and verified. */
  ready(ids: readonly string[]): Promise<void>;
  /** Every local file in place; rejects with the first failure. */
  all: Promise<void>;
  /** Stops copying after a failure elsewhere (await `all` before removing staging). */
  abort(): void;
}

/**
 * Copies every local artifact into staging and hashes the copy: a file that changed since its partial build is
 * refused. Copies, not links: the joined dist must not change when a part's file is later written in place (it is
 * verified here, and SHA256SUMS is made from these digests). The kernel copies one file while this process hashes
 * another, and the global artifacts start as soon as their inputs are in: the largest files first (the packages
 * and the MSI feed the longest chains: the RPMs' signing, then the YUM repository; the APT repository; winget).
 * `onStaged` receives each verified file; an archive keeps the description of its binary its part recorded (for the SBOM).
 */
export function stageJoined(join: JoinInput, artifacts: readonly PlannedArtifact[], staging: string, onStaged: (path: string, file: BuiltArtifact) => void): JoinStaging {
  const wanted = new Set(artifacts.filter((a) => a.scope === 'local').map((a) => a.id));
  const files = join.parts
    .flatMap(({ dir, manifest }) => {
      const binaries = new Map((manifest.partial.binaries ?? []).map(({ artifact, ...binary }) => [artifact, binary]));
      return manifest.artifacts.filter((a) => wanted.has(a.id)).map((a) => ({ dir, a, binary: binaries.get(a.id), done: deferred() }));
    })
    .sort((x, y) => y.a.size - x.a.size);
  const byId = new Map(files.map((f) => [f.a.id, f.done.promise]));
  for (const f of files) f.done.promise.catch(() => {}); // a failure is reported once, through `all` or the unit waiting
  let aborted = false;
  const all = mapLimit(files, availableParallelism(), async ({ dir, a, binary, done }) => {
    if (aborted) throw new Error('internal: join staging stopped');
    const dest = path.join(staging, a.path);
    await mkdir(path.dirname(dest), { recursive: true });
    await copyFile(path.join(dir, a.path), dest);
    const got = await hashFile(dest);
    if (got.sha256 !== a.sha256 || got.size !== a.size) {
      throw new UserError(`${path.join(dir, a.path)} (${a.id}) changed since its --local-only build`, { hint: 'rebuild that platform with --local-only', exitCode: EXIT.config });
    }
    onStaged(a.path, binary ? { ...got, binary } : got);
    done.resolve();
  }).then(
    () => undefined,
    (err: unknown) => {
      for (const f of files) f.done.reject(err); // no unit waits forever for a file that will not come
      throw err;
    },
  );
  // Handled here too: it may fail while the build still waits for running units, before anyone awaits it (an
  // unhandled rejection would end the process); the build awaits it afterwards and reports the failure.
  all.catch(() => {});
  return {
    ready: async (ids) => {
      await Promise.all(ids.flatMap((id) => byId.get(id) ?? []));
    },
    all,
    abort: () => {
      aborted = true;
    },
  };
}
