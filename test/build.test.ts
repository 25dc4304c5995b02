// The CLI end to end on fixture payloads: plan is pure, build is reproducible and atomic, render --check works,
// exit codes are the documented ones.
import { execa } from 'execa';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProduct } from '../src/product/load.ts';
import { exeName } from '../src/product/model.ts';
import { hashFile } from '../src/util/fsx.ts';
import { ACME_YAML, REPO, STIGMER_YAML, fixturePayloads, runCli, tempDir } from './helpers.ts';

const SPINE_TARGETS = ['archive', 'systemd', 'launchd', 'checksums', 'homebrew'];
// The fixture payloads are shell scripts, not PE files: the Windows files ship unsigned (test/authenticode-build.test.ts signs).
const spine = ['--target', SPINE_TARGETS.join(','), '--unsigned-windows'];

function listTree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => statSync(path.join(dir, f)).isFile()).sort();
}

async function treeDigests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of listTree(dir)) out[f] = (await hashFile(path.join(dir, f))).sha256;
  return out;
}

describe('stigmer-dist CLI', () => {
  it('plan prints a table and JSON, and writes nothing', async () => {
    const cwd = tempDir();
    const table = await runCli(['plan', '--config', STIGMER_YAML, '--version', '1.2.3'], { cwd });
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(/^stigmer 1\.2\.3: \d+ artifacts for linux-amd64, linux-arm64, darwin-amd64, darwin-arm64, windows-amd64/);
    expect(table.stdout).toMatch(/archive\s+linux-amd64\s+stigmer-server\s+stigmer-server_linux_amd64_1\.2\.3\.tar\.gz/);
    const json = await runCli(['plan', '--json', '--config', STIGMER_YAML, '--version', '1.2.3', '--platform', 'linux-arm64'], { cwd });
    const plan = JSON.parse(json.stdout);
    expect(plan).toMatchObject({ schemaVersion: 3, product: 'stigmer', version: '1.2.3', platforms: ['linux-arm64'], versions: { debian: '1.2.3-1' } });
    expect(plan.artifacts.every((a: { platform?: string }) => !a.platform || a.platform === 'linux-arm64')).toBe(true);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('builds byte-identical artifacts from different directories at different times, and records them in plan.json', async () => {
    // acme: Stigmer's temporal is an upstream pin that a --from build downloads (no network in tests).
    const product = loadProduct(ACME_YAML);
    const payloads = await fixturePayloads(product);
    const [a, b] = [tempDir(), tempDir()];
    const first = await runCli(['build', '--config', ACME_YAML, '--version', '1.2.3', '--from', payloads, '--out', path.join(a, 'dist'), ...spine], { cwd: a });
    expect(first.stderr).toMatch(/built \d+ artifacts/);
    expect(first.exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 1100)); // a later wall-clock second must not matter
    const second = await runCli(['build', '--config', ACME_YAML, '--version', '1.2.3', '--from', payloads, '--out', 'out', ...spine], { cwd: b, env: { TZ: 'Pacific/Kiritimati' } });
    expect(second.exitCode, second.stderr).toBe(0);
    const da = await treeDigests(path.join(a, 'dist', '1.2.3'));
    const db = await treeDigests(path.join(b, 'out', '1.2.3'));
    expect(db).toEqual(da);

    const dir = path.join(a, 'dist', '1.2.3');
    const record = JSON.parse(readFileSync(path.join(dir, 'plan.json'), 'utf8'));
    for (const art of record.artifacts) {
      const real = await hashFile(path.join(dir, art.path));
      expect({ path: art.path, sha256: art.sha256, size: art.size }).toEqual({ path: art.path, ...real });
    }
    expect(readdirSync(path.join(a, 'dist')).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('writes SHA256SUMS that sha256sum -c accepts, and deterministic archives (root:root, fixed mtime and modes)', async () => {
    const product = loadProduct(ACME_YAML);
    const out = tempDir();
    const r = await runCli(['build', '--config', ACME_YAML, '--from', await fixturePayloads(product), '--out', out, ...spine]);
    expect(r.exitCode, r.stderr).toBe(0);
    const dir = path.join(out, '2.4.0');
    const check = await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir });
    expect(check.stdout.split('\n').every((l) => l.endsWith(': OK'))).toBe(true);
    expect(check.stdout.split('\n')).toHaveLength(11);
    const tar = await execa('tar', ['--utc', '-tvzf', path.join(dir, 'acme-relayd-linux-arm64-2.4.0.tar.gz')]);
    expect(tar.stdout.split('\n')).toEqual([
      expect.stringMatching(/^-rwxr-xr-x root\/root +\d+ 2023-11-14 22:13 bin\/relayd$/),
      expect.stringMatching(/^-rw-r--r-- root\/root +\d+ 2023-11-14 22:13 share\/doc\/acme\/NOTICE$/),
    ]);
    const zip = await execa('unzip', ['-Z', '-l', path.join(dir, 'acme-relayd-windows-amd64-2.4.0.zip')]);
    expect(zip.stdout).toMatch(/-rwxr-xr-x .* 23-Nov-14 22:13 bin\/relayd\.exe/);
    expect(zip.stdout).toMatch(/-rw-r--r-- .* share\/doc\/acme\/NOTICE/);
    // The archive holds the payload byte for byte.
    const x = tempDir();
    await execa('tar', ['-xzf', path.join(dir, 'acme-relayd-linux-arm64-2.4.0.tar.gz'), '-C', x]);
    expect(readFileSync(path.join(x, 'bin/relayd'), 'utf8')).toMatch(/fixture payload relayd linux-arm64/);
  });

  it('reuses a finished build whose inputs are unchanged, and rebuilds when one changes', async () => {
    const product = loadProduct(ACME_YAML);
    const payloads = await fixturePayloads(product, ['linux-amd64']);
    const out = tempDir();
    const args = ['build', '--config', ACME_YAML, '--platform', 'linux-amd64', '--from', payloads, '--out', out, ...spine];
    const built = await runCli(args);
    expect(built.exitCode).toBe(0);
    expect(built.stderr).toMatch(/smoke check: \d+ payloads? started and exited cleanly/);
    const first = readFileSync(path.join(out, '2.4.0', 'plan.json'), 'utf8');
    expect(JSON.parse(first).inputs).toMatch(/^[0-9a-f]{64}$/);
    const again = await runCli(args);
    expect(again.stderr).toMatch(/is up to date \(same inputs digest [0-9a-f]{12}\): nothing to build/);
    // Nothing is packaged, so the payloads (the same bytes that passed when the build was made) are not started again.
    expect(again.stderr).not.toMatch(/smoke check/);
    expect(readFileSync(path.join(out, '2.4.0', 'plan.json'), 'utf8')).toBe(first);
    // A changed payload is a different input.
    appendFileSync(path.join(payloads, 'linux-amd64', 'relayd'), 'changed\n');
    const changed = await runCli(args);
    expect(changed.stderr).not.toMatch(/up to date/);
    expect(changed.stderr).toMatch(/smoke check: \d+ payloads? started and exited cleanly/);
    expect(JSON.parse(readFileSync(path.join(out, '2.4.0', 'plan.json'), 'utf8')).inputs).not.toBe(JSON.parse(first).inputs);
    // An archive overwritten in place with zeros of the same size, its mtime set back: same size, mtime and
    // inode, but its ctime moved, so it is re-hashed, found changed, and rebuilt.
    const archive = path.join(out, '2.4.0', 'acme-relayd-linux-amd64-2.4.0.tar.gz');
    const good = readFileSync(archive);
    const { atime, mtime } = statSync(archive);
    writeFileSync(archive, Buffer.alloc(good.length));
    utimesSync(archive, atime, mtime);
    const damaged = await runCli(args);
    expect(damaged.exitCode, damaged.stderr).toBe(0);
    expect(damaged.stderr).toMatch(/is rebuilt: acme-relayd-linux-amd64-2\.4\.0\.tar\.gz changed since it was built/);
    expect(readFileSync(archive).equals(good)).toBe(true);
    expect((await runCli(args)).stderr).toMatch(/is up to date/);
    // So is a deleted artifact.
    rmSync(path.join(out, '2.4.0', 'SHA256SUMS'));
    expect((await runCli(args)).stderr).not.toMatch(/up to date/);
    expect(existsSync(path.join(out, '2.4.0', 'SHA256SUMS'))).toBe(true);
  });

  it('refuses a payload that is a symbolic link or a folder on any platform, before writing anything', async () => {
    const product = loadProduct(ACME_YAML);
    const payloads = await fixturePayloads(product);
    rmSync(path.join(payloads, 'darwin-arm64', 'acmectl'));
    symlinkSync('/etc/hostname', path.join(payloads, 'darwin-arm64', 'acmectl'));
    rmSync(path.join(payloads, 'windows-amd64', 'relayd.exe'));
    mkdirSync(path.join(payloads, 'windows-amd64', 'relayd.exe'));
    const out = tempDir();
    const r = await runCli(['build', '--config', ACME_YAML, '--from', payloads, '--out', out, ...spine]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/2 payloads are not a regular file:\n {2}\/.*\/darwin-arm64\/acmectl \(acmectl for darwin-arm64: a symbolic link\)\n {2}\/.*\/windows-amd64\/relayd\.exe \(relayd for windows-amd64: a directory\)/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('lists every missing payload at once and leaves the previous build untouched', async () => {
    const product = loadProduct(STIGMER_YAML);
    const payloads = await fixturePayloads(product);
    rmSync(path.join(payloads, 'linux-arm64', 'agent-runner'));
    rmSync(path.join(payloads, 'windows-amd64', exeName('stigmer', 'windows-amd64')));
    const out = tempDir();
    mkdirSync(path.join(out, '0.1.0'));
    writeFileSync(path.join(out, '0.1.0', 'previous-build'), 'keep me');
    const r = await runCli(['build', '--config', STIGMER_YAML, '--from', payloads, '--out', out]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/2 payload files are missing:\n/);
    expect(r.stderr).toMatch(/\n {2}\/.*\/linux-arm64\/agent-runner\n/);
    expect(r.stderr).toMatch(/\n {2}\/.*\/windows-amd64\/stigmer\.exe\n/);
    expect(r.stderr).toMatch(/hint: lay the binaries out as DIR\/<platform>\/<binary>/);
    expect(readdirSync(out)).toEqual(['0.1.0']);
    expect(readdirSync(path.join(out, '0.1.0'))).toEqual(['previous-build']);
  });

  it('removes the staging directory when a target fails half-way', async () => {
    const work = tempDir();
    cpSync(path.dirname(ACME_YAML), work, { recursive: true });
    // NOTICE becomes a directory: it passes the load-time existence check but cannot be archived.
    rmSync(path.join(work, 'NOTICE'));
    mkdirSync(path.join(work, 'NOTICE'));
    const config = path.join(work, 'acme.yaml');
    const out = path.join(work, 'dist');
    const r = await runCli(['build', '--config', config, '--from', await fixturePayloads(loadProduct(ACME_YAML)), '--out', out, ...spine]);
    expect(r.exitCode).not.toBe(0);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('render --check accepts the committed tap and fails on drift', async () => {
    const ok = await runCli(['render', '--check']);
    expect(ok.stdout + ok.stderr).toMatch(/formula\/ matches the definition \(5 formulae\)/);
    expect(ok.exitCode).toBe(0);
    const tap = tempDir();
    cpSync(path.join(REPO, 'formula'), tap, { recursive: true });
    writeFileSync(path.join(tap, 'agent-runner.rb'), readFileSync(path.join(tap, 'agent-runner.rb'), 'utf8').replace('keep_alive true', 'keep_alive false'));
    writeFileSync(path.join(tap, 'stale.rb'), 'class Stale < Formula; end\n');
    const drift = await runCli(['render', '--check', '--tap-dir', tap]);
    expect(drift.exitCode).toBe(1);
    expect(drift.stderr).toMatch(/agent-runner\.rb: differs/);
    expect(drift.stderr).toMatch(/stale\.rb: not rendered from the definition/);
    expect(drift.stderr).toMatch(/hint: run `npx stigmer-dist render` and commit the result/);
  });

  it('render writes the tap and every text artifact from a SHA256SUMS', async () => {
    const out = tempDir();
    const r = await runCli(['render', '--tap-dir', path.join(out, 'tap'), '--out', path.join(out, 'all'), '--checksums', path.join(REPO, 'formula/SHA256SUMS')]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(path.join(out, 'tap/stigmer.rb'), 'utf8')).toBe(readFileSync(path.join(REPO, 'formula/stigmer.rb'), 'utf8'));
    expect(listTree(path.join(out, 'all'))).toEqual(expect.arrayContaining(['systemd/system/stigmer.target', 'launchd/LaunchDaemons/ai.stigmer.agent-runner.plist', 'env/stigmer.env']));
  });

  it('takes the version from an exact git tag on HEAD when --version is absent', async () => {
    const repo = tempDir();
    cpSync(path.dirname(ACME_YAML), repo, { recursive: true });
    const git = (...args: string[]) => execa('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', ...args], { cwd: repo });
    await git('init', '-q');
    await git('add', '.');
    await git('commit', '-qm', 'x');
    await git('tag', 'v9.8.7-rc.2');
    const r = await runCli(['plan', '--json', '--config', path.join(repo, 'acme.yaml')]);
    expect(JSON.parse(r.stdout).versions).toMatchObject({ semver: '9.8.7-rc.2', debian: '9.8.7~rc.2-1', tag: 'v9.8.7-rc.2' });
  });

  it.each([
    [['plan', '--help'], 0, /Exit codes:/],
    [['build', '--help'], 0, /--from <source>/],
    [['render', '--help'], 0, /--check/],
    [['--help'], 0, /Commands:/],
    [['plan', '--bogus'], 2, /unknown option '--bogus'/],
    [['plan', '--platform', 'linux-riscv64'], 2, /platform not in the product definition: linux-riscv64\n {2}hint: choose from: linux-amd64/],
    [['plan', '--target', 'nsis'], 2, /unknown target: nsis/],
    [['plan', '--version', 'one'], 2, /--version: "one" is not a semantic version/],
    [['plan', '--config', 'test/fixtures/does-not-exist.yaml'], 3, /cannot read the product definition/],
    [['build', '--version', '1.0.0'], 2, /choose exactly one payload source/],
  ])('%j exits %i', async (args, code, pattern) => {
    const r = await runCli(args);
    expect(r.stdout + r.stderr).toMatch(pattern);
    expect(r.exitCode).toBe(code);
  });
});
