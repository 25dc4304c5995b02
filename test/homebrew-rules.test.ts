// Homebrew's rules the formulae must satisfy without a Homebrew at hand: the url version scanning of Homebrew
// before 6.0.14 (the 4.3.0 of the e2e test) and of current Homebrew (6.0.14+, which the e2e test cannot run),
// FormulaAudit/Desc, and the render command's one-product-per-tap rule.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { loadProduct } from '../src/product/load.ts';
import { makePlan } from '../src/plan/plan.ts';
import { descProblems, formulaFiles } from '../src/targets/homebrew/index.ts';
import { HOMEBREW_VERSION_RULES, scanUrlVersion } from '../src/targets/homebrew/url-version.ts';
import { ACME_YAML, REPO, STIGMER_YAML, fakeDigest, runCli, tempDir } from './helpers.ts';

const QUILL_YAML = path.join(REPO, 'test/fixtures/quill/quill.yaml');
const GH = 'https://github.com/stigmer/stigmer/releases/download';

describe('url version scanning (Library/Homebrew/version.rb)', () => {
  it('reads the issue-15 url as 64 before 6.0.14 and as 0.1.0 from 6.0.14 on', () => {
    const url = `${GH}/v0.1.0/agent-runner_0.1.0_linux_amd64.tar.gz`;
    expect(scanUrlVersion(url, 'before-6.0.14')).toBe('64');
    expect(scanUrlVersion(url, '6.0.14')).toBe('0.1.0');
  });

  it("agrees with the examples in Homebrew's own comments", () => {
    // 6.0.14's GitHub-releases rule: the tag wins over the asset name
    expect(scanUrlVersion('https://github.com/foo/bar/releases/download/v1.2/foo-1.2.0.tar.gz', '6.0.14')).toBe('1.2');
    expect(scanUrlVersion('https://github.com/foo/bar/releases/download/v1.2/foo-1.2.0.tar.gz', 'before-6.0.14')).toBe('1.2.0');
    for (const rules of ['before-6.0.14', '6.0.14'] as const) {
      expect(scanUrlVersion('https://www.openssl.org/source/openssl-0.9.8s.tar.gz', rules)).toBe('0.9.8s');
      expect(scanUrlVersion('https://ftpmirror.gnu.org/libidn/libidn-1.29-win64.zip', rules)).toBe('1.29');
      expect(scanUrlVersion('https://github.com/dlang/dmd/archive/v2.074.0-rc1.tar.gz', rules)).toBe('2.074.0-rc1');
      expect(scanUrlVersion('https://example.org/boost_1_39_0.tar.gz', rules)).toBe('1.39.0');
      expect(scanUrlVersion('https://github.com/foo/bar/releases/download/0.10.11/bar.phar', rules)).toBe('0.10.11');
      expect(scanUrlVersion('https://example.org/astyle_1.23_macosx.tar.gz', rules)).toBe('1.23');
    }
  });

  it('has as many rules as the version.rb of the Homebrew 4.3.0 in tools/homebrew (plus one from 6.0.14 on)', async () => {
    const r = await execa('tar', ['-xJOf', path.join(REPO, 'tools/homebrew/homebrew-4.3.0.tar.xz'), 'brew430/Library/Homebrew/version.rb']);
    const body = r.stdout.slice(r.stdout.indexOf('VERSION_PARSERS = ['), r.stdout.indexOf('].freeze', r.stdout.indexOf('VERSION_PARSERS = [')));
    const count = (body.match(/^\s*(Url|Stem)Parser\.new\(/gm) ?? []).length;
    expect(HOMEBREW_VERSION_RULES['before-6.0.14']).toHaveLength(count);
    expect(HOMEBREW_VERSION_RULES['6.0.14']).toHaveLength(count + 1);
  });

  it.each([
    ['stigmer', STIGMER_YAML],
    ['acme', ACME_YAML],
    ['quill', QUILL_YAML],
  ])('every %s formula url scans as the release version under both rule sets, so no formula has `version`', (_l, file) => {
    const product = loadProduct(file);
    const plan = makePlan(product, { version: product.def.product.version, snapshot: false });
    for (const [, text] of formulaFiles(product, plan.versions, plan.platforms, fakeDigest)) {
      expect(text).not.toMatch(/^\s*version /m);
      const urls = [...text.matchAll(/^\s*url "(https:[^"]+)"/gm)].map((m) => m[1]!);
      expect(urls.length).toBeGreaterThan(0);
      for (const u of urls) {
        expect(scanUrlVersion(u, 'before-6.0.14')).toBe(plan.versions.homebrew);
        expect(scanUrlVersion(u, '6.0.14')).toBe(plan.versions.homebrew);
      }
    }
  });

  it('refuses at plan an archive name from which the two Homebrew generations read different versions', async () => {
    const dir = tempDir();
    const yaml = readFileSync(QUILL_YAML, 'utf8').replace(/archiveName: .*/, 'archiveName: "{name}_{version}_{os}_{arch}"').replace('version: 1.2.0-rc.1', 'version: 1.2.0');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'quill.yaml');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, yaml));
    const r = await runCli(['plan', '-c', file]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('release.archiveName "{name}_{version}_{os}_{arch}"');
    expect(r.stderr).toContain('Homebrew before 6.0.14 reads version 64 and Homebrew 6.0.14+ reads 1.2.0');
  });
});

describe('FormulaAudit/Desc', () => {
  it('finds what the cop finds', () => {
    expect(descProblems('Quill daemon', 'quill-daemon')).toEqual(['it starts with the formula name "quill-daemon"']);
    expect(descProblems('A relay.', 'relay')).toEqual(['it starts with an article', 'it ends with a full stop']);
    expect(descProblems('relay for command line use', 'x')).toEqual(['it says "command line" instead of "command-line"', 'it does not start with a capital letter']);
    expect(descProblems('macOS helper', 'x')).toEqual([]);
    expect(descProblems('x'.repeat(81).replace(/^x/, 'X'), 'y')).toEqual(['it is 81 characters long (at most 80)']);
    expect(descProblems('Background sync service for Quill notes', 'quill-daemon')).toEqual([]);
  });

  it('a service described as "Quill daemon" for the formula quill-daemon is refused at plan, naming the field', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'quill.yaml');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, readFileSync(QUILL_YAML, 'utf8').replace(/description: Background sync service for Quill notes/g, 'description: Quill daemon')));
    const r = await runCli(['plan', '-c', file]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('components[1] (quill-daemon).description is the desc of the Homebrew formula quill-daemon, and it starts with the formula name "quill-daemon"');
  });
});

describe('platform subsets', () => {
  const render = (file: string) => {
    const product = loadProduct(file);
    const plan = makePlan(product, { version: product.def.product.version, snapshot: false });
    return formulaFiles(product, plan.versions, plan.platforms, fakeDigest);
  };

  const armElse = (os: string, arch: string, file: string) =>
    new RegExp(` {4}if Hardware::CPU\\.arm\\?\n {6}url "[^"]+${file}_${os}_${arch}_[^"]+"\n {6}sha256 "[0-9a-f]{64}"\n {4}end\n {4}if Hardware::CPU\\.intel\\?\n {6}url "[^"]+${file}_${os}_${arch}_[^"]+"\n {6}sha256 "[0-9a-f]{64}"\n {4}end\n`);

  it('Intel-only: the Intel archive on both arches of each OS, Rosetta on macOS, depends_on arch: :x86_64 on Linux', () => {
    const quill = render(QUILL_YAML).get('formula/quill-daemon.rb')!;
    expect(quill).toMatch(new RegExp(`on_macos do\n {4}# Intel build only: Apple Silicon runs it under Rosetta 2\n${armElse('darwin', 'amd64', 'quill-daemon').source} {2}end`));
    expect(quill).toMatch(new RegExp(`on_linux do\n {4}depends_on arch: :x86_64\n${armElse('linux', 'amd64', 'quill-daemon').source} {2}end`));
    expect(quill).toContain('runs under Rosetta 2 (softwareupdate --install-rosetta)');
  });

  it('no Intel macOS build: depends_on arch: :arm64 on macOS', () => {
    const metrics = render(ACME_YAML).get('formula/acme-metrics.rb')!;
    expect(metrics).toMatch(/on_macos do\n {4}depends_on arch: :arm64\n {4}if Hardware::CPU\.arm\?\n {6}url "[^"]+darwin-arm64[^"]*"\n {6}sha256 "[0-9a-f]{64}"\n {4}end\n {4}if Hardware::CPU\.intel\?\n {6}url "[^"]+darwin-arm64/);
  });

  it('one OS only: depends_on :linux and the urls at the top level, so it loads (and is refused) on macOS', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'quill.yaml');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, readFileSync(QUILL_YAML, 'utf8').replace('platforms: [darwin-amd64, linux-amd64]', 'platforms: [linux-amd64, linux-arm64]')));
    const quill = render(file).get('formula/quill.rb')!;
    expect(quill).toMatch(/ {2}homepage "[^"]+"\n {2}if Hardware::CPU\.arm\?\n {4}url "[^"]+linux_arm64[^"]+"\n {4}sha256 "[0-9a-f]{64}"\n {2}else\n {4}url "[^"]+linux_amd64/);
    expect(quill).toContain('  depends_on :linux\n  depends_on "quill-notes/quill/quill-daemon"\n');
    expect(quill).not.toContain('on_macos');
  });
});

describe('render: a tap directory belongs to one product', () => {
  it("refuses to write acme's formulae into a directory holding stigmer's, and leaves it untouched", async () => {
    const dir = tempDir();
    const tap = path.join(dir, 'formula');
    mkdirSync(tap);
    for (const f of readdirSync(path.join(REPO, 'formula'))) copyFileSync(path.join(REPO, 'formula', f), path.join(tap, f));
    const before = readFileSync(path.join(tap, 'SHA256SUMS'), 'utf8');
    const sums = path.join(dir, 'SHA256SUMS');
    await import('node:fs/promises').then((fs) => fs.writeFile(sums, 'abc'.padEnd(64, '0') + '  x.tar.gz\n'));
    const r = await runCli(['render', '-c', ACME_YAML, '--tap-dir', tap, '--checksums', sums]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("holds formulae that are not acme's: agent-runner.rb (from stigmer.yaml)");
    expect(r.stderr).toContain('--tap-dir');
    expect(readFileSync(path.join(tap, 'SHA256SUMS'), 'utf8')).toBe(before);
    expect(existsSync(path.join(tap, 'acmectl.rb'))).toBe(false);
  });
});
