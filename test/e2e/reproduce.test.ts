// Every artifact of a full snapshot build (archives, .deb, .rpm through rpmbuild, MSI, repositories' metadata,
// formulae, manifests, checksums) is byte-identical when rebuilt from another directory at another time with the
// same SOURCE_DATE_EPOCH: `verify --reproduce` rebuilds into a temp dir and compares every file.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACME_YAML, STIGMER_YAML, runCli, tempDir } from '../helpers.ts';

describe.each([
  ['stigmer', STIGMER_YAML],
  ['acme', ACME_YAML],
])('%s: reproducible build', (_label, config) => {
  it('verify --reproduce finds every file byte-identical', async () => {
    const out = tempDir();
    const build = await runCli(['build', '--snapshot', '--unsigned', '--config', config, '--out', out], { cwd: tempDir() });
    expect(build.exitCode, build.stderr).toBe(0);
    const version = readFileSync(config, 'utf8').match(/^ {2}version: (\S+)$/m)![1]!;
    const record = JSON.parse(readFileSync(path.join(out, version, 'plan.json'), 'utf8'));
    // Nothing was skipped: every target's output is part of the comparison.
    expect(record.skipped).toEqual([]);
    expect([...new Set(record.artifacts.map((a: { target: string }) => a.target))]).toEqual(expect.arrayContaining(['archive', 'deb', 'rpm', 'msi', 'apt-repo', 'yum-repo', 'homebrew', 'winget', 'scoop', 'checksums']));
    await new Promise((r) => setTimeout(r, 1100));
    const again = await runCli(['verify', '--reproduce', '--snapshot', '--unsigned', '--config', config, '--out', out], { cwd: tempDir(), env: { TZ: 'America/Adak' } });
    expect(again.stdout).toMatch(/all \d+ files reproduced byte for byte/);
    expect(again.stdout).not.toMatch(/differs|missing in rebuild|only in rebuild/);
    expect(again.exitCode, again.stderr).toBe(0);
  });
});
