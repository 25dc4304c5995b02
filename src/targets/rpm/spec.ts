// The rpm spec's view model (templates/rpm/package.spec.hbs), the systemd preset the package ships, and the
// rpmlint configuration that accepts what is expected of prebuilt binaries. Text that ends up in the spec is
// %-escaped: rpm expands macros everywhere, comments and scriptlets included.
import path from 'node:path';
import { EXIT, UserError } from '../../errors.ts';
import type { Product } from '../../product/model.ts';
import { generatedNotice, renderTemplate } from '../../render/templates.ts';
import { rpmDescriptionLine, rpmText } from '../../render/quote.ts';
import { definitionName } from '../../render/envfile.ts';
import { dedicatedConfigDir, parentDirs, SYSTEM_DIRS, type PackageFile } from '../linux/layout.ts';
import { BIN_DIR } from '../../layout/system.ts';
import { scriptView, upstreamStates } from '../linux/scripts.ts';
import { longDescription } from '../linux/description.ts';

export const rpmEscape = (s: string) => rpmText(s);

/** rpm rejects "-" in Version and Release; both allow letters, digits and . _ + ~ ^. */
export function checkRpmVersion(version: string, release: string, source: string): void {
  for (const [what, v] of [['version', version], ['release', release]] as const) {
    if (!/^[A-Za-z0-9._+~^]+$/.test(v)) {
      throw new UserError(`${source}: "${v}" is not a valid rpm ${what}`, {
        hint: 'rpm versions use letters, digits, ".", "_", "+", "~" and "^" only (no "-"); a pre-release is written 1.2.3~rc.1',
        exitCode: EXIT.usage,
      });
    }
  }
}

/** A path as rpm's %files and %install take it unquoted: anything else is refused with the field to change. */
export function specPath(p: string): string {
  if (!/^\/[A-Za-z0-9._+@/-]+$/.test(p)) {
    throw new UserError(`cannot package ${JSON.stringify(p)} in an rpm: the path has characters %files cannot list`, {
      hint: 'use letters, digits, ".", "_", "-", "+" and "@" in install paths (install.envFile, install.configDir, files[].dest, component binaries)',
      exitCode: EXIT.config,
    });
  }
  return p;
}

export interface SpecSource {
  index: number;
  /** File name in the SOURCES directory. */
  name: string;
  file: PackageFile;
}

/** One SOURCES entry per packaged file, named so no two collide. */
export function specSources(files: PackageFile[]): SpecSource[] {
  return files.map((file, index) => ({ index, name: `${index}-${path.posix.basename(file.path)}`, file }));
}

function rpmDate(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  return `${day} ${month} ${String(d.getUTCDate()).padStart(2, '0')} ${d.getUTCFullYear()}`;
}

export interface SpecInput {
  product: Product;
  version: string;
  release: string;
  semver: string;
  files: PackageFile[];
  sourceDateEpoch: number;
}

export function renderSpec({ product, version, release, semver, files, sourceDateEpoch }: SpecInput): string {
  const { group } = product.def.install;
  const sources = specSources(files);
  const own = parentDirs(files.map((f) => f.path)).filter((d) => !SYSTEM_DIRS.has(d) && (!d.startsWith('/etc') || d === dedicatedConfigDir(product)));
  const fileLines = [
    ...own.map((d) => ({ path: d, line: `%dir ${specPath(d)}` })),
    ...files.map((f) => ({
      path: f.path,
      line:
        f.role === 'env-file'
          ? `%config(noreplace) %attr(0640,root,${group}) ${specPath(f.path)}`
          : f.role === 'license'
            ? `%license ${specPath(f.path)}`
            : specPath(f.path),
    })),
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const description = longDescription(product).split('\n');
  return renderTemplate('rpm/package.spec.hbs', {
    ...scriptView(product, rpmEscape, 'systemctl stop'),
    name: rpmText(product.meta.name),
    version: rpmText(version),
    release: rpmText(release),
    summary: rpmEscape(product.meta.summary),
    license: rpmEscape(product.meta.license),
    url: rpmEscape(product.meta.homepage),
    vendor: rpmEscape(product.meta.vendor),
    packager: rpmEscape(product.meta.maintainer),
    // rpmlint's default configuration still asks for a Group tag.
    rpmGroup: 'System Environment/Daemons',
    sources: sources.map((s) => ({ index: s.index, name: s.name })),
    description: description.map(rpmDescriptionLine),
    install: sources.map((s) => ({ source: `%{SOURCE${s.index}}`, mode: s.file.mode.toString(8).padStart(4, '0'), dest: specPath(s.file.path) })),
    files: fileLines.map((f) => f.line),
    changelog: {
      date: rpmDate(sourceDateEpoch),
      author: rpmEscape(product.meta.maintainer),
      evr: `${version}-${release}`,
      entry: rpmEscape(`${product.meta.displayName} ${semver}, packaged by stigmer-dist from ${definitionName(product)}.`),
    },
  });
}

export const presetPath = (product: Product) => `/usr/lib/systemd/system-preset/50-${product.meta.name}.preset`;

export function renderPreset(product: Product): string {
  return renderTemplate('rpm/preset.hbs', { notice: generatedNotice(definitionName(product)), target: `${product.meta.name}.target`, displayName: product.meta.displayName });
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface RpmlintFilter {
  /** Regular expression matched against rpmlint's output lines. */
  pattern: string;
  reason: string;
}

/**
 * rpmlint findings that are expected for the product's packages, each with its reason; rpmlint reports the
 * rest. Used as `rpmlint -c <file>` (rpmlint 2 TOML configuration) by the tests and the verify command.
 * The binary filters hold for every payload (a dynamically linked one simply does not raise the first).
 */
export function rpmlintFilters(product: Product): RpmlintFilter[] {
  const pkg = escapeRegex(product.meta.name);
  const at = (tag: string, p: string) => `^${pkg}\\.[a-z0-9_]+: [EW]: ${tag} ${escapeRegex(p)}( |$)`;
  const out: RpmlintFilter[] = [];
  for (const c of product.components) {
    const bin = `${BIN_DIR}/${c.binary}`;
    out.push({ pattern: at('statically-linked-binary', bin), reason: `${c.name} is a prebuilt, statically linked release binary (Go), shipped byte-identical.` });
    out.push({ pattern: at('position-independent-executable-suggested', bin), reason: `${c.name} is shipped exactly as its release build made it (Go builds static, non-PIE executables).` });
    out.push({
      pattern: at('unstripped-binary-or-object', bin),
      reason: c.frozen ? `${c.name} is a frozen (PyInstaller) payload: stripping it breaks it, so it is never stripped.` : `${c.name} is a prebuilt release binary, shipped byte-identical (never stripped).`,
    });
    out.push({ pattern: at('no-manual-page-for-binary', c.binary), reason: `${c.name} is a prebuilt binary without a manual page; --help documents it.` });
  }
  out.push({ pattern: `^${pkg}\\.[a-z0-9_]+: W: only-non-binary-in-usr-lib$`, reason: '/usr/lib holds the systemd units, the preset and the sysusers.d entry, which belong there.' });
  out.push({ pattern: `^${pkg}\\.[a-z0-9_]+: W: no-documentation$`, reason: `a binary-only package: the documentation is at ${product.meta.homepage}.` });
  out.push({
    pattern: `^${pkg}\\.[a-z0-9_]+: W: invalid-license ${escapeRegex(product.meta.license)}$`,
    reason: "the license is an SPDX identifier; rpmlint's default configuration only knows Fedora's old short names.",
  });
  const env = product.def.install.envFile;
  out.push({ pattern: at('non-readable', env), reason: "the env file holds secrets: root and the services' group may read it, nobody else." });
  out.push({ pattern: at('non-standard-gid', env), reason: `the env file belongs to the services' group (${product.def.install.group}), which the package creates.` });
  if (upstreamStates(product).length) {
    out.push({ pattern: `^${pkg}\\.[a-z0-9_]+: W: dangerous-command-in-%post cp$`, reason: `%post copies the state directory of ${upstreamStates(product).map((u) => u.service).join(', ')} aside before another upstream version runs on it (README, "Upgrades of a pinned upstream program").` });
  }
  out.push({ pattern: `^${pkg}\\.[a-z0-9_]+: E: no-signature$`, reason: 'a signed build signs every package with the release key (rpmsign, in the join); an --unsigned build has no key to sign with.' });
  return out;
}

export function renderRpmlintConfig(product: Product): string {
  const lines = [`# ${generatedNotice(definitionName(product))}`, '# rpmlint findings expected for prebuilt release binaries. Use: rpmlint -c <this file> <package>.rpm', 'Filters = ['];
  for (const f of rpmlintFilters(product)) lines.push(`    # ${f.reason}`, `    ${JSON.stringify(f.pattern)},`);
  lines.push(']');
  return lines.join('\n') + '\n';
}
