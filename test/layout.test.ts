// The install layout as data (src/layout): every unit, plist and installer takes its paths from one layout object
// per install kind, and the installer renders its per-user units and plists from the per-user layout (with the
// bin folder it fills in at install time) instead of rewriting another target's output.
import { describe, expect, it } from 'vitest';
import { loadProduct } from '../src/product/load.ts';
import type { Product } from '../src/product/model.ts';
import { pathText, type InstallLayout } from '../src/layout/path.ts';
import { systemLayout } from '../src/layout/system.ts';
import { launchdSystemLayout } from '../src/layout/launchd-system.ts';
import { INSTALL_TIME_BIN_DIR, USER_PREFIX, userLaunchdLayout, userSystemdLayout, XDG_CONFIG_HOME, XDG_STATE_HOME } from '../src/layout/user-sh.ts';
import { renderServiceUnit, renderSysusers } from '../src/render/systemd.ts';
import { renderLaunchdPlist } from '../src/render/launchd.ts';
import { renderInstallPs1, renderInstallSh } from '../src/targets/installer/index.ts';
import { userPsLayout } from '../src/layout/user-ps.ts';
import { homebrewLayout } from '../src/layout/homebrew.ts';
import { renderFormula } from '../src/targets/homebrew/index.ts';
import { rubyString } from '../src/render/quote.ts';
import { MSI_DATA_ROOT, MSI_INSTALL_DIR, MSI_INSTALL_ROOT, msiLayout } from '../src/layout/msi.ts';
import { msiModel } from '../src/targets/msi/model.ts';
import { renderWxs } from '../src/targets/msi/wxs.ts';
import { mapVersion } from '../src/version.ts';
import { ACME_YAML, fakeDigest } from './helpers.ts';

const acme = loadProduct(ACME_YAML);
const relayd = (p: Product) => p.services.find((s) => s.name === 'acme-relayd')!;
/** acme with another install.stateDir: every install kind must follow. */
const moved: Product = { ...acme, def: { ...acme.def, install: { ...acme.def.install, stateDir: 'moved-state' } } };

describe('install layout', () => {
  it('units and plists state the paths of the layout they are rendered from', () => {
    const custom: InstallLayout = {
      binDir: { root: '@B@', path: '' },
      envFile: { path: '/opt/x/env' },
      service: () => ({ stateDir: { path: '/opt/x/state' }, logsDir: { path: '/opt/x/log' }, runtimeDir: { path: '/opt/x/run' }, configDir: { path: '/opt/x/etc' } }),
    };
    const unit = renderServiceUnit(acme, relayd(acme), 'system', custom);
    expect(unit).toMatch(/^ExecStart=@B@\/relayd --state \/opt\/x\/state /m);
    expect(unit).toMatch(/^EnvironmentFile=-?\/opt\/x\/env$/m);
    const plist = renderLaunchdPlist(acme, relayd(acme), 'system', custom);
    expect(plist).toContain('<string>@B@/relayd</string>');
    expect(plist).toContain('<string>/opt/x/state</string>');
  });

  for (const [label, product] of [['acme', acme], ['acme with install.stateDir moved', moved]] as const) {
    it(`${label}: each install kind renders its own layout's state folder`, () => {
      const s = relayd(product);
      const state = (layout: InstallLayout) => pathText(layout.service(s).stateDir);
      expect(renderServiceUnit(product, s, 'system')).toContain(`--state ${state(systemLayout(product))} `);
      expect(renderServiceUnit(product, s, 'user')).toContain(`--state ${state(userSystemdLayout(product))} `);
      expect(renderLaunchdPlist(product, s, 'system')).toContain(`<string>${state(launchdSystemLayout(product))}</string>`);
      expect(renderLaunchdPlist(product, s, 'user')).toContain(`<string>${state(userLaunchdLayout(product))}</string>`);
      expect(renderSysusers(product)).toContain(` ${systemLayout(product).stateRoot} `);
      const formula = renderFormula(product, product.components.find((c) => c.name === s.component)!, mapVersion('2.4.0'), product.platforms, fakeDigest);
      expect(formula).toContain(`working_dir ${pathText(homebrewLayout(product).service(s).stateDir, rubyString)}`);
      const msiState = msiLayout(product).service(s).stateDir;
      expect(renderWxs(product, msiModel(product, mapVersion('2.4.0')), 'acme.cab')).toContain(`${msiState.root}${msiState.path}`);
      expect(state(systemLayout(product))).toBe(`/var/lib/${product.def.install.stateDir}/acme-relayd`);
    });
  }

  it('install.sh embeds the user units and LaunchAgents rendered from the per-user layout with the install-time bin folder', () => {
    const sh = renderInstallSh(acme, mapVersion('2.4.0'), acme.platforms);
    for (const s of acme.services) {
      const unit = renderServiceUnit(acme, s, 'user', userSystemdLayout(acme, INSTALL_TIME_BIN_DIR));
      expect(unit).toMatch(new RegExp(`^ExecStart=@BINDIR@/${s.binary}\\b`, 'm'));
      expect(sh).toContain(unit);
      expect(sh).toContain(renderLaunchdPlist(acme, s, 'user', userLaunchdLayout(acme, INSTALL_TIME_BIN_DIR)));
    }
    // The target's own user units keep the default per-user bin folder.
    expect(renderServiceUnit(acme, relayd(acme), 'user')).toMatch(/^ExecStart=%h\/\.local\/bin\/relayd /m);
  });
  it('install.ps1 takes its folders and each service\'s paths from the per-user PowerShell layout', () => {
    const ps = renderInstallPs1(acme, mapVersion('2.4.0'), acme.platforms);
    const { folders, binDir, envFile } = userPsLayout(acme);
    expect(ps).toContain(`[string]$Prefix = (Join-Path $env:LOCALAPPDATA (Join-Path 'Programs' 'Acme Relay')),`);
    expect(ps).toMatch(/^\$ConfigDir = Join-Path \$env:APPDATA \$Name$/m);
    expect(ps).toMatch(/^\$EnvFile = Join-Path \$ConfigDir 'relay\.env'$/m);
    for (const f of [folders.data, folders.logs, folders.temp]) {
      expect(ps).toContain(`$${f.variable} = Join-Path $env:${f.env} (Join-Path 'Acme Relay' '${f.below[1]}')`);
    }
    // Every placeholder a service path uses is expanded by the script, to the folder's variable.
    for (const s of acme.services) {
      for (const p of Object.values(userPsLayout(acme).service(s))) {
        const f = Object.values(folders).find((x) => x.placeholder === p.root)!;
        expect(ps).toContain(`.Replace('${f.placeholder}', $${f.variable})`);
      }
    }
    // Each service's data folder lies below install.stateDir, as in the other installs; the script creates the same one.
    expect(ps).toContain(`Args = @('--state', '${folders.data.placeholder}\\${acme.def.install.stateDir}\\acme-relayd', '--listen', '127.0.0.1:18480')`);
    expect(ps).toContain(`DataDir = Join-Path $DataRoot (Join-Path '${acme.def.install.stateDir}' 'acme-relayd')`);
    expect(ps).toContain('$dataDir = $s.DataDir');
    // The uninstall list and the launcher lie below the prefix, where the layout puts them.
    expect(ps).toMatch(/^\$Manifest = Join-Path \$Prefix \(Join-Path 'share' \(Join-Path \$Name 'installed-files'\)\)$/m);
    expect(ps).toMatch(/^\$Launcher = Join-Path \$Prefix \(Join-Path 'libexec' \(Join-Path \$Name 'run-service\.ps1'\)\)$/m);
    expect(binDir).toEqual({ root: folders.prefix.placeholder, path: 'bin' });
    expect(ps).toContain(`$binary = Join-Path (Join-Path $Prefix 'bin') $s.Binary`);
    expect(envFile.root).toBe(folders.config.placeholder);
    // The env file's header names where it lives.
    expect(ps).toContain('%APPDATA%\\acme\\relay.env');
  });

  it('install.ps1 follows a change of the per-user PowerShell layout (another display name)', () => {
    const renamed: Product = { ...acme, meta: { ...acme.meta, displayName: "O'Brien Relay" } };
    const ps = renderInstallPs1(renamed, mapVersion('2.4.0'), renamed.platforms);
    expect(userPsLayout(renamed).folders.data.below).toEqual(["O'Brien Relay", 'data']);
    // The display name reaches the script through the PowerShell quoting helper.
    expect(ps).toContain(`$DataRoot = Join-Path $env:LOCALAPPDATA (Join-Path 'O''Brien Relay' 'data')`);
    expect(ps).toContain(`(Join-Path $env:LOCALAPPDATA (Join-Path 'Programs' 'O''Brien Relay'))`);
    expect(ps).not.toContain('Acme Relay');
  });
  for (const [label, product] of [['acme', acme], ['acme with install.stateDir moved', moved]] as const) {
    it(`${label}: install.sh's prefix, XDG folders and cleanup list come from the per-user install.sh layout`, () => {
      const sh = renderInstallSh(product, mapVersion('2.4.0'), product.platforms);
      const units = userSystemdLayout(product);
      expect(pathText(units.binDir)).toBe(`%h/${USER_PREFIX}/bin`);
      expect(sh).toMatch(new RegExp(`^PREFIX=\\$HOME/${USER_PREFIX.replace('.', '\\.')}$`, 'm'));
      expect(sh).toContain(`  if [ "$PREFIX" = "$HOME/${USER_PREFIX}" ]; then\n    bindir='${pathText(units.binDir)}'\n`);
      expect(sh).toContain(`  CONFIG_HOME=\${${XDG_CONFIG_HOME.variable}:-$HOME/${XDG_CONFIG_HOME.fallback}}\n`);
      expect(sh).toContain(`  for base in "\${${XDG_STATE_HOME.variable}:-$HOME/${XDG_STATE_HOME.fallback}}" "$CONFIG_HOME"; do`);
      // The folders the user units' StateDirectory=/LogsDirectory= create are the ones uninstall removes.
      const stateDirs = product.services.map((s) => units.service(s).stateDir.path);
      expect(sh).toContain(`    for d in ${stateDirs.join(' ')}; do`);
      expect(sh).toContain(`    rm -rf "\${base:?}"/log/${units.service(product.services[0]!).logsDir.path}\n`);
      expect(sh).toContain(`    rmdir "$base"/${product.def.install.stateDir} "$base/log" 2>/dev/null || true`);
      // The user units' folder below the config home, the LaunchAgents' below $HOME.
      expect(units.unitDir.root).toBe('%E');
      expect(sh).toContain(`  unit_dir=$CONFIG_HOME/${units.unitDir.path}\n`);
      expect(sh).toContain(`  agents_dir=$HOME/${userLaunchdLayout(product).agentsDir.path}\n`);
      // The env file's folder: the units' %E one on Linux, the LaunchAgents' one below $HOME on macOS.
      expect(units.envFile.root).toBe('%E');
      expect(sh).toContain(`  env_dir=$CONFIG_HOME/${units.envFile.path.split('/')[0]}\n`);
      expect(sh).toContain(`  [ "$OS" = darwin ] && env_dir=$HOME/${userLaunchdLayout(product).envFile.path.split('/').slice(0, -1).join('/')}\n`);
    });
  }
  it('the MSI install folder tree (bin, the service host folder) comes from the MSI layout', () => {
    const layout = msiLayout(acme);
    expect(layout.binDir.root).toBe(MSI_INSTALL_ROOT);
    expect(layout.serviceHostDir.root).toBe(MSI_INSTALL_ROOT);
    const model = msiModel(acme, mapVersion('2.4.0'));
    expect(model.installDir.id).toBe(MSI_INSTALL_DIR);
    const sub = (name: string) => model.installDir.dirs.find((d) => d.name === name)!;
    const bin = sub(layout.binDir.path);
    expect(bin.components.flatMap((c) => c.files.map((f) => f.source)).every((src) => src.startsWith(`${layout.binDir.path}/`))).toBe(true);
    expect(bin.components.length).toBeGreaterThan(0);
    // The CLI's PATH entry is the layout's bin folder.
    expect(bin.components.some((c) => c.pathEntry?.directory === bin.id)).toBe(true);
    const hostDir = sub(layout.serviceHostDir.path);
    expect(hostDir.components.map((c) => c.files[0]!.source)).toEqual([`${layout.serviceHostDir.path}/acme-service.exe`]);
    const wxs = renderWxs(acme, model, 'acme.cab');
    expect(wxs).toMatch(new RegExp(`<Directory Id="${bin.id}" Name="${layout.binDir.path}"`));
    expect(wxs).toMatch(new RegExp(`<Directory Id="${hostDir.id}" Name="${layout.serviceHostDir.path}"`));
    // The install folder and the data folder hang below the system folders the layout names.
    for (const [folder, id] of [[layout.installFolder, MSI_INSTALL_DIR], [layout.dataFolder, model.dataDir.id]] as const) {
      expect(wxs).toContain(`<Directory Id="${folder.parent}">\n        <Directory Id="${id}" Name="${folder.name}">`);
    }
    expect(layout.installFolder.parent).toBe('ProgramFiles64Folder');
    expect(MSI_DATA_ROOT).toBe(`[${layout.dataFolder.parent}]`);
  });
});
