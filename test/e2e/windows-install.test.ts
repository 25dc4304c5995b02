// The MSI installed for real by msiexec under Debian's wine64 (a fresh WINEPREFIX per run, headless, in a
// private network namespace): files under Program Files, every service registered and RUNNING and answering
// its health endpoint, the CLI on PATH, the env file's secret reaching a service, a killed service restarted,
// a newer MSI upgrading in place, an older one refused, and msiexec /x removing files and services.
// Stigmer's definition is used with stigmer-server switched to `windows: { service: native }`, so both ways
// of running a service are installed side by side (the other three run under the service host).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProduct } from '../../src/product/load.ts';
import { expandArgs, type Product, type Service } from '../../src/product/model.ts';
import { envFileVariable, serviceHostExe, windowsServiceName } from '../../src/targets/msi/model.ts';
import { msiFileName, productCode } from '../../src/targets/release.ts';
import { mapVersion } from '../../src/version.ts';
import { REPO, runCli } from '../helpers.ts';
import { WinePrefix } from '../../src/verify/install/wine.ts';
import { registeredProducts, registeredProductCode } from '../../src/verify/install/msi.ts';

const OLD = '0.1.0';
const NEW = '0.1.1';
const NATIVE = 'stigmer-server';
const log = (line: string) => process.stderr.write(`[windows-install] ${line}\n`);

let work: string;
let product: Product;
let wine: WinePrefix;
const msi: Record<string, string> = {};

function port(s: Service): number {
  return s.health ? s.health.portNumber : s.ports[0]!.port;
}

async function health(s: Service): Promise<Record<string, unknown> | null> {
  const r = await wine.httpGet(port(s), s.health?.type === 'http' ? s.health.path : '/healthz');
  return r && r.status === 200 ? (JSON.parse(r.body) as Record<string, unknown>) : null;
}

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function install(file: string, label: string): Promise<void> {
  const r = await wine.msiexec('/i', file, `${label}.log`);
  expect(r.exitCode, `msiexec /i ${path.basename(file)}\n${await wine.msiLog(`${label}.log`)}`).toBe(0);
}

const sha16 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex').slice(0, 16)}`;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'stigmer-e2e-windows-'));
  const defDir = path.join(work, 'packaging');
  cpSync(path.join(REPO, 'packaging'), defDir, { recursive: true });
  const file = path.join(defDir, 'stigmer.yaml');
  const text = readFileSync(file, 'utf8');
  const marker = `  - name: ${NATIVE}\n    description: Stigmer API server\n    language: go\n`;
  expect(text).toContain(marker);
  writeFileSync(file, text.replace(marker, `${marker}    windows: { service: native }\n`));
  product = loadProduct(file);
  // Snapshot builds: the project's Go stand-ins (they answer the SCM themselves when the SCM starts them).
  for (const version of [OLD, NEW]) {
    const out = path.join(work, 'dist');
    const r = await runCli(['build', '--snapshot', '--config', file, '--platform', 'windows-amd64', '--target', 'msi', '--version', version, '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    msi[version] = path.join(out, version, msiFileName(product, version));
    expect(existsSync(msi[version]!)).toBe(true);
  }
  wine = await WinePrefix.create(log);
}, 1_800_000);

afterAll(async () => {
  await wine?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('MSI under wine', () => {
  const programFiles = () => path.join(wine.driveC, 'Program Files', product.meta.displayName);
  const programData = () => path.join(wine.driveC, 'ProgramData', product.meta.displayName);

  it('msiexec /i installs the files under Program Files and the env file template under ProgramData', async () => {
    await install(msi[OLD]!, 'install-old');
    const bin = readdirSync(path.join(programFiles(), 'bin')).sort();
    expect(bin).toEqual(product.components.filter((c) => c.platforms.includes('windows-amd64')).map((c) => `${c.binary}.exe`).sort());
    expect(readdirSync(path.join(programFiles(), 'services'))).toEqual([serviceHostExe(product)]);
    expect(existsSync(path.join(programFiles(), 'share/doc/stigmer/LICENSE'))).toBe(true);
    const env = readFileSync(path.join(programData(), 'stigmer.env'), 'utf8');
    expect(env).toMatch(/^#STIGMER_AUTH_TOKEN=$/m);
    for (const s of product.services) expect(existsSync(path.join(programData(), 'data', s.name))).toBe(true);
  });

  it('registers every service with the service manager, RUNNING and answering its health endpoint', async () => {
    for (const s of product.services) {
      const name = windowsServiceName(s);
      expect(await wine.serviceState(name), name).toBe('RUNNING');
      // wine's `sc query` keeps saying RUNNING after a service process died: the health answer is the proof.
      const h = await waitFor(`${name} health`, () => health(s));
      expect(h).toMatchObject({ status: 'ok', component: s.component, version: OLD });
    }
  });

  it('the registry holds what the MSI wrote: image paths, the service host settings, the native service environment', async () => {
    const hostKey = 'HKLM\\SYSTEM\\CurrentControlSet\\Services';
    for (const s of product.services) {
      const name = windowsServiceName(s);
      const svc = (await wine.regValues(`${hostKey}\\${name}`))!;
      expect(svc.Start).toMatchObject({ type: 'REG_DWORD', data: '0x2' });
      expect(svc.ObjectName!.data).toBe('LocalSystem');
      if (s.component === NATIVE) {
        expect(svc.ImagePath!.data).toBe(`C:\\Program Files\\Stigmer\\bin\\${s.binary}.exe serve --data-dir "C:\\ProgramData\\Stigmer\\data\\${s.name}" --port 7234 --http-port 7235`);
        expect(svc.Environment).toEqual({ type: 'REG_MULTI_SZ', data: `STIGMER_LOG_FORMAT=json\\0STIGMER_TEMPORAL_ADDRESS=127.0.0.1:7233\\0${envFileVariable(product)}=C:\\ProgramData\\Stigmer\\stigmer.env` });
      } else {
        expect(svc.ImagePath!.data).toBe(`C:\\Program Files\\Stigmer\\services\\${serviceHostExe(product)} run ${name}`);
        const params = (await wine.regValues(`${hostKey}\\${name}\\Parameters`))!;
        expect(params.AppPath!.data).toBe(`C:\\Program Files\\Stigmer\\bin\\${s.binary}.exe`);
        expect(params.AppEnvironmentFile!.data).toBe('C:\\ProgramData\\Stigmer\\stigmer.env');
        expect(params.AppRestart!.data).toBe(s.restart.policy);
      }
    }
    const pathValue = (await wine.regValues('HKLM\\System\\CurrentControlSet\\Control\\Session Manager\\Environment'))!.PATH!.data;
    expect(pathValue.split(';')).toContain('C:\\Program Files\\Stigmer\\bin\\');
  });

  it('services run with their arguments, working folder and default environment', async () => {
    for (const s of product.services) {
      const h = (await health(s))!;
      const data = 'C:\\ProgramData\\Stigmer';
      const dirs = { stateDir: `${data}\\data\\${s.name}`, logsDir: `${data}\\logs`, runtimeDir: `${data}\\run\\${s.name}`, configDir: data };
      expect(h.args, s.name).toEqual(expandArgs(s, dirs));
      if (s.component === NATIVE) continue; // wine's service manager ignores the service key's Environment value (Windows applies it)
      expect(h.workingDir).toBe(`C:\\ProgramData\\Stigmer\\data\\${s.name}`);
      expect(h.env).toEqual(s.env);
      if (s.frozen) expect(h.tmpdir).toBe(`C:\\ProgramData\\Stigmer\\run\\${s.name}`);
    }
    const log = readFileSync(path.join(programData(), 'logs', 'agent-runner.log'), 'utf8');
    expect(log).toMatch(/service-host \d+\]: started C:\\Program Files\\Stigmer\\bin\\agent-runner\.exe/);
    expect(log).toMatch(/agent-runner\[\d+\]: listening on http:\/\/127\.0\.0\.1:7237/);
  });

  it('a secret added to the env file reaches the service on its next start, and appears nowhere else', async () => {
    const runner = product.services.find((s) => s.name === 'agent-runner')!;
    const envFile = path.join(programData(), 'stigmer.env');
    writeFileSync(envFile, `${readFileSync(envFile, 'utf8')}ANTHROPIC_API_KEY=e2e-secret-value\r\n`);
    const name = windowsServiceName(runner);
    const before = (await health(runner))!.pid;
    await wine.wine(['sc', 'stop', name]);
    await waitFor(`${name} stopped`, async () => (await wine.serviceState(name)) === 'STOPPED');
    expect((await wine.wine(['sc', 'start', name])).exitCode).toBe(0);
    const h = await waitFor(`${name} restarted`, async () => {
      const v = await health(runner);
      return v && v.pid !== before ? v : null;
    });
    expect(h.secrets).toEqual({ ANTHROPIC_API_KEY: sha16('e2e-secret-value'), OPENAI_API_KEY: 'unset' });
    const reg = await wine.wine(['reg', 'query', 'HKLM\\SYSTEM\\CurrentControlSet\\Services', '/s']);
    expect(reg.stdout).not.toContain('e2e-secret-value');
    for (const f of readdirSync(path.join(programData(), 'logs'))) expect(readFileSync(path.join(programData(), 'logs', f), 'utf8')).not.toContain('e2e-secret-value');
  });

  it('the service host restarts a program that died (restart policy)', async () => {
    const wf = product.services.find((s) => s.name === 'workflow-runner')!;
    const before = (await health(wf))!.pid as number;
    expect((await wine.wine(['taskkill', '/f', '/pid', String(before)])).exitCode).toBe(0);
    const h = await waitFor('workflow-runner restarted', async () => {
      const v = await health(wf);
      return v && v.pid !== before ? v : null;
    });
    expect(h.status).toBe('ok');
    expect(readFileSync(path.join(programData(), 'logs', 'workflow-runner.log'), 'utf8')).toMatch(/restart policy always: restarting in 2s/);
  });

  it('a newer MSI upgrades in place (MajorUpgrade): one product, new binaries, services running, env file kept', async () => {
    await install(msi[NEW]!, 'install-new');
    for (const s of product.services) {
      expect(await wine.serviceState(windowsServiceName(s))).toBe('RUNNING');
      const h = await waitFor(`${s.name} ${NEW}`, async () => {
        const v = await health(s);
        return v && v.version === NEW ? v : null;
      });
      expect(h.status).toBe('ok');
    }
    // Exactly one product of this name registered: the new one (what verify --install's upgrade row checks).
    expect(await registeredProducts(wine, product)).toEqual({ [registeredProductCode(product, NEW)]: NEW });
    expect(readFileSync(path.join(programData(), 'stigmer.env'), 'utf8')).toContain('ANTHROPIC_API_KEY=e2e-secret-value');
    const runner = product.services.find((s) => s.name === 'agent-runner')!;
    expect((await health(runner))!.secrets).toMatchObject({ ANTHROPIC_API_KEY: sha16('e2e-secret-value') });
  });

  it('an older MSI is refused (downgrade): 1603, cut to 8 bits by the shell, and nothing changes', async () => {
    const r = await wine.msiexec('/i', msi[OLD]!, 'downgrade.log');
    expect(r.exitCode).toBe(1603 & 0xff);
    // FindRelatedProducts finds the newer product; the MajorUpgrade launch condition then stops the install
    // (its message, "A newer version of Stigmer is already installed.", is shown in a UI, not in this /qn log).
    const msiLog = await wine.msiLog('downgrade.log', true);
    expect(msiLog).toContain(`Found application: {${productCode(product, mapVersion(NEW))}}`);
    expect(msiLog).toMatch(/LaunchConditions\. Return value [03]\./);
    expect(msiLog).not.toMatch(/Action start [\d:]+: InstallFiles\./);
    const server = product.services.find((s) => s.component === NATIVE)!;
    expect((await health(server))!.version).toBe(NEW);
  });

  it('msiexec /x removes the files, the services and the PATH entry; the env file with its secret stays', async () => {
    const r = await wine.msiexec('/x', msi[NEW]!, 'uninstall.log');
    expect(r.exitCode, await wine.msiLog('uninstall.log')).toBe(0);
    for (const s of product.services) {
      expect(await wine.serviceState(windowsServiceName(s)), s.name).toBeNull();
      await waitFor(`${s.name} port closed`, async () => (await health(s)) === null, 30_000);
    }
    expect(existsSync(path.join(programFiles(), 'bin'))).toBe(false);
    expect(existsSync(path.join(programFiles(), 'services'))).toBe(false);
    const pathValue = (await wine.regValues('HKLM\\System\\CurrentControlSet\\Control\\Session Manager\\Environment'))!.PATH!.data;
    expect(pathValue).not.toContain('Stigmer');
    expect(await registeredProducts(wine, product)).toEqual({});
    expect(readFileSync(path.join(programData(), 'stigmer.env'), 'utf8')).toContain('ANTHROPIC_API_KEY=e2e-secret-value');
  });
});
