// `verify` over the trust chain of a real snapshot build: SHA256SUMS.asc against the exported release key (armored
// and binary) and the key install.sh pins, the SBOM, and a Sigstore bundle over SHA256SUMS (made here with a test
// key) verified offline; a changed SHA256SUMS fails the signature and the bundle, a stale SBOM digest fails.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STIGMER_YAML, runCli, tempDir } from './helpers.ts';
import { keyPair, makeBundle } from './trust-helpers.ts';

describe('verify: the trust chain', () => {
  let out: string;
  let dist: string;
  beforeAll(async () => {
    out = mkdtempSync(path.join(os.tmpdir(), 'sd-verify-trust-'));
    const r = await runCli(['build', '--config', STIGMER_YAML, '--snapshot', '-p', 'linux-amd64', '-t', 'archive,installer,sbom,checksums,checksums-signature', '--version', '0.1.0', '--out', out]);
    if (r.exitCode !== 0) throw new Error(r.stderr);
    dist = path.join(out, '0.1.0');
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const rowsOf = (stdout: string) => stdout.split('\n').filter((l) => /^(checksums signature|installer key pin|sbom|sigstore bundle)/.test(l));

  it('passes on the build: signature with both key files, the pin, the SBOM; a sigstore bundle needs a key, then verifies', async () => {
    const ok = await runCli(['verify', '--config', STIGMER_YAML, '--out', out, '--version', '0.1.0']);
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    const rows = rowsOf(ok.stdout);
    expect(rows.map((r) => r.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['checksums signature', 'SHA256SUMS.asc (stigmer-release-key.asc)', 'ok'],
      ['checksums signature', 'SHA256SUMS.asc (stigmer-release-key.gpg)', 'ok'],
      ['installer key pin', 'install.sh', 'ok'],
      ['sbom schema', 'stigmer_0.1.0.cdx.json', 'ok'],
      ['sbom assets', 'stigmer_0.1.0.cdx.json', 'ok'],
    ]);

    const keys = tempDir();
    const { privateKey, keyFile } = keyPair(keys, 'release');
    copyFileSync(makeBundle(keys, readFileSync(path.join(dist, 'SHA256SUMS')), privateKey), path.join(dist, 'SHA256SUMS.sigstore.json'));
    const noKey = await runCli(['verify', '--config', STIGMER_YAML, '--out', out, '--version', '0.1.0']);
    expect(noKey.exitCode).toBe(1);
    expect(rowsOf(noKey.stdout).find((r) => r.startsWith('sigstore bundle'))).toMatch(/FAIL .*pass --sigstore-key/);
    const withKey = await runCli(['verify', '--config', STIGMER_YAML, '--out', out, '--version', '0.1.0', '--sigstore-key', keyFile]);
    expect(withKey.exitCode, withKey.stdout).toBe(0);
    expect(rowsOf(withKey.stdout).find((r) => r.startsWith('sigstore bundle'))).toMatch(/ ok +signature by release\.pub verified/);
  });

  it('fails a changed SHA256SUMS (signature and sigstore bundle) and an SBOM whose digests are stale', async () => {
    const copyRoot = tempDir();
    const copy = path.join(copyRoot, '0.1.0');
    mkdirSync(copy);
    for (const f of readdirSync(dist)) if (statSync(path.join(dist, f)).isFile()) copyFileSync(path.join(dist, f), path.join(copy, f));
    const keys = tempDir();
    const { privateKey, keyFile } = keyPair(keys, 'release');
    copyFileSync(makeBundle(keys, readFileSync(path.join(copy, 'SHA256SUMS')), privateKey), path.join(copy, 'SHA256SUMS.sigstore.json'));
    // One archive replaced, and SHA256SUMS rewritten to match it: the SBOM still has the old digest.
    const sums = readFileSync(path.join(copy, 'SHA256SUMS'), 'utf8');
    const line = sums.split('\n').find((l) => l.endsWith('.tar.gz'))!;
    const archive = line.slice(66);
    writeFileSync(path.join(copy, archive), 'not the archive');
    const digest = (await import('node:crypto')).createHash('sha256').update('not the archive').digest('hex');
    writeFileSync(path.join(copy, 'SHA256SUMS'), sums.replace(line, `${digest}  ${archive}`));
    const r = await runCli(['verify', '--config', STIGMER_YAML, '--out', copyRoot, '--version', '0.1.0', '--sigstore-key', keyFile]);
    expect(r.exitCode).toBe(1);
    const rows = rowsOf(r.stdout);
    expect(rows.filter((x) => x.startsWith('checksums signature')).every((x) => / FAIL +gpgv: BADSIG/.test(x))).toBe(true);
    expect(rows.find((x) => x.startsWith('sbom assets'))).toMatch(new RegExp(`FAIL .*${archive.replace(/\./g, '\\.')}: the SBOM's digest differs`));
    expect(rows.find((x) => x.startsWith('sigstore bundle'))).toMatch(/ FAIL /);
  });
});
