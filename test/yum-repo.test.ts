// The YUM/DNF repository: fixture RPMs (rpmbuild) signed with rpmsign, createrepo_c metadata, repomd.xml.asc;
// checked with gpgv, rpm -K and a real dnf confined to a temp installroot (gpgcheck=1, repo_gpgcheck=1).
import { execa } from 'execa';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import { GpgSigner } from '../src/signing/gpg.ts';
import { buildYumRepo } from '../src/targets/yum-repo/index.ts';
import { loadProduct } from '../src/product/load.ts';
import { renderYumRepoFile } from '../src/targets/yum-repo/index.ts';
import { serveDirectory } from '../src/verify/install/http.ts';
import { dnfClient, makeKey, makeRpm, type TestKey } from './repo-helpers.ts';
import { STIGMER_YAML } from './helpers.ts';

const EPOCH = 1700000000;
let tmp: string;
let keyA: TestKey;
let keyB: TestKey;
let signerA: GpgSigner;
let rpm1: string;
let rpm2: string;
let repo1: string;
let repo2: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sd-yum-'));
  [keyA, keyB] = await Promise.all([makeKey(tmp, 'alpha', 'yum passphrase'), makeKey(tmp, 'bravo')]);
  rpm1 = await makeRpm(tmp, { name: 'fixture', version: '1.0.0' });
  rpm2 = await makeRpm(tmp, { name: 'fixture', version: '1.1.0~rc.1' });
  signerA = await GpgSigner.open({ mode: 'key', key: { kind: 'file', path: keyA.secretFile, label: 'test key' }, passphrase: keyA.passphrase }, { sourceDateEpoch: EPOCH });
  repo1 = path.join(tmp, 'published-v1');
  await buildYumRepo({ repoDir: repo1, packages: [rpm1], signer: signerA, sourceDateEpoch: EPOCH, keyName: 'fixture' });
  repo2 = path.join(tmp, 'published-v2');
  await buildYumRepo({ repoDir: repo2, base: repo1, packages: [rpm2], signer: signerA, sourceDateEpoch: EPOCH + 100, keyName: 'fixture' });
});

afterAll(async () => {
  await signerA?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function repoFile(url: string, key: string): string {
  return `[fixture]\nname=Fixture\nbaseurl=${url}\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=${key}\nmetadata_expire=0\n`;
}

async function dearmored(asc: string): Promise<string> {
  const out = path.join(tmp, `${path.basename(asc)}.keyring.gpg`);
  await execa('gpg', ['--batch', '--yes', '--output', out, '--dearmor', asc], { env: { GNUPGHOME: path.join(tmp, 'gnupg-alpha') } });
  return out;
}

describe('YUM repository metadata and signatures', () => {
  it('indexes both versions: the published one stays next to the new one', () => {
    const repodata = path.join(repo2, 'repodata');
    const primary = readdirSync(repodata).find((f) => f.endsWith('-primary.xml.gz'))!;
    const xml = gunzipSync(readFileSync(path.join(repodata, primary))).toString('utf8');
    expect(xml).toContain('packages="2"');
    expect(xml).toMatch(/<version epoch="0" ver="1\.0\.0" rel="1"\/>/);
    expect(xml).toMatch(/<version epoch="0" ver="1\.1\.0~rc\.1" rel="1"\/>/);
    expect(readFileSync(path.join(repodata, 'repomd.xml'), 'utf8')).toContain(`<revision>${EPOCH + 100}</revision>`);
  });

  it('signs repomd.xml: gpg verifies it with the exported key, and not a tampered copy or another key', async () => {
    const keyring = await dearmored(path.join(repo2, 'RPM-GPG-KEY-fixture'));
    const sig = path.join(repo2, 'repodata/repomd.xml.asc');
    const repomd = path.join(repo2, 'repodata/repomd.xml');
    expect(readFileSync(sig, 'utf8')).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    expect((await execa('gpgv', ['--keyring', keyring, sig, repomd], { reject: false })).exitCode).toBe(0);
    const tampered = path.join(tmp, 'repomd-tampered.xml');
    writeFileSync(tampered, readFileSync(repomd, 'utf8').replace(/<revision>\d+</, '<revision>1<'));
    expect((await execa('gpgv', ['--keyring', keyring, sig, tampered], { reject: false })).exitCode).not.toBe(0);
    expect((await execa('gpgv', ['--keyring', keyB.keyring, sig, repomd], { reject: false })).exitCode).not.toBe(0);
  });

  it('signs the RPMs in the repository (rpm -K) and leaves the originals untouched', async () => {
    const db = path.join(tmp, 'rpmdb');
    await execa('rpm', ['--dbpath', db, '--initdb']);
    await execa('rpm', ['--dbpath', db, '--import', path.join(repo2, 'RPM-GPG-KEY-fixture')]);
    for (const f of readdirSync(path.join(repo2, 'Packages'))) {
      const k = await execa('rpm', ['--dbpath', db, '-K', path.join(repo2, 'Packages', f)], { reject: false });
      expect(k.stdout, f).toMatch(/digests signatures OK/);
    }
    const original = await execa('rpm', ['-qp', '--qf', '%{RSAHEADER:pgpsig}', rpm1]);
    expect(original.stdout).toBe('(none)');
  });

  it('is byte-identical when rebuilt from the same inputs with the same key (RPM and metadata signatures included)', async () => {
    const again = path.join(tmp, 'again-v2');
    await buildYumRepo({ repoDir: again, base: repo1, packages: [rpm2], signer: signerA, sourceDateEpoch: EPOCH + 100, keyName: 'fixture' });
    const list = (d: string) => readdirSync(d, { recursive: true, encoding: 'utf8' }).sort();
    expect(list(again)).toEqual(list(repo2));
    for (const f of list(repo2).filter((x) => x.includes('.'))) {
      expect(readFileSync(path.join(again, f)).equals(readFileSync(path.join(repo2, f))), f).toBe(true);
    }
  });

  it('refuses to replace a published RPM with different bytes, and a file that is not an RPM', async () => {
    const dir = path.join(tmp, 'republish');
    cpSync(repo2, dir, { recursive: true });
    const err = await buildYumRepo({ repoDir: dir, packages: [rpm1], signer: undefined, sourceDateEpoch: EPOCH, keyName: 'fixture' }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/fixture-1\.0\.0-1\.x86_64\.rpm is already published with different contents/);
    const bogus = path.join(tmp, 'bogus.rpm');
    writeFileSync(bogus, 'nope');
    await expect(buildYumRepo({ repoDir: path.join(tmp, 'bogus'), packages: [bogus], sourceDateEpoch: EPOCH, keyName: 'fixture' })).rejects.toThrow(/bogus\.rpm: not an RPM package/);
  });

  it('renders the client .repo file from the definition', () => {
    const product = loadProduct(STIGMER_YAML);
    const text = renderYumRepoFile(product, 'https://pkg.example.com/yum/', true);
    expect(text).toContain('[stigmer]\nname=Stigmer\nbaseurl=https://pkg.example.com/yum\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=https://pkg.example.com/yum/RPM-GPG-KEY-stigmer\n');
    expect(renderYumRepoFile(product, 'https://pkg.example.com/yum', false)).toContain('gpgcheck=0\nrepo_gpgcheck=0\n');
  });
});

describe('dnf against the repository (gpgcheck=1, repo_gpgcheck=1)', () => {
  it('makecache verifies repomd.xml and installs the older version over HTTP (package signature checked)', async () => {
    const srv = await serveDirectory(repo2);
    try {
      const dnf = dnfClient(path.join(tmp, 'dnf-ok'), repoFile(srv.url, `${srv.url}/RPM-GPG-KEY-fixture`));
      const mk = await dnf.makecache();
      expect(mk.exitCode, mk.stderr).toBe(0);
      const inst = await dnf.install('fixture-1.0.0');
      expect(inst.exitCode, `${inst.stdout}\n${inst.stderr}`).toBe(0);
      expect(readFileSync(path.join(dnf.root, 'usr/share/fixture/version'), 'utf8')).toBe('1.0.0\n');
    } finally {
      await srv.close();
    }
  });

  it('makecache fails on a tampered repomd.xml', async () => {
    const dir = path.join(tmp, 'tampered');
    cpSync(repo2, dir, { recursive: true });
    const repomd = path.join(dir, 'repodata/repomd.xml');
    writeFileSync(repomd, readFileSync(repomd, 'utf8').replace(/<revision>\d+</, '<revision>1<'));
    const dnf = dnfClient(path.join(tmp, 'dnf-tampered'), repoFile(`file://${dir}`, `file://${dir}/RPM-GPG-KEY-fixture`));
    const mk = await dnf.makecache();
    expect(mk.exitCode).not.toBe(0);
    expect(`${mk.stdout}${mk.stderr}`).toMatch(/GPG|signature|repomd\.xml/i);
  });

  it('makecache fails when the client trusts another key', async () => {
    const dnf = dnfClient(path.join(tmp, 'dnf-wrong-key'), repoFile(`file://${repo2}`, `file://${keyB.publicAsc}`));
    const mk = await dnf.makecache();
    expect(mk.exitCode).not.toBe(0);
  });

  it('refuses an unsigned RPM under gpgcheck=1', async () => {
    const dir = path.join(tmp, 'unsigned-rpms');
    await buildYumRepo({ repoDir: dir, packages: [rpm1], signer: undefined, sourceDateEpoch: EPOCH, keyName: 'fixture' });
    // Metadata signed, packages not: repo_gpgcheck passes, gpgcheck must stop the install.
    await signerA.detachSign(path.join(dir, 'repodata/repomd.xml'), path.join(dir, 'repodata/repomd.xml.asc'), true);
    await signerA.exportPublicKey(path.join(dir, 'RPM-GPG-KEY-fixture'), true);
    const dnf = dnfClient(path.join(tmp, 'dnf-unsigned'), repoFile(`file://${dir}`, `file://${dir}/RPM-GPG-KEY-fixture`));
    const inst = await dnf.install('fixture');
    expect(inst.exitCode).not.toBe(0);
    expect(`${inst.stdout}${inst.stderr}`).toMatch(/not signed|GPG check FAILED|signature/i);
  });
});
