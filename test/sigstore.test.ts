// A Sigstore message-signature bundle (v0.3 media type) made in the test with a test key over SHA256SUMS:
// it verifies offline with @sigstore/verify against the public key; a changed SHA256SUMS, another key, a
// digest that does not match, or a trusted root without the key all fail.
import { BUNDLE_V03_MEDIA_TYPE } from '@sigstore/bundle';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifySigstoreBundle } from '../src/verify/sigstore.ts';
import { tempDir } from './helpers.ts';
import { keyPair, makeBundle } from './trust-helpers.ts';

const SUMS = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  stigmer_1.2.3_amd64.deb\n';

describe('verifySigstoreBundle', () => {
  it('verifies a key-signed v0.3 bundle over SHA256SUMS, and fails for a changed SHA256SUMS or another key', async () => {
    const dir = tempDir();
    const sums = path.join(dir, 'SHA256SUMS');
    writeFileSync(sums, SUMS);
    const { privateKey, keyFile } = keyPair(dir, 'release');
    const bundleFile = makeBundle(dir, readFileSync(sums), privateKey);
    expect(JSON.parse(readFileSync(bundleFile, 'utf8')).mediaType).toBe(BUNDLE_V03_MEDIA_TYPE);
    expect(BUNDLE_V03_MEDIA_TYPE).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');

    expect(await verifySigstoreBundle({ bundleFile, artifactFile: sums, trust: { kind: 'public-key', keyFile } })).toEqual({ ok: true, detail: 'signature by release.pub verified' });

    const changed = path.join(dir, 'SHA256SUMS.changed');
    writeFileSync(changed, SUMS.replace('e3b0', 'e3b1'));
    const bad = await verifySigstoreBundle({ bundleFile, artifactFile: changed, trust: { kind: 'public-key', keyFile } });
    expect(bad.ok).toBe(false);
    expect(bad.detail).toMatch(/different digest/);

    // The digest is made to match the changed file: the signature itself must then fail.
    const forged = makeBundle(dir, readFileSync(sums), privateKey, { digestOf: readFileSync(changed) });
    const forgedVerdict = await verifySigstoreBundle({ bundleFile: forged, artifactFile: changed, trust: { kind: 'public-key', keyFile } });
    expect(forgedVerdict).toEqual({ ok: false, detail: expect.stringMatching(/^SIGNATURE_ERROR/) });

    const other = keyPair(dir, 'other');
    const wrongKey = await verifySigstoreBundle({ bundleFile, artifactFile: sums, trust: { kind: 'public-key', keyFile: other.keyFile } });
    expect(wrongKey).toEqual({ ok: false, detail: expect.stringMatching(/^SIGNATURE_ERROR/) });
  });

  it('refuses what is not a bundle, and a key-signed bundle against a trusted root (no certificate, no log entry)', async () => {
    const dir = tempDir();
    const sums = path.join(dir, 'SHA256SUMS');
    writeFileSync(sums, SUMS);
    const notBundle = path.join(dir, 'x.json');
    writeFileSync(notBundle, '{"mediaType":"nope"}');
    const { privateKey, keyFile } = keyPair(dir, 'release');
    expect((await verifySigstoreBundle({ bundleFile: notBundle, artifactFile: sums, trust: { kind: 'public-key', keyFile } })).detail).toMatch(/is not a Sigstore bundle/);

    const root = path.join(dir, 'trusted_root.json');
    writeFileSync(root, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] }));
    const bundleFile = makeBundle(dir, readFileSync(sums), privateKey);
    const verdict = await verifySigstoreBundle({ bundleFile, artifactFile: sums, trust: { kind: 'trusted-root', rootFile: root, identity: 'https://github.com/o/r/.github/workflows/release.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' } });
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toMatch(/TIMESTAMP_ERROR|TLOG_ERROR|PUBLIC_KEY_ERROR|CERTIFICATE_ERROR/);
  });
});
