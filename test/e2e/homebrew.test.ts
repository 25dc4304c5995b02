// The Homebrew tap formulae under real Homebrew 4.3.0 (tools/homebrew/brew-check.sh, run as root): for each of
// the three definitions, a snapshot build (stand-in payloads) of the archives and formulae for its macOS and
// Linux platforms, then the formula cops, `brew audit --strict` on every OS/arch, url + sha256 + binary headers
// per simulated OS/arch (or Homebrew's own refusal there), `brew install`, `brew test` and the service files.
//   stigmer: every platform; acme: no Intel macOS build; quill: Intel only (macOS + Linux) and a pre-release.
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProduct } from '../../src/product/load.ts';
import { splitPlatform } from '../../src/product/model.ts';
import { ACME_YAML, CLI, REPO, STIGMER_YAML } from '../helpers.ts';

const QUILL_YAML = path.join(REPO, 'test/fixtures/quill/quill.yaml');
const BREW_CHECK = path.join(REPO, 'tools/homebrew/brew-check.sh');

async function buildTap(definition: string, out: string): Promise<{ dir: string; version: string }> {
  const product = loadProduct(definition);
  const version = product.def.product.version;
  const platforms = product.platforms.filter((p) => splitPlatform(p).os !== 'windows');
  const r = await execa(process.execPath, [CLI, 'build', '--snapshot', '-c', definition, '-p', platforms.join(','), '-t', 'archive,checksums,homebrew', '--version', version, '--out', out], {
    cwd: REPO,
    reject: false,
    env: { SOURCE_DATE_EPOCH: '1700000000' },
  });
  if (r.exitCode !== 0) throw new Error(`snapshot build of ${definition} failed:\n${r.stderr}`);
  return { dir: path.join(out, version), version };
}

async function brewCheck(dir: string) {
  const r = await execa('bash', [BREW_CHECK, path.join(dir, 'formula'), dir], { reject: false, all: true, env: { BREW_CHECK_WORK: path.join(os.tmpdir(), 'stigmer-dist-brew-check') } });
  return { exitCode: r.exitCode, out: r.all ?? '' };
}

describe('Homebrew formulae under real Homebrew 4.3.0', () => {
  let tmp: string;
  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('brew-check needs root (it creates a throwaway user for Homebrew): run the e2e tests as root, as .ci/run does');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'stigmer-dist-brew-'));
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const cases: { name: string; yaml: string; expect: (out: string, version: string) => void }[] = [
    {
      name: 'stigmer (all four OS/arch native)',
      yaml: STIGMER_YAML,
      expect: (out, version) => {
        expect(out).toContain(`stigmer/tap/agent-runner ${version} (service)`);
        expect(out).not.toMatch(/refused by Homebrew|Rosetta/);
      },
    },
    {
      name: 'acme (no Intel macOS build: refused there by depends_on arch:)',
      yaml: ACME_YAML,
      expect: (out, version) => {
        expect(out).toContain(`acme-corp/acme/acme ${version}`);
        expect(out).toMatch(/macos-x86_64 +refused by Homebrew: The arm64 architecture is required for this software\./);
      },
    },
    {
      name: 'quill (Intel only, pre-release: Rosetta on Apple Silicon, refused on Linux arm64)',
      yaml: QUILL_YAML,
      expect: (out, version) => {
        expect(version).toBe('1.2.0-rc.1');
        expect(out).toContain(`quill-notes/quill/quill ${version}`);
        expect(out).toMatch(/macos-arm64 +quill_darwin_amd64_1\.2\.0-rc\.1\.tar\.gz +sha256 ok; Intel build under Rosetta 2/);
        expect(out).toMatch(/linux-arm64 +refused by Homebrew: The x86_64 architecture is required for this software\./);
      },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const { dir, version } = await buildTap(c.yaml, path.join(tmp, path.basename(c.yaml, '.yaml')));
      const r = await brewCheck(dir);
      expect(r.out, r.out).toMatch(/brew-check: .*: PASS/);
      expect(r.out).toMatch(/0 cop offences, 0 audit problems, 0 checksum mismatches, 0 platform-mapping errors, install\+test ok/);
      expect(r.exitCode).toBe(0);
      c.expect(r.out, version);
    });
  }
});
