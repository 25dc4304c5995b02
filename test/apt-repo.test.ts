// The APT repository: built from fixture .debs (dpkg-deb), then used by a real apt confined to a temp dir.
import { execa } from 'execa';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import { GpgSigner, resolveSigning, SIGNING_KEY_ENV, SIGNING_PASSPHRASE_ENV } from '../src/signing/gpg.ts';
import { buildAptRepo, type AptRepoMeta } from '../src/targets/apt-repo/index.ts';
import { compareDebVersions, readDeb } from '../src/targets/apt-repo/deb.ts';
import { serveDirectory } from '../src/verify/install/http.ts';
import { ACME_YAML, runCli } from './helpers.ts';
import { aptClient, makeDeb, makeKey, type TestKey } from './repo-helpers.ts';

const META: AptRepoMeta = { origin: 'Fixture', label: 'Fixture', suite: 'stable', codename: 'stable', component: 'main', architectures: ['amd64', 'arm64'], description: 'Fixture packages' };
const EPOCH = 1700000000;

let tmp: string;
let keyA: TestKey;
let keyB: TestKey;
let signerA: GpgSigner;
let deb1: string;
let deb2: string;
let debAll: string;
/** A repository published in two steps: v1 alone, then v2 merged with the published v1. */
let repo2: string;

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sd-apt-'));
  [keyA, keyB] = await Promise.all([makeKey(tmp, 'alpha', 'correct horse battery'), makeKey(tmp, 'bravo')]);
  deb1 = await makeDeb(tmp, { name: 'fixture', version: '1.0.0-1', arch: 'amd64', compression: 'xz' });
  deb2 = await makeDeb(tmp, { name: 'fixture', version: '1.1.0~rc.1-1', arch: 'amd64', compression: 'gzip' });
  debAll = await makeDeb(tmp, { name: 'fixture-doc', version: '1.0.0-1', arch: 'all', compression: 'zstd' });
  signerA = await GpgSigner.open({ mode: 'key', key: { kind: 'inline', text: keyA.armored, label: 'test key' }, passphrase: keyA.passphrase }, { sourceDateEpoch: EPOCH });
  const repo1 = path.join(tmp, 'published-v1');
  await buildAptRepo({ repoDir: repo1, packages: [deb1, debAll], signer: signerA, meta: META, sourceDateEpoch: EPOCH, keyringName: 'fixture' });
  repo2 = path.join(tmp, 'published-v2');
  await buildAptRepo({ repoDir: repo2, base: repo1, packages: [deb2], signer: signerA, meta: META, sourceDateEpoch: EPOCH + 100, keyringName: 'fixture' });
});

afterAll(async () => {
  await signerA?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function copyRepo(name: string): string {
  const dir = path.join(tmp, name);
  cpSync(repo2, dir, { recursive: true });
  return dir;
}

describe('reading .deb packages', () => {
  it('reads the control file whatever the control member compression (xz, gzip, zstd)', async () => {
    for (const [file, version, arch] of [[deb1, '1.0.0-1', 'amd64'], [deb2, '1.1.0~rc.1-1', 'amd64'], [debAll, '1.0.0-1', 'all']] as const) {
      const info = await readDeb(file);
      expect([info.version, info.architecture]).toEqual([version, arch]);
      expect(info.fields.find((f) => f.name === 'Description')!.value).toContain('\n .\n Second paragraph');
    }
  });

  it('rejects a file that is not a .deb with a clear error', async () => {
    const bad = path.join(tmp, 'bad.deb');
    writeFileSync(bad, 'not an archive');
    await expect(readDeb(bad)).rejects.toThrow(/bad\.deb: not a valid \.deb package: no ar archive signature/);
  });

  it('orders versions like dpkg', async () => {
    const versions = ['1.0.0-1', '1.1.0-1', '1.1.0~rc.1-1', '1:0.1-1', '1.0.0-1+b1', '1.0.0a-1'];
    const sorted = [...versions].sort(compareDebVersions);
    expect(sorted).toEqual(['1.0.0-1', '1.0.0-1+b1', '1.0.0a-1', '1.1.0~rc.1-1', '1.1.0-1', '1:0.1-1']);
    for (let i = 1; i < sorted.length; i++) {
      const r = await execa('dpkg', ['--compare-versions', sorted[i - 1]!, 'lt', sorted[i]!], { reject: false });
      expect(r.exitCode, `${sorted[i - 1]} < ${sorted[i]}`).toBe(0);
    }
  });
});

describe('APT repository layout and signatures', () => {
  it('lists the uncompressed Packages (and .gz) with matching digests in Release', async () => {
    const release = readFileSync(path.join(repo2, 'dists/stable/Release'), 'utf8');
    expect(release).toMatch(/^Origin: Fixture\nLabel: Fixture\nSuite: stable\nCodename: stable\nDate: Tue, 14 Nov 2023 22:15:00 \+0000\nArchitectures: amd64 arm64\nComponents: main\n/);
    for (const index of ['main/binary-amd64/Packages', 'main/binary-amd64/Packages.gz', 'main/binary-arm64/Packages', 'main/binary-arm64/Packages.gz']) {
      const data = readFileSync(path.join(repo2, 'dists/stable', index));
      const sha = (await execa('sha256sum', [path.join(repo2, 'dists/stable', index)])).stdout.split(' ')[0];
      expect(release).toContain(` ${sha} ${String(data.length).padStart(16)} ${index}\n`);
    }
  });

  it('indexes every version in the pool: the published one stays next to the new one; "all" goes to every architecture', () => {
    const amd64 = readFileSync(path.join(repo2, 'dists/stable/main/binary-amd64/Packages'), 'utf8');
    const arm64 = readFileSync(path.join(repo2, 'dists/stable/main/binary-arm64/Packages'), 'utf8');
    expect(amd64.match(/^Version: .*$/gm)).toEqual(['Version: 1.0.0-1', 'Version: 1.1.0~rc.1-1', 'Version: 1.0.0-1']);
    expect(amd64).toContain('Filename: pool/main/f/fixture/fixture_1.0.0-1_amd64.deb\n');
    expect(amd64).toContain('Filename: pool/main/f/fixture/fixture_1.1.0~rc.1-1_amd64.deb\n');
    expect(arm64.match(/^Package: .*$/gm)).toEqual(['Package: fixture-doc']);
  });

  it('signs InRelease and Release.gpg so that gpgv accepts them with the exported keyring only', async () => {
    const dists = path.join(repo2, 'dists/stable');
    const keyring = path.join(repo2, 'fixture.gpg');
    expect((await execa('gpgv', ['--keyring', keyring, path.join(dists, 'InRelease')], { reject: false })).exitCode).toBe(0);
    expect((await execa('gpgv', ['--keyring', keyring, path.join(dists, 'Release.gpg'), path.join(dists, 'Release')], { reject: false })).exitCode).toBe(0);
    expect((await execa('gpgv', ['--keyring', keyB.keyring, path.join(dists, 'InRelease')], { reject: false })).exitCode).not.toBe(0);
    // InRelease carries exactly the Release text.
    expect(readFileSync(path.join(dists, 'InRelease'), 'utf8')).toContain(readFileSync(path.join(dists, 'Release'), 'utf8').trimEnd());
  });

  it('exports a binary keyring named .gpg (apt reads .gpg as binary) and an armored .asc, holding the signing key', async () => {
    const bin = readFileSync(path.join(repo2, 'fixture.gpg'));
    expect(bin.subarray(0, 5).toString('latin1')).not.toBe('-----');
    expect(bin[0]! & 0x80).toBe(0x80); // an OpenPGP packet header
    expect(readFileSync(path.join(repo2, 'fixture.asc'), 'utf8')).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    mkdirSync(path.join(tmp, 'show-keys'), { mode: 0o700, recursive: true });
    for (const f of ['fixture.gpg', 'fixture.asc']) {
      const shown = await execa('gpg', ['--homedir', path.join(tmp, 'show-keys'), '--batch', '--with-colons', '--show-keys', path.join(repo2, f)]);
      expect(shown.stdout).toContain(`fpr:::::::::${keyA.fingerprint}:`);
      expect(shown.stdout).not.toMatch(/^sec/m);
    }
  });

  it('is byte-identical when rebuilt from the same inputs with the same key (signatures included)', async () => {
    const again = path.join(tmp, 'again-v2');
    await buildAptRepo({ repoDir: again, base: path.join(tmp, 'published-v1'), packages: [deb2], signer: signerA, meta: META, sourceDateEpoch: EPOCH + 100, keyringName: 'fixture' });
    for (const f of ['dists/stable/Release', 'dists/stable/InRelease', 'dists/stable/Release.gpg', 'dists/stable/main/binary-amd64/Packages.gz', 'fixture.gpg']) {
      expect(readFileSync(path.join(again, f)).equals(readFileSync(path.join(repo2, f))), f).toBe(true);
    }
  });

  it('refuses to replace a published package with different bytes', async () => {
    const other = await makeDeb(tmp, { name: 'fixture', version: '1.0.0-1', arch: 'amd64', marker: 'rebuilt' });
    const dir = copyRepo('republish');
    const err = await buildAptRepo({ repoDir: dir, packages: [other], signer: signerA, meta: META, sourceDateEpoch: EPOCH, keyringName: 'fixture' }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/fixture_1\.0\.0-1_amd64\.deb is already published with different contents/);
  });
});

describe('apt against the repository', () => {
  it('apt-get update verifies the signed metadata; both versions are listed and the older one downloads', async () => {
    const apt = aptClient(path.join(tmp, 'client-ok'), `deb [signed-by=${path.join(repo2, 'fixture.gpg')}] file:${repo2} stable main`);
    const update = await apt.update();
    expect(update.exitCode, update.stderr).toBe(0);
    expect(update.stderr).not.toMatch(/^[WE]:/m);
    const policy = await apt.policy('fixture');
    expect(policy.stdout).toMatch(/Candidate: 1\.1\.0~rc\.1-1/);
    expect(policy.stdout).toMatch(/^\s+1\.0\.0-1 500$/m);
    const old = await apt.downloadOnly('fixture=1.0.0-1');
    expect(old.exitCode, old.stderr).toBe(0);
    expect(old.stdout).toMatch(/fixture amd64 1\.0\.0-1/);
  });

  it('works over HTTP from a static server on 127.0.0.1', async () => {
    const srv = await serveDirectory(repo2);
    try {
      const apt = aptClient(path.join(tmp, 'client-http'), `deb [signed-by=${path.join(repo2, 'fixture.gpg')}] ${srv.url} stable main`);
      const update = await apt.update();
      expect(update.exitCode, update.stderr).toBe(0);
      expect((await apt.madison('fixture')).stdout.match(/\| /g)?.length).toBeGreaterThanOrEqual(2);
      const dl = await apt.downloadOnly('fixture=1.0.0-1');
      expect(dl.exitCode, dl.stderr).toBe(0);
    } finally {
      await srv.close();
    }
  });

  it('fails when the client trusts another key', async () => {
    const apt = aptClient(path.join(tmp, 'client-wrong-key'), `deb [signed-by=${keyB.keyring}] file:${repo2} stable main`);
    const update = await apt.update();
    expect(update.exitCode).not.toBe(0);
    expect(update.stderr).toMatch(/NO_PUBKEY|not signed/);
    expect((await apt.policy('fixture')).stdout).not.toMatch(/Candidate: 1/);
  });

  it('fails on a tampered InRelease', async () => {
    const dir = copyRepo('tampered-inrelease');
    const file = path.join(dir, 'dists/stable/InRelease');
    writeFileSync(file, readFileSync(file, 'utf8').replace('Label: Fixture', 'Label: Fixturf'));
    const apt = aptClient(path.join(tmp, 'client-tampered-inrelease'), `deb [signed-by=${path.join(dir, 'fixture.gpg')}] file:${dir} stable main`);
    const update = await apt.update();
    expect(update.exitCode).not.toBe(0);
    expect(update.stderr).toMatch(/BADSIG|not signed|invalid/i);
  });

  it('fails on a tampered Release (no InRelease: Release.gpg is checked)', async () => {
    const dir = copyRepo('tampered-release');
    rmSync(path.join(dir, 'dists/stable/InRelease'));
    const file = path.join(dir, 'dists/stable/Release');
    writeFileSync(file, readFileSync(file, 'utf8').replace('Label: Fixture', 'Label: Fixturf'));
    const apt = aptClient(path.join(tmp, 'client-tampered-release'), `deb [signed-by=${path.join(dir, 'fixture.gpg')}] file:${dir} stable main`);
    const update = await apt.update();
    expect(update.exitCode).not.toBe(0);
    expect(update.stderr).toMatch(/BADSIG|not signed/);
  });

  it('fails on a Packages index that does not match Release', async () => {
    const dir = copyRepo('tampered-packages');
    const file = path.join(dir, 'dists/stable/main/binary-amd64/Packages');
    writeFileSync(file, readFileSync(file, 'utf8').replace('Section: utils', 'Section: admin'));
    rmSync(`${file}.gz`);
    const apt = aptClient(path.join(tmp, 'client-tampered-packages'), `deb [signed-by=${path.join(dir, 'fixture.gpg')}] file:${dir} stable main`);
    const update = await apt.update();
    expect(update.exitCode).not.toBe(0);
    expect(update.stderr).toMatch(/Hash Sum mismatch|File has unexpected size/);
  });
});

describe('signing keys', () => {
  it('refuses a release without a key unless --unsigned; a snapshot gets a throwaway key', () => {
    expect(() => resolveSigning({ snapshot: false, env: {} })).toThrow(/a release build signs SHA256SUMS, the RPMs and the APT and YUM repositories, but no signing key was given/);
    expect(resolveSigning({ snapshot: false, unsigned: true, env: {} })).toEqual({ mode: 'unsigned' });
    expect(resolveSigning({ snapshot: true, env: {} })).toEqual({ mode: 'throwaway' });
  });

  it('names a missing key file and never echoes an unusable env value', () => {
    expect(() => resolveSigning({ snapshot: false, signingKey: path.join(tmp, 'nope.asc'), env: {} })).toThrow(/--signing-key .*nope\.asc: cannot read the signing key \(no such file\)/);
    const secretish = 'lQVYBGVjZ2VuZXJhdGVkIHNlY3JldCBrZXkgbWF0ZXJpYWw';
    let err: UserError | undefined;
    try {
      resolveSigning({ snapshot: false, env: { [SIGNING_KEY_ENV]: secretish } });
    } catch (e) {
      err = e as UserError;
    }
    expect(err?.message).toMatch(/holds neither an armored key block .* nor the path of a readable file/);
    expect(`${err?.message}${err?.hint}`).not.toContain(secretish);
  });

  it('accepts a key file path in the environment, and the passphrase from the environment', () => {
    const mode = resolveSigning({ snapshot: false, env: { [SIGNING_KEY_ENV]: keyA.secretFile, [SIGNING_PASSPHRASE_ENV]: 'pw' } });
    expect(mode).toMatchObject({ mode: 'key', key: { kind: 'file', path: keyA.secretFile }, passphrase: 'pw' });
  });

  it('reports a wrong or missing passphrase, a public-only key and garbage clearly', async () => {
    const open = (text: string, passphrase?: string) =>
      GpgSigner.open({ mode: 'key', key: { kind: 'inline', text, label: SIGNING_KEY_ENV }, passphrase }, { sourceDateEpoch: EPOCH });
    await expect(open(keyA.armored)).rejects.toThrow(/protected by a passphrase and STIGMER_DIST_SIGNING_PASSPHRASE is not set/);
    await expect(open(keyA.armored, 'wrong')).rejects.toThrow(/protected by a passphrase and STIGMER_DIST_SIGNING_PASSPHRASE is not it/);
    await expect(open(readFileSync(keyA.publicAsc, 'utf8'))).rejects.toThrow(/holds no secret key/);
    await expect(open('-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nZm9v\n-----END PGP PRIVATE KEY BLOCK-----\n')).rejects.toThrow(/gpg cannot import the key/);
  });

  it("refuses a key Debian 13's apt (sqv) would reject: SHA-1 self-signatures, RSA under 2048 bits", async () => {
    const open = (key: TestKey) => GpgSigner.open({ mode: 'key', key: { kind: 'file', path: key.secretFile, label: '--signing-key' } }, { sourceDateEpoch: EPOCH });
    const [sha1, small] = await Promise.all([makeKey(tmp, 'sha1', undefined, { certDigestAlgo: 'SHA1' }), makeKey(tmp, 'small', undefined, { algo: 'rsa1024' })]);
    const err = await open(sha1).then(
      () => undefined,
      (e: UserError) => e,
    );
    expect(err?.message).toBe(`--signing-key: the self-signature on user ID "sha1 test key <sha1@example.com>" uses SHA-1, which Debian 13's apt (sqv) and current RPM refuse: they would reject every repository signed with it`);
    expect(err?.hint).toMatch(/gpg --cert-digest-algo SHA512 --quick-set-expire FINGERPRINT 0/);
    await expect(open(small)).rejects.toThrow(/^--signing-key: the primary key has 1024 bits \(2048 at least\), which Debian 13's apt/);
    // The hint's fix: the same key with its self-signature renewed on SHA-512 signs.
    const home = path.join(tmp, 'gnupg-sha1');
    const gpg = (args: string[]) => execa('gpg', ['--homedir', home, '--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { stdin: 'ignore' });
    await gpg(['--cert-digest-algo', 'SHA512', '--quick-set-expire', sha1.fingerprint, '0']);
    writeFileSync(sha1.secretFile, (await gpg(['--armor', '--export-secret-keys', sha1.fingerprint])).stdout + '\n');
    await execa('gpgconf', ['--homedir', home, '--kill', 'all'], { reject: false });
    const renewed = await open(sha1);
    expect(renewed.fingerprint).toBe(sha1.fingerprint);
    await renewed.close();
  });

  it('leaves no temporary GNUPGHOME and no gpg-agent behind', async () => {
    const s = await GpgSigner.open({ mode: 'throwaway' }, { sourceDateEpoch: EPOCH });
    const home = (s as unknown as { home: string }).home;
    expect(s.throwaway).toBe(true);
    await s.close();
    expect(() => readFileSync(path.join(home, 'pubring.kbx'))).toThrow();
    const agents = await execa('pgrep', ['-f', `gpg-agent --homedir ${home}`], { reject: false });
    expect(agents.stdout.trim()).toBe('');
  });
});

describe('build --repo-base (publishing vN+1 next to vN)', () => {
  it('keeps the published version installable and writes the client files for --repo-url', async () => {
    const env = { STIGMER_DIST_SIGNING_KEY: keyA.secretFile, STIGMER_DIST_SIGNING_PASSPHRASE: keyA.passphrase! };
    const common = ['build', '--snapshot', '--config', ACME_YAML, '--platform', 'linux-amd64', '--target', 'deb,rpm,apt-repo,yum-repo', '--repo-url', 'http://127.0.0.1:8080/acme/'];
    const first = await runCli([...common, '--version', '2.4.0', '--out', path.join(tmp, 'cli-dist')], { env });
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await runCli([...common, '--version', '2.5.0-rc.1', '--out', path.join(tmp, 'cli-dist'), '--repo-base', path.join(tmp, 'cli-dist/2.4.0/repo')], { env });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/apt-repo: 2 package\(s\) indexed for amd64, arm64, signed by [0-9A-F]{40}/);
    expect(second.stderr).toMatch(/yum-repo: 2 package\(s\) indexed, RPMs and repomd\.xml signed by/);
    const repo = path.join(tmp, 'cli-dist/2.5.0-rc.1/repo');
    const apt = aptClient(path.join(tmp, 'client-cli'), `deb [signed-by=${path.join(repo, 'apt/acme.gpg')}] file:${path.join(repo, 'apt')} stable main`);
    const update = await apt.update();
    expect(update.exitCode, update.stderr).toBe(0);
    const policy = (await apt.policy('acme')).stdout;
    expect(policy).toMatch(/Candidate: 2\.5\.0~rc\.1-1/);
    expect(policy).toMatch(/^\s+2\.4\.0-1 500$/m);
    expect(readFileSync(path.join(repo, 'apt/acme.list'), 'utf8')).toContain('deb [signed-by=/usr/share/keyrings/acme.gpg] http://127.0.0.1:8080/acme/apt stable main\n');
    expect(readFileSync(path.join(repo, 'yum/acme.repo'), 'utf8')).toContain('baseurl=http://127.0.0.1:8080/acme/yum\n');
    const primary = (await execa('sh', ['-c', 'zcat "$1"/repodata/*-primary.xml.gz', '_', path.join(repo, 'yum')])).stdout;
    expect(primary.match(/<version epoch="0" ver="[^"]+"/g)).toEqual(['<version epoch="0" ver="2.4.0"', '<version epoch="0" ver="2.5.0~rc.1"']);
  }, 600_000); // two full CLI builds with signing: minutes on a loaded 2-core machine
});
