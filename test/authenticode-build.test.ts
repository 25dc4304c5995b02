// Authenticode in real builds (the CLI, the real osslsigncode): a snapshot signs every PE in the Windows zips,
// every PE inside the MSI and the MSI itself with the INSECURE pair, byte-identically twice; winget and Scoop
// state the digests of the signed files; `verify` has a row per PE and per MSI and fails a tampered MSI. A release
// needs a key (or --unsigned-windows), never leaks its password, and needs osslsigncode.
import { execa } from 'execa';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadProduct } from '../src/product/load.ts';
import { exeName, WINDOWS_PLATFORM } from '../src/product/model.ts';
import { AUTHENTICODE_PASSWORD_ENV, AUTHENTICODE_PKCS12_ENV, SNAPSHOT_AUTHENTICODE, verifyAuthenticode } from '../src/signing/authenticode.ts';
import { filesBelowSync } from '../src/util/fsx.ts';
import { ACME_YAML, runCli, tempDir } from './helpers.ts';
import { sha256File } from './linux-helpers.ts';
import { standinBinary } from './trust-helpers.ts';

const VERSION = '2.4.0';
const WINDOWS_TARGETS = ['--platform', WINDOWS_PLATFORM, '--target', 'archive,msi,checksums,winget,scoop'];
const product = loadProduct(ACME_YAML);

/** Every file below `dir` with its sha256. */
const digests = (dir: string) => Object.fromEntries(filesBelowSync(dir).map((f) => [f, sha256File(path.join(dir, f))]));

/** Every PE (MZ) file in the Windows zips and inside the MSIs of a dist, extracted with unzip / msiextract. */
async function shippedPes(dist: string, scratch: string): Promise<string[]> {
  const pes: string[] = [];
  for (const f of readdirSync(dist)) {
    const dest = path.join(scratch, f);
    mkdirSync(dest, { recursive: true });
    if (f.endsWith('.zip')) await execa('unzip', ['-q', path.join(dist, f), '-d', dest]);
    else if (f.endsWith('.msi')) await execa('msiextract', ['-C', dest, path.join(dist, f)]);
    else continue;
    for (const rel of filesBelowSync(dest)) if (readFileSync(path.join(dest, rel)).subarray(0, 2).toString('latin1') === 'MZ') pes.push(path.join(dest, rel));
  }
  return pes.sort();
}

function verifyRows(stdout: string): { artifact: string; result: string; detail: string }[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('authenticode '))
    .map((l) => {
      const [, artifact, result, detail] = /^authenticode\s+(\S+)\s+(ok|FAIL)\s+(.*)$/.exec(l)!;
      return { artifact: artifact!, result: result!, detail: detail! };
    });
}

describe('a snapshot build signs the Windows files with the INSECURE pair', () => {
  it('signs every PE in the zips and the MSI (and its PEs), byte-identically twice; winget and Scoop hash the signed files; verify has a row each and fails a tampered MSI', async () => {
    const root = tempDir('sd-authsig-');
    const [a, b] = [path.join(root, 'a'), path.join(root, 'b')];
    for (const out of [a, b]) {
      const r = await runCli(['build', '--snapshot', '--config', ACME_YAML, ...WINDOWS_TARGETS, '--out', out]);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    const distA = path.join(a, VERSION);
    const filesA = digests(distA);
    expect(digests(path.join(b, VERSION))).toEqual(filesA);
    // The signed payload copies live in the staging directory only.
    expect(Object.keys(filesA).filter((f) => f.includes('authenticode'))).toEqual([]);

    const msi = Object.keys(filesA).find((f) => f.endsWith('.msi'))!;
    const zips = Object.keys(filesA).filter((f) => f.endsWith('.zip'));
    expect(zips.length).toBe(product.components.filter((c) => c.platforms.includes(WINDOWS_PLATFORM)).length);
    expect((await verifyAuthenticode(path.join(distA, msi), { caFile: SNAPSHOT_AUTHENTICODE.caFile })).ok).toBe(true);
    const pes = await shippedPes(distA, path.join(root, 'x'));
    // One PE per zip; in the MSI every Windows payload plus the service host.
    expect(pes.filter((p) => p.endsWith('service.exe')).length).toBe(1);
    expect(pes.length).toBe(zips.length * 2 + 1);
    for (const pe of pes) expect(await verifyAuthenticode(pe, { caFile: SNAPSHOT_AUTHENTICODE.caFile }), pe).toMatchObject({ ok: true, signer: expect.stringContaining('INSECURE snapshot code signing') });

    // What winget and Scoop state is the digest of the signed MSI and zip (the released bytes).
    const installer = Object.keys(filesA).find((f) => f.endsWith('.installer.yaml'))!;
    const winget = parse(readFileSync(path.join(distA, installer), 'utf8')) as { Installers: { InstallerSha256: string }[] };
    expect(winget.Installers.map((i) => i.InstallerSha256.toLowerCase())).toEqual([filesA[msi]]);
    const scoop = JSON.parse(readFileSync(path.join(distA, `scoop/${product.meta.name}.json`), 'utf8')) as { architecture: { '64bit': { url: string; hash: string } } };
    const scoopZip = path.posix.basename(scoop.architecture['64bit'].url);
    expect(scoop.architecture['64bit'].hash).toBe(filesA[scoopZip]);
    expect(readFileSync(path.join(distA, 'SHA256SUMS'), 'utf8')).toContain(`${filesA[msi]}  ${msi}`);

    // verify: one row per PE in each zip and one per MSI, all ok against the snapshot CA.
    const v = await runCli(['verify', '--config', ACME_YAML, '--out', a]);
    expect(v.exitCode, v.stdout + v.stderr).toBe(0);
    const rows = verifyRows(v.stdout);
    expect(rows.map((r) => r.artifact).sort()).toEqual([msi, ...zips.map((z) => `${z}:bin/${exeName(product.components.find((c) => z.includes(`-${c.name}-`))!.binary, WINDOWS_PLATFORM)}`)].sort());
    expect(rows.every((r) => r.result === 'ok' && r.detail.includes('chain to the INSECURE snapshot CA'))).toBe(true);

    // A changed byte in the MSI fails its row (and verify); the system roots do not accept the INSECURE CA.
    const tampered = path.join(root, 'tampered');
    cpSync(a, tampered, { recursive: true });
    const file = path.join(tampered, VERSION, msi);
    const bytes = readFileSync(file);
    bytes[4096] = bytes[4096]! ^ 0xff;
    writeFileSync(file, bytes);
    const bad = await runCli(['verify', '--config', ACME_YAML, '--out', tampered]);
    expect(bad.exitCode).toBe(1);
    const badRows = verifyRows(bad.stdout);
    expect(badRows.find((r) => r.artifact === msi)?.result).toBe('FAIL');
    expect(badRows.filter((r) => r.result === 'FAIL').length).toBe(1);
    const otherCa = await runCli(['verify', '--config', ACME_YAML, '--out', a, '--authenticode-ca', '/etc/ssl/certs/ca-certificates.crt']);
    expect(otherCa.exitCode).toBe(1);
    expect(verifyRows(otherCa.stdout).every((r) => r.result === 'FAIL')).toBe(true);
  });
});

/** A --from folder with a real PE (the stand-in) for every Windows component. */
async function windowsPayloads(dir: string): Promise<string> {
  const pe = await standinBinary({ goos: 'windows', goarch: 'amd64', format: 'pe' });
  for (const c of product.components.filter((x) => x.platforms.includes(WINDOWS_PLATFORM))) {
    const file = path.join(dir, WINDOWS_PLATFORM, exeName(c.binary, WINDOWS_PLATFORM));
    mkdirSync(path.dirname(file), { recursive: true });
    copyFileSync(pe, file);
  }
  return dir;
}

async function codeSigningKey(dir: string, password: string): Promise<{ p12: string; cert: string }> {
  const key = path.join(dir, 'k.pem');
  const cert = path.join(dir, 'c.pem');
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=authsig release test', '-addext', 'extendedKeyUsage=codeSigning']);
  const p12 = path.join(dir, 'k.p12');
  await execa('openssl', ['pkcs12', '-export', '-inkey', key, '-in', cert, '-out', p12, '-passout', 'env:P12PASS'], { env: { P12PASS: password } });
  return { p12, cert };
}

describe('a release build', () => {
  const release = (payloads: string, out: string, extra: string[] = [], targets = 'archive,msi') => ['build', '--config', ACME_YAML, '--version', VERSION, '--from', payloads, '--platform', WINDOWS_PLATFORM, '--target', targets, '--out', out, ...extra];

  it('refuses without a code-signing key, builds unsigned with --unsigned-windows, and signs with a key from the environment without leaking its password', async () => {
    const root = tempDir('sd-authsig-release-');
    const payloads = await windowsPayloads(path.join(root, 'payloads'));
    const before = digests(payloads);

    const refused = await runCli(release(payloads, path.join(root, 'refused')));
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/a release build Authenticode-signs the Windows files, but no code-signing key was given/);
    expect(refused.stderr).toContain(AUTHENTICODE_PKCS12_ENV);
    expect(refused.stderr).toContain('--unsigned-windows');
    expect(existsSync(path.join(root, 'refused', VERSION))).toBe(false);

    const unsigned = await runCli(release(payloads, path.join(root, 'unsigned'), ['--unsigned-windows']));
    expect(unsigned.exitCode, unsigned.stderr).toBe(0);
    const unsignedMsi = readdirSync(path.join(root, 'unsigned', VERSION)).find((f) => f.endsWith('.msi'))!;
    expect((await verifyAuthenticode(path.join(root, 'unsigned', VERSION, unsignedMsi), { caFile: SNAPSHOT_AUTHENTICODE.caFile })).ok).toBe(false);
    for (const pe of await shippedPes(path.join(root, 'unsigned', VERSION), path.join(root, 'xu'))) {
      expect((await verifyAuthenticode(pe, { caFile: SNAPSHOT_AUTHENTICODE.caFile })).ok).toBe(false);
    }
    // Without a CA for a release, verify cannot pass the Authenticode rows.
    const noCa = await runCli(['verify', '--config', ACME_YAML, '--out', path.join(root, 'unsigned')]);
    expect(noCa.exitCode).toBe(1);
    expect(verifyRows(noCa.stdout).every((r) => r.result === 'FAIL' && r.detail.includes('--authenticode-ca'))).toBe(true);

    const password = 'authsig release password 9c1e';
    const { p12, cert } = await codeSigningKey(path.join(root), password);
    const env = { [AUTHENTICODE_PKCS12_ENV]: readFileSync(p12).toString('base64'), [AUTHENTICODE_PASSWORD_ENV]: password };
    const signed = await runCli(release(payloads, path.join(root, 'signed')), { env });
    expect(signed.exitCode, signed.stderr).toBe(0);
    const dist = path.join(root, 'signed', VERSION);
    const v = await runCli(['verify', '--config', ACME_YAML, '--out', path.join(root, 'signed'), '--authenticode-ca', cert], { env });
    expect(v.exitCode, v.stdout + v.stderr).toBe(0);
    const rows = verifyRows(v.stdout);
    expect(rows.length).toBe(3); // two zips with one PE each, the MSI
    expect(rows.every((r) => r.detail.includes('CN=authsig release test') && r.detail.includes('Nov 14 22:13:20 2023 GMT'))).toBe(true);
    for (const pe of await shippedPes(dist, path.join(root, 'xs'))) expect((await verifyAuthenticode(pe, { caFile: cert })).ok, pe).toBe(true);

    // The password is in no output and no artifact; the user's payload files are untouched.
    for (const out of [signed.stdout, signed.stderr, v.stdout, v.stderr]) expect(out).not.toContain(password);
    for (const f of filesBelowSync(dist)) expect(readFileSync(path.join(dist, f)).includes(password), f).toBe(false);
    expect(digests(payloads)).toEqual(before);

    // A wrong password fails the build naming the file, never the password.
    const wrong = 'not the password 4d2f';
    const failed = await runCli(release(payloads, path.join(root, 'wrong')), { env: { ...env, [AUTHENTICODE_PASSWORD_ENV]: wrong } });
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toMatch(/Authenticode-signing \S+\.exe failed/);
    expect(failed.stdout + failed.stderr).not.toContain(wrong);
    expect(existsSync(path.join(root, 'wrong', VERSION))).toBe(false);
  });

  it('without osslsigncode: a release fails naming the install command, a snapshot ships unsigned with a one-line reason', async () => {
    const root = tempDir('sd-authsig-tool-');
    const payloads = await windowsPayloads(path.join(root, 'payloads'));
    // A PATH with the shell and Go (the snapshot's stand-ins) but no osslsigncode.
    const bin = path.join(root, 'bin');
    mkdirSync(bin);
    for (const tool of ['sh', 'go']) symlinkSync((await execa('sh', ['-c', `command -v ${tool}`])).stdout.trim(), path.join(bin, tool));
    const env = { PATH: bin, [AUTHENTICODE_PKCS12_ENV]: SNAPSHOT_AUTHENTICODE.pkcs12, [AUTHENTICODE_PASSWORD_ENV]: SNAPSHOT_AUTHENTICODE.password };
    const r = await runCli(release(payloads, path.join(root, 'release'), [], 'archive'), { env });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/Authenticode-signing the Windows files needs `osslsigncode`, which is not installed\n {2}hint: install it: apt-get install osslsigncode/);

    const s = await runCli(['build', '--snapshot', '--config', ACME_YAML, '--platform', WINDOWS_PLATFORM, '--target', 'archive', '--out', path.join(root, 'snapshot')], { env: { PATH: bin } });
    expect(s.exitCode, s.stderr).toBe(0);
    expect(s.stdout + s.stderr).toMatch(/skipping Authenticode signing: `osslsigncode` not installed, the Windows files are unsigned; install: apt-get install osslsigncode\n/);
    for (const pe of await shippedPes(path.join(root, 'snapshot', VERSION), path.join(root, 'x'))) expect((await verifyAuthenticode(pe, { caFile: SNAPSHOT_AUTHENTICODE.caFile })).ok).toBe(false);
  });
});
