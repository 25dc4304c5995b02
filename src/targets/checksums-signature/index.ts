// SHA256SUMS.asc and the release key that made it, as release assets: the key armored (<name>-release-key.asc,
// for `gpg --import`) and binary (<name>-release-key.gpg, the keyring gpgv 2.2 reads). install.sh pins the
// key's fingerprint at render time and checks SHA256SUMS with gpgv before it trusts any checksum. The build's
// one signer signs (the repositories' key; a snapshot's throwaway key). Not listed in SHA256SUMS: they vouch for it.
import path from 'node:path';
import type { Product } from '../../product/model.ts';
import { signChecksums } from '../../signing/checksums-signature.ts';
import { CHECKSUMS_FILE } from '../checksums/index.ts';
import type { BuiltFile, Target } from '../types.ts';

export const CHECKSUMS_SIGNATURE_FILE = `${CHECKSUMS_FILE}.asc`;
/** The release workflow's keyless cosign bundle over SHA256SUMS (.github/workflows/release.yml), a release asset. */
export const SIGSTORE_BUNDLE_FILE = `${CHECKSUMS_FILE}.sigstore.json`;
/** The exported public release key: armored (.asc) or binary (.gpg). */
export const releaseKeyFile = (product: Product, armor: boolean) => `${product.meta.name}-release-key.${armor ? 'asc' : 'gpg'}`;

export const checksumsSignatureTarget: Target = {
  id: 'checksums-signature',
  description: 'SHA256SUMS.asc (detached OpenPGP signature) and the release public key (armored and binary)',
  plan(ctx) {
    return [CHECKSUMS_SIGNATURE_FILE, releaseKeyFile(ctx.product, true), releaseKeyFile(ctx.product, false)].map((p) => ({
      path: p,
      kind: 'checksums-signature' as const,
      target: 'checksums-signature',
      release: true,
    }));
  },
  async build(ctx, artifacts) {
    ctx.built(CHECKSUMS_FILE); // built first (registry order)
    const signer = await ctx.repo?.signer();
    if (!signer) throw new Error('internal: checksums-signature planned for an unsigned build (the CLI drops it with --unsigned)');
    const signed = await signChecksums(signer, path.join(ctx.outDir, CHECKSUMS_FILE), path.join(ctx.outDir, releaseKeyFile(ctx.product, true)));
    const binary = await signer.exportPublicKey(path.join(ctx.outDir, releaseKeyFile(ctx.product, false)), false);
    const out = new Map<string, BuiltFile>([
      [CHECKSUMS_SIGNATURE_FILE, { size: signed.signature.size, sha256: signed.signature.sha256 }],
      [releaseKeyFile(ctx.product, true), { size: signed.publicKey.size, sha256: signed.publicKey.sha256 }],
      [releaseKeyFile(ctx.product, false), binary],
    ]);
    return new Map(artifacts.map((a) => [a.path, out.get(a.path)!]));
  },
};
