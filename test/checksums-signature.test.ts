// SHA256SUMS.asc with the real gpg/gpgv: a throwaway release key signs, gpgv verifies with the exported key only,
// a changed byte fails, and a key other than the pinned one is refused.
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { signChecksums, verifyChecksumsSignature } from '../src/signing/checksums-signature.ts';
import { GpgSigner } from '../src/signing/gpg.ts';
import { tempDir } from './helpers.ts';
import { makeKey } from './repo-helpers.ts';

const SUMS = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  stigmer_1.2.3_amd64.deb\n' + '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae  stigmer_1.2.3_linux_amd64.tar.gz\n';

/** The snapshot key (what a snapshot build signs with), or a key of its own made for the test. */
async function openSigner(name: string) {
  if (name === 'Release') return GpgSigner.open({ mode: 'throwaway' }, { sourceDateEpoch: 1700000000 });
  const key = await makeKey(tempDir(), name.toLowerCase());
  return GpgSigner.open({ mode: 'key', key: { kind: 'file', path: key.secretFile, label: name } }, { sourceDateEpoch: 1700000000 });
}

describe('SHA256SUMS.asc', () => {
  it('is a detached armored signature gpgv verifies with the exported key; a changed byte fails; another key is refused', async () => {
    const dir = tempDir();
    const sums = path.join(dir, 'SHA256SUMS');
    writeFileSync(sums, SUMS);
    const signer = await openSigner('Release');
    const other = await openSigner('Other');
    try {
      const signed = await signChecksums(signer, sums, path.join(dir, 'stigmer-release-key.asc'));
      expect(signed.signature.path).toBe(`${sums}.asc`);
      expect(readFileSync(signed.signature.path, 'utf8')).toMatch(/^-----BEGIN PGP SIGNATURE-----\n[\s\S]*-----END PGP SIGNATURE-----\r?\n?$/);
      expect(readFileSync(signed.publicKey.path, 'utf8')).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
      expect(signed.fingerprint).toMatch(/^[0-9A-F]{40}$/);

      // gpgv by hand, exactly as a user (or install.sh) runs it: a binary keyring holding only the release key.
      const keyring = path.join(dir, 'release.gpg');
      await signer.exportPublicKey(keyring, false);
      const ok = await execa('gpgv', ['--keyring', keyring, signed.signature.path, sums], { reject: false });
      expect(ok.exitCode, ok.stderr).toBe(0);
      expect(ok.stderr).toMatch(/Good signature/);

      const good = await verifyChecksumsSignature({ sumsFile: sums, signatureFile: signed.signature.path, keyFile: signed.publicKey.path, fingerprint: signed.fingerprint });
      expect(good).toEqual({ ok: true, detail: `good signature by ${signed.fingerprint}` });
      // The binary keyring works too.
      expect((await verifyChecksumsSignature({ sumsFile: sums, signatureFile: signed.signature.path, keyFile: keyring, fingerprint: signed.fingerprint })).ok).toBe(true);

      // One byte of SHA256SUMS changed.
      const tampered = path.join(dir, 'SHA256SUMS.tampered');
      writeFileSync(tampered, SUMS.replace('e3b0', 'f3b0'));
      const bad = await execa('gpgv', ['--keyring', keyring, signed.signature.path, tampered], { reject: false });
      expect(bad.exitCode).not.toBe(0);
      expect(bad.stderr).toMatch(/BAD signature/);
      expect(await verifyChecksumsSignature({ sumsFile: tampered, signatureFile: signed.signature.path, keyFile: signed.publicKey.path, fingerprint: signed.fingerprint })).toEqual({ ok: false, detail: 'gpgv: BADSIG' });

      // A valid signature by another key, checked against that key, is still refused: the fingerprint is pinned.
      await other.detachSign(sums, path.join(dir, 'other.asc'), true);
      await other.exportPublicKey(path.join(dir, 'other-key.asc'), true);
      const wrongKey = await verifyChecksumsSignature({ sumsFile: sums, signatureFile: path.join(dir, 'other.asc'), keyFile: path.join(dir, 'other-key.asc'), fingerprint: signed.fingerprint });
      expect(wrongKey).toEqual({ ok: false, detail: `signed by ${other.fingerprint}, not the pinned key ${signed.fingerprint}` });
      // ...and against the release key it has no public key at all.
      expect((await verifyChecksumsSignature({ sumsFile: sums, signatureFile: path.join(dir, 'other.asc'), keyFile: signed.publicKey.path, fingerprint: signed.fingerprint })).detail).toMatch(/gpgv: (NO_PUBKEY|ERRSIG)/);

      // Re-signing the same bytes with the same key gives the same signature (pinned time, deterministic RSA).
      const again = await signChecksums(signer, sums, path.join(dir, 'again-key.asc'));
      expect(again.signature.sha256).toBe(signed.signature.sha256);
    } finally {
      await signer.close();
      await other.close();
    }
  });
});
