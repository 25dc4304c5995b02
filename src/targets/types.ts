// The small interface every target implements: plan (pure) then build (executes its part of the plan).
import type { Platform, Product } from '../product/model.ts';
import type { Versions } from '../version.ts';
import type { Reporter } from '../util/progress.ts';
import type { Signer } from '../signing/gpg.ts';
import type { BuiltFile } from '../util/fsx.ts';
import type { XzContentCache } from '../util/xz-content.ts';
import type { BinaryInfo } from '../util/binary-format.ts';
import type { BinaryContents } from '../sbom/cyclonedx.ts';
import type { Artifact, ArtifactRole, Planned } from '../graph/index.ts';

/** A node of the artifact graph (src/graph) that is one file: its path relative to dist/<version>/, "/" separated. */
export interface PlannedArtifact extends Artifact {
  path: string;
}

export interface ToolRequirement {
  command: string;
  /** How to install it, shown when it is missing. */
  install: string;
}

export interface PlanContext {
  product: Product;
  versions: Versions;
  platforms: Platform[];
  snapshot: boolean;
}

/** Where one component's binary for one platform is on disk. */
export interface Payload {
  component: string;
  platform: Platform;
  path: string;
  sha256: string;
  size: number;
  /** "standin" payloads are the project's own stand-ins (snapshot builds). */
  origin: 'local' | 'standin' | 'github' | 'upstream';
  /** What the file is, read when it was checked (src/payloads/check.ts): format, CPU, ELF linkage. */
  binary: BinaryInfo;
}

/** A payload as a source found it, before the check every payload passes (src/payloads/check.ts). */
export type UncheckedPayload = Omit<Payload, 'binary'>;

// Defined beside the hasher that produces it (util must not import upward).
export type { BuiltFile };

/** The binary a release archive holds, described when the archive is written (the SBOM lists it). */
export interface ArchivedBinary {
  /** Its file name in the archive (bin/<file>). */
  file: string;
  sha256: string;
  contents: BinaryContents;
}

/** What a build step reports for a file it wrote; an archive also describes its binary when the plan has an SBOM. */
export interface BuiltArtifact extends BuiltFile {
  binary?: ArchivedBinary;
}

export interface BuildContext extends PlanContext {
  /** Staging root that becomes dist/<version>/ once every target succeeded. */
  outDir: string;
  payload(component: string, platform: Platform): Payload;
  /** Seconds since the epoch used for every timestamp written into an artifact. */
  sourceDateEpoch: number;
  /** Digest and size of an artifact already built in this run: only an input of the artifacts being built. */
  built(path: string): BuiltArtifact;
  /** The artifacts an artifact reads (its `inputs`), in plan order. */
  inputsOf(artifact: PlannedArtifact): PlannedArtifact[];
  report: Reporter;
  /**
   * The build signs SHA256SUMS (it plans a signature artifact over the checksums): install.sh then pins the
   * signer's key. A build that signs repositories but not SHA256SUMS must not make install.sh expect a signature.
   */
  signsChecksums?: boolean;
  /**
   * The plan has an SBOM: each archive describes the binary it holds as it is written (BuiltArtifact.binary), where
   * the file is at hand; a --local-only build records that in its manifest, so a join never reads the archives back.
   */
  describesBinaries?: boolean;
  /** Package repositories (apt-repo, yum-repo); absent: signing follows the environment (see src/targets/repo-common.ts). */
  repo?: RepoOptions;
  /** Authenticode for the Windows files (set by the build when it signs them); absent: they ship as given. */
  windowsSigning?: WindowsSigning;
  /** Large contents compressed once per build for the .deb and .rpm payloads; absent: each package has its own. */
  xzContent?: XzContentCache;
}

export interface WindowsSigning {
  /** A Windows payload as shipped: its signed copy in the staging directory, made once per build. */
  payload(ctx: BuildContext, component: string, platform: Platform): Promise<{ path: string; size: number }>;
  /** Signs a file the build made itself (the service host, the MSI after its last edit), in place. */
  signBuilt(file: string): Promise<void>;
}

export interface RepoOptions {
  /** Signs repository metadata and RPMs; resolves to undefined for an --unsigned build. Opened on first use. */
  signer(): Promise<Signer | undefined>;
  /** An already-published repository tree (apt/, yum/) whose packages stay installable next to this build's. */
  base?: string;
  /** Public URL the repository tree is served at, for the client .list/.repo files (overrides release.repository.url). */
  url?: string;
}

/** Looks up the sha256 of a release asset by file name (from this build, or from a SHA256SUMS file). */
export type DigestOf = (asset: string) => string;

export interface RenderContext extends PlanContext {
  digestOf: DigestOf;
  /** Primary fingerprint of the key that signs SHA256SUMS, pinned by install.sh; absent: an unsigned release. */
  releaseKeyFingerprint?: string;
}

export interface Target {
  id: string;
  description: string;
  /** External tools needed to build; a snapshot build skips the target when one is missing. */
  tools?: ToolRequirement[];
  /** Roles of the artifacts it plans. */
  produces: readonly ArtifactRole[];
  /** Roles it reads: it plans after their producers and finds them through `planned` (never by importing a sibling). */
  consumes?: readonly ArtifactRole[];
  plan(ctx: PlanContext, planned: Planned): PlannedArtifact[];
  /**
   * Writes the artifacts given (all of its artifacts of one platform for a local target, all of them for a global
   * one) below ctx.outDir, after their inputs were built. Returns their digests by path.
   */
  build(ctx: BuildContext, artifacts: PlannedArtifact[]): Promise<Map<string, BuiltArtifact>>;
  /** Text-only targets also render without a build (the `render` command): path -> content. */
  render?(ctx: RenderContext): Map<string, string>;
  /**
   * The payload components whose contents its artifacts on `platform` compress through the build's xz content
   * cache (BuildContext.xzContent): what the `compress --shard` jobs of a split release prepare for it.
   */
  xzContents?(product: Product, platform: Platform): string[];
}
