// `verify --install` for the MSI: msiexec under Debian's wine64 in a fresh prefix and a private network
// namespace (wine.ts): every service the MSI declares RUNNING and answering its health check, then msiexec /x
// removes the services and the programs. What wine cannot prove (the real SCM's recovery actions, a reboot)
// stays out of scope (README).
import { execaSync } from 'execa';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import type { Product, Service } from '../../product/model.ts';
import { envFileName, msiComponents, windowsServiceName } from '../../targets/msi/model.ts';
import { msiFileName, productCode } from '../../targets/release.ts';
import { mapVersion } from '../../version.ts';
import { registerCleanup } from '../../util/cleanup.ts';
import type { Reporter } from '../../util/progress.ts';
import { StepFailure, StepRunner, type InstallRow } from './steps.ts';
import { WinePrefix } from './wine.ts';

export const WINDOWS_PLATFORM = 'windows';

export interface MsiVerifyOptions {
  product: Product;
  /** Host path of the .msi. */
  msi: string;
  /** The build's version: what its services' health answers report after an upgrade, when they report one. */
  version: string;
  /** MajorUpgrade: install this older MSI first (olderMsiPath; a missing file fails its row), then the build's over it. */
  from?: { version: string; msi: string };
  settleSeconds: number;
  logDir: string;
  report: Reporter;
}

/**
 * Where `verify --install --from-version X --repo-base DIR` looks for X's MSI: directly under DIR, with the
 * release asset name the definition gives X's MSI (release.archiveName), as downloaded from X's release.
 */
export function olderMsiPath(product: Product, from: { version: string; repoBase: string }): string {
  return path.join(from.repoBase, msiFileName(product, mapVersion(from.version).semver));
}

const UNINSTALL_KEY = 'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall';

/** The products Windows Installer registered under the product's name: ProductCode (upper case, braced) -> DisplayVersion. */
export async function registeredProducts(wine: WinePrefix, product: Product): Promise<Record<string, string>> {
  const r = await wine.wine(['reg', 'query', UNINSTALL_KEY, '/s'], { timeoutMs: 60_000 });
  return productsNamed(r.stdout, product.meta.displayName);
}

/** From `reg query <Uninstall> /s` output: the subkeys whose DisplayName is `displayName`, as key name -> DisplayVersion. */
export function productsNamed(regQueryOutput: string, displayName: string): Record<string, string> {
  const found: Record<string, string> = {};
  let key = '';
  let values: Record<string, string> = {};
  const flush = () => {
    if (values.DisplayName === displayName) found[key.split('\\').pop()!.toUpperCase()] = values.DisplayVersion ?? '';
  };
  for (const line of regQueryOutput.replace(/\r/g, '').split('\n')) {
    if (/^HKEY_/i.test(line)) {
      flush();
      key = line.trim();
      values = {};
      continue;
    }
    const m = /^ {4}(.*?) {4}REG_\w+ {4}(.*)$/.exec(line);
    if (m) values[m[1]!] = m[2]!;
  }
  flush();
  return found;
}

/** The ProductCode key under Uninstall for a version of the product (what registeredProducts returns). */
export const registeredProductCode = (product: Product, version: string) => `{${productCode(product, mapVersion(version)).toUpperCase()}}`;

/** Host path of the env file the MSI installs under %ProgramData%\\<DisplayName>. */
export const windowsEnvFile = (wine: WinePrefix, product: Product) => path.join(wine.driveC, 'ProgramData', product.meta.displayName, envFileName(product));

export async function verifyMsiInstall(opts: MsiVerifyOptions): Promise<InstallRow[]> {
  const { product, report } = opts;
  const services = msiComponents(product).flatMap((c) => (c.service ? [c.service] : []));
  let wine: WinePrefix | undefined;
  const steps = new StepRunner(path.basename(opts.msi), WINDOWS_PLATFORM, opts.logDir, report);
  const msiexec = async (action: '/i' | '/x', label: string, msi = opts.msi) => {
    const r = await wine!.msiexec(action, msi, `${label}.log`);
    steps.note(`msiexec ${action} ${path.basename(msi)} (exit ${r.exitCode})\n${await wine!.msiLog(`${label}.log`, true)}`);
    if (r.exitCode === 0) return;
    // A service that does not start fails the install (ServiceControl Wait="yes"; Windows says 1920) and
    // rolls it back; the service host's own log, which the rollback leaves, says why.
    const hostLogs = services.flatMap((s) => {
      const log = serviceLog(wine!, product, s);
      const last = log ? readFileSync(log, 'utf8').trim().split('\n').pop()?.trim() : undefined;
      if (log) steps.note(`--- ${log}\n${readFileSync(log, 'utf8')}`);
      return last ? [`${windowsServiceName(s)}: ${last}`] : [];
    });
    const msiError = (await wine!.msiLog(`${label}.log`)).split('\n').pop()?.trim();
    throw new StepFailure(`msiexec ${action} ${path.basename(msi)} exited ${r.exitCode}${exitMeaning(r.exitCode)}: ${hostLogs.join('; ') || msiError || 'see the log'}`);
  };
  /** Every service RUNNING (START_PENDING may last a moment; STOPPED or a missing service is final). */
  const servicesRunning = async () => {
    for (const s of services) {
      const name = windowsServiceName(s);
      let state = await wine!.serviceState(name);
      for (const end = Date.now() + 30_000; state !== 'RUNNING' && state !== 'STOPPED' && state !== null && Date.now() < end; ) {
        await new Promise((r) => setTimeout(r, 1000));
        state = await wine!.serviceState(name);
      }
      if (state !== 'RUNNING') {
        const log = serviceLog(wine!, product, s);
        const last = log ? readFileSync(log, 'utf8').trim().split('\n').pop() : undefined;
        throw new StepFailure(`service ${name} is ${state ?? 'not registered'}${last ? `: ${last.trim()}` : ''}`, log ? `--- ${log}\n${readFileSync(log, 'utf8')}` : '');
      }
    }
    return `${services.map(windowsServiceName).join(', ')} RUNNING`;
  };
  /** Every health check answering; with `version`, a health answer that reports a version must report that one. */
  const healthAnswers = async (version?: string) => {
    const answers: string[] = [];
    for (const s of services) answers.push(await waitHealthy(wine!, s, true, 60_000, version));
    return answers.join('; ');
  };
  /** The products registered under the product's name must be exactly this version's. */
  const onlyProduct = async (version: string) => {
    const registered = await registeredProducts(wine!, product);
    const code = registeredProductCode(product, version);
    const others = Object.keys(registered).filter((c) => c !== code);
    if (!(code in registered)) throw new StepFailure(`${product.meta.displayName} ${version} (ProductCode ${code}) is not registered under ${UNINSTALL_KEY}; registered: ${JSON.stringify(registered)}`);
    if (others.length) throw new StepFailure(`besides ${code} (${version}), ${others.map((c) => `${c} (${registered[c]})`).join(', ')} still registered: the older product was not removed`);
    return `${code} ${registered[code]}`;
  };
  // Ctrl-C/SIGTERM: the CLI runs this, which stops the wineserver and removes the prefix.
  const cleanup = registerCleanup(() => wine?.dispose());
  try {
    await steps.step('prefix', async () => {
      if (execaSync('sh', ['-c', 'command -v wine64 || command -v wine'], { reject: false }).exitCode !== 0) {
        throw new StepFailure('wine64 is not installed; install: apt-get install -y wine64 wine');
      }
      wine = await WinePrefix.create((l) => report.progress(l));
      return 'fresh 64-bit WINEPREFIX, private network namespace';
    });
    if (opts.from) {
      const from = opts.from;
      await steps.step(`install ${from.version}`, async () => {
        if (!existsSync(from.msi)) {
          throw new StepFailure(`no MSI of ${from.version} at ${from.msi}: put the ${from.version} release's ${path.basename(from.msi)} there (--repo-base), or leave out --from-version`);
        }
        await msiexec('/i', 'install-from', from.msi);
        await servicesRunning();
        const answers = await healthAnswers(from.version);
        return `msiexec /i ${path.basename(from.msi)} /qn; ${await onlyProduct(from.version)}; ${answers}`;
      });
      // MajorUpgrade: the build's MSI over the older one, as a user upgrading runs it.
      await steps.step('upgrade', async () => {
        const envFile = windowsEnvFile(wine!, product);
        if (!existsSync(envFile)) throw new StepFailure(`the ${from.version} MSI installed no env file at ${envFile}`);
        const marker = '# verify --install: an admin edit that an upgrade must keep';
        await appendFile(envFile, `${marker}\r\n`);
        await msiexec('/i', 'upgrade');
        const registered = await onlyProduct(opts.version);
        await servicesRunning();
        const answers = await healthAnswers(opts.version);
        if (!readFileSync(envFile, 'utf8').includes(marker)) throw new StepFailure(`the upgrade replaced the edited ${envFile}`);
        return `msiexec /i ${path.basename(opts.msi)} /qn over ${from.version}; only ${registered} registered; ${answers}; edited ${path.basename(envFile)} kept`;
      });
    } else {
      await steps.step('install', async () => {
        await msiexec('/i', 'install');
        return `msiexec /i ${path.basename(opts.msi)} /qn`;
      });
    }
    await steps.step('running', servicesRunning);
    // wine's `sc query` keeps saying RUNNING after a service process died: the health answer is the proof.
    await steps.step('health', () => healthAnswers());
    await steps.step('settle', async () => {
      await new Promise((r) => setTimeout(r, opts.settleSeconds * 1000));
      for (const s of services) await waitHealthy(wine!, s, true, 5_000);
      return `every service still answering after ${opts.settleSeconds} s`;
    });
    await steps.step('uninstall', async () => {
      await msiexec('/x', 'uninstall');
      for (const s of services) {
        const state = await wine!.serviceState(windowsServiceName(s));
        if (state !== null) throw new StepFailure(`service ${windowsServiceName(s)} is still registered (${state}) after msiexec /x`);
        await waitHealthy(wine!, s, false, 30_000);
      }
      const installDir = path.join(wine!.driveC, 'Program Files', product.meta.displayName);
      const programs = existsSync(installDir) ? (readdirSync(installDir, { recursive: true }) as string[]).filter((f) => /\.exe$/i.test(f)) : [];
      if (programs.length) throw new StepFailure(`msiexec /x left ${programs.join(', ')} in ${installDir}`);
      const registered = await registeredProducts(wine!, product);
      if (Object.keys(registered).length) throw new StepFailure(`msiexec /x left ${JSON.stringify(registered)} registered under ${UNINSTALL_KEY}`);
      return 'services unregistered, ports closed, programs removed, no product registered';
    });
  } finally {
    await cleanup.dispose();
  }
  return steps.rows;
}

/** What msiexec's exit code means; the shell sees Windows codes cut to 8 bits (1603 -> 67, 1627 -> 91). */
function exitMeaning(code: number): string {
  const known: Record<number, string> = { 67: 'Windows 1603, a fatal error during installation', 91: 'Windows 1627, an action failed (such as starting a service)' };
  return known[code] ? ` (${known[code]})` : '';
}

/** The service host's log of a service (%ProgramData%\\<DisplayName>\\logs\\<service>.log), when it wrote one. */
function serviceLog(wine: WinePrefix, product: Product, s: Service): string | undefined {
  const file = path.join(wine.driveC, 'ProgramData', product.meta.displayName, 'logs', `${s.name}.log`);
  return existsSync(file) ? file : undefined;
}

/**
 * Waits until the service's health check answers (`up`) or stops answering (!`up`). With `version`: an answer
 * whose JSON body reports a `version` counts only when it reports that one (a service still on the old
 * binaries keeps answering during an upgrade); an answer that reports none is taken as it is.
 */
async function waitHealthy(wine: WinePrefix, s: Service, up: boolean, timeoutMs = 60_000, version?: string): Promise<string> {
  if (!s.health) return `${s.name}: no health check declared`;
  const health = s.health;
  const what = health.type === 'tcp' ? `tcp 127.0.0.1:${health.portNumber}` : `GET http://127.0.0.1:${health.portNumber}${health.path}`;
  let reported: string | undefined;
  const probe = async () => {
    if (health.type === 'tcp') return wine.tcpConnects(health.portNumber);
    const r = await wine.httpGet(health.portNumber, health.path);
    if (!r || r.status < 200 || r.status >= 300) return false;
    reported = reportedVersion(r.body);
    return !up || !version || reported === undefined || reported === version;
  };
  const end = Date.now() + timeoutMs;
  while ((await probe()) !== up) {
    if (Date.now() > end) {
      if (up && version && reported !== undefined) throw new StepFailure(`${s.name}: ${what} answers version ${reported}, not ${version}, after ${timeoutMs / 1000} s`);
      throw new StepFailure(up ? `${s.name}: ${what} does not answer within ${timeoutMs / 1000} s` : `${s.name}: ${what} still answers after msiexec /x`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const said = up && version && health.type === 'http' ? (reported === undefined ? ' (reports no version)' : `, version ${reported}`) : '';
  return `${s.name}: ${what} ${up ? 'ok' : 'closed'}${said}`;
}

/** The `version` a health answer's JSON body reports, if it is JSON and reports one. */
export function reportedVersion(body: string): string | undefined {
  try {
    const v = (JSON.parse(body) as { version?: unknown } | null)?.version;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
