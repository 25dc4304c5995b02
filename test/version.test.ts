import { execaSync } from 'execa';
import { describe, expect, it } from 'vitest';
import { mapVersion, msiVersion, parseVersion } from '../src/version.ts';

describe('version mapping', () => {
  it.each([
    ['1.2.3', { homebrew: '1.2.3', debian: '1.2.3-1', rpm: { version: '1.2.3', release: '1' }, winget: '1.2.3', tag: 'v1.2.3' }],
    ['v1.2.3-rc.1', { homebrew: '1.2.3-rc.1', debian: '1.2.3~rc.1-1', rpm: { version: '1.2.3~rc.1', release: '1' }, winget: '1.2.3-rc.1', tag: 'v1.2.3-rc.1' }],
    ['2.0.0-beta-2', { debian: '2.0.0~beta.2-1', rpm: { version: '2.0.0~beta.2', release: '1' } }],
    ['1.0.0+build.7', { debian: '1.0.0+build.7-1', rpm: { version: '1.0.0+build.7', release: '1' } }],
  ])('%s', (input, expected) => {
    expect(mapVersion(input)).toMatchObject(expected);
  });

  it('maps to three numeric MSI fields and refuses what Windows Installer cannot hold', () => {
    expect(msiVersion(parseVersion('1.2.3-rc.1'), 'x')).toBe('1.2.3');
    expect(msiVersion(parseVersion('255.255.65535'), 'x')).toBe('255.255.65535');
    expect(() => msiVersion(parseVersion('256.0.0'), '--version')).toThrow(/cannot be an MSI ProductVersion/);
    expect(() => msiVersion(parseVersion('1.2.65536'), '--version')).toThrow(/1.2.65536 cannot be an MSI ProductVersion/);
  });

  it('rejects what is not semver, naming the source and the fix', () => {
    expect(() => mapVersion('1.2', { source: '--version' })).toThrow(/--version: "1.2" is not a semantic version/);
    expect(() => mapVersion('latest')).toThrow(/not a semantic version/);
  });

  // The order every ecosystem sees must match semver's: pre-releases before the release.
  const ordered = ['0.9.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.10.0'];
  const pairs = ordered.slice(1).map((v, i) => [ordered[i]!, v] as const);

  it.each(pairs)('dpkg orders %s before %s', (a, b) => {
    const r = execaSync('dpkg', ['--compare-versions', mapVersion(a).debian, 'lt', mapVersion(b).debian], { reject: false });
    expect(r.exitCode, `${mapVersion(a).debian} < ${mapVersion(b).debian}`).toBe(0);
  });

  it.each(pairs)('rpm orders %s before %s', (a, b) => {
    const va = mapVersion(a).rpm.version;
    const vb = mapVersion(b).rpm.version;
    const out = execaSync('rpm', ['--eval', `%{lua: print(rpm.vercmp("${va}", "${vb}"))}`]).stdout.trim();
    expect(out, `${va} < ${vb}`).toBe('-1');
  });
});
