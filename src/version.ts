// One semantic version in, one version string per ecosystem out.
// Only the two semver modules used: the package index loads ~50 files (start-up time of `plan`).
import parseSemver from 'semver/functions/parse.js';
import type SemVer from 'semver/classes/semver.js';
import { UserError, EXIT } from './errors.ts';

export interface Versions {
  /** Normalised semver, no leading "v" (also Homebrew's and winget's version). */
  semver: string;
  tag: string;
  prerelease: boolean;
  homebrew: string;
  /** Full Debian version (upstream~pre-revision), e.g. 1.2.3~rc.1-1. */
  debian: string;
  rpm: { version: string; release: string };
  winget: string;
}

// Debian and RPM both sort "~" before everything, so 1.2.3~rc.1 < 1.2.3. Characters valid in both:
// letters, digits, ".", "+", "~". A "-" inside a pre-release identifier becomes ".".
function distroUpstream(v: SemVer): string {
  let out = `${v.major}.${v.minor}.${v.patch}`;
  if (v.prerelease.length) out += '~' + v.prerelease.join('.').replace(/-/g, '.');
  if (v.build.length) out += '+' + v.build.join('.').replace(/-/g, '.');
  return out;
}

export function parseVersion(input: string, source = '--version'): SemVer {
  const cleaned = input.trim().replace(/^v(?=\d)/, '');
  const v = parseSemver(cleaned);
  if (!v) {
    throw new UserError(`${source}: "${input}" is not a semantic version`, {
      hint: 'use MAJOR.MINOR.PATCH with an optional pre-release, e.g. 1.2.3 or 1.2.3-rc.1 (a leading "v" is accepted)',
      exitCode: EXIT.usage,
    });
  }
  return v;
}

export function mapVersion(input: string, opts: { debianRevision?: number; rpmRelease?: number; source?: string } = {}): Versions {
  const v = parseVersion(input, opts.source);
  const upstream = distroUpstream(v);
  return {
    semver: v.version,
    tag: `v${v.version}`,
    prerelease: v.prerelease.length > 0,
    homebrew: v.version,
    debian: `${upstream}-${opts.debianRevision ?? 1}`,
    rpm: { version: upstream, release: String(opts.rpmRelease ?? 1) },
    winget: v.version,
  };
}

/** MSI ProductVersion (asked only by the MSI target, so other targets accept any semver):
 * three numeric fields, major <= 255, minor <= 255, build <= 65535 (Windows Installer limits). */
export function msiVersion(v: SemVer, source: string): string {
  if (v.major > 255 || v.minor > 255 || v.patch > 65535) {
    throw new UserError(`${source}: ${v.version} cannot be an MSI ProductVersion`, {
      hint: 'Windows Installer allows major and minor up to 255 and patch up to 65535; choose a version inside those limits',
      exitCode: EXIT.usage,
    });
  }
  return `${v.major}.${v.minor}.${v.patch}`;
}
