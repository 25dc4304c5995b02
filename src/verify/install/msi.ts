// `verify --install` for the MSI: msiexec under Debian's wine64 in a fresh prefix and a private network
// namespace (wine.ts): every service the MSI declares RUNNING and answering its health check, then msiexec /x
// removes the services and the programs. What wine cannot prove (the real SCM's recovery actions, a reboot)
// stays out of scope (README).
import { execaSync } from 'execa';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Product, Service } from '../../product/model.ts';
import { msiComponents, windowsServiceName } from '../../targets/msi/model.ts';
import { registerCleanup } from '../../util/cleanup.ts';
import type { Reporter } from '../../util/progress.ts';
import { StepFailure, StepRunner, type InstallRow } from './steps.ts';
import { WinePrefix } from './wine.ts';

export const WINDOWS_PLATFORM = 'windows';

export interface MsiVerifyOptions {
  product: Product;
  /** Host path of the .msi. */
  msi: string;
  settleSeconds: number;
  logDir: string;
  report: Reporter;
}

export async function verifyMsiInstall(opts: MsiVerifyOptions): Promise<InstallRow[]> {
  const { product, report } = opts;
  const services = msiComponents(product).flatMap((c) => (c.service ? [c.service] : []));
  let wine: WinePrefix | undefined;
  const steps = new StepRunner(path.basename(opts.msi), WINDOWS_PLATFORM, opts.logDir, report);
  const msiexec = async (action: '/i' | '/x', label: string) => {
    const r = await wine!.msiexec(action, opts.msi, `${label}.log`);
    steps.note(`msiexec ${action} ${path.basename(opts.msi)} (exit ${r.exitCode})\n${await wine!.msiLog(`${label}.log`, true)}`);
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
    throw new StepFailure(`msiexec ${action} exited ${r.exitCode}${exitMeaning(r.exitCode)}: ${hostLogs.join('; ') || msiError || 'see the log'}`);
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
    await steps.step('install', async () => {
      await msiexec('/i', 'install');
      return `msiexec /i ${path.basename(opts.msi)} /qn`;
    });
    await steps.step('running', async () => {
      for (const s of services) {
        const name = windowsServiceName(s);
        // START_PENDING may last a moment; STOPPED or a missing service is final.
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
    });
    // wine's `sc query` keeps saying RUNNING after a service process died: the health answer is the proof.
    await steps.step('health', async () => {
      const answers: string[] = [];
      for (const s of services) answers.push(await waitHealthy(wine!, s, true));
      return answers.join('; ');
    });
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
      return 'services unregistered, ports closed, programs removed';
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

/** Waits until the service's health check answers (`up`) or stops answering (!`up`). */
async function waitHealthy(wine: WinePrefix, s: Service, up: boolean, timeoutMs = 60_000): Promise<string> {
  if (!s.health) return `${s.name}: no health check declared`;
  const health = s.health;
  const what = health.type === 'tcp' ? `tcp 127.0.0.1:${health.portNumber}` : `GET http://127.0.0.1:${health.portNumber}${health.path}`;
  const probe = async () => {
    if (health.type === 'tcp') return wine.tcpConnects(health.portNumber);
    const r = await wine.httpGet(health.portNumber, health.path);
    return Boolean(r && r.status >= 200 && r.status < 300);
  };
  const end = Date.now() + timeoutMs;
  while ((await probe()) !== up) {
    if (Date.now() > end) throw new StepFailure(up ? `${s.name}: ${what} does not answer within ${timeoutMs / 1000} s` : `${s.name}: ${what} still answers after msiexec /x`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  return `${s.name}: ${what} ${up ? 'ok' : 'closed'}`;
}
