// Homebrew tap formulae. Homebrew allows one `service do` per formula, so every service gets its own formula
// and the product-named formula installs the CLI and depends on all of them: `brew install <product>`
// installs everything, `brew services start <service>` runs each one.
import { cliComponent, expandArgs, splitPlatform, type Component, type Platform, type Product, type Service } from '../../product/model.ts';
import { generatedNotice, renderTemplate } from '../../render/templates.ts';
import { homebrewClassName, rubyInterpolated, rubyString, shWord } from '../../render/quote.ts';
import { ENV_LAUNCHER_SCRIPT, FROZEN_TMPDIR_VAR } from '../../render/launcher.ts';
import { byComponent, byOs, or } from '../../graph/index.ts';
import { archiveFileName, releaseUrl } from '../release.ts';
import { definitionName, renderEnvFile } from '../../render/envfile.ts';
import type { DigestOf } from '../types.ts';
import { textTarget } from '../text.ts';
import { EXIT, UserError } from '../../errors.ts';
import { scanUrlVersion } from './url-version.ts';
import { below, pathText, type LayoutPath } from '../../layout/path.ts';
import { homebrewLayout } from '../../layout/homebrew.ts';
import type { Versions } from '../../version.ts';

/** The product formula: the CLI, named after the product. */
function productFormulaComponent(product: Product): Component | undefined {
  return cliComponent(product);
}

/** Formula name: the service name for services (never shadowing homebrew-core's names), the product name for the CLI. */
export function formulaName(product: Product, component: Component): string {
  if (component.service) return component.service.name;
  return component === productFormulaComponent(product) ? product.meta.name : component.name;
}

/** "owner/homebrew-tap" -> "owner/tap", the prefix `brew` uses for tap formulae. */
export function tapPrefix(product: Product): string {
  const [owner, repo] = product.def.release.homebrewTap.split('/') as [string, string];
  return `${owner}/${repo.replace(/^homebrew-/, '')}`;
}

const launcherName = (product: Product) => `${product.meta.name}-env`;

type HomebrewOs = 'darwin' | 'linux';
type HomebrewArch = 'arm64' | 'amd64';
/** The four machines Homebrew runs on. */
const HOMEBREW_MACHINES: { os: HomebrewOs; arch: HomebrewArch }[] = [
  { os: 'darwin', arch: 'arm64' },
  { os: 'darwin', arch: 'amd64' },
  { os: 'linux', arch: 'amd64' },
  { os: 'linux', arch: 'arm64' },
];
const RUBY_ARCH: Record<HomebrewArch, string> = { arm64: ':arm64', amd64: ':x86_64' };
const RUBY_OS: Record<HomebrewOs, string> = { darwin: ':macos', linux: ':linux' };

interface ArchiveUrl {
  url: string;
  sha256: string;
}
/**
 * What one OS's part of a formula declares (the README's platform table says why for each case). Homebrew's cops
 * allow a url in an on_macos/on_linux block only inside `if Hardware::CPU.arm?`, so every part has both
 * branches; with one arch built both name its archive (run under Rosetta, or refused by `depends_on arch:`).
 */
interface OsPart {
  arm: ArchiveUrl;
  intel: ArchiveUrl;
  /** One archive for both arches. */
  same: boolean;
  /** `depends_on` argument that makes Homebrew refuse the arch not built, e.g. "arch: :x86_64". */
  requirement: string | null;
  /** The Intel macOS build serves Apple Silicon too. */
  rosetta: boolean;
}

function formulaPlatforms(component: Component, platforms: Platform[]): Set<string> {
  return new Set(component.platforms.filter((p) => platforms.includes(p)));
}

function osPart(product: Product, component: Component, versions: Versions, built: Set<string>, os: HomebrewOs, digestOf: DigestOf): OsPart | null {
  const archive = (arch: HomebrewArch): ArchiveUrl | null => {
    if (!built.has(`${os}-${arch}`)) return null;
    const asset = archiveFileName(product, component, `${os}-${arch}` as Platform, versions.semver);
    return { url: rubyString(releaseUrl(product, versions.tag, asset)), sha256: rubyString(digestOf(asset)) };
  };
  const arm = archive('arm64');
  const intel = archive('amd64');
  if (arm && intel) return { arm, intel, same: false, requirement: null, rosetta: false };
  // macOS on Apple Silicon runs Intel builds under Rosetta 2 (as GoReleaser's taps do); Linux has no such layer.
  if (intel && os === 'darwin') return { arm: intel, intel, same: true, requirement: null, rosetta: true };
  const only = arm ?? intel;
  if (!only) return null;
  return { arm: only, intel: only, same: true, requirement: `arch: ${RUBY_ARCH[arm ? 'arm64' : 'amd64']}`, rosetta: false };
}

/** Homebrew machines (os-arch) on which the formula installs: natively, or under Rosetta. */
function installsOn(component: Component, platforms: Platform[]): Set<string> {
  const built = formulaPlatforms(component, platforms);
  return new Set(
    HOMEBREW_MACHINES.filter(({ os, arch }) => built.has(`${os}-${arch}`) || (os === 'darwin' && arch === 'arm64' && built.has('darwin-amd64'))).map(
      ({ os, arch }) => `${os}-${arch}`,
    ),
  );
}

// Layout paths as Ruby expressions of Homebrew's path methods (var/etc/opt_bin), so they follow the user's prefix.
const rubyPath = (p: LayoutPath) => pathText(p, rubyString);

function serviceView(product: Product, service: Service) {
  const layout = homebrewLayout(product);
  const paths = layout.service(service);
  const sentinel = (k: string) => `\u0000${k}\u0000`;
  const dirExpr: Record<string, string> = {
    stateDir: rubyPath(paths.stateDir),
    logsDir: rubyPath(paths.logsDir),
    runtimeDir: rubyPath(paths.runtimeDir),
    configDir: rubyPath(paths.configDir),
  };
  // Expand placeholders to sentinels, then turn each argument into a Ruby expression.
  const toRuby = (arg: string) => {
    const parts = arg.split(/\u0000/);
    if (parts.length === 3 && parts[0] === '' && parts[2] === '') return dirExpr[parts[1]!]!;
    return rubyInterpolated(parts.map((p, i) => (i % 2 === 1 ? { ruby: dirExpr[p]! } : p)));
  };
  const args = expandArgs(service, { stateDir: sentinel('stateDir'), logsDir: sentinel('logsDir'), runtimeDir: sentinel('runtimeDir'), configDir: sentinel('configDir') }).map(toRuby);
  const env: string[] = ['PATH: std_service_path_env', ...Object.entries(service.env).map(([k, v]) => `${k}: ${rubyString(v)}`)];
  if (service.frozen) {
    const tmp = rubyPath(below(paths.runtimeDir, 'tmp'));
    env.push(`TMPDIR: ${tmp}`, `${FROZEN_TMPDIR_VAR}: ${tmp}`);
  }
  const envFile = layout.envFile;
  const run = [`opt_libexec/${rubyString(launcherName(product))}`, rubyPath(envFile), rubyPath(below(layout.binDir, service.binary)), ...args];
  return {
    envFile: rubyPath(envFile),
    // Each line a Ruby string (no here-document: a line of data could end it or interpolate in it).
    envFileLines: renderEnvFile(product, `\u0000/${envFile.path}`).trimEnd().split('\n').map((l) => rubyInterpolated(l.split('\u0000').flatMap((p, i) => (i ? [{ ruby: envFile.root }, p] : [p])))),
    launcher: rubyString(launcherName(product)),
    launcherLines: ENV_LAUNCHER_SCRIPT.trimEnd().split('\n'),
    run,
    keepAlive: service.restart.policy === 'always' ? 'true' : service.restart.policy === 'on-failure' ? 'crashed: true' : 'false',
    throttleInterval: Math.max(1, service.restart.delaySeconds),
    workingDir: dirExpr.stateDir,
    logPath: rubyPath(below(paths.logsDir, `${service.name}.log`)),
    environment: env,
  };
}

/** The definition field a formula's desc comes from, for error messages. */
function descField(product: Product, component: Component, isCli: boolean): string {
  if (isCli) return 'product.summary';
  const i = product.def.components.findIndex((c) => c.name === component.name);
  return `components[${i}] (${component.name}).description`;
}

/**
 * Homebrew's FormulaAudit/Desc rules (Library/Homebrew/rubocops/shared/desc_helper.rb): the problems a desc
 * would get from `brew style`, empty when it passes.
 */
export function descProblems(desc: string, formula: string): string[] {
  const problems: string[] = [];
  if (!desc) return ['it is empty'];
  if (/^\s/.test(desc)) problems.push('it starts with a space');
  if (/\s$/.test(desc)) problems.push('it ends with a space');
  const commandLine = /(command ?line)/i.exec(desc);
  if (commandLine) problems.push(`it says "${commandLine[1]}" instead of "${commandLine[1]![0]}ommand-line"`);
  if (/^(the|an?)(?=\s)/i.test(desc)) problems.push('it starts with an article');
  if (!['iOS', 'iPhone', 'macOS'].includes(desc.split(/\s+/)[0]!) && /^[a-z]/.test(desc)) problems.push('it does not start with a capital letter');
  const nameRe = new RegExp(`^${[...formula.replaceAll('-', '')].map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\-]?')}\\b`, 'i');
  if (nameRe.test(desc)) problems.push(`it starts with the formula name "${formula}"`);
  if (/\.$/.test(desc) && !desc.endsWith('etc.')) problems.push('it ends with a full stop');
  if (/\p{So}/u.test(desc)) problems.push('it contains an emoji or symbol');
  if (desc.length > 80) problems.push(`it is ${desc.length} characters long (at most 80)`);
  return problems;
}

/**
 * The formula's `version` line, or null when Homebrew scans the right version from every url. Homebrew before
 * 6.0.14 and from 6.0.14 on scan differently (url-version.ts); from 6.x on `brew audit` calls a `version`
 * equal to the scanned one redundant. So: no line when both scan right, a line when both scan the same wrong
 * version, and an error (fix release.archiveName) when they differ, as no formula is right under both.
 */
function versionLine(product: Product, component: Component, versions: Versions, platforms: Platform[]): string | null {
  const built = formulaPlatforms(component, platforms);
  const urls = [...built]
    .filter((p) => splitPlatform(p as Platform).os !== 'windows')
    .map((p) => releaseUrl(product, versions.tag, archiveFileName(product, component, p as Platform, versions.semver)));
  let explicit = false;
  for (const url of urls) {
    const before = scanUrlVersion(url, 'before-6.0.14');
    const after = scanUrlVersion(url, '6.0.14');
    if (before === versions.homebrew && after === versions.homebrew) continue;
    if (before === after) {
      explicit = true;
      continue;
    }
    throw new UserError(
      `${definitionName(product)}: release.archiveName "${product.def.release.archiveName}" gives the Homebrew url ${url}, from which Homebrew before 6.0.14 reads version ${before ?? '(none)'} and Homebrew 6.0.14+ reads ${after ?? '(none)'}`,
      {
        hint: `no formula carries version ${versions.homebrew} under both (6.x audits an explicit version equal to its own reading as redundant): end release.archiveName with {version}, e.g. "{name}_{os}_{arch}_{version}"`,
        exitCode: EXIT.config,
      },
    );
  }
  return explicit ? rubyString(versions.homebrew) : null;
}

/** Plan-time checks of what Homebrew would refuse: desc, version, and dependencies missing where the product installs. */
export function checkFormulae(product: Product, versions: Versions, platforms: Platform[]): void {
  const components = formulaComponents(product, platforms);
  const cli = productFormulaComponent(product);
  for (const c of components) {
    const isCli = c === cli;
    const name = formulaName(product, c);
    const problems = descProblems(isCli ? product.meta.summary : c.description, name);
    if (problems.length) {
      throw new UserError(`${definitionName(product)}: ${descField(product, c, isCli)} is the desc of the Homebrew formula ${name}, and ${problems.join('; ')}`, {
        hint: "write what it is without the formula's name, e.g. \"Background daemon for ...\": no leading article, a capital first letter, under 80 characters, no full stop",
        exitCode: EXIT.config,
      });
    }
    versionLine(product, c, versions, platforms);
  }
  if (!cli || !components.includes(cli)) return;
  const cliMachines = installsOn(cli, platforms);
  for (const s of components.filter((c) => c.service)) {
    const missing = [...cliMachines].filter((m) => !installsOn(s, platforms).has(m));
    if (missing.length) {
      throw new UserError(
        `${definitionName(product)}: the Homebrew formula ${product.meta.name} depends on ${formulaName(product, s)}, which is not built for ${missing.join(', ')} (components ${cli.name} and ${s.name} have different platforms)`,
        { hint: `build ${s.name} for the platforms of ${cli.name}, or drop those platforms from ${cli.name}`, exitCode: EXIT.config },
      );
    }
  }
}

const ROSETTA_CAVEAT = 'The macOS build is for Intel only: on Apple Silicon it runs under Rosetta 2 (softwareupdate --install-rosetta).';

export function renderFormula(product: Product, component: Component, versions: Versions, platforms: Platform[], digestOf: DigestOf): string {
  const isCli = component === productFormulaComponent(product);
  const services = product.components.filter((c) => c.service);
  const tap = tapPrefix(product);
  const envFile = homebrewLayout(product).envFile;
  const built = formulaPlatforms(component, platforms);
  const macos = osPart(product, component, versions, built, 'darwin', digestOf);
  const linux = osPart(product, component, versions, built, 'linux', digestOf);
  // Both OSes: on_macos/on_linux blocks. One OS: `depends_on :macos`/`:linux` and its urls at the top level, so
  // the formula loads everywhere and Homebrew refuses it on the other OS.
  const requirements: string[] = [];
  let top: OsPart | null = null;
  let blocks: { open: string; part: OsPart }[] = [];
  if (macos && linux) {
    blocks = [
      { open: 'on_macos', part: macos },
      { open: 'on_linux', part: linux },
    ];
  } else if (macos || linux) {
    top = (macos ?? linux)!;
    requirements.push(RUBY_OS[macos ? 'darwin' : 'linux']);
    if (top.requirement) requirements.push(top.requirement);
  }
  const rosetta = Boolean(macos?.rosetta);
  const caveats = [
    ...(isCli
      ? [
          rubyInterpolated(['Secrets (API keys) go in ', { ruby: envFile.root }, `/${envFile.path}; it is never overwritten.`]),
          rubyString('Start every service in the background and at login:'),
          ...services.map((s) => rubyString(`  brew services start ${formulaName(product, s)}`)),
        ]
      : []),
    ...(rosetta ? [rubyString(ROSETTA_CAVEAT)] : []),
  ];
  return renderTemplate('homebrew/formula.rb.hbs', {
    notice: generatedNotice(definitionName(product)),
    className: homebrewClassName(formulaName(product, component)),
    desc: rubyString(isCli ? product.meta.summary : component.description),

    homepage: rubyString(product.meta.homepage),
    top,
    version: versionLine(product, component, versions, platforms),
    license: rubyString(product.meta.license),
    // FormulaAudit/DependencyOrder: by name, case-insensitively.
    // FormulaAudit/DependencyOrder: every depends_on by its name (a formula, `:linux` -> "linux", `arch: :x` -> "arch").
    dependsOn: [
      ...(isCli ? services.map((s) => ({ key: `${tap}/${formulaName(product, s)}`, line: rubyString(`${tap}/${formulaName(product, s)}`) })) : []),
      ...requirements.map((r) => ({ key: r.replace(/^:/, '').replace(/:.*$/, ''), line: r })),
    ]
      .sort((a, b) => (a.key.toLowerCase() < b.key.toLowerCase() ? -1 : a.key.toLowerCase() > b.key.toLowerCase() ? 1 : 0))
      .map((d) => d.line),
    blocks,
    binPath: rubyString(`bin/${component.binary}`),
    binName: rubyString(component.binary),
    service: component.service ? serviceView(product, component.service) : null,
    caveats: caveats.length ? caveats : null,
    // shell_output runs a shell command line: every word shell-quoted, then the line made a Ruby string.
    upstreamVersion: component.upstream ? rubyString(component.upstream.version) : null,
    testCommand: rubyInterpolated([{ ruby: 'bin' }, `/${[component.binary, ...component.smoke].map(shWord).join(' ')}`]),
  });
}

/** Components that get a formula: those built for at least one macOS or Linux platform. */
export function formulaComponents(product: Product, platforms: Platform[]): Component[] {
  return product.components.filter((c) => c.platforms.some((p) => platforms.includes(p) && splitPlatform(p).os !== 'windows'));
}

export function formulaFiles(product: Product, versions: Versions, platforms: Platform[], digestOf: DigestOf): Map<string, string> {
  checkFormulae(product, versions, platforms);
  return new Map(formulaComponents(product, platforms).map((c) => [`formula/${formulaName(product, c)}.rb`, renderFormula(product, c, versions, platforms, digestOf)]));
}

export const homebrewTarget = textTarget({
  id: 'homebrew',
  description: 'Homebrew tap formulae (one per service, plus the product formula that depends on them)',
  roleOf: () => 'formula',
  produces: ['formula'],
  consumes: ['cli-archive', 'service-archive'],
  // The formula states the sha256 of its component's macOS and Linux archives.
  inputs: ({ product, platforms }, planned, p) => {
    const c = formulaComponents(product, platforms).find((x) => `formula/${formulaName(product, x)}.rb` === p)!;
    return planned.query(['cli-archive', 'service-archive'], byComponent(c.name), or(byOs('darwin'), byOs('linux'))).map((a) => a.id);
  },
  paths: ({ product, versions, platforms }) => {
    checkFormulae(product, versions, platforms);
    return formulaComponents(product, platforms).map((c) => `formula/${formulaName(product, c)}.rb`);
  },
  render: ({ product, versions, platforms, digestOf }) => formulaFiles(product, versions, platforms, digestOf),
});
