// The MSI as msitools reads it back: tables are what the product model says, rebuilds are byte-identical, the
// WiX source matches its golden file, and bad input stops the build before anything is written.
import { execa } from 'execa';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import { loadProduct } from '../src/product/load.ts';
import { exeName, type Product } from '../src/product/model.ts';
import { mapVersion } from '../src/version.ts';
import { msiTarget, msiEnvTemplatePath, wxsPath } from '../src/targets/msi/index.ts';
import { windowsServiceName } from '../src/targets/msi/model.ts';
import { msiFileName } from '../src/targets/release.ts';
import { wixl } from '../src/targets/msi/wixl.ts';
import { renderWinget, wingetFiles } from '../src/targets/winget/index.ts';
import type { BuildContext, Payload } from '../src/targets/types.ts';
import { hashFile } from '../src/util/fsx.ts';
import { uuidV5 } from '../src/util/uuid.ts';
import { checkPayloads } from '../src/payloads/check.ts';
import { fixtureExecutable } from './go-programs.ts';
import { parse } from 'yaml';
import { ACME_YAML, STIGMER_YAML, fakeDigest, fixturePayloads, runCli, tempDir, nothingPlanned } from './helpers.ts';

const EPOCH = 1700000000;
const MSI_PLATFORM = 'windows-amd64';

// Folders made in beforeAll (tempDir() only works inside a test), removed after the file.
const suiteDirs: string[] = [];
afterAll(() => suiteDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function suiteDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  suiteDirs.push(dir);
  return dir;
}

/** Small distinct Windows payloads (fixturePayloads in a folder usable outside a test). */
function windowsPayloads(product: Product): Promise<string> {
  return fixturePayloads(product, [MSI_PLATFORM], suiteDir('sd-msi-payloads-'));
}

/** Runs the msi target alone on small Windows payloads (Stigmer's temporal would otherwise be downloaded). */
async function buildMsi(product: Product, version: string, outDir: string, payloadDir?: string) {
  const versions = mapVersion(version);
  const dir = payloadDir ?? (await windowsPayloads(product));
  const payloads = await checkPayloads(
    product.components
      .filter((c) => c.platforms.includes(MSI_PLATFORM))
      .map((c) => ({ component: c.name, platform: MSI_PLATFORM, path: path.join(dir, MSI_PLATFORM, exeName(c.binary, MSI_PLATFORM)), sha256: '', size: 0, origin: 'local' as const })),
  );
  const payload = (component: string): Payload => payloads.find((p) => p.component === component)!;
  const ctx: BuildContext = {
    product,
    versions,
    platforms: [MSI_PLATFORM],
    snapshot: false,
    outDir,
    sourceDateEpoch: EPOCH,
    payload,
    built: () => {
      throw new Error('not used');
    },
    report: { info() {}, warn() {}, progress() {}, done() {} } as unknown as BuildContext['report'],
    inputsOf: () => [],
  };
  const planned = msiTarget.plan(ctx, nothingPlanned);
  const built = await msiTarget.build(ctx, planned);
  return { planned, built, msi: path.join(outDir, msiFileName(product, versions.semver)), versions };
}

type Row = Record<string, string>;
async function table(msi: string, name: string): Promise<Row[]> {
  const { stdout } = await execa('msiinfo', ['export', msi, name]);
  const [head, , , ...rows] = stdout.split(/\r?\n/);
  const cols = head!.split('\t');
  return rows.filter((r) => r !== '').map((r) => Object.fromEntries(r.split('\t').map((v, i) => [cols[i]!, v])));
}
const by = (rows: Row[], key: string) => Object.fromEntries(rows.map((r) => [r[key]!, r]));

describe('msi: stigmer (every service through the service host)', () => {
  const product = loadProduct(STIGMER_YAML);
  const version = '1.2.3-rc.1';
  let out: string;
  let msi: string;

  beforeAll(async () => {
    out = suiteDir('sd-msi-');
    ({ msi } = await buildMsi(product, version, out));
  });

  it('plans the MSI, its WiX source and the env file template', () => {
    expect(msiTarget.plan({ product, versions: mapVersion(version), platforms: [MSI_PLATFORM], snapshot: false }, nothingPlanned).map((a) => [a.path, a.role, a.release])).toEqual([
      ['stigmer_windows_amd64_1.2.3-rc.1.msi', 'msi', true],
      ['msi/stigmer.wxs', 'wix-source', false],
      ['msi/config/stigmer.env', 'env-file', false],
    ]);
    expect(msiTarget.plan({ product, versions: mapVersion(version), platforms: ['linux-amd64'], snapshot: false }, nothingPlanned)).toEqual([]);
  });

  it('WiX source and env file match their golden files', async () => {
    await expect(readFileSync(path.join(out, wxsPath(product)), 'utf8')).toMatchFileSnapshot('golden/stigmer/msi/stigmer.wxs');
    const env = readFileSync(path.join(out, msiEnvTemplatePath(product)), 'utf8');
    await expect(env).toMatchFileSnapshot('golden/stigmer/msi/config/stigmer.env');
    // A template: every secret named, commented out, no value.
    for (const s of product.secrets) expect(env).toContain(`\r\n#${s}=\r\n`);
    expect(env).not.toMatch(/^[A-Z_]+=./m);
  });

  it('Property and Upgrade rows: product identity, numeric version, stable UpgradeCode, MajorUpgrade', async () => {
    const props = Object.fromEntries((await table(msi, 'Property')).map((r) => [r.Property, r.Value]));
    const code = `{${uuidV5(product.def.identifiers.msiUpgradeCode, 'ProductCode/1.2.3-rc.1')}}`;
    expect(props).toMatchObject({
      ProductName: 'Stigmer',
      Manufacturer: 'Stigmer',
      ProductVersion: '1.2.3',
      ProductCode: code,
      UpgradeCode: `{${product.def.identifiers.msiUpgradeCode}}`,
      ALLUSERS: '1',
      ARPURLINFOABOUT: product.meta.homepage,
    });
    // The winget manifest states the same ProductCode.
    const installer = parse(renderWinget(product, mapVersion(version), fakeDigest).get(wingetFiles(product, mapVersion(version)).installer)!);
    expect(installer.Installers[0].ProductCode).toBe(code);
    const upgrade = by(await table(msi, 'Upgrade'), 'ActionProperty');
    expect(upgrade.WIX_UPGRADE_DETECTED).toMatchObject({ UpgradeCode: `{${product.def.identifiers.msiUpgradeCode}}`, VersionMin: '', VersionMax: '1.2.3', Attributes: '1' });
    expect(upgrade.WIX_DOWNGRADE_DETECTED).toMatchObject({ VersionMin: '1.2.3', VersionMax: '', Attributes: '2' });
    expect(await table(msi, 'LaunchCondition')).toEqual([{ Condition: 'NOT WIX_DOWNGRADE_DETECTED', Description: 'A newer version of Stigmer is already installed.' }]);
    const seq = by(await table(msi, 'InstallExecuteSequence'), 'Action');
    expect(Number(seq.RemoveExistingProducts!.Sequence)).toBeGreaterThan(Number(seq.InstallValidate!.Sequence));
    expect(Number(seq.RemoveExistingProducts!.Sequence)).toBeLessThan(Number(seq.InstallInitialize!.Sequence));
  });

  it('File and Component rows: every Windows payload in bin, 64-bit components, the env file unmanaged and never overwritten', async () => {
    const files = by(await table(msi, 'File'), 'FileName');
    const binaries = product.components.filter((c) => c.platforms.includes(MSI_PLATFORM)).map((c) => `${c.binary}.exe`);
    expect(Object.keys(files).sort()).toEqual([...binaries, 'stigmer-service.exe', 'LICENSE', 'stigmer.env'].sort());
    for (const b of binaries) expect(Number(files[b]!.FileSize)).toBe((await fixtureExecutable(MSI_PLATFORM, `fixture payload ${product.components.find((c) => `${c.binary}.exe` === b)!.name} ${MSI_PLATFORM}`)).length);
    const components = by(await table(msi, 'Component'), 'Component');
    const dirs = by(await table(msi, 'Directory'), 'Directory');
    for (const b of binaries) {
      const c = components[files[b]!.Component_!]!;
      expect(c).toMatchObject({ Directory_: 'Dir_bin', Attributes: '256', KeyPath: files[b]!.File });
      expect(c.ComponentId).toMatch(/^\{[0-9A-F-]{36}\}$/);
    }
    expect(dirs.Dir_bin).toMatchObject({ Directory_Parent: 'INSTALLDIR', DefaultDir: 'bin' });
    expect(dirs.INSTALLDIR).toMatchObject({ Directory_Parent: 'ProgramFiles64Folder', DefaultDir: 'Stigmer' });
    expect(dirs.DATADIR).toMatchObject({ Directory_Parent: 'CommonAppDataFolder', DefaultDir: 'Stigmer' });
    // 64-bit (256) | NeverOverwrite (128), and no ComponentId: installed once, kept on upgrade and uninstall.
    expect(components.Cmp_EnvFile).toMatchObject({ ComponentId: '', Directory_: 'DATADIR', Attributes: '384', KeyPath: 'File_EnvFile' });
    expect(await table(msi, 'LockPermissions')).toEqual(
      expect.arrayContaining(['Administrators', 'SYSTEM'].map((User) => ({ LockObject: 'File_EnvFile', Table: 'File', Domain: '', User, Permission: '268435456' }))),
    );
    // The CLI's folder is appended to the system PATH, and removed again on uninstall.
    expect(await table(msi, 'Environment')).toEqual([{ Environment: 'Env_PATH', Name: '=-*PATH', Value: '[~];[Dir_bin]', Component_: 'Cmp_stigmer' }]);
  });

  it('ServiceInstall and ServiceControl rows: one Windows service per model service, started on install, stopped and removed on uninstall', async () => {
    const installs = by(await table(msi, 'ServiceInstall'), 'Name');
    const controls = by(await table(msi, 'ServiceControl'), 'Name');
    expect(Object.keys(installs).sort()).toEqual(['AgentRunner', 'StigmerServer', 'StigmerTemporal', 'WorkflowRunner']);
    for (const s of product.services) {
      const name = windowsServiceName(s);
      expect(installs[name]).toMatchObject({
        ServiceType: '16', // own process
        StartType: '2', // automatic
        ErrorControl: '1',
        StartName: 'LocalSystem',
        Arguments: `run ${name}`,
        Component_: 'Cmp_ServiceHost',
        Description: s.description,
        Dependencies: s.after.length ? `${s.after.map((d) => windowsServiceName(product.services.find((x) => x.name === d)!)).join('[~]')}[~][~]` : '',
      });
      // 0x1 start on install, 0x2 stop on install, 0x20 stop on uninstall, 0x80 delete on uninstall.
      expect(controls[name]).toMatchObject({ Event: '163', Wait: '1', Component_: 'Cmp_ServiceHost' });
    }
    expect(installs.StigmerServer!.DisplayName).toBe('Stigmer Server');
    expect(installs.WorkflowRunner!.DisplayName).toBe('Stigmer Workflow Runner');
    // The host is the key file of the component holding every ServiceInstall.
    expect(by(await table(msi, 'Component'), 'Component').Cmp_ServiceHost).toMatchObject({ KeyPath: 'File_ServiceHost', Directory_: 'Dir_services' });
    const recovery = by(await table(msi, 'MsiServiceConfigFailureActions'), 'Name');
    for (const s of product.services) {
      const d = String(s.restart.delaySeconds * 1000);
      expect(recovery[windowsServiceName(s)]).toMatchObject({ Event: '5', ResetPeriod: '86400', Actions: '1[~]1[~]1', DelayActions: `${d}[~]${d}[~]${d}` });
    }
    const seq = by(await table(msi, 'InstallExecuteSequence'), 'Action');
    expect(Number(seq.InstallServices!.Sequence)).toBeLessThan(Number(seq.MsiConfigureServices!.Sequence));
    expect(Number(seq.MsiConfigureServices!.Sequence)).toBeLessThan(Number(seq.StartServices!.Sequence));
  });

  it('Registry rows: the service host settings per service, paths resolved at install time, no secret', async () => {
    const rows = await table(msi, 'Registry');
    const server = Object.fromEntries(rows.filter((r) => r.Key === 'SYSTEM\\CurrentControlSet\\Services\\StigmerServer\\Parameters').map((r) => [r.Name, r.Value]));
    expect(server).toEqual({
      AppPath: '[#File_stigmer_server]',
      AppParameters: '[~]serve[~]--data-dir[~][CommonAppDataFolder]Stigmer\\data\\stigmer-server[~]--port[~]7234[~]--http-port[~]7235[~]',
      AppEnvironment: '[~]STIGMER_LOG_FORMAT=json[~]STIGMER_TEMPORAL_ADDRESS=127.0.0.1:7233[~]',
      AppEnvironmentFile: '[CommonAppDataFolder]Stigmer\\stigmer.env',
      AppDirectory: '[CommonAppDataFolder]Stigmer\\data\\stigmer-server',
      AppLog: '[CommonAppDataFolder]Stigmer\\logs\\stigmer-server.log',
      AppRestart: 'always',
      AppRestartDelay: '#2',
      AppStopTimeout: '#30',
    });
    // The frozen (PyInstaller) service unpacks into its own TEMP folder.
    const agent = rows.find((r) => r.Key.endsWith('\\AgentRunner\\Parameters') && r.Name === 'AppEnvironment')!;
    expect(agent.Value).toContain('[~]TEMP=[CommonAppDataFolder]Stigmer\\run\\agent-runner[~]');
    for (const secret of product.secrets) expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('pins the summary information: PackageCode derived from the inputs, times from SOURCE_DATE_EPOCH', async () => {
    const { stdout } = await execa('msiinfo', ['suminfo', msi], { env: { TZ: 'UTC' } });
    expect(stdout).toMatch(/^Revision number \(UUID\): \{[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}\}$/m);
    expect(stdout).toMatch(/^Created: Tue Nov 14 22:13:20 2023$/m);
    expect(stdout).toMatch(/^Last saved: Tue Nov 14 22:13:20 2023$/m);
    expect(stdout).toMatch(/^Template: x64;1033$/m);
  });

  it('a second build of the same inputs gives the same MSI bytes; other payloads give another PackageCode', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // another wall-clock second for wixl's timestamps
    const again = await buildMsi(product, version, tempDir('sd-msi-'));
    expect((await hashFile(again.msi)).sha256).toBe((await hashFile(msi)).sha256);
    const payloads = await windowsPayloads(product);
    appendFileSync(path.join(payloads, MSI_PLATFORM, 'stigmer.exe'), 'another CLI build\n');
    const other = await buildMsi(product, version, tempDir('sd-msi-'), payloads);
    const rev = async (f: string) => /Revision number \(UUID\): (.*)/.exec((await execa('msiinfo', ['suminfo', f])).stdout)![1];
    expect(await rev(other.msi)).not.toBe(await rev(msi));
  });
});

describe('msi: acme (a second product, its daemon registered natively)', () => {
  let product: Product;
  let msi: string;
  let out: string;

  beforeAll(async () => {
    // The same fixture with relayd declared as a program that answers the SCM itself.
    const dir = suiteDir('sd-acme-');
    cpSync(path.dirname(ACME_YAML), dir, { recursive: true });
    const file = path.join(dir, 'acme.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('    service:\n      name: acme-relayd\n', '    windows: { service: native }\n    service:\n      name: acme-relayd\n'));
    product = loadProduct(file);
    out = suiteDir('sd-msi-');
    ({ msi } = await buildMsi(product, '2.4.0', out));
  });

  it('WiX source matches its golden file', async () => {
    await expect(readFileSync(path.join(out, wxsPath(product)), 'utf8')).toMatchFileSnapshot('golden/acme/msi/acme.wxs');
  });

  it('installs only the components built for Windows, under the display name', async () => {
    const files = (await table(msi, 'File')).map((r) => r.FileName).sort();
    expect(files).toEqual(['NOTICE', 'acmectl.exe', 'relay.env', 'relayd.exe']);
    const dirs = by(await table(msi, 'Directory'), 'Directory');
    expect(dirs.INSTALLDIR!.DefaultDir).toBe('Acme Relay');
  });

  it('registers the native service on its own executable, with quoted arguments and its environment in the registry', async () => {
    const [svc, ...rest] = await table(msi, 'ServiceInstall');
    expect(rest).toEqual([]);
    expect(svc).toMatchObject({
      Name: 'AcmeRelayd',
      DisplayName: 'Acme Relay Relayd',
      Component_: 'Cmp_relayd',
      Arguments: '--state "[CommonAppDataFolder]Acme Relay\\data\\acme-relayd" --listen 127.0.0.1:18480',
    });
    expect(by(await table(msi, 'Component'), 'Component').Cmp_relayd!.KeyPath).toBe('File_relayd');
    const env = (await table(msi, 'Registry')).filter((r) => r.Key === 'SYSTEM\\CurrentControlSet\\Services\\AcmeRelayd');
    expect(env).toEqual([
      expect.objectContaining({ Name: 'Environment', Value: '[~]RELAY_MODE=fast path[~]ACME_ENV_FILE=[CommonAppDataFolder]Acme Relay\\relay.env[~]', Component_: 'Cmp_relayd' }),
    ]);
    expect(by(await table(msi, 'MsiServiceConfigFailureActions'), 'Name').AcmeRelayd).toMatchObject({ DelayActions: '5000[~]5000[~]5000' });
    expect(await table(msi, 'Environment')).toEqual([expect.objectContaining({ Value: '[~];[Dir_bin]', Component_: 'Cmp_acmectl' })]);
  });
});

describe('msi: bad input', () => {
  it('a version outside the MSI limits fails the plan, and nothing is written', async () => {
    const out = tempDir();
    const r = await runCli(['build', '--config', ACME_YAML, '--from', await fixturePayloads(loadProduct(ACME_YAML)), '--version', '256.0.0', '--target', 'msi', '--out', out]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/256\.0\.0 cannot be an MSI ProductVersion/);
    expect(r.stderr).toMatch(/major and minor up to 255/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('a missing or malformed upgrade code is a definition error naming the field', async () => {
    const dir = tempDir();
    cpSync(path.dirname(ACME_YAML), dir, { recursive: true });
    const file = path.join(dir, 'acme.yaml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/^ {2}msiUpgradeCode: .*\n/m, ''));
    let r = await runCli(['plan', '--config', file, '--target', 'msi']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/acme\.yaml:\d+:\d+: identifiers\.msiUpgradeCode: required field is missing/);
    writeFileSync(file, text.replace(/msiUpgradeCode: .*/, 'msiUpgradeCode: 2b8e4c1d-7a3f-4b6e-8d2c-9f1a0e5b7c34'));
    r = await runCli(['plan', '--config', file, '--target', 'msi']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/identifiers\.msiUpgradeCode: .*must be an upper-case GUID/);
  });

  it('a Windows service that starts after a component with no Windows payload is refused at load, naming both', async () => {
    const dir = tempDir();
    cpSync(path.dirname(ACME_YAML), dir, { recursive: true });
    const file = path.join(dir, 'acme.yaml');
    const text = readFileSync(file, 'utf8')
      .replace('    platforms: [linux-amd64, linux-arm64, darwin-arm64]\n', '')
      .replace('    language: go\n    service:\n      name: acme-relayd', '    language: go\n    platforms: [linux-amd64]\n    service:\n      name: acme-relayd');
    writeFileSync(file, text);
    const out = path.join(dir, 'dist');
    const r = await runCli(['build', '--config', file, '--snapshot', '--target', 'msi', '--out', out]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/acme\.yaml:\d+:\d+: components\[2\]\(metrics\)\.service\.after\[0\]: the Windows service starts after "relayd", which is not built for windows-amd64/);
    expect(r.stderr).toMatch(/fix: add windows-amd64 to relayd's platforms/);
    expect((await runCli(['plan', '--config', file])).exitCode).toBe(3);
    expect(existsSync(out)).toBe(false);
  });

  it('a missing Windows payload stops the build and leaves nothing behind', async () => {
    const product = loadProduct(ACME_YAML);
    const payloads = await fixturePayloads(product);
    rmSync(path.join(payloads, MSI_PLATFORM, 'relayd.exe'));
    const out = tempDir();
    const r = await runCli(['build', '--config', ACME_YAML, '--from', payloads, '--target', 'archive,msi', '--out', out]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/windows-amd64\/relayd\.exe/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('wixl warnings (WiX it does not support) fail the build instead of producing a partial MSI', async () => {
    const dir = tempDir();
    const wxs = (extra: string) => `<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="11111111-2222-3333-4444-555555555555" Name="T" Language="1033" Version="1.0.0" Manufacturer="T" UpgradeCode="11111111-2222-3333-4444-666666666666">
    <Package InstallerVersion="500" Compressed="yes" InstallScope="perMachine"/>
    <MajorUpgrade DowngradeErrorMessage="newer"${extra}/>
    <Directory Id="TARGETDIR" Name="SourceDir"><Directory Id="ProgramFiles64Folder"><Directory Id="INSTALLDIR" Name="T">
      <Component Id="C" Guid="11111111-2222-3333-4444-777777777777" Win64="yes"><CreateFolder/></Component>
    </Directory></Directory></Directory>
    <Feature Id="F" Level="1"><ComponentRef Id="C"/></Feature>
  </Product>
</Wix>
`;
    writeFileSync(path.join(dir, 'good.wxs'), wxs(''));
    await wixl('good.wxs', path.join(dir, 'good.msi'), dir);
    writeFileSync(path.join(dir, 'bad.wxs'), wxs(' AllowSameVersionUpgrades="yes"'));
    const err = await wixl('bad.wxs', path.join(dir, 'bad.msi'), dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/wixl failed \(it printed warnings[\s\S]*AllowSameVersionUpgrades/);
  });
});
