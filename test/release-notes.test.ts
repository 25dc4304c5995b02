// The release notes tell users how to check the release: gpg --verify of SHA256SUMS.asc, gh attestation verify,
// cosign verify-blob of SHA256SUMS.sigstore.json, each shown only when the release has the files it needs.
import { describe, expect, it } from 'vitest';
import { loadProduct } from '../src/product/load.ts';
import { releaseNotes } from '../src/publish/release.ts';
import { mapVersion } from '../src/version.ts';
import { STIGMER_YAML } from './helpers.ts';

const asset = (name: string) => ({ name, file: `/dist/${name}`, size: 1, sha256: 'a'.repeat(64) });

describe('release notes', () => {
  const product = loadProduct(STIGMER_YAML);
  const { owner, repo } = product.def.release.github;
  it('show the gpg, gh attestation and cosign commands for a signed release', () => {
    const names = ['SHA256SUMS', 'SHA256SUMS.asc', 'SHA256SUMS.sigstore.json', 'stigmer-release-key.asc', 'stigmer-release-key.gpg', 'stigmer_1.2.3_amd64.deb'];
    const text = releaseNotes({ product, versions: mapVersion('1.2.3'), assets: names.map(asset) });
    expect(text).toContain('gpg --verify SHA256SUMS.asc SHA256SUMS\n');
    expect(text).toContain('gpg --import stigmer-release-key.asc\n');
    expect(text).toContain(`gh attestation verify stigmer_1.2.3_amd64.deb --repo ${owner}/${repo}\n`);
    expect(text).toContain('cosign verify-blob --bundle SHA256SUMS.sigstore.json \\\n');
    expect(text).toContain(`--certificate-identity-regexp '^https://github\\.com/${owner}/${repo.replace(/\./g, '\\.')}/\\.github/workflows/release\\.yml@'`);
  });
  it('leave out what the release lacks (unsigned, no sigstore bundle)', () => {
    const text = releaseNotes({ product, versions: mapVersion('1.2.3'), assets: ['SHA256SUMS', 'stigmer_1.2.3_amd64.deb'].map(asset) });
    expect(text).not.toMatch(/gpg --verify|cosign/);
    expect(text).toContain('gh attestation verify');
  });
});
