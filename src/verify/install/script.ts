// `verify --install`: install.sh as its users run it, in the booted Debian root after the packages are gone. A
// non-root user with lingering (a user manager without a login session) fetches install.sh from the release
// served on loopback and runs it against that release: every service of this platform active as a user unit,
// running as that user, answering its health check; then `install.sh --uninstall --purge` leaves the home as
// it was before.
import path from 'node:path';
import type { Platform, Product } from '../../product/model.ts';
import { INSTALL_SH } from '../../targets/installer/index.ts';
import { unitNames } from '../../targets/linux/layout.ts';
import type { Reporter } from '../../util/progress.ts';
import type { StaticServer } from './http.ts';
import type { Container } from './nspawn.ts';
import { allActive, answers, rowInContainer, waitHealthy, whyNotActive } from './probe.ts';
import { StepFailure, type InstallRow } from './steps.ts';

export const INSTALL_SCRIPT_ARTIFACT = INSTALL_SH;
/** The account that runs install.sh: any non-root user; this one exists only in the throwaway root. */
const USER = 'verify-install';

export interface ScriptVerifyOptions {
  c: Container;
  /** Serves the release (dist/<version>/, holding install.sh, SHA256SUMS and the archives) into the container. */
  server: StaticServer;
  releaseDir: string;
  product: Product;
  /** The platform install.sh picks in the container (this host's). */
  platform: Platform;
  distro: string;
  logDir: string;
  report: Reporter;
}

export async function verifyInstallScript(opts: ScriptVerifyOptions): Promise<InstallRow[]> {
  const { c, product, server } = opts;
  const { steps, run } = rowInContainer(c, INSTALL_SCRIPT_ARTIFACT, opts);
  const asUser = (cmd: string[]) => run(cmd, { user: USER });
  const services = product.components.filter((comp) => comp.service && comp.platforms.includes(opts.platform)).map((comp) => comp.service!);
  const units = [unitNames(product).target, ...services.map((s) => `${s.name}.service`)];
  const home = `/home/${USER}`;
  const script = `${home}/${INSTALL_SH}`;
  const homeFiles = async () =>
    (await run(['find', home, '-mindepth', '1', '(', '-type', 'f', '-o', '-type', 'l', ')', '-printf', '%P\\n'])).stdout.split('\n').filter(Boolean).sort();
  let skeleton: string[] = [];

  await steps.step('install.sh', async () => {
    await run(['useradd', '--create-home', '--shell', '/bin/bash', USER]);
    try {
      await c.enableLinger(USER);
    } catch (err) {
      throw new StepFailure(`the user manager of ${USER} did not start (loginctl enable-linger)`, (err as Error).message);
    }
    skeleton = await homeFiles();
    server.root = opts.releaseDir;
    // As a user would: fetch the script from the release, then run it against that release.
    await asUser(['curl', '-fsS', '-o', script, `${server.url}/${INSTALL_SH}`]);
    const r = await asUser(['sh', script, '--base-url', server.url]);
    return r.stdout.trim().split('\n').find((l) => /^Installed /.test(l)) ?? `sh ${INSTALL_SH} --base-url ${server.url}`;
  });
  await steps.step('user units', async () => {
    try {
      await c.waitFor(`${units.join(', ')} active for ${USER}`, () => allActive(c, units, USER), 60_000);
    } catch (err) {
      throw new StepFailure(`not active within 60 s: ${await whyNotActive(c, units, { user: USER })}`, (err as Error).message);
    }
    const enabled = (await c.exec(['systemctl', '--user', 'is-enabled', units[0]!], { user: USER })).stdout.trim();
    if (enabled !== 'enabled') throw new StepFailure(`${units[0]} is ${enabled || 'not enabled'} for ${USER}: it would not start with the user manager`);
    for (const u of units.slice(1)) {
      const pid = (await asUser(['systemctl', '--user', 'show', '--property=MainPID', '--value', u])).stdout.trim();
      const owner = (await run(['ps', '-o', 'user=', '-p', pid])).stdout.trim();
      if (owner !== USER) throw new StepFailure(`${u} runs as ${owner || '?'} (pid ${pid}), not ${USER}`);
    }
    return `${units.join(', ')} active under systemctl --user, as ${USER} (lingering)`;
  });
  await steps.step('health', async () => {
    const answered: string[] = [];
    for (const s of services) answered.push(await waitHealthy(c, s, run, USER));
    return answered.join('; ');
  });
  await steps.step('uninstall', async () => {
    await asUser(['sh', script, '--uninstall', '--purge']);
    for (const u of units) {
      const state = (await c.exec(['systemctl', '--user', 'is-active', u], { user: USER })).stdout.trim();
      if (state === 'active') throw new StepFailure(`${u} is still active after ${INSTALL_SH} --uninstall`);
    }
    const still = [];
    for (const s of services) if (await answers(c, s)) still.push(s.name);
    if (still.length) throw new StepFailure(`${still.join(', ')} still answer after ${INSTALL_SH} --uninstall`);
    const left = (await homeFiles()).filter((f) => !skeleton.includes(f) && f !== path.posix.basename(script));
    if (left.length) throw new StepFailure(`${INSTALL_SH} --uninstall --purge left ${left.map((f) => `~/${f}`).join(', ')}`);
    return `services stopped, units and files removed; ${home} as before`;
  });
  return steps.rows;
}
