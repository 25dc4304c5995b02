// SHA256SUMS.asc and the release key that made it, as release assets: the key armored (<name>-release-key.asc,
// for `gpg --import`) and binary (<name>-release-key.gpg, the keyring gpgv 2.2 reads). install.sh pins the
// key's fingerprint at render time and checks SHA256SUMS with gpgv before it trusts any checksum. The build's
// one signer signs (the repositories' key; a snapshot's throwaway key). Not listed in SHA256SUMS: they vouch for it.
import path from 'node:path';
import { artifactId, releaseAssets } from '../../graph/index.ts';
import { signChecksums } from '../../signing/checksums-signature.ts';
import { CHECKSUMS_SIGNATURE_FILE, releaseKeyFile } from '../release.ts';
import type { BuiltFile, PlannedArtifact, Target } from '../types.ts';

export const CHECKSUMS_SIGNATURE_TARGET = 'checksums-signature';

export const checksumsSignatureTarget: Target = {
  id: CHECKSUMS_SIGNATURE_TARGET,
  description: 'SHA256SUMS.asc (detached OpenPGP signature) and the release public key (armored and binary)',
  produces: ['signature'],
  consumes: ['checksums'],
  plan(ctx, planned) {
    const [sums] = planned.require(artifactId('signature', CHECKSUMS_SIGNATURE_FILE), 'checksums', releaseAssets);
    const common = { role: 'signature', scope: 'global', target: CHECKSUMS_SIGNATURE_TARGET, release: true } as const;
    // The signature is about SHA256SUMS; the key files are what it is checked with (made in the same step).
    return [
      { ...common, id: artifactId('signature', CHECKSUMS_SIGNATURE_FILE), path: CHECKSUMS_SIGNATURE_FILE, inputs: [sums!.id] },
      ...[true, false].map((armor): PlannedArtifact => ({ ...common, id: artifactId('signature', releaseKeyFile(ctx.product, armor)), path: releaseKeyFile(ctx.product, armor), inputs: [] })),
    ];
  },
  async build(ctx, artifacts) {
    const signature = artifacts.find((a) => a.path === CHECKSUMS_SIGNATURE_FILE);
    if (!signature) throw new Error(`internal: ${CHECKSUMS_SIGNATURE_TARGET} built without ${CHECKSUMS_SIGNATURE_FILE}`);
    const [sums] = ctx.inputsOf(signature);
    ctx.built(sums!.path); // built before this one (its input)
    const signer = await ctx.repo?.signer();
    if (!signer) throw new Error(`internal: ${CHECKSUMS_SIGNATURE_TARGET} planned for an unsigned build (the CLI drops it with --unsigned)`);
    const armored = releaseKeyFile(ctx.product, true);
    const binary = releaseKeyFile(ctx.product, false);
    // Writes <sums>.asc beside it: SHA256SUMS.asc.
    const signed = await signChecksums(signer, path.join(ctx.outDir, sums!.path), path.join(ctx.outDir, armored));
    const out = new Map<string, BuiltFile>([
      [signature.path, { size: signed.signature.size, sha256: signed.signature.sha256 }],
      [armored, { size: signed.publicKey.size, sha256: signed.publicKey.sha256 }],
      [binary, await signer.exportPublicKey(path.join(ctx.outDir, binary), false)],
    ]);
    return new Map(artifacts.map((a) => [a.path, out.get(a.path)!]));
  },
};
