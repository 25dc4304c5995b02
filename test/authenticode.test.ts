// Authenticode with the real osslsigncode: the stand-in .exe and a wixl-built MSI signed with the INSECURE
// snapshot pair (and with a PKCS#12 from the environment), verified against its CA; tampering fails; re-signing
// is byte-identical; the password never reaches argv.
import { execa } from 'execa';
import { copyFileSync, cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AUTHENTICODE_PASSWORD_ENV,
  AUTHENTICODE_PKCS12_ENV,
  AUTHENTICODE_TIMESTAMP_URL_ENV,
  AuthenticodeSigner,
  OSSLSIGNCODE_INSTALL,
  resolveAuthenticode,
  SNAPSHOT_AUTHENTICODE,
  verifyAuthenticode,
} from '../src/signing/authenticode.ts';
import { UserError } from '../src/errors.ts';
import { authenticodeForBuild, type AuthenticodeRequest } from '../src/build/windows-signing.ts';
import { WINDOWS_PLATFORM } from '../src/product/model.ts';
import type { PlannedArtifact } from '../src/targets/types.ts';
import { silentReporter } from '../src/util/progress.ts';
import { ACME_YAML, tempDir } from './helpers.ts';
import { loadProduct } from '../src/product/load.ts';
import { standinBinary } from './trust-helpers.ts';

const EPOCH = 1700000000;
const WINDOWS = { goos: 'windows', goarch: 'amd64', format: 'pe' } as const;

async function minimalMsi(dir: string, exe: string): Promise<string> {
  const wxs = path.join(dir, 'min.wxs');
  writeFileSync(
    wxs,
    `<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="0E8C2A51-7F3D-5B21-9C44-6A1D2E3F4B5C" Name="Trust" Language="1033" Version="1.0.0" Manufacturer="Test" UpgradeCode="1E8C2A51-7F3D-5B21-9C44-6A1D2E3F4B5C">
    <Package InstallerVersion="200" Compressed="yes" Id="2E8C2A51-7F3D-5B21-9C44-6A1D2E3F4B5C"/>
    <Media Id="1" Cabinet="p.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir"><Directory Id="ProgramFiles64Folder"><Directory Id="INSTALLDIR" Name="Trust">
      <Component Id="C" Guid="3E8C2A51-7F3D-5B21-9C44-6A1D2E3F4B5C" Win64="yes"><File Id="F" Name="app.exe" Source="${path.basename(exe)}" KeyPath="yes"/></Component>
    </Directory></Directory></Directory>
    <Feature Id="Main" Level="1"><ComponentRef Id="C"/></Feature>
  </Product>
</Wix>
`,
  );
  const msi = path.join(dir, 'min.msi');
  await execa('wixl', ['-a', 'x64', '-o', msi, wxs], { cwd: path.dirname(exe), env: { SOURCE_DATE_EPOCH: String(EPOCH) } });
  return msi;
}

describe('osslsigncode', () => {
  it('is installed in a version that signs with a pinned time (-time)', async () => {
    const r = await execa('osslsigncode', ['--version'], { reject: false });
    expect(r.stdout).toMatch(/^osslsigncode (\d+)\.(\d+)/);
    const [, major, minor] = /^osslsigncode (\d+)\.(\d+)/.exec(r.stdout)!;
    expect(Number(major) * 100 + Number(minor)).toBeGreaterThanOrEqual(205); // Debian 12's 2.5 and later
  });
});

describe('Authenticode with the INSECURE snapshot pair', () => {
  it('names the throwaway pair insecure', () => {
    expect(path.basename(SNAPSHOT_AUTHENTICODE.pkcs12)).toMatch(/^INSECURE-/);
    expect(readFileSync(SNAPSHOT_AUTHENTICODE.caFile, 'utf8')).toMatch(/BEGIN CERTIFICATE/);
  });

  it.each(['pe', 'msi'] as const)('signs a %s that verifies against the snapshot CA; a tampered copy fails; re-signing is byte-identical', async (kind) => {
    const dir = tempDir();
    const exe = path.join(dir, 'app.exe');
    copyFileSync(await standinBinary(WINDOWS), exe);
    const input = kind === 'pe' ? exe : await minimalMsi(dir, exe);
    const unsigned = await verifyAuthenticode(input, { caFile: SNAPSHOT_AUTHENTICODE.caFile });
    expect(unsigned.ok).toBe(false);

    const signer = await AuthenticodeSigner.open({ mode: 'throwaway' }, { sourceDateEpoch: EPOCH, description: 'Trust test', url: 'https://example.com' });
    try {
      expect(signer.throwaway).toBe(true);
      const a = path.join(dir, `a.${kind}`);
      const b = path.join(dir, `b.${kind}`);
      const builtA = await signer.sign(input, a);
      await signer.sign(input, b);
      expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
      expect(builtA.size).toBe(readFileSync(a).length);
      expect(await verifyAuthenticode(a, { caFile: SNAPSHOT_AUTHENTICODE.caFile })).toMatchObject({ ok: true, detail: 'signature verified', signer: expect.stringContaining('INSECURE snapshot code signing'), signingTime: 'Nov 14 22:13:20 2023 GMT' });

      // In place: the same bytes as signing to another path.
      const inPlace = path.join(dir, `in-place.${kind}`);
      copyFileSync(input, inPlace);
      await signer.sign(inPlace);
      expect(readFileSync(inPlace).equals(readFileSync(a))).toBe(true);

      // One byte changed inside the signed content.
      const tampered = path.join(dir, `tampered.${kind}`);
      const bytes = readFileSync(a);
      const at = kind === 'pe' ? 0x1000 : 3000;
      bytes[at] = bytes[at]! ^ 0xff;
      writeFileSync(tampered, bytes);
      const bad = await verifyAuthenticode(tampered, { caFile: SNAPSHOT_AUTHENTICODE.caFile });
      expect(bad.ok).toBe(false);
      expect(bad.detail).not.toBe('');

      // A different trust anchor (the system roots) does not accept the snapshot certificate.
      const systemCa = '/etc/ssl/certs/ca-certificates.crt';
      expect((await verifyAuthenticode(a, { caFile: systemCa })).ok).toBe(false);
    } finally {
      await signer.close();
    }
    // Nothing left behind: no temp outputs next to the files, no password directory.
    expect(readdirSync(dir).filter((f) => f.includes('.sign-'))).toEqual([]);
  });
});

describe('Authenticode with a key from the environment', () => {
  async function pkcs12(dir: string, password: string): Promise<string> {
    const key = path.join(dir, 'k.pem');
    const cert = path.join(dir, 'c.pem');
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=env key test', '-addext', 'extendedKeyUsage=codeSigning']);
    const p12 = path.join(dir, 'k.p12');
    await execa('openssl', ['pkcs12', '-export', '-inkey', key, '-in', cert, '-out', p12, '-passout', 'env:P12PASS'], { env: { P12PASS: password } });
    return p12;
  }

  it('signs with a PKCS#12 path or base64 and its password, never passing the password in argv', async () => {
    const dir = tempDir();
    const password = 'correct horse battery staple 42';
    const p12 = await pkcs12(dir, password);
    const exe = path.join(dir, 'app.exe');
    copyFileSync(await standinBinary(WINDOWS), exe);
    const fromPath = resolveAuthenticode({ snapshot: false, env: { [AUTHENTICODE_PKCS12_ENV]: p12, [AUTHENTICODE_PASSWORD_ENV]: password } });
    expect(fromPath).toMatchObject({ mode: 'key', pkcs12: { kind: 'file', path: p12 } });
    const fromBase64 = resolveAuthenticode({ snapshot: false, env: { [AUTHENTICODE_PKCS12_ENV]: readFileSync(p12).toString('base64'), [AUTHENTICODE_PASSWORD_ENV]: password } });
    expect(fromBase64).toMatchObject({ mode: 'key', pkcs12: { kind: 'inline' }, label: AUTHENTICODE_PKCS12_ENV });

    const outputs: Buffer[] = [];
    for (const mode of [fromPath, fromBase64]) {
      const signer = await AuthenticodeSigner.open(mode as Exclude<typeof mode, { mode: 'unsigned' }>, { sourceDateEpoch: EPOCH });
      // The command line osslsigncode runs with, as the OS shows it, must not hold the password.
      const out = path.join(dir, `signed-${outputs.length}.exe`);
      const argv = await withArgvLog(dir, 'osslsigncode', () => signer.sign(exe, out));
      expect(argv).toContain('-readpass');
      expect(argv).not.toContain(password);
      await signer.close();
      outputs.push(readFileSync(out));
    }
    expect(outputs[0]!.equals(outputs[1]!)).toBe(true);
    const cert = path.join(dir, 'c.pem');
    expect((await verifyAuthenticode(path.join(dir, 'signed-0.exe'), { caFile: cert })).ok).toBe(true);
  });

  it('a wrong password fails with a hint, and the message does not contain it', async () => {
    const dir = tempDir();
    const p12 = await pkcs12(dir, 'the right one');
    const exe = path.join(dir, 'app.exe');
    copyFileSync(await standinBinary(WINDOWS), exe);
    const wrong = 'the wrong passphrase 7';
    const signer = await AuthenticodeSigner.open({ mode: 'key', pkcs12: { kind: 'file', path: p12 }, password: wrong, label: 'test' }, { sourceDateEpoch: EPOCH });
    try {
      const err = await signer.sign(exe, path.join(dir, 'out.exe')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).message).toMatch(/Authenticode-signing app\.exe failed/);
      expect((err as UserError).message + (err as UserError).hint).not.toContain(wrong);
    } finally {
      await signer.close();
    }
    expect(readdirSync(dir).sort()).toEqual(['app.exe', 'c.pem', 'k.p12', 'k.pem']);
  });

  it('resolves: snapshot -> throwaway, release without a key -> refuse unless --unsigned-windows, bad values -> clear errors', () => {
    expect(resolveAuthenticode({ snapshot: true, env: {} })).toEqual({ mode: 'throwaway' });
    expect(resolveAuthenticode({ snapshot: false, unsignedWindows: true, env: {} })).toEqual({ mode: 'unsigned' });
    expect(() => resolveAuthenticode({ snapshot: false, env: {} })).toThrow(/no code-signing key was given/);
    expect(() => resolveAuthenticode({ snapshot: false, unsignedWindows: true, env: { [AUTHENTICODE_PKCS12_ENV]: '/x.p12' } })).toThrow(/contradicts/);
    const secret = 'not a key and not a file !!';
    const err = (() => {
      try {
        resolveAuthenticode({ snapshot: false, env: { [AUTHENTICODE_PKCS12_ENV]: secret } });
      } catch (e) {
        return e as UserError;
      }
    })();
    expect(err?.message).toMatch(/neither the path of a readable file nor a base64-encoded PKCS#12/);
    expect(err?.message).not.toContain(secret);
    expect(() => resolveAuthenticode({ snapshot: true, timestampUrl: 'ftp://x', env: {} })).toThrow(/not an http\(s\) URL/);
    // The time-stamping service: the flag, else the environment, else the definition (a real key only).
    const key = { [AUTHENTICODE_PKCS12_ENV]: SNAPSHOT_AUTHENTICODE.pkcs12 };
    const tsa = (o: { flag?: string; env?: string; def?: string }) =>
      (resolveAuthenticode({ snapshot: false, timestampUrl: o.flag, definitionTimestampUrl: o.def, env: { ...key, ...(o.env ? { [AUTHENTICODE_TIMESTAMP_URL_ENV]: o.env } : {}) } }) as { timestampUrl?: string }).timestampUrl;
    expect(tsa({ flag: 'http://flag.test', env: 'http://env.test', def: 'http://def.test' })).toBe('http://flag.test');
    expect(tsa({ env: 'http://env.test', def: 'http://def.test' })).toBe('http://env.test');
    expect(tsa({ def: 'http://def.test' })).toBe('http://def.test');
    expect(tsa({})).toBeUndefined();
  });
});

describe('release.authenticode.timestampUrl in the definition', () => {
  it('is read at load as an http(s) URL; anything else is refused naming the field', () => {
    const dir = tempDir();
    cpSync(path.dirname(ACME_YAML), dir, { recursive: true });
    const file = path.join(dir, 'acme.yaml');
    const text = readFileSync(file, 'utf8');
    const withTsa = (url: string) => text.replace(/^release:\n/m, `release:\n  authenticode: { timestampUrl: '${url}' }\n`);
    writeFileSync(file, withTsa('http://timestamp.example.com/rfc3161'));
    expect(loadProduct(file).def.release.authenticode?.timestampUrl).toBe('http://timestamp.example.com/rfc3161');
    writeFileSync(file, withTsa('ftp://timestamp.example.com'));
    expect(() => loadProduct(file)).toThrow(/acme\.yaml:\d+:\d+: release\.authenticode\.timestampUrl: "ftp:\/\/timestamp\.example\.com" must be an http\(s\) URL/);
  });
});

/** Runs `fn` with a logging wrapper for `tool` first on PATH; returns the arguments the tool was given. */
async function withArgvLog(dir: string, tool: string, fn: () => Promise<unknown>): Promise<string> {
  const bin = path.join(dir, 'argv-log-bin');
  const log = path.join(dir, 'argv.log');
  const real = (await execa('sh', ['-c', `command -v ${tool}`])).stdout.trim();
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, tool), `#!/bin/sh\nprintf '%s\\n' "$@" >> '${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved}`;
  try {
    await fn();
  } finally {
    process.env.PATH = saved;
  }
  return readFileSync(log, 'utf8');
}

describe("a build's Authenticode decision (authenticodeForBuild)", () => {
  const acme = loadProduct(ACME_YAML);
  const windowsZip = { id: 'archive:x.zip', role: 'archive', scope: 'local', platform: WINDOWS_PLATFORM, inputs: [], path: 'x.zip', target: 'archive' } as unknown as PlannedArtifact;
  const linuxDeb = { ...windowsZip, id: 'deb:x.deb', platform: 'linux-amd64', path: 'x.deb' } as PlannedArtifact;
  const decide = (o: { building: PlannedArtifact[]; snapshot: boolean; request?: AuthenticodeRequest; env?: NodeJS.ProcessEnv; osslsigncode?: boolean }) => {
    const warnings: string[] = [];
    const probed: string[] = [];
    const report = { ...silentReporter, warn: (l: string) => warnings.push(l) };
    const probe = (cmd: string) => (probed.push(cmd), o.osslsigncode ?? true);
    const mode = authenticodeForBuild({ building: o.building, request: o.request, product: acme, snapshot: o.snapshot, report, env: o.env ?? {}, probe });
    return { mode, warnings, probed };
  };
  const key = { [AUTHENTICODE_PKCS12_ENV]: SNAPSHOT_AUTHENTICODE.pkcs12, [AUTHENTICODE_PASSWORD_ENV]: SNAPSHOT_AUTHENTICODE.password };

  it('needs no key and no tool when nothing Windows is built; records only --unsigned-windows', () => {
    expect(decide({ building: [linuxDeb], snapshot: false })).toEqual({ mode: undefined, warnings: [], probed: [] });
    expect(decide({ building: [linuxDeb], snapshot: false, request: { unsignedWindows: true } }).mode).toEqual({ mode: 'unsigned' });
  });
  it('snapshot: the INSECURE pair with osslsigncode; without it unsigned, with one warning line naming the install command', () => {
    expect(decide({ building: [windowsZip], snapshot: true })).toEqual({ mode: { mode: 'throwaway' }, warnings: [], probed: ['osslsigncode'] });
    const missing = decide({ building: [windowsZip], snapshot: true, osslsigncode: false });
    expect(missing.mode).toEqual({ mode: 'unsigned' });
    expect(missing.warnings).toEqual([`skipping Authenticode signing: \`osslsigncode\` not installed, the Windows files are unsigned; install: ${OSSLSIGNCODE_INSTALL}`]);
  });
  it('release: refuses without a key unless --unsigned-windows (then no tool is needed); with a key, refuses without osslsigncode', () => {
    expect(() => decide({ building: [windowsZip, linuxDeb], snapshot: false })).toThrow(/no code-signing key was given/);
    expect(decide({ building: [windowsZip], snapshot: false, request: { unsignedWindows: true }, osslsigncode: false })).toEqual({ mode: { mode: 'unsigned' }, warnings: [], probed: [] });
    expect(decide({ building: [windowsZip], snapshot: false, env: key, request: { timestampUrl: 'http://tsa.example' } }).mode).toMatchObject({ mode: 'key', timestampUrl: 'http://tsa.example' });
    expect(() => decide({ building: [windowsZip], snapshot: false, env: key, osslsigncode: false })).toThrow(/needs `osslsigncode`, which is not installed/);
  });
});
