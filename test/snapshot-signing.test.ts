// Snapshot builds sign with the committed INSECURE snapshot key (src/signing/insecure-snapshot-openpgp/): named
// insecure in its user ID, the same key on every run, so two snapshot builds give byte-identical repository
// files, RPMs, exported keys, SHA256SUMS.asc and plan.json. And the .rpm release asset is signed: the same
// bytes as the YUM repository's copy, which rpm -K accepts with the exported key.
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpgSigner, SNAPSHOT_KEY_DIR } from '../src/signing/gpg.ts';
import { filesBelow, hashFile } from '../src/util/fsx.ts';
import { runCli, ACME_YAML, tempDir } from './helpers.ts';

describe('the snapshot signing key', () => {
  it('is the committed key, named INSECURE, and signs the same bytes the same way on every run', async () => {
    const pinned = readFileSync(path.join(SNAPSHOT_KEY_DIR, 'INSECURE-snapshot-signing-key.fingerprint'), 'utf8').trim();
    const dir = tempDir();
    const file = path.join(dir, 'data');
    await execa('sh', ['-c', `printf 'hello\\n' > ${file}`]);
    const made: string[] = [];
    for (const run of [1, 2]) {
      const signer = await GpgSigner.open({ mode: 'throwaway' }, { sourceDateEpoch: 1700000000 });
      try {
        expect(signer.throwaway).toBe(true);
        expect(signer.fingerprint).toBe(pinned);
        expect(signer.userId).toMatch(/INSECURE/);
        expect(signer.userId).toMatch(/never trust it/);
        made.push((await signer.detachSign(file, path.join(dir, `data.${run}.asc`), true)).sha256);
        made.push((await signer.exportPublicKey(path.join(dir, `key.${run}.gpg`), false)).sha256);
      } finally {
        await signer.close();
      }
    }
    expect(made.slice(2)).toEqual(made.slice(0, 2));
  });
});

describe('two snapshot builds', () => {
  const outs: string[] = [];
  const work = mkdtempSync(path.join(os.tmpdir(), 'sd-snapshot-signing-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  beforeAll(async () => {
    const args = (out: string) => ['build', '--snapshot', '--config', ACME_YAML, '-p', 'linux-amd64', '-t', 'archive,deb,rpm,apt-repo,yum-repo,installer,checksums,checksums-signature', '--version', '2.4.0', '--out', out];
    for (const n of [1, 2]) {
      const out = path.join(work, `out-${n}`);
      // Another working directory each time: nothing of the run's place leaks into an artifact.
      const cwd = path.join(work, `cwd-${n}`);
      mkdirSync(cwd);
      const r = await runCli(args(out), { cwd });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/INSECURE snapshot key/);
      outs.push(path.join(out, '2.4.0'));
    }
  }, 600_000);

  it('are byte-identical: repositories, RPMs, exported keys, SHA256SUMS.asc, install.sh and plan.json', async () => {
    const dists: Record<string, string>[] = [];
    for (const dist of outs) {
      const digests: Record<string, string> = {};
      for (const f of await filesBelow(dist)) digests[f] = (await hashFile(path.join(dist, f))).sha256;
      dists.push(digests);
    }
    const files = Object.keys(dists[0]!);
    for (const signed of ['SHA256SUMS.asc', 'acme-release-key.asc', 'acme-release-key.gpg', 'plan.json', 'install.sh']) expect(files).toContain(signed);
    expect(files.some((f) => f.startsWith('repo/apt/') && f.endsWith('InRelease'))).toBe(true);
    expect(files.some((f) => f.startsWith('repo/yum/') && f.endsWith('repomd.xml.asc'))).toBe(true);
    expect(files.some((f) => f.startsWith('repo/yum/') && f.endsWith('.rpm'))).toBe(true);
    expect(dists[1]).toEqual(dists[0]);
  });

  it('ship one signed RPM: the release asset passes rpm -K with the exported key and is the YUM repository copy byte for byte', async () => {
    const dist = outs[0]!;
    const assets = readdirSync(dist).filter((f) => f.endsWith('.rpm'));
    expect(assets.length).toBeGreaterThan(0);
    // A private rpm database holding only the exported release key (never the host's).
    const dbpath = tempDir();
    await execa('rpm', ['--dbpath', dbpath, '--initdb']);
    await execa('rpm', ['--dbpath', dbpath, '--import', path.join(dist, 'repo/yum/RPM-GPG-KEY-acme')]);
    for (const asset of assets) {
      const k = await execa('rpm', ['--dbpath', dbpath, '-K', '-v', path.join(dist, asset)], { reject: false });
      expect(k.exitCode, k.stdout + k.stderr).toBe(0);
      expect(k.stdout).toMatch(/Header V4 RSA\/SHA512 Signature, key ID [0-9a-f]+: OK/);
      expect(k.stdout).not.toMatch(/NOKEY|NOTFOUND|BAD/);
      expect(readFileSync(path.join(dist, 'repo/yum/Packages', asset)).equals(readFileSync(path.join(dist, asset)))).toBe(true);
      // ...and a database without the key finds the signature but cannot vouch for it.
      const unknown = await execa('rpm', ['--dbpath', tempDir(), '-K', path.join(dist, asset)], { reject: false });
      expect(unknown.stdout + unknown.stderr).toMatch(/NOKEY|signatures NOT OK/i);
    }
    // The listed digest is the signed package's.
    const sums = readFileSync(path.join(dist, 'SHA256SUMS'), 'utf8');
    for (const asset of assets) expect(sums).toContain(`${(await hashFile(path.join(dist, asset))).sha256}  ${asset}`);
    expect(sums).not.toContain('rpm-unsigned');
  });
});
