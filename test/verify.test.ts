// `verify` on a real build (snapshot of the second product, signed with a passphrase-protected key from the
// environment), then on copies with a broken unit, plist and package: one table, exit 1 on any FAIL. Also
// proves no key material reaches stdout/stderr or the artifacts.
import { execa } from 'execa';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingTools } from '../src/verify/checks.ts';
import { formatVerifyTable } from '../src/verify/index.ts';
import { ACME_YAML, runCli, type CliResult } from './helpers.ts';
import { makeKey, type TestKey } from './repo-helpers.ts';

const VERSION = '2.4.0';
let tmp: string;
let key: TestKey;
let dist: string;
let build: CliResult;
let verify: CliResult;

const PASSPHRASE = 'verify-test passphrase 7f3a';

/** Lines of the armored secret key that the public key does not share (base64), none of which may ever be printed or written. */
function secretLines(k: TestKey): string[] {
  const pub = readFileSync(k.publicAsc, 'utf8');
  return k.armored.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l) && !pub.includes(l));
}

function rowsOf(stdout: string): { check: string; artifact: string; result: string; detail: string }[] {
  const lines = stdout.split('\n');
  const head = lines.findIndex((l) => l.startsWith('CHECK'));
  const cols = ['ARTIFACT', 'RESULT', 'DETAIL'].map((c) => lines[head]!.indexOf(c));
  return lines
    .slice(head + 1)
    .filter((l) => l && !l.startsWith('all '))
    .map((l) => ({ check: l.slice(0, cols[0]).trim(), artifact: l.slice(cols[0], cols[1]).trim(), result: l.slice(cols[1], cols[2]).trim(), detail: l.slice(cols[2]).trim() }));
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sd-verify-test-'));
  key = await makeKey(tmp, 'release', PASSPHRASE);
  dist = path.join(tmp, 'dist');
  const env = { STIGMER_DIST_SIGNING_KEY: key.armored, STIGMER_DIST_SIGNING_PASSPHRASE: PASSPHRASE };
  build = await runCli(['build', '--snapshot', '--config', ACME_YAML, '--out', dist], { env });
  verify = await runCli(['verify', '--config', ACME_YAML, '--out', dist]);
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('verify on a built dist', () => {
  it('reports one table with every check passing', () => {
    expect(build.exitCode, build.stderr).toBe(0);
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^CHECK +ARTIFACT +RESULT +DETAIL\n/);
    const rows = rowsOf(verify.stdout);
    expect(rows.every((r) => r.result === 'ok'), verify.stdout).toBe(true);
    const checks = new Set(rows.map((r) => r.check));
    for (const c of ['dpkg-deb', 'lintian', 'rpm -qp', 'rpmlint', 'shellcheck', 'systemd-analyze', 'plistutil', 'ruby -c', 'apt-repo signature', 'apt-repo indexes', 'yum-repo signature', 'yum-repo packages']) {
      expect(checks, c).toContain(c);
    }
    // Maintainer scripts come out of the packages; units are checked as shipped, with the package's binaries.
    expect(rows.filter((r) => r.check === 'shellcheck').map((r) => r.artifact)).toEqual(expect.arrayContaining([`acme_${VERSION}-1_amd64.deb:postinst`, `acme-${VERSION}-1.x86_64.rpm:%post`]));
    expect(rows.find((r) => r.artifact === `acme_${VERSION}-1_amd64.deb:/usr/lib/systemd/system`)?.detail).toMatch(/units verified, no output \(\d+ Exec binaries from the package\)/);
    // The repositories are signed with the key from the environment.
    expect(rows.find((r) => r.check === 'apt-repo signature')!.detail).toContain(key.fingerprint);
    expect(verify.stdout).toMatch(/\nall \d+ checks passed$/);
  });

  it('fails on a broken unit file and a broken plist, naming them in the table', async () => {
    const broken = path.join(tmp, 'broken');
    mkdirSync(path.join(broken, VERSION), { recursive: true });
    for (const d of ['systemd', 'launchd', 'plan.json']) cpSync(path.join(dist, VERSION, d), path.join(broken, VERSION, d), { recursive: true });
    const unit = path.join(broken, VERSION, 'systemd/system/acme-relayd.service');
    writeFileSync(unit, readFileSync(unit, 'utf8').replace(/^Restart=/m, 'Restrat='));
    const plist = path.join(broken, VERSION, 'launchd/LaunchDaemons/org.example.acme.acme-relayd.plist');
    writeFileSync(plist, readFileSync(plist, 'utf8').replace(/<\/dict>\s*<\/plist>\s*$/, ''));
    const r = await runCli(['verify', '--config', ACME_YAML, '--out', broken]);
    expect(r.exitCode).toBe(1);
    const rows = rowsOf(r.stdout);
    const unitRow = rows.find((x) => x.artifact === 'systemd/system/')!;
    expect(unitRow).toMatchObject({ check: 'systemd-analyze', result: 'FAIL' });
    // systemd-analyze exits 0 on an unknown key: only its stderr gives it away.
    expect(unitRow.detail).toMatch(/acme-relayd\.service:\d+: Unknown key 'Restrat' in section \[Service\]/);
    expect(rows.find((x) => x.artifact === 'systemd/user/')!.result).toBe('ok');
    expect(rows.find((x) => x.artifact.endsWith('LaunchDaemons/org.example.acme.acme-relayd.plist'))!.result).toBe('FAIL');
    expect(rows.filter((x) => x.result === 'FAIL')).toHaveLength(2);
    expect(r.stderr).toMatch(/error: 2 of \d+ checks failed/);
  });

  it('fails when a package ships a unit whose ExecStart binary it does not ship', async () => {
    const broken = path.join(tmp, 'broken-deb');
    const out = path.join(broken, VERSION);
    mkdirSync(out, { recursive: true });
    const deb = `acme_${VERSION}-1_amd64.deb`;
    const tree = path.join(tmp, 'deb-tree');
    await execa('dpkg-deb', ['-R', path.join(dist, VERSION, deb), tree]);
    rmSync(path.join(tree, 'usr/bin/relayd'));
    writeFileSync(path.join(tree, 'DEBIAN/md5sums'), readFileSync(path.join(tree, 'DEBIAN/md5sums'), 'utf8').replace(/^.* usr\/bin\/relayd\n/m, ''));
    await execa('dpkg-deb', ['--root-owner-group', '-b', tree, path.join(out, deb)]);
    const r = await runCli(['verify', '--config', ACME_YAML, '--out', broken]);
    expect(r.exitCode).toBe(1);
    const row = rowsOf(r.stdout).find((x) => x.artifact === `${deb}:/usr/lib/systemd/system`)!;
    expect(row.result).toBe('FAIL');
    expect(row.detail).toMatch(/not shipped by the package: \/usr\/bin\/relayd/);
  });

  it('names the install command of a missing tool in a failed row', () => {
    const row = missingTools('lintian', 'x.deb', ['lintian', 'no-such-tool-xyz'])!;
    expect(row).toMatchObject({ ok: false, check: 'lintian', artifact: 'x.deb' });
    expect(row.detail).toBe('`no-such-tool-xyz` not installed: no-such-tool-xyz');
    expect(missingTools('rpmlint', 'y.rpm', ['rpm', 'sh'])).toBeUndefined();
    expect(formatVerifyTable([{ check: 'c', artifact: 'a', ok: false, detail: 'd' }])).toBe('CHECK  ARTIFACT  RESULT  DETAIL\nc      a         FAIL    d');
  });

  it('refuses a missing dist with a hint', async () => {
    const r = await runCli(['verify', '--config', ACME_YAML, '--out', path.join(tmp, 'nothing-here')]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/nothing to verify: .*nothing-here\/2\.4\.0 does not exist\n {2}hint: run `stigmer-dist build` first/);
  });
});

describe('signing key handling on the command line', () => {
  it('never prints the key or its passphrase, and never writes them into an artifact', () => {
    const printed = [build.stdout, build.stderr, verify.stdout, verify.stderr].join('\n');
    expect(printed).not.toContain(PASSPHRASE);
    for (const line of secretLines(key)) expect(printed).not.toContain(line);
    const files = (readdirSync(dist, { recursive: true, encoding: 'utf8' }) as string[]).map((f) => path.join(dist, f)).filter((f) => statSync(f).isFile());
    expect(files.length).toBeGreaterThan(20);
    const probes = [PASSPHRASE, 'PRIVATE KEY', ...secretLines(key)];
    expect(secretLines(key).length).toBeGreaterThan(10);
    for (const f of files) {
      const data = readFileSync(f).toString('latin1');
      for (const p of probes) expect(data.includes(p), `${p.slice(0, 12)}… in ${f}`).toBe(false);
    }
  });

  it('a wrong passphrase, an unreadable key file and conflicting flags fail before anything is written', async () => {
    const out = path.join(tmp, 'refused');
    const wrong = await runCli(['build', '--snapshot', '--config', ACME_YAML, '--out', out, '--target', 'apt-repo'], {
      env: { STIGMER_DIST_SIGNING_KEY: key.secretFile, STIGMER_DIST_SIGNING_PASSPHRASE: 'wrong-pass-91c2' },
    });
    expect(wrong.exitCode).toBe(3);
    expect(wrong.stderr).toMatch(/STIGMER_DIST_SIGNING_KEY \(a file path\): the secret key is protected by a passphrase and STIGMER_DIST_SIGNING_PASSPHRASE is not it/);
    const missing = await runCli(['build', '--snapshot', '--config', ACME_YAML, '--out', out, '--target', 'apt-repo', '--signing-key', path.join(tmp, 'no-such-key.asc')]);
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toMatch(/--signing-key .*no-such-key\.asc: cannot read the signing key \(no such file\)\n {2}hint: pass --signing-key FILE, or set STIGMER_DIST_SIGNING_KEY/);
    const both = await runCli(['build', '--snapshot', '--config', ACME_YAML, '--out', out, '--target', 'apt-repo', '--unsigned', '--signing-key', key.secretFile]);
    expect(both.exitCode).toBe(2);
    for (const r of [wrong, missing, both]) {
      for (const line of secretLines(key)) expect(r.stdout + r.stderr).not.toContain(line);
      expect(r.stdout + r.stderr).not.toContain('wrong-pass-91c2');
    }
    expect(readdirSync(tmp)).not.toContain('refused');
  });
});
