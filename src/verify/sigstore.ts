// Offline verification of a Sigstore bundle (SHA256SUMS.sigstore.json) over the checksums file with
// @sigstore/verify: against a public key (a bundle signed with a key: cosign sign-blob --key, or a test key), or
// against a trusted root (keyless: Fulcio certificate chain, Rekor entry, CT log) plus the identity that must
// have signed (certificate SAN and OIDC issuer). Nothing is fetched: the trusted root is a file the user gives
// (e.g. `cosign trusted-root create`, or sigstore's trusted_root.json from their TUF repository).
import { createHash, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export type SigstoreTrust =
  /** PEM public key (SubjectPublicKeyInfo) the bundle must be signed with. */
  | { kind: 'public-key'; keyFile: string }
  /** Sigstore trusted_root.json and the signer identity the certificate must name. */
  | { kind: 'trusted-root'; rootFile: string; identity: string | RegExp; issuer: string };

export interface SigstoreVerdict {
  ok: boolean;
  detail: string;
}

/** Verifies `bundleFile` as a signature over exactly the bytes of `artifactFile`. Never throws for a bad bundle: returns the reason. */
export async function verifySigstoreBundle(opts: { bundleFile: string; artifactFile: string; trust: SigstoreTrust }): Promise<SigstoreVerdict> {
  // Loaded on use: `plan` and `render` never verify.
  const [{ bundleFromJSON }, { Verifier, toSignedEntity, toTrustMaterial }, { TrustedRoot }] = await Promise.all([
    import('@sigstore/bundle'),
    import('@sigstore/verify'),
    import('@sigstore/protobuf-specs'),
  ]);
  const artifact = await readFile(opts.artifactFile);
  const name = path.basename(opts.bundleFile);
  let bundle: ReturnType<typeof bundleFromJSON>;
  try {
    bundle = bundleFromJSON(JSON.parse(await readFile(opts.bundleFile, 'utf8')));
  } catch (err) {
    return { ok: false, detail: `${name} is not a Sigstore bundle: ${(err as Error).message}` };
  }
  if (bundle.content.$case !== 'messageSignature') return { ok: false, detail: `${name} holds a DSSE envelope, not a signature over ${path.basename(opts.artifactFile)}` };
  // The signature is checked over the artifact; the digest the bundle (and its Rekor entry) records must be its digest too.
  const digest = createHash('sha256').update(artifact).digest();
  if (!Buffer.from(bundle.content.messageSignature.messageDigest.digest).equals(digest)) {
    return { ok: false, detail: `${name} records a different digest than ${path.basename(opts.artifactFile)} has` };
  }
  try {
    if (opts.trust.kind === 'public-key') {
      const key = createPublicKey(await readFile(opts.trust.keyFile, 'utf8'));
      const root = TrustedRoot.fromJSON({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
      // The one key given is the key, whatever hint the bundle carries; a key-signed blob has no log entry or timestamp to require.
      const trust = toTrustMaterial(root, () => ({ publicKey: key, validFor: () => true }));
      if (bundle.verificationMaterial.content.$case !== 'publicKey') return { ok: false, detail: `${name} is signed with a certificate, not a key: verify it against a trusted root` };
      new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundle, artifact));
      return { ok: true, detail: `signature by ${path.basename(opts.trust.keyFile)} verified` };
    }
    const root = TrustedRoot.fromJSON(JSON.parse(await readFile(opts.trust.rootFile, 'utf8')));
    // Keyless: a Fulcio certificate, its SCT, a Rekor entry (which also timestamps it): one of each at least.
    const signer = new Verifier(toTrustMaterial(root)).verify(toSignedEntity(bundle, artifact), {
      subjectAlternativeName: opts.trust.identity,
      extensions: { issuer: opts.trust.issuer },
    });
    return { ok: true, detail: `signed by ${signer.identity?.subjectAlternativeName ?? 'the expected identity'}` };
  } catch (err) {
    const e = err as { code?: string; message: string };
    return { ok: false, detail: e.code ? `${e.code}: ${e.message}` : e.message };
  }
}
