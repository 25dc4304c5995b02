// `verify --install` on one Debian release: a fresh booted root (nspawn.ts), the dist's signed APT repository
// served on loopback and configured the way its users configure it (keyring + signed-by), then install (or
// install an older published version and upgrade), services, settle, user, health, env file, remove, purge;
// then in the same root the .rpm through its scriptlets, the signed YUM repository with dnf (yum.ts) and
// install.sh as a user (script.ts). Every name comes from the product model; nothing about a particular product is assumed.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Platform, Product } from '../../product/model.ts';
import { APT_REPO_DIR, aptKeyringName, renderAptSourceList } from '../../targets/apt-repo/index.ts';
import { dedicatedConfigDir, runtimeDirs, unitNames } from '../../targets/linux/layout.ts';
import { registerCleanup } from '../../util/cleanup.ts';
import type { Reporter } from '../../util/progress.ts';
import { serveDirectory, type StaticServer } from './http.ts';
import { Container, type ExecResult, type Suite } from './nspawn.ts';
import { allActive, recordedRunner, waitHealthy, whyNotActive } from './probe.ts';
import { INSTALL_SCRIPT_ARTIFACT, verifyInstallScript } from './script.ts';
import { StepFailure, StepRunner, type InstallRow } from './steps.ts';
import { verifyYumRepo, YUM_ARTIFACT } from './yum.ts';

/** Distribution names on the command line, and the Debian suite each boots. */
export const DISTROS = { 'debian-12': 'bookworm', 'debian-13': 'trixie' } as const satisfies Record<string, Suite>;
export type Distro = keyof typeof DISTROS;

/** The env file holds secrets: root-owned, readable by the services' group only (src/targets/linux/layout.ts). */
const ENV_FILE_MODE = '640';
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };

export interface AptVerifyOptions {
  product: Product;
  /** dist/<version>/ */
  dir: string;
  /** The .deb for this host's architecture (path inside dir) and the Debian version it carries. */
  deb: string;
  /** The .rpm for this host's architecture (path inside dir), installed through its scriptlets after the .deb's purge. */
  rpm?: string;
  /** The build has a YUM repository: dnf installs the .rpm from it into an installroot (gpgcheck on). */
  yumRepo?: boolean;
  /** The build has install.sh, the release archives and SHA256SUMS: a non-root user installs with it. */
  installScript?: boolean;
  /** This host's platform (linux-amd64, linux-arm64): the booted root's. */
  platform: Platform;
  debianVersion: string;
  distro: Distro;
  /** An older published version to install first and upgrade from, and the published repository tree holding it. */
  from?: { version: string; repoBase: string };
  /** Seconds every service must stay up without a restart after it first answers. */
  settleSeconds: number;
  rootDate?: string;
  logDir: string;
  report: Reporter;
}

export async function verifyAptInstall(opts: AptVerifyOptions): Promise<InstallRow[]> {
  const { product, dir, distro, report } = opts;
  const { user, group, envFile } = product.def.install;
  const units = unitNames(product);
  const repoTree = path.dirname(path.join(dir, APT_REPO_DIR));
  const pkg = (await execa('dpkg-deb', ['--field', path.join(dir, opts.deb), 'Package'])).stdout.trim();

  let c: Container | undefined;
  let srv: StaticServer | undefined;
  const diagnostics = async () => (c?.isRunning() ? c.diagnostics() : '');
  let steps = new StepRunner(path.basename(opts.deb), distro, opts.logDir, report, diagnostics);
  const rows: InstallRow[] = [];
  const exec = recordedRunner(() => c!, () => steps);
  const run = (cmd: string[], env?: Record<string, string>): Promise<ExecResult> => exec(cmd, { env });
  const apt = (args: string[]) => run(['apt-get', ...args], APT_ENV);
  const mainPids = async () => new Map(await Promise.all(units.services.map(async (u) => [u, (await run(['systemctl', 'show', '--property=MainPID', '--value', u])).stdout.trim()] as const)));
  /** Configures the repository served from `tree` exactly as its sources.list entry says, then apt-get update. */
  const addRepository = async (tree: string) => {
    srv!.root = tree;
    const signed = existsSync(path.join(tree, path.basename(APT_REPO_DIR), aptKeyringName(product)));
    if (!signed) throw new StepFailure(`${tree}/${path.basename(APT_REPO_DIR)} has no ${aptKeyringName(product)}: the repository is unsigned (built with --unsigned), which a release must not be`);
    const aptUrl = `${srv!.url}/${path.basename(APT_REPO_DIR)}`;
    const keyring = await addAptRepository(c!, product, aptUrl, run);
    return `${pkg} from ${aptUrl} (signed-by ${keyring})`;
  };
  /** Waits (60 s) for the target and every service to be active; fails naming each unit that is not, and why. */
  const waitActive = async (what: string, pidsBefore?: Map<string, string>) => {
    try {
      await c!.waitFor(
        what,
        async () => {
          if (!(await allActive(c!, [units.target, ...units.services]))) return false;
          if (pidsBefore) {
            const now = await mainPids();
            if (units.services.some((u) => now.get(u) === pidsBefore.get(u) || now.get(u) === '0')) return false;
          }
          return true;
        },
        60_000,
      );
    } catch (err) {
      const why = await whyNotActive(c!, [units.target, ...units.services]);
      throw new StepFailure(`not active within 60 s: ${why}`, (err as Error).message);
    }
  };

  /** The installed product: units active and enabled, health checks answering, settled, as the user, env file. */
  const checkRunning = async () => {
    await steps.step('active', async () => {
      await waitActive(`${units.target} and ${units.services.join(', ')} active`);
      const enabled = (await c!.exec(['systemctl', 'is-enabled', units.target])).stdout.trim();
      if (enabled !== 'enabled') throw new StepFailure(`${units.target} is ${enabled || 'not enabled'}: it would not start at boot`);
      return `${[units.target, ...units.services].join(', ')} active; ${units.target} enabled`;
    });
    await steps.step('health', async () => {
      const answers: string[] = [];
      for (const s of product.services) answers.push(await waitHealthy(c!, s, exec));
      return answers.join('; ');
    });
    await steps.step('settle', async () => {
      const before = await mainPids();
      await new Promise((r) => setTimeout(r, opts.settleSeconds * 1000));
      for (const u of units.services) {
        const show = (await run(['systemctl', 'show', '--property=ActiveState,NRestarts,MainPID', u])).stdout;
        const prop = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(show)?.[1];
        if (prop('ActiveState') !== 'active') throw new StepFailure(`${u} is ${prop('ActiveState')} after ${opts.settleSeconds} s`);
        if (prop('NRestarts') !== '0') throw new StepFailure(`${u} restarted ${prop('NRestarts')} times (a restart loop)`);
        if (prop('MainPID') !== before.get(u)) throw new StepFailure(`${u} changed its main process (${before.get(u)} -> ${prop('MainPID')}) within ${opts.settleSeconds} s`);
      }
      return `${units.services.length} service(s) up ${opts.settleSeconds} s, NRestarts=0`;
    });
    await steps.step('user', async () => {
      for (const [u, pid] of await mainPids()) {
        const owner = (await run(['ps', '-o', 'user=', '-p', pid])).stdout.trim();
        if (owner !== user) throw new StepFailure(`${u} runs as ${owner || '?'} (pid ${pid}), not ${user}`);
      }
      return `every service runs as ${user}`;
    });
    await steps.step('env-file', async () => {
      const st = (await run(['stat', '-c', '%a %U %G', envFile])).stdout.trim();
      const want = `${ENV_FILE_MODE} root ${group}`;
      if (st !== want) throw new StepFailure(`${envFile} is "${st}" (mode owner group), expected "${want}"`);
      return `${envFile} ${want}`;
    });
  };
  const stopped = async (how: string) => {
    for (const u of [units.target, ...units.services]) {
      const state = (await c!.exec(['systemctl', 'is-active', u])).stdout.trim();
      if (state === 'active') throw new StepFailure(`${u} is still active after ${how}`);
    }
    const left = await c!.exec(['pgrep', '-u', user]);
    if (left.exitCode === 0) throw new StepFailure(`processes of ${user} still run after ${how}: ${left.stdout.trim().split('\n').join(' ')}`);
  };

  // Ctrl-C/SIGTERM: the CLI stops the children (nspawn) and runs this, which unmounts and removes the root.
  const cleanup = registerCleanup(async () => {
    await c?.dispose();
    await srv?.close();
  });
  try {
    srv = await serveDirectory(repoTree);
    const booted = await steps.step('boot', async () => {
      c = await Container.boot({ suite: DISTROS[distro], rootDate: opts.rootDate, log: (l) => report.info(l) });
      return `Debian ${DISTROS[distro]} under systemd-nspawn, private network`;
    });
    if (booted && opts.from) {
      const from = opts.from;
      await steps.step('repository', () => addRepository(path.resolve(from.repoBase)));
      await steps.step(`install ${from.version}`, async () => {
        const madison = (await run(['apt-cache', 'madison', pkg])).stdout;
        const wanted = from.version.replace(/-/g, '~');
        const version = madison
          .split('\n')
          .map((l) => l.split('|')[1]?.trim())
          .find((v) => v && (v === wanted || v.startsWith(`${wanted}-`)));
        if (!version) throw new StepFailure(`${from.repoBase} does not publish ${pkg} ${from.version} (apt-cache madison: ${madison.trim() || 'nothing'})`);
        await apt(['install', '-y', `${pkg}=${version}`]);
        await waitActive(`${units.target} and its services active on ${from.version}`);
        return `${pkg}=${version}`;
      });
      await steps.step('upgrade', async () => {
        const before = await mainPids();
        const marker = '# verify --install: an admin edit that an upgrade must keep';
        await run(['sh', '-c', 'printf "%s\\n" "$1" >> "$0"', envFile, marker]);
        await addRepository(repoTree);
        // stdin is /dev/null: a conffile prompt fails the upgrade instead of hanging.
        await apt(['install', '-y', pkg]);
        const installed = (await run(['dpkg-query', '--show', '--showformat=${Version}', pkg])).stdout;
        if (installed !== opts.debianVersion) throw new StepFailure(`after the upgrade ${pkg} is ${installed}, not ${opts.debianVersion}`);
        await waitActive('every service restarted on the new binaries', before);
        if (!(await c!.readFile(envFile)).includes(marker)) throw new StepFailure(`the upgrade replaced the edited ${envFile}`);
        for (const suffix of ['.dpkg-dist', '.dpkg-new', '.dpkg-old']) if (c!.exists(envFile + suffix)) throw new StepFailure(`the upgrade left ${envFile}${suffix}`);
        return `${pkg} ${opts.debianVersion}; services restarted; edited ${envFile} kept`;
      });
    } else if (booted) {
      await steps.step('repository', () => addRepository(repoTree));
      await steps.step('install', async () => {
        await apt(['install', '-y', pkg]);
        return `apt-get install ${pkg} (${opts.debianVersion})`;
      });
    }
    await checkRunning();
    await steps.step('remove', async () => {
      await apt(['remove', '-y', pkg]);
      await stopped('apt-get remove');
      const status = (await run(['dpkg-query', '--show', '--showformat=${Status}', pkg])).stdout;
      if (status !== 'deinstall ok config-files') throw new StepFailure(`dpkg status after remove is "${status}"`);
      if (!c!.exists(envFile)) throw new StepFailure(`apt-get remove deleted ${envFile} (configuration must stay until purge)`);
      return `services stopped; ${envFile} kept`;
    });
    await steps.step('purge', async () => {
      await apt(['purge', '-y', pkg]);
      const leftovers = [envFile, dedicatedConfigDir(product), ...runtimeDirs(product)].filter((p): p is string => Boolean(p) && c!.exists(p!));
      if (leftovers.length) throw new StepFailure(`apt-get purge left ${leftovers.join(', ')}`);
      if ((await c!.exec(['getent', 'passwd', user])).exitCode !== 2) throw new StepFailure(`the user ${user} still exists after purge`);
      if ((await c!.exec(['getent', 'group', group])).exitCode !== 2) throw new StepFailure(`the group ${group} still exists after purge`);
      return `configuration, state, logs, user ${user} and group ${group} gone`;
    });
    rows.push(...steps.rows);
    if (opts.rpm) {
      const rpmFile = opts.rpm;
      const debOk = steps.ok;
      steps = new StepRunner(path.basename(rpmFile), distro, opts.logDir, report, diagnostics);
      if (!debOk) {
        rows.push({ artifact: path.basename(rpmFile), platform: distro, step: 'rpm -i', result: 'skip', detail: `after the failure of ${path.basename(opts.deb)}`, seconds: 0 });
      } else {
        // Debian's rpm, with its own database; --nodeps: Debian's packages (sh, systemd) are not in it.
        const rpm = async (args: string[]) => {
          const r = await run(['rpm', '--dbpath', '/var/lib/rpm', ...args]);
          // rpm reports a failing scriptlet as a warning and still exits 0.
          const bad = r.stderr.split('\n').find((l) => /scriptlet failed|error:/i.test(l));
          if (bad) throw new StepFailure(`rpm ${args[0]}: ${bad}`);
          return r;
        };
        await steps.step('rpm -i', async () => {
          await c!.copyIn(path.join(dir, rpmFile), '/var/tmp/verify-install/package.rpm');
          await rpm(['-i', '--nodeps', '/var/tmp/verify-install/package.rpm']);
          return `${path.basename(rpmFile)}: scriptlets ran`;
        });
        await checkRunning();
        await steps.step('rpm -e', async () => {
          const name = (await run(['rpm', '-qp', '--queryformat', '%{NAME}', '/var/tmp/verify-install/package.rpm'])).stdout.trim();
          await rpm(['-e', name]);
          await stopped('rpm -e');
          return `${name} erased; services stopped`;
        });
        rows.push(...steps.rows);
      }
    }
    // The rows after this need a booted system; install.sh also needs one the packages left clean.
    const systemClean = steps.ok;
    const skip = (artifact: string, step: string, detail: string) => rows.push({ artifact, platform: distro, step, result: 'skip', detail, seconds: 0 });
    if (opts.rpm && opts.yumRepo) {
      if (c?.isRunning()) rows.push(...(await verifyYumRepo({ c, server: srv!, repoTree, product, rpm: path.join(dir, opts.rpm), distro, logDir: opts.logDir, report })));
      else skip(YUM_ARTIFACT, 'dnf repository', 'the system did not boot');
    }
    if (opts.installScript) {
      if (c?.isRunning() && systemClean) rows.push(...(await verifyInstallScript({ c, server: srv!, releaseDir: dir, product, platform: opts.platform, distro, logDir: opts.logDir, report })));
      else skip(INSTALL_SCRIPT_ARTIFACT, 'install.sh', c?.isRunning() ? 'after a failed package step (the system is not clean)' : 'the system did not boot');
    }
  } finally {
    await cleanup.dispose();
  }
  return rows;
}

/**
 * Adds the signed APT repository at `aptUrl` (its apt/ folder) to the container the way its users are told to:
 * the keyring fetched into /usr/share/keyrings, the sources.list entry with signed-by; then apt-get update,
 * which must print no warning or error. Returns the keyring path.
 */
export async function addAptRepository(c: Container, product: Product, aptUrl: string, run: (cmd: string[], env?: Record<string, string>) => Promise<ExecResult>): Promise<string> {
  const list = renderAptSourceList(product, aptUrl, true);
  const keyring = /signed-by=([^\]\s]+)/.exec(list)![1]!;
  await run(['curl', '-fsS', '-o', keyring, `${aptUrl}/${aptKeyringName(product)}`]);
  await c.writeFile(`/etc/apt/sources.list.d/${product.meta.name}.list`, list);
  const update = await run(['apt-get', 'update'], APT_ENV);
  const problems = `${update.stdout}\n${update.stderr}`.split('\n').filter((l) => /^(W|E|Err):/.test(l));
  if (problems.length) throw new StepFailure(`apt-get update: ${problems[0]}`);
  return keyring;
}
