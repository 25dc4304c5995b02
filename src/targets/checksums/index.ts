// SHA256SUMS over every release artifact, in the format `sha256sum -c` reads. Built after the artifacts it lists.
import path from 'node:path';
import { writeFileAtomic } from '../../util/fsx.ts';
import { artifactId, releaseAssets, type ArtifactRole } from '../../graph/index.ts';
import type { Target } from '../types.ts';

import { CHECKSUMS_FILE } from '../release.ts';

export { CHECKSUMS_FILE };

export function formatChecksums(entries: { name: string; sha256: string }[]): string {
  return [...entries]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.name}\n`)
    .join('');
}

export function parseChecksums(text: string, source: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new Error(`${source}:${i + 1}: not a sha256sum line: ${JSON.stringify(line)}`);
    out.set(m[2]!, m[1]!);
  });
  return out;
}

// Every role that has release assets: checksums plans after them and lists the top-level ones. Not the
// signatures of SHA256SUMS (they vouch for it, so they are made after it).
const LISTED_ROLES = ['cli-archive', 'service-archive', 'deb', 'rpm', 'msi', 'installer', 'sbom', 'attestation'] as const satisfies readonly ArtifactRole[];

export const checksumsTarget: Target = {
  id: 'checksums',
  description: 'SHA256SUMS of every release artifact',
  produces: ['checksums'],
  consumes: LISTED_ROLES,
  plan(_ctx, planned) {
    const listed = planned.query(LISTED_ROLES, releaseAssets).filter((a) => !a.path?.includes('/'));
    return [{ id: artifactId('checksums'), role: 'checksums', scope: 'global', inputs: listed.map((a) => a.id), path: CHECKSUMS_FILE, target: 'checksums', release: true }];
  },
  async build(ctx, artifacts) {
    const listed = ctx.inputsOf(artifacts[0]!);
    const text = formatChecksums(listed.map((a) => ({ name: a.path, sha256: ctx.built(a.path).sha256 })));
    return new Map([[artifacts[0]!.path, await writeFileAtomic(path.join(ctx.outDir, artifacts[0]!.path), text)]]);
  },
};
