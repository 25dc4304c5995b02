// The split build: each platform's local artifacts built alone (--local-only) into its own folder, then joined
// (--join): every file, plan.json included, byte-identical to one single-machine build of the same inputs.
import { execa } from 'execa';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPart } from '../src/build/split.ts';
import { loadProduct } from '../src/product/load.ts';
import { filesBelow, hashFile } from '../src/util/fsx.ts';
import { ACME_YAML, fixturePayloads, runCli, tempDir } from './helpers.ts';
import { makeKey } from './repo-helpers.ts';

// Local (archives) and global targets, no external tools but gpg: the SBOM and the checksums signature are built
// in the join, the only step that holds the signing key.
const TARGETS = 'archive,systemd,installer,sbom,checksums,checksums-signature,homebrew,scoop';

async function digests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await filesBelow(dir)) out[f] = (await hashFile(path.join(dir, f))).sha256;
  return out;
}

describe('split build', () => {
  it('builds each platform with --local-only and joins them into the single build, byte for byte', async () => {
    const product = loadProduct(ACME_YAML);
    const payloads = await fixturePayloads(product);
    const common = ['--config', ACME_YAML, '--version', '2.4.0', '--target', TARGETS, '--unsigned-windows']; // a release build without a code-signing key
    const key = await makeKey(tempDir(), 'split');
    const signed = ['--signing-key', key.secretFile];
    const single = tempDir();
    const one = await runCli(['build', ...common, ...signed, '--from', payloads, '--out', single]);
    expect(one.exitCode, one.stderr).toBe(0);

    const parts: string[] = [];
    for (const platform of product.platforms) {
      const out = tempDir();
      const r = await runCli(['build', ...common, '--from', payloads, '--platform', platform, '--local-only', '--out', out]);
      expect(r.exitCode, r.stderr).toBe(0);
      const manifest = JSON.parse(readFileSync(path.join(out, '2.4.0', 'plan.json'), 'utf8')) as {
        partial: { platform: string; binaries: { artifact: string; sha256: string; contents: { format: string } }[] };
        artifacts: { id: string; role: string; scope: string; platform: string }[];
      };
      // Only that platform's local artifacts, with the full plan's platforms.
      expect(manifest.partial.platform).toBe(platform);
      expect(manifest.artifacts.length).toBeGreaterThan(0);
      expect(manifest.artifacts.every((a) => a.scope === 'local' && a.platform === platform)).toBe(true);
      // The SBOM's view of each archive's binary, described as it was archived: the join never reads the archives back.
      expect(manifest.partial.binaries.map((b) => b.artifact)).toEqual(manifest.artifacts.filter((a) => a.role.endsWith('-archive')).map((a) => a.id));
      expect(manifest.partial.binaries.every((b) => /^[0-9a-f]{64}$/.test(b.sha256) && ['elf', 'macho', 'pe'].includes(b.contents.format))).toBe(true);
      parts.push(path.join(out, '2.4.0'));
    }

    // A join that lacks a platform names what is missing and writes nothing.
    const partialJoin = tempDir();
    const short = await runCli(['build', '--config', ACME_YAML, ...signed, '--join', ...parts.slice(1), '--out', partialJoin]);
    expect(short.exitCode).toBe(2);
    expect(short.stderr).toMatch(/no folder given to --join holds .*:linux-amd64/);

    const joined = tempDir();
    // The join is told what the parts did (unsigned Windows files are part of the inputs digest in plan.json).
    const j = await runCli(['build', '--config', ACME_YAML, ...signed, '--join', ...parts, '--unsigned-windows', '--out', joined]);
    expect(j.exitCode, j.stderr).toBe(0);
    const a = await digests(path.join(single, '2.4.0'));
    expect(Object.keys(a)).toContain('SHA256SUMS');
    expect(Object.keys(a)).toContain('plan.json');
    expect(Object.keys(a)).toEqual(expect.arrayContaining(['SHA256SUMS.asc', 'acme-release-key.gpg', 'acme_2.4.0.cdx.json']));
    expect(await digests(path.join(joined, '2.4.0'))).toEqual(a);

    // A part's file changed after its build: refused while the join copies it in, named, nothing written (and no
    // global artifact waiting for it hangs).
    const archive = (await filesBelow(parts[1]!)).find((f) => f.endsWith('.tar.gz') || f.endsWith('.zip'))!;
    const original = readFileSync(path.join(parts[1]!, archive));
    writeFileSync(path.join(parts[1]!, archive), Buffer.concat([original, Buffer.from('x')]));
    const tamperedOut = tempDir();
    const tampered = await runCli(['build', '--config', ACME_YAML, ...signed, '--join', ...parts, '--unsigned-windows', '--out', tamperedOut]);
    expect(tampered.exitCode, tampered.stderr).toBe(3);
    expect(tampered.stderr).toContain(`${path.join(parts[1]!, archive)} (`);
    expect(tampered.stderr).toMatch(/changed since its --local-only build/);
    expect(existsSync(path.join(tamperedOut, '2.4.0'))).toBe(false);
    writeFileSync(path.join(parts[1]!, archive), original);

    // A part that does not say what its archives hold (an older stigmer-dist's) cannot feed the SBOM: named, nothing written.
    const first = path.join(parts[0]!, 'plan.json');
    const { binaries, ...partial } = (JSON.parse(readFileSync(first, 'utf8')) as { partial: { binaries: { artifact: string }[] } }).partial;
    writeFileSync(first, JSON.stringify({ ...JSON.parse(readFileSync(first, 'utf8')), partial }, null, 2));
    const undescribed = tempDir();
    const old = await runCli(['build', '--config', ACME_YAML, ...signed, '--join', ...parts, '--unsigned-windows', '--out', undescribed]);
    expect(old.exitCode).toBe(3);
    expect(old.stderr).toMatch(/: its build did not describe the binary it holds, which the SBOM lists/);
    expect(binaries.length).toBeGreaterThan(0);
    expect(existsSync(path.join(undescribed, '2.4.0'))).toBe(false);
  });

  it('joins a platform built in parts (--local-targets): byte-identical to the single build; an overlap or a missing part names the ids', async () => {
    const common = ['--config', ACME_YAML, '--version', '2.4.0', '--snapshot', '--target', 'archive,deb,checksums', '--unsigned-windows'];
    const single = tempDir();
    const one = await runCli(['build', ...common, '--out', single]);
    expect(one.exitCode, one.stderr).toBe(0);
    const local = async (platform: string, ...extra: string[]) => {
      const out = tempDir();
      const r = await runCli(['build', ...common, '--platform', platform, '--local-only', ...extra, '--out', out]);
      expect(r.exitCode, r.stderr).toBe(0);
      return path.join(out, '2.4.0');
    };
    const product = loadProduct(ACME_YAML);
    const others = await Promise.all(product.platforms.filter((p) => p !== 'linux-amd64').map((p) => local(p)));
    const debPart = await local('linux-amd64', '--local-targets', 'deb');
    const archivePart = await local('linux-amd64', '--local-targets', 'archive');
    const manifest = JSON.parse(readFileSync(path.join(debPart, 'plan.json'), 'utf8')) as { partial: { targets: string[] }; artifacts: { id: string }[] };
    expect(manifest.partial.targets).toEqual(['deb']);
    expect(manifest.artifacts.map((a) => a.id)).toEqual(['deb:linux-amd64']);

    const join = (...parts: string[]) => runCli(['build', '--config', ACME_YAML, '--join', ...parts, '--unsigned-windows', '--out', tempDir()]);
    // The whole platform and one of its parts: the artifact in both is named.
    const overlap = await join(...others, await local('linux-amd64'), debPart);
    expect(overlap.exitCode).toBe(2);
    expect(overlap.stderr).toMatch(/both hold deb:linux-amd64\n/);
    // One part only: the other part's artifacts are named.
    const missing = await join(...others, debPart);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/no folder given to --join holds (\S+-archive:\S+:linux-amd64(, |\n))+/);
    expect(missing.stderr).not.toMatch(/holds .*deb:linux-amd64/);

    const joined = tempDir();
    const j = await runCli(['build', '--config', ACME_YAML, '--join', ...others, debPart, archivePart, '--unsigned-windows', '--out', joined]);
    expect(j.exitCode, j.stderr).toBe(0);
    const a = await digests(path.join(single, '2.4.0'));
    expect(Object.keys(a)).toEqual(expect.arrayContaining(['SHA256SUMS', 'plan.json', 'acme_2.4.0-1_amd64.deb']));
    expect(await digests(path.join(joined, '2.4.0'))).toEqual(a);

    // A target with no local artifact on that platform is refused before anything is built.
    const wrong = await runCli(['build', ...common, '--platform', 'linux-amd64', '--local-only', '--local-targets', 'checksums', '--out', tempDir()]);
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toMatch(/--local-targets checksums: checksums builds no local artifact of linux-amd64/);
  }, 300_000);

  it("shares a Linux platform's package compression among compress jobs (--shard I/N): the package job checks and copies their blocks, same bytes", async () => {
    const common = ['--config', ACME_YAML, '--version', '2.4.0', '--snapshot'];
    const packages = [...common, '--target', 'deb,rpm', '--platform', 'linux-amd64', '--local-only'];
    const alone = tempDir();
    const a = await runCli(['build', ...packages, '--out', alone]);
    expect(a.exitCode, a.stderr).toBe(0);

    // Two jobs, each into its own folder (as each uploads its own artifact), merged as the package job downloads them.
    const shards = [tempDir(), tempDir()];
    for (const [i, dir] of shards.entries()) {
      const r = await runCli(['compress', ...common, '--platform', 'linux-amd64', '--shard', `${i + 1}/2`, '--xz-cache', dir]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`linux-amd64 shard ${i + 1}/2: \\d+ blocks`));
    }
    const names = shards.map((d) => readdirSync(d));
    expect(names.every((n) => n.length > 0)).toBe(true);
    expect(names[0]!.filter((n) => names[1]!.includes(n))).toEqual([]); // no block compressed twice
    const cache = tempDir();
    for (const [i, dir] of shards.entries()) for (const n of names[i]!) copyFileSync(path.join(dir, n), path.join(cache, n));

    const withCache = tempDir();
    const b = await runCli(['build', ...packages, '--xz-cache', cache, '--out', withCache]);
    expect(b.exitCode, b.stderr).toBe(0);
    const blocks = names[0]!.length + names[1]!.length;
    expect(b.stderr).toContain(`${cache}: ${blocks} compressed payload block(s) reused, 0 compressed`);
    const built = await digests(path.join(alone, '2.4.0'));
    expect(Object.keys(built).filter((f) => /\.(deb|rpm)$/.test(f))).toHaveLength(2);
    const packaged = (d: Record<string, string>) => Object.fromEntries(Object.entries(d).filter(([f]) => /\.(deb|rpm)$/.test(f)));
    expect(packaged(await digests(path.join(withCache, '2.4.0')))).toEqual(packaged(built));

    // A block that is not what its payload compresses to (here: another block's bytes) is never copied: compressed again, named.
    const [victim, other] = readdirSync(cache).sort();
    copyFileSync(path.join(cache, other!), path.join(cache, victim!));
    const again = tempDir();
    const c = await runCli(['build', ...packages, '--xz-cache', cache, '--out', again]);
    expect(c.exitCode, c.stderr).toBe(0);
    expect(c.stderr).toMatch(new RegExp(`1 block\\(s\\) did not decompress to their payload's bytes and were compressed again \\(${victim}\\)`));
    expect(packaged(await digests(path.join(again, '2.4.0')))).toEqual(packaged(built));

    // A bad share, or a platform with no package to compress for: refused before any work.
    const bad = await runCli(['compress', ...common, '--platform', 'linux-amd64', '--shard', '3/2', '--xz-cache', tempDir()]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--shard "3\/2": expected I\/N with 1 <= I <= N <= 64/);
    const none = await runCli(['compress', ...common, '--platform', 'darwin-arm64', '--xz-cache', tempDir()]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toMatch(/no planned package of darwin-arm64 compresses payloads/);
  }, 300_000);

  it('refuses a part whose artifact reads a local artifact left to another part, naming both ids', () => {
    const local = (id: string, target: string, inputs: string[] = []) => ({ id, role: 'deb' as const, target, scope: 'local' as const, platform: 'linux-amd64' as const, path: id, release: true, inputs });
    const source = local('wix-source:x', 'source');
    const reader = local('msi:x', 'msi', [source.id]);
    expect(() => checkPart([reader], [source, reader], ['msi'])).toThrow(/--local-targets msi: msi:x reads wix-source:x, which this part does not build/);
    expect(() => checkPart([source, reader], [source, reader], ['msi', 'source'])).not.toThrow();
  });

  it('signs the RPMs in the join: the local step leaves them unsigned, the joined release asset equals a single build, signature included', async () => {
    const common = ['--config', ACME_YAML, '--version', '2.4.0', '--snapshot', '--target', 'rpm,yum-repo,checksums,checksums-signature'];
    const single = tempDir();
    const one = await runCli(['build', ...common, '--out', single]);
    expect(one.exitCode, one.stderr).toBe(0);
    const parts: string[] = [];
    for (const platform of ['linux-amd64', 'linux-arm64']) {
      const part = tempDir();
      const local = await runCli(['build', ...common, '--platform', platform, '--local-only', '--out', part]);
      expect(local.exitCode, local.stderr).toBe(0);
      parts.push(path.join(part, '2.4.0'));
    }
    const unsigned = (await filesBelow(parts[0]!)).filter((f) => f.endsWith('.rpm'));
    expect(unsigned).toEqual(['rpm-unsigned/acme-2.4.0-1.x86_64.rpm']);
    const sig = (f: string) => execa('rpm', ['-qp', '--qf', '%{RSAHEADER:pgpsig}', f]).then((r) => r.stdout);
    expect(await sig(path.join(parts[0]!, unsigned[0]!))).toBe('(none)');
    const joined = tempDir();
    const j = await runCli(['build', '--config', ACME_YAML, '--join', ...parts, '--out', joined]);
    expect(j.exitCode, j.stderr).toBe(0);
    const asset = path.join(joined, '2.4.0', 'acme-2.4.0-1.x86_64.rpm');
    expect(await sig(asset)).toMatch(/^RSA\/SHA512, .*Key ID [0-9a-f]+$/);
    // Every file but plan.json, whose inputs digest covers the payloads of all the platforms joined (here only
    // the Linux ones built anything; the test above joins every platform and compares plan.json too).
    const withoutPlan = async (dir: string) => Object.fromEntries(Object.entries(await digests(dir)).filter(([f]) => f !== 'plan.json'));
    expect(await withoutPlan(path.join(joined, '2.4.0'))).toEqual(await withoutPlan(path.join(single, '2.4.0')));
  }, 300_000);
});
