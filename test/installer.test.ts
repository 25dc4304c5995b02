// The installer scripts (src/targets/installer): shellcheck, a real install.sh run on this host against a
// release served on loopback (prefix and HOME in temp dirs, a recording `systemctl` on PATH), refusal of a
// tampered archive and of a machine without a SHA-256 tool, and a structural parse of install.ps1 (pwsh is not
// in Debian, so PSScriptAnalyzer cannot run here). Golden files of both scripts: test/render.test.ts.
import { execa } from 'execa';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProduct } from '../src/product/load.ts';
import { makePlan } from '../src/plan/plan.ts';
import { INSTALL_PS1, INSTALL_SH, renderInstallPs1, renderInstallSh } from '../src/targets/installer/index.ts';
import { mapVersion } from '../src/version.ts';
import { serveDirectory, type StaticServer } from '../src/verify/install/http.ts';
import { ACME_YAML, STIGMER_YAML, runCli, tempDir } from './helpers.ts';

const products = [
  { label: 'stigmer', file: STIGMER_YAML },
  { label: 'acme', file: ACME_YAML },
];

describe.each(products)('$label installer scripts', ({ file }) => {
  const product = loadProduct(file);
  const versions = mapVersion('1.2.3-rc.1');

  it('install.sh is shellcheck-clean (POSIX sh, every check enabled), with a pinned release key and unsigned', async () => {
    for (const fingerprint of ['0123456789ABCDEF0123456789ABCDEF01234567', undefined]) {
      const dir = tempDir();
      const script = path.join(dir, INSTALL_SH);
      writeFileSync(script, renderInstallSh(product, versions, [...product.platforms], fingerprint));
      const r = await execa('shellcheck', ['--shell=sh', '--enable=all', '--exclude=SC2250,SC2312', script], { reject: false });
      expect(r.stdout + r.stderr, String(fingerprint)).toBe('');
      expect(r.exitCode).toBe(0);
    }
  });

  it('install.ps1 parses: strings, here-strings, comments and brackets are balanced', () => {
    expect(psStructureErrors(renderInstallPs1(product, versions, [...product.platforms]))).toEqual([]);
  });

  it('both scripts are release assets listed before SHA256SUMS is built', () => {
    const plan = makePlan(product, { version: versions.semver, snapshot: false });
    const order = plan.artifacts.map((a) => a.path);
    for (const p of [INSTALL_SH, INSTALL_PS1]) {
      expect(plan.artifacts.find((a) => a.path === p)).toMatchObject({ role: 'installer', target: 'installer', release: true });
      expect(order.indexOf(p)).toBeLessThan(order.indexOf('SHA256SUMS'));
    }
  });

  it('embeds every service with the prefix placeholder and nothing of another product', () => {
    const sh = renderInstallSh(product, versions, [...product.platforms]);
    for (const s of product.services) {
      expect(sh).toContain(`ExecStart=@BINDIR@/${s.binary}`);
      expect(sh).toContain(`<string>@BINDIR@/${s.binary}</string>`);
    }
    expect(sh).not.toMatch(/ExecStart=%h/);
    const other = product.meta.name === 'stigmer' ? 'acme' : 'stigmer';
    expect(sh.toLowerCase().replaceAll('stigmer-dist', '')).not.toContain(other);
  });
});

/** A small PowerShell lexer: reports unterminated strings/here-strings and unbalanced (), {}, [] and @( ). */
export function psStructureErrors(text: string): string[] {
  const errors: string[] = [];
  const stack: { ch: string; line: number }[] = [];
  const pairs: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  let line = 1;
  let i = 0;
  const at = () => `line ${line}`;
  // Scans a double-quoted string body starting after the opening quote; handles `escapes and $( ) nesting.
  const dq = (): void => {
    while (i < text.length) {
      const c = text[i]!;
      if (c === '\n') line++;
      if (c === '`') {
        i += 2;
        continue;
      }
      if (c === '"') {
        if (text[i + 1] === '"') {
          i += 2;
          continue;
        }
        i++;
        return;
      }
      if (c === '$' && text[i + 1] === '(') {
        i += 2;
        code(')');
        continue;
      }
      i++;
    }
    errors.push(`unterminated double-quoted string (${at()})`);
  };
  const code = (until?: string): void => {
    const depth = stack.length;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '\n') {
        line++;
        i++;
      } else if (c === '#') {
        while (i < text.length && text[i] !== '\n') i++;
      } else if (c === '<' && text[i + 1] === '#') {
        const end = text.indexOf('#>', i + 2);
        if (end < 0) return void errors.push(`unterminated block comment (${at()})`);
        line += text.slice(i, end).split('\n').length - 1;
        i = end + 2;
      } else if (c === '@' && (text[i + 1] === "'" || text[i + 1] === '"') && text[i + 2] === '\n') {
        const close = `\n${text[i + 1]}@`;
        const end = text.indexOf(close, i + 3);
        if (end < 0) return void errors.push(`unterminated here-string (${at()})`);
        line += text.slice(i, end + 1).split('\n').length - 1;
        i = end + close.length;
      } else if (c === "'") {
        i++;
        for (;;) {
          if (i >= text.length) return void errors.push(`unterminated single-quoted string (${at()})`);
          if (text[i] === '\n') line++;
          if (text[i] === "'") {
            if (text[i + 1] === "'") i += 2;
            else break;
          } else i++;
        }
        i++;
      } else if (c === '"') {
        i++;
        dq();
      } else if (c === '`') {
        i += 2;
      } else if ('({['.includes(c)) {
        stack.push({ ch: c, line });
        i++;
      } else if (')}]'.includes(c)) {
        if (until === c && stack.length === depth) {
          i++;
          return;
        }
        const open = stack.pop();
        if (!open || open.ch !== pairs[c]) errors.push(`unbalanced "${c}" (${at()})${open ? ` closes "${open.ch}" from line ${open.line}` : ''}`);
        i++;
      } else {
        i++;
      }
    }
    if (until) errors.push(`unterminated $( ) subexpression (${at()})`);
  };
  code();
  for (const open of stack) errors.push(`unclosed "${open.ch}" from line ${open.line}`);
  return errors;
}

describe('psStructureErrors', () => {
  it('accepts valid PowerShell and catches broken strings and brackets', () => {
    expect(psStructureErrors(`$a = @('x''y', "z $($b.c) \`"q")\n$h = @'\n'unbalanced ( in here\n'@\nif ($a) { Write-Host "}" } # } comment`)).toEqual([]);
    expect(psStructureErrors(`$a = 'open`)).toEqual(['unterminated single-quoted string (line 1)']);
    expect(psStructureErrors(`if ($a) { foo(`)).toHaveLength(2);
    expect(psStructureErrors(`"$(foo"`)).not.toEqual([]);
  });
});

// install.sh run for real on this host: a loopback server serves a snapshot release for linux-amd64.
describe('install.sh against a release on loopback', () => {
  let out: string;
  let dist: string;
  let srv: StaticServer;
  const product = loadProduct(STIGMER_YAML);

  beforeAll(async () => {
    out = mkdtempSync(path.join(os.tmpdir(), 'sd-installer-'));
    // linux-amd64 runs here; darwin-arm64 is installed with a fake uname and launchctl (files and plists only).
    const r = await runCli(['build', '--snapshot', '-p', 'linux-amd64,darwin-arm64', '-t', 'archive,installer,checksums,checksums-signature', '--version', '0.1.0', '--out', out]);
    if (r.exitCode !== 0) throw new Error(`snapshot build failed:\n${r.stderr}`);
    dist = path.join(out, '0.1.0');
    srv = await serveDirectory(dist);
  });
  afterAll(async () => {
    await srv?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  /** HOME, prefix and a bin dir of fakes in a temp dir; install.sh from the served release. */
  function sandbox() {
    const dir = tempDir('sd-install-run-');
    const home = path.join(dir, 'home');
    const fake = path.join(dir, 'fakebin');
    mkdirSync(home);
    mkdirSync(fake);
    const log = path.join(dir, 'systemctl.log');
    // A recording systemctl (the host has no user manager); loginctl says lingering is on.
    writeFileSync(path.join(fake, 'systemctl'), `#!/bin/sh\necho "$*" >>'${log}'\nexit 0\n`);
    writeFileSync(path.join(fake, 'loginctl'), '#!/bin/sh\necho yes\n');
    chmodSync(path.join(fake, 'systemctl'), 0o755);
    chmodSync(path.join(fake, 'loginctl'), 0o755);
    /** Pretends to be a Mac (Apple Silicon) with a recording launchctl. */
    const asMac = () => {
      writeFileSync(path.join(fake, 'uname'), '#!/bin/sh\ncase $1 in -s) echo Darwin ;; -m) echo arm64 ;; *) exit 1 ;; esac\n');
      writeFileSync(path.join(fake, 'launchctl'), `#!/bin/sh\necho "$*" >>'${log}'\nexit 0\n`);
      chmodSync(path.join(fake, 'uname'), 0o755);
      chmodSync(path.join(fake, 'launchctl'), 0o755);
    };
    const run = (args: string[], opts: { path?: string; script?: string } = {}) =>
      execa('sh', [opts.script ?? path.join(dist, INSTALL_SH), ...args], {
        reject: false,
        extendEnv: false,
        env: { HOME: home, PATH: opts.path ?? `${fake}:${process.env.PATH}`, LANG: 'C.UTF-8' },
        cwd: dir,
      });
    return { dir, home, fake, log, run, asMac, prefix: path.join(dir, 'prefix') };
  }

  const filesBelow = (dir: string): string[] =>
    existsSync(dir) ? (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => statSync(path.join(dir, f)).isFile()).sort() : [];

  it('is built executable and listed in the release\'s SHA256SUMS', () => {
    expect(statSync(path.join(dist, INSTALL_SH)).mode & 0o777).toBe(0o755);
    expect(readFileSync(path.join(dist, 'SHA256SUMS'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}install\.sh$/m);
  });

  it('installs, registers the user units for the prefix, upgrades in place and uninstalls to the env file alone', async () => {
    const box = sandbox();
    const first = await box.run(['--base-url', srv.url, '--prefix', box.prefix]);
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    const bins = product.components.map((c) => `bin/${c.binary}`);
    expect(filesBelow(box.prefix)).toEqual([...bins, 'share/doc/stigmer/LICENSE', 'share/stigmer/installed-files'].sort());
    const v = await execa(path.join(box.prefix, 'bin/stigmer'), ['--version']);
    expect(v.stdout).toContain('0.1.0');

    // The env file: the secrets' template, readable by the user only.
    const envFile = path.join(box.home, '.config/stigmer/stigmer.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, 'utf8')).toContain('#STIGMER_AUTH_TOKEN=');

    // User units point at the prefix, and systemd accepts them.
    const unitDir = path.join(box.home, '.config/systemd/user');
    expect(readdirSync(unitDir).sort()).toEqual([...product.services.map((s) => `${s.name}.service`), 'stigmer.target'].sort());
    const unit = readFileSync(path.join(unitDir, 'stigmer-server.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${box.prefix}/bin/stigmer-server serve`);
    const runtime = path.join(box.dir, 'run');
    mkdirSync(runtime, { mode: 0o700 });
    const verify = await execa('systemd-analyze', ['--user', 'verify', '--man=no', ...readdirSync(unitDir).map((u) => path.join(unitDir, u))], {
      reject: false,
      env: { SYSTEMD_LOG_LEVEL: 'notice', XDG_RUNTIME_DIR: runtime, HOME: box.home },
    });
    expect({ exitCode: verify.exitCode, out: verify.stdout + verify.stderr }).toEqual({ exitCode: 0, out: '' });
    expect(readFileSync(box.log, 'utf8').split('\n')).toEqual(['--user show-environment', '--user daemon-reload', '--user --quiet enable --now stigmer.target', '']);

    // Re-run: an upgrade in place restarts the services; the user's env file edits are kept.
    writeFileSync(envFile, 'STIGMER_AUTH_TOKEN=kept\n');
    writeFileSync(box.log, '');
    const again = await box.run(['--base-url', srv.url, '--prefix', box.prefix]);
    expect(again.exitCode).toBe(0);
    expect(readFileSync(box.log, 'utf8')).toContain('--user restart stigmer.target');
    expect(readFileSync(envFile, 'utf8')).toBe('STIGMER_AUTH_TOKEN=kept\n');

    const un = await box.run(['--uninstall', '--prefix', box.prefix]);
    expect(un.exitCode).toBe(0);
    expect(readFileSync(box.log, 'utf8')).toContain('--user disable --now stigmer.target');
    expect(existsSync(box.prefix) ? readdirSync(box.prefix) : []).toEqual([]);
    expect(filesBelow(box.home)).toEqual(['.config/stigmer/stigmer.env']);

    const purge = await box.run(['--uninstall', '--purge', '--prefix', box.prefix]);
    expect(purge.exitCode).toBe(0);
    expect(filesBelow(box.home)).toEqual([]);
  });

  it('refuses a tampered archive and installs nothing', async () => {
    const box = sandbox();
    const tampered = path.join(box.dir, 'release');
    mkdirSync(tampered);
    for (const f of readdirSync(dist)) if (statSync(path.join(dist, f)).isFile()) copyFileSync(path.join(dist, f), path.join(tampered, f));
    const victim = readdirSync(tampered).find((f) => f.startsWith('stigmer-server_linux_amd64_') && f.endsWith('.tar.gz'))!;
    const bytes = readFileSync(path.join(tampered, victim));
    bytes[bytes.length - 10]! ^= 0xff;
    writeFileSync(path.join(tampered, victim), bytes);
    const evil = await serveDirectory(tampered);
    try {
      const r = await box.run(['--base-url', evil.url, '--prefix', box.prefix]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: checksum mismatch for ${victim.replace(/\./g, '\\.')}: expected [0-9a-f]{64}, got [0-9a-f]{64}\n  hint: .*nothing was installed`));
      expect(existsSync(box.prefix)).toBe(false);
      expect(filesBelow(box.home)).toEqual([]);
      expect(existsSync(box.log)).toBe(false);
    } finally {
      await evil.close();
    }
  });

  /** A copy of the served release in the sandbox, served on its own port. */
  async function serveCopy(box: ReturnType<typeof sandbox>, change: (dir: string) => void) {
    const copy = path.join(box.dir, 'release');
    mkdirSync(copy);
    for (const f of readdirSync(dist)) if (statSync(path.join(dist, f)).isFile()) copyFileSync(path.join(dist, f), path.join(copy, f));
    change(copy);
    return serveDirectory(copy);
  }

  /** A PATH holding every tool the script uses, except the ones named. */
  async function pathWithout(box: ReturnType<typeof sandbox>, missing: string[]): Promise<string> {
    const bin = path.join(box.dir, 'minimal-bin');
    mkdirSync(bin);
    for (const tool of ['sh', 'uname', 'curl', 'tar', 'gzip', 'awk', 'cut', 'mktemp', 'rm', 'mkdir', 'cp', 'mv', 'find', 'sed', 'sort', 'grep', 'dirname', 'chmod', 'cat', 'id', 'pwd', 'sha256sum', 'gpgv', 'systemctl', 'loginctl']) {
      if (missing.includes(tool)) continue;
      const real = (await execa('sh', ['-c', `command -v ${tool}`], { env: { PATH: `${box.fake}:${process.env.PATH}` } })).stdout.trim();
      symlinkSync(real, path.join(bin, tool));
    }
    return bin;
  }

  it('pins no key when the build does not sign SHA256SUMS (checksums-signature not selected), though it has a key', async () => {
    const out = tempDir();
    const r = await runCli(['build', '--snapshot', '-p', 'linux-amd64', '-t', 'archive,installer,checksums', '--version', '0.1.0', '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    const script = readFileSync(path.join(out, '0.1.0', INSTALL_SH), 'utf8');
    expect(script).toMatch(/^RELEASE_KEY_FPR=$/m);
    expect(existsSync(path.join(out, '0.1.0', 'SHA256SUMS.asc'))).toBe(false);
  });

  it('verifies SHA256SUMS with gpgv against the pinned release key before trusting any checksum', async () => {
    const sums = readFileSync(path.join(dist, 'SHA256SUMS'), 'utf8');
    // The key files are release assets; the signature and the keys vouch for SHA256SUMS, so it does not list them.
    expect(existsSync(path.join(dist, 'SHA256SUMS.asc')) && existsSync(path.join(dist, 'stigmer-release-key.asc')) && existsSync(path.join(dist, 'stigmer-release-key.gpg'))).toBe(true);
    expect(sums).not.toMatch(/SHA256SUMS\.asc|release-key/);
    // install.sh pins the fingerprint of exactly the key that signed (gpgv's own verdict, with the binary key).
    const pinned = /^RELEASE_KEY_FPR=([0-9A-F]{40})$/m.exec(readFileSync(path.join(dist, INSTALL_SH), 'utf8'))?.[1];
    const status = await execa('gpgv', ['--status-fd', '1', '--keyring', path.join(dist, 'stigmer-release-key.gpg'), path.join(dist, 'SHA256SUMS.asc'), path.join(dist, 'SHA256SUMS')], { reject: false });
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^\\[GNUPG:\\] VALIDSIG \\S+(?: \\S+){8} ${pinned}$`, 'm'));

    const box = sandbox();
    const r = await box.run(['--base-url', srv.url, '--prefix', box.prefix, '--no-services', '--require-signature']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`verified the signature of SHA256SUMS (release key ${pinned})`);
  });

  it('refuses a release whose SHA256SUMS lists tampered archives (valid checksums, bad signature) and installs nothing', async () => {
    const box = sandbox();
    const evil = await serveCopy(box, (dir) => {
      const victim = readdirSync(dir).find((f) => f.startsWith('stigmer-server_') && f.includes('linux_amd64') && f.endsWith('.tar.gz'))!;
      const bytes = readFileSync(path.join(dir, victim));
      bytes[bytes.length - 10]! ^= 0xff;
      writeFileSync(path.join(dir, victim), bytes);
      // The attacker rewrites SHA256SUMS to match; the signature stays the release key's signature of the old one.
      const digest = createHash('sha256').update(bytes).digest('hex');
      const sums = readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8').replace(new RegExp(`^[0-9a-f]{64}(  ${victim.replace(/\./g, '\\.')})$`, 'm'), `${digest}$1`);
      writeFileSync(path.join(dir, 'SHA256SUMS'), sums);
    });
    try {
      const before = evil.requests.length;
      const r = await box.run(['--base-url', evil.url, '--prefix', box.prefix]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/^error: the signature of SHA256SUMS does not verify against the release key [0-9A-F]{40}\n  hint: .*nothing was installed/);
      // No archive was even downloaded: SHA256SUMS, its signature and the key only.
      expect(evil.requests.slice(before).map((q) => path.posix.basename(q.path)).sort()).toEqual(['SHA256SUMS', 'SHA256SUMS.asc', 'stigmer-release-key.gpg']);
      expect(existsSync(box.prefix)).toBe(false);
      expect(filesBelow(box.home)).toEqual([]);
      expect(existsSync(box.log)).toBe(false);
    } finally {
      await evil.close();
    }
  });

  it('refuses a signature by another key offered with that key', async () => {
    const box = sandbox();
    const other = path.join(box.dir, 'other-gnupg');
    mkdirSync(other, { mode: 0o700 });
    const gpg = (args: string[]) => execa('gpg', ['--batch', '--homedir', other, '--pinentry-mode', 'loopback', '--passphrase', '', ...args]);
    await gpg(['--quick-generate-key', 'Mallory <m@example.org>', 'ed25519', 'sign', 'never']);
    const evil = await serveCopy(box, () => {});
    try {
      const dir = path.join(box.dir, 'release');
      await gpg(['--yes', '--armor', '--output', path.join(dir, 'SHA256SUMS.asc'), '--detach-sign', path.join(dir, 'SHA256SUMS')]);
      await gpg(['--yes', '--output', path.join(dir, 'stigmer-release-key.gpg'), '--export']);
      const r = await box.run(['--base-url', evil.url, '--prefix', box.prefix]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/^error: the signature of SHA256SUMS does not verify against the release key/);
      expect(existsSync(box.prefix)).toBe(false);
    } finally {
      await evil.close();
      await execa('gpgconf', ['--homedir', other, '--kill', 'all'], { reject: false });
    }
  });

  it('without gpgv: --require-signature refuses before downloading anything; otherwise one warning line', async () => {
    const box = sandbox();
    const bin = await pathWithout(box, ['gpgv']);
    const before = srv.requests.length;
    const refused = await box.run(['--base-url', srv.url, '--prefix', box.prefix, '--no-services', '--require-signature'], { path: bin });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^error: --require-signature: gpgv is not installed, so the signature of SHA256SUMS cannot be verified\n  hint: install gpgv/);
    expect(srv.requests.length).toBe(before);
    expect(existsSync(box.prefix)).toBe(false);

    const warned = await box.run(['--base-url', srv.url, '--prefix', box.prefix, '--no-services'], { path: bin });
    expect(warned.exitCode).toBe(0);
    expect(warned.stderr).toBe('warning: gpgv not found: the signature of SHA256SUMS is not verified (install gpgv, or pass --require-signature to insist)');
  });

  it('refuses a plain-http base URL unless the host is loopback, before downloading anything', async () => {
    const box = sandbox();
    for (const url of ['http://example.org/releases', 'http://127.0.0.1.example.org/x', 'http://user@127.0.0.1/x', 'ftp://127.0.0.1/x', 'file:///tmp/x']) {
      const r = await box.run(['--base-url', url, '--prefix', box.prefix]);
      expect(r.exitCode, url).toBe(1);
      expect(r.stderr, url).toMatch(/^error: (refusing to download over plain http from|--base-url .* is not an https URL)/);
      expect(r.stderr, url).toMatch(/hint: use an https:\/\/ URL/);
    }
    expect(existsSync(box.prefix)).toBe(false);
    // The loopback server of the other tests is http://127.0.0.1:PORT: accepted.
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
  });

  it('refuses to run without a SHA-256 tool, before downloading anything', async () => {
    const box = sandbox();
    // A PATH with every tool the script uses except sha256sum, shasum and openssl.
    const bin = path.join(box.dir, 'minimal-bin');
    mkdirSync(bin);
    for (const tool of ['sh', 'uname', 'curl', 'tar', 'gzip', 'awk', 'cut', 'mktemp', 'rm', 'mkdir', 'cp', 'mv', 'find', 'sed', 'sort', 'grep', 'dirname', 'chmod', 'cat', 'id', 'pwd']) {
      const real = (await execa('sh', ['-c', `command -v ${tool}`])).stdout.trim();
      symlinkSync(real, path.join(bin, tool));
    }
    const before = srv.requests.length;
    const r = await box.run(['--base-url', srv.url, '--prefix', box.prefix, '--no-services'], { path: bin });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error: cannot verify the downloads: no sha256sum, shasum or openssl found');
    expect(srv.requests.length).toBe(before);
    expect(existsSync(box.prefix)).toBe(false);
  });

  it('refuses to overwrite a file another installer put in the prefix, unless --force', async () => {
    const box = sandbox();
    mkdirSync(path.join(box.prefix, 'bin'), { recursive: true });
    writeFileSync(path.join(box.prefix, 'bin/stigmer'), 'someone else\n');
    const r = await box.run(['--base-url', srv.url, '--prefix', box.prefix, '--no-services']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('bin/stigmer exists and was not installed by this script');
    expect(readFileSync(path.join(box.prefix, 'bin/stigmer'), 'utf8')).toBe('someone else\n');
    const forced = await box.run(['--base-url', srv.url, '--prefix', box.prefix, '--no-services', '--force']);
    expect(forced.exitCode).toBe(0);
    expect(existsSync(box.log)).toBe(false);
  });

  it('says how to proceed when the systemd user manager cannot be reached', async () => {
    const box = sandbox();
    writeFileSync(path.join(box.fake, 'systemctl'), '#!/bin/sh\necho "Failed to connect to bus: No medium found" >&2\nexit 1\n');
    const r = await box.run(['--base-url', srv.url, '--prefix', box.prefix]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error: cannot reach your systemd user manager (systemctl --user)');
    expect(r.stderr).toContain('--no-services');
  });

  it('on macOS: loads LaunchAgents (valid plists, $HOME and the prefix filled in) and unloads them on --uninstall', async () => {
    const box = sandbox();
    box.asMac();
    const r = await box.run(['--base-url', srv.url, '--prefix', box.prefix]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('for darwin-arm64');
    const uid = process.getuid!();
    const agents = path.join(box.home, 'Library/LaunchAgents');
    const labels = product.services.map((s) => `${product.def.identifiers.launchdPrefix}.${s.name}`);
    expect(readdirSync(agents).sort()).toEqual(labels.map((l) => `${l}.plist`).sort());
    for (const label of labels) {
      const file = path.join(agents, `${label}.plist`);
      const xml = readFileSync(file, 'utf8');
      expect(xml).not.toMatch(/@HOME@|@BINDIR@/);
      expect(xml).toContain(`<string>${box.prefix}/bin/`);
      expect(xml).toContain(`<string>${box.home}/.config/stigmer/stigmer.env</string>`);
      // plistutil converts XML -> binary, failing on anything that is not a valid property list.
      await execa('plistutil', ['-i', file, '-o', path.join(box.dir, 'check.bin'), '-f', 'bin']);
    }
    expect(existsSync(path.join(box.home, 'Library/Logs/Stigmer'))).toBe(true);
    const calls = readFileSync(box.log, 'utf8').trim().split('\n');
    expect(calls).toEqual(labels.flatMap((l) => [`bootout gui/${uid}/${l}`, `bootstrap gui/${uid} ${agents}/${l}.plist`]));

    writeFileSync(box.log, '');
    const un = await box.run(['--uninstall', '--prefix', box.prefix]);
    expect(un.exitCode).toBe(0);
    expect(readFileSync(box.log, 'utf8').trim().split('\n')).toEqual(labels.map((l) => `bootout gui/${uid}/${l}`));
    expect(filesBelow(box.home)).toEqual(['.config/stigmer/stigmer.env']);
  });
});
