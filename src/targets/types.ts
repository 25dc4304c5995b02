// The small interface every target implements: plan (pure) then build (executes its part of the plan).
import type { Platform, Product } from '../product/model.ts';
import type { Versions } from '../version.ts';
import type { Reporter } from '../util/progress.ts';
import type { Signer } from '../signing/gpg.ts';
import type { BuiltFile } from '../util/fsx.ts';

export type ArtifactKind =
  | 'archive'
  | 'checksums'
  | 'homebrew-formula'
  | 'systemd-unit'
  | 'sysusers'
  | 'env-file'
  | 'launchd-plist'
  | 'deb'
  | 'rpm'
  | 'apt-repo'
  | 'yum-repo'
  | 'msi'
  | 'wix-source'
  | 'winget-manifest'
  | 'scoop-manifest'
  | 'installer-script';

export interface PlannedArtifact {
  /** Path relative to dist/<version>/, "/" separated; unique within a plan. */
  path: string;
  kind: ArtifactKind;
  target: string;
  platform?: Platform;
  component?: string;
  /** Uploaded to the GitHub release and listed in SHA256SUMS. */
  release: boolean;
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
  /** "standin" payloads are the project's own stand-ins (snapshot builds); placeholders cannot run anywhere. */
  origin: 'local' | 'standin' | 'placeholder' | 'github' | 'upstream';
}

// Defined beside the hasher that produces it (util must not import upward).
export type { BuiltFile };

export interface BuildContext extends PlanContext {
  /** Staging root that becomes dist/<version>/ once every target succeeded. */
  outDir: string;
  payload(component: string, platform: Platform): Payload;
  /** Seconds since the epoch used for every timestamp written into an artifact. */
  sourceDateEpoch: number;
  /** Digest and size of an artifact already built in this run (targets run in order). */
  built(path: string): BuiltFile;
  report: Reporter;
  /** The whole plan being built (global targets such as checksums read it). */
  plan: PlannedArtifact[];
  /** Package repositories (apt-repo, yum-repo); absent: signing follows the environment (see src/targets/repo-common.ts). */
  repo?: RepoOptions;
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
}

export interface Target {
  id: string;
  description: string;
  /** External tools needed to build; a snapshot build skips the target when one is missing. */
  tools?: ToolRequirement[];
  /**
   * "local": builds each platform's packages from payloads alone, so local targets run concurrently (both cores).
   * "global" (default): reads other artifacts (digests, packages) and runs after every local target, in order.
   */
  phase?: 'local' | 'global';
  plan(ctx: PlanContext): PlannedArtifact[];
  /** Writes exactly the artifacts it planned, below ctx.outDir. Returns their digests by path. */
  build(ctx: BuildContext, artifacts: PlannedArtifact[]): Promise<Map<string, BuiltFile>>;
  /** Text-only targets also render without a build (the `render` command): path -> content. */
  render?(ctx: RenderContext): Map<string, string>;
}
