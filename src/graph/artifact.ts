// The artifact model of the plan graph: every planned artifact has a stable id, a typed role, its platform
// (when it belongs to one), whether it is local to that platform or global, and the ids of its inputs.
import type { Platform } from '../product/model.ts';

export const ARTIFACT_ROLES = [
  // One component's binary for one platform, resolved and checked (format, architecture, smoke run).
  'payload',
  'cli-archive',
  'service-archive',
  'deb',
  'rpm',
  'msi',
  'wix-source',
  'checksums',
  'formula',
  'unit',
  'sysusers',
  'env-file',
  'plist',
  'manifest',
  'repo-metadata',
  'installer',
  // Artifacts about other artifacts: planned over the graph like any other, from their subjects' ids.
  'signature',
  'sbom',
  'attestation',
] as const;
export type ArtifactRole = (typeof ARTIFACT_ROLES)[number];

/**
 * "local": built from one platform's payloads alone, on that platform's runner (archives, packages, the MSI).
 * "global": reads artifacts of several platforms (checksums, formulae, manifests, repositories, installers).
 */
export type ArtifactScope = 'local' | 'global';

export interface Artifact {
  /** Stable across runs and machines: the same definition, version and platforms give the same ids. */
  id: string;
  role: ArtifactRole;
  /** The target that plans and builds it. */
  target: string;
  scope: ArtifactScope;
  platform?: Platform;
  component?: string;
  /** Path relative to dist/<version>/ ("/"-separated) of the file it writes, if it is one file. */
  path?: string;
  /** Uploaded to the release and listed in SHA256SUMS. */
  release: boolean;
  /** Ids of the artifacts it reads: built before it, and named in every error about it. */
  inputs: string[];
}

/** What a target returns from plan: everything but its own target id, which the planner fills in. */
export type PlannedArtifact = Omit<Artifact, 'target' | 'inputs' | 'release'> & { inputs?: string[]; release?: boolean };

/** A stable id from an artifact's role and what tells it apart: "deb:linux-amd64", "cli-archive:stigmer:darwin-arm64". */
export function artifactId(role: ArtifactRole, ...parts: (string | undefined)[]): string {
  return [role, ...parts.filter((p): p is string => p !== undefined && p !== '')].join(':');
}
