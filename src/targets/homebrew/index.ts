// Homebrew tap formulae. Homebrew allows one `service do` per formula, so every service gets its own formula
// and the product-named formula installs the CLI and depends on all of them: `brew install <product>`
// installs everything, `brew services start <service>` runs each one.
import path from 'node:path';
import { expandArgs, splitPlatform, type Component, type Platform, type Product, type Service } from '../../product/model.ts';
import { generatedNotice, renderTemplate } from '../../render/templates.ts';
import { homebrewClassName, rubyString } from '../../render/quote.ts';
import { ENV_LAUNCHER_SCRIPT } from '../../render/launcher.ts';
import { archiveFileName } from '../archive/index.ts';
import { releaseUrl } from '../release.ts';
import { definitionName, renderEnvFile } from '../envfile.ts';
import type { DigestOf } from '../types.ts';
import { textTarget } from '../text.ts';
import type { Versions } from '../../version.ts';

/** The product formula: the first non-service component (the CLI), named after the product. */
function productFormulaComponent(product: Product): Component | undefined {
  return product.components.find((c) => !c.service);
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

function archUrls(product: Product, component: Component, versions: Versions, platforms: Platform[], os: 'darwin' | 'linux', digestOf: DigestOf) {
  const pick = (arch: 'arm64' | 'amd64') => {
    const platform = `${os}-${arch}` as Platform;
    if (!platforms.includes(platform) || !component.platforms.includes(platform)) return null;
    const asset = archiveFileName(product, component, platform, versions.semver);
    return { url: rubyString(releaseUrl(product, versions.tag, asset)), sha256: rubyString(digestOf(asset)) };
  };
  const arm = pick('arm64');
  const intel = pick('amd64');
  return arm || intel ? { arm, intel, both: Boolean(arm && intel) } : null;
}

// Service paths as Ruby expressions (Homebrew's var/etc/opt_bin), so they follow the user's prefix.
function rubyPathExpr(base: 'var' | 'etc' | 'opt_bin', rel: string): string {
  return `${base}/${rubyString(rel)}`;
}

function serviceView(product: Product, service: Service) {
  const { stateDir, logsDir } = product.def.install;
  const envRel = `${product.meta.name}/${path.basename(product.def.install.envFile)}`;
  const sentinel = (k: string) => `\u0000${k}\u0000`;
  const dirExpr: Record<string, string> = {
    stateDir: rubyPathExpr('var', `lib/${stateDir}/${service.name}`),
    logsDir: rubyPathExpr('var', `log/${logsDir}`),
    runtimeDir: rubyPathExpr('var', `run/${stateDir}/${service.name}`),
    configDir: rubyPathExpr('etc', product.meta.name),
  };
  // Expand placeholders to sentinels, then turn each argument into a Ruby expression.
  const toRuby = (arg: string) => {
    const parts = arg.split(/\u0000/);
    if (parts.length === 3 && parts[0] === '' && parts[2] === '') return dirExpr[parts[1]!]!;
    return parts.map((p, i) => (i % 2 === 1 ? `#{${dirExpr[p]}}` : rubyString(p).slice(1, -1))).join('').replace(/^/, '"').replace(/$/, '"');
  };
  const args = expandArgs(service, { stateDir: sentinel('stateDir'), logsDir: sentinel('logsDir'), runtimeDir: sentinel('runtimeDir'), configDir: sentinel('configDir') }).map(toRuby);
  const env: string[] = ['PATH: std_service_path_env', ...Object.entries(service.env).map(([k, v]) => `${k}: ${rubyString(v)}`)];
  if (service.frozen) env.push(`TMPDIR: ${rubyPathExpr('var', `run/${stateDir}/${service.name}/tmp`)}`);
  const run = [`opt_libexec/${rubyString(launcherName(product))}`, rubyPathExpr('etc', envRel), `opt_bin/${rubyString(service.binary)}`, ...args];
  return {
    envFile: rubyString(envRel),
    envFileLines: renderEnvFile(product, `#{etc}/${envRel}`).trimEnd().split('\n'),
    launcher: launcherName(product),
    launcherLines: ENV_LAUNCHER_SCRIPT.trimEnd().split('\n'),
    run,
    keepAlive: service.restart.policy === 'always' ? 'true' : service.restart.policy === 'on-failure' ? 'crashed: true' : 'false',
    throttleInterval: Math.max(1, service.restart.delaySeconds),
    workingDir: dirExpr.stateDir,
    logPath: rubyPathExpr('var', `log/${logsDir}/${service.name}.log`),
    environment: env,
  };
}

export function renderFormula(product: Product, component: Component, versions: Versions, platforms: Platform[], digestOf: DigestOf): string {
  const isCli = component === productFormulaComponent(product);
  const services = product.components.filter((c) => c.service);
  const tap = tapPrefix(product);
  const envRel = `${product.meta.name}/${path.basename(product.def.install.envFile)}`;
  return renderTemplate('homebrew/formula.rb.hbs', {
    notice: generatedNotice(definitionName(product)),
    className: homebrewClassName(formulaName(product, component)),
    desc: rubyString(isCli ? product.meta.summary : component.description),

    homepage: rubyString(product.meta.homepage),
    license: rubyString(product.meta.license),
    dependencies: isCli ? services.map((s) => rubyString(`${tap}/${formulaName(product, s)}`)) : [],
    macos: archUrls(product, component, versions, platforms, 'darwin', digestOf),
    linux: archUrls(product, component, versions, platforms, 'linux', digestOf),
    binPath: rubyString(`bin/${component.binary}`),
    service: component.service ? serviceView(product, component.service) : null,
    caveats: isCli
      ? [
          `Secrets (API keys) go in #{etc}/${envRel}; it is never overwritten.`,
          'Start every service in the background and at login:',
          ...services.map((s) => `  brew services start ${formulaName(product, s)}`),
        ]
      : null,
    testCommand: `"#{bin}/${component.binary}${component.smoke.length ? ' ' + component.smoke.join(' ') : ''}"`,
  });
}

/** Components that get a formula: those built for at least one macOS or Linux platform. */
export function formulaComponents(product: Product, platforms: Platform[]): Component[] {
  return product.components.filter((c) => c.platforms.some((p) => platforms.includes(p) && splitPlatform(p).os !== 'windows'));
}

export function formulaFiles(product: Product, versions: Versions, platforms: Platform[], digestOf: DigestOf): Map<string, string> {
  return new Map(formulaComponents(product, platforms).map((c) => [`formula/${formulaName(product, c)}.rb`, renderFormula(product, c, versions, platforms, digestOf)]));
}

export const homebrewTarget = textTarget({
  id: 'homebrew',
  description: 'Homebrew tap formulae (one per service, plus the product formula that depends on them)',
  kindOf: () => 'homebrew-formula',
  paths: ({ product, platforms }) => formulaComponents(product, platforms).map((c) => `formula/${formulaName(product, c)}.rb`),
  render: ({ product, versions, platforms, digestOf }) => formulaFiles(product, versions, platforms, digestOf),
});
