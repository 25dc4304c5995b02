// E2E harness: a real Debian 12 or 13 system booted under systemd-nspawn, so packages are proven by the OS's
// own tools (apt, dpkg, rpm, dnf, systemd) instead of mocks.
//
//   const c = await Container.boot();          // fresh copy of a cached Debian 12 root, booted, systemd ready
//   const t = await Container.boot({ suite: 'trixie' });   // the same on Debian 13 (apt 3 with sqv, systemd 257)
//   await c.run(['apt-get', 'install', '-y', 'x']);   // throws loudly (with the journal) on failure
//   const r = await c.exec(['systemctl', 'is-active', 'x.service']);   // never throws: {stdout, stderr, exitCode}
//   await c.asUser('alice', ['systemctl', '--user', 'status']);        // user manager (enable lingering first)
//   await c.dispose();
//
// How it works, and why (this sandbox has no systemd as PID 1: a firecracker init, no D-Bus, cgroup v1 with
// a named "systemd" hierarchy plus cgroup2 at /sys/fs/cgroup/unified):
// - The root is built once by mmdebstrap (variant "apt" plus PACKAGES) and cached under
//   $STIGMER_E2E_CACHE or ~/.cache/stigmer-dist/e2e, keyed by suite + package list + hook version. Every suite
//   comes from the Debian mirror this machine's apt uses (the same archive serves bookworm and trixie). It is
//   built into a temporary name under an flock and renamed into place, so parallel runs never see half a root.
// - Each container gets an overlayfs (lower: the cached root, upper: a fresh temp dir), so tests never see
//   each other's state and nothing is copied. If overlayfs cannot be mounted, it falls back to
//   `cp -a --reflink=auto` (about 10 s on this disk). The merged tree is `container.root` on the host.
// - `systemd-nspawn --boot --keep-unit --register=no`: without --keep-unit nspawn asks the host's systemd
//   over D-Bus for a transient scope and fails here with "Failed to open system bus: No such file or
//   directory"; --register=no likewise avoids systemd-machined. nspawn prints "Attempted to remove disk
//   file system under /run/systemd/nspawn/propagate/<name>, and we can't allow that." at exit because this
//   host's /run is not a tmpfs; it is harmless.
// - Networking is private (--private-network: the container has its own loopback only). Other engineers'
//   and CI jobs' tests run the same product services on the same 127.0.0.1 ports at the same time (wine,
//   install scripts, other containers); a shared network made them answer each other's health checks.
//   The host's test HTTP servers (lib/http.ts) stay reachable at the same URL inside: each one also listens
//   on a unix socket in the container's shared directory (bind-mounted at /mnt/e2e-host), and a socket-
//   activated systemd-socket-proxyd inside listens on 127.0.0.1:<the same port> and forwards to it. Every
//   live server is forwarded at boot and every server started later is forwarded to every live container
//   (or call exposeHttp explicitly). `network: 'host'` shares the host's network instead.
// - nspawn mounts tmpfs on /tmp (and /run) inside, so files the host writes below container.root there are
//   hidden: writeFile/copyIn refuse such paths; use /var/tmp, /root or container.shared.
// - Commands run through `nsenter -t <container systemd pid> -a` with a clean environment (`env -i`), so no
//   host variable leaks in. The container's systemd is the child of the nspawn process whose comm is
//   "systemd"; boot is complete when `systemctl is-system-running --wait` says running (or degraded, which
//   is reported with the failed units).
import { execa, execaSync } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { userCacheDir } from '../../util/cache-dir.ts';
import { liveServers, onServerStarted, type StaticServer } from './http.ts';

/** Debian packages in the cached root on top of mmdebstrap's "apt" variant (essential + apt). */
export const PACKAGES = [
  'adduser',
  'curl',
  'dbus',
  'dbus-user-session', // a user bus for `systemctl --user` under lingering
  'dnf', // Debian's dnf: YUM repositories into an --installroot
  'iproute2',
  'less',
  'libpam-systemd', // without it user@UID.service fails: "Trying to run as user instance, but $XDG_RUNTIME_DIR is not set"
  'passwd',
  'procps',
  'rpm',
  'systemd',
  'systemd-sysv',
];

/** The Debian releases the harness boots: the current stable and the previous one. */
export const SUITES = { bookworm: 'Debian 12', trixie: 'Debian 13' } as const;
export type Suite = keyof typeof SUITES;
export const DEFAULT_SUITE: Suite = 'bookworm';
// Bump when the customize hooks change, so cached roots are rebuilt.
const HOOKS_VERSION = 2;
const PATH_INSIDE = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Where the container sees its shared directory (container.shared on the host). */
export const SHARED_INSIDE = '/mnt/e2e-host';
/** Paths nspawn or systemd mount a tmpfs over inside the container: host writes there are invisible. */
const HIDDEN_INSIDE = ['/tmp', '/run', '/dev', '/proc', '/sys'];
/** Timers that would run apt/dpkg in the background and race a test for the dpkg lock. */
const MASKED_UNITS = ['apt-daily.timer', 'apt-daily-upgrade.timer', 'dpkg-db-backup.timer', 'e2scrub_all.timer', 'fstrim.timer'];

export interface ExecResult {
  command: string;
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecOptions {
  /** Run as this user (runuser -u; HOME, USER, XDG_RUNTIME_DIR and the user bus address set). */
  user?: string;
  input?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

export interface BootOptions {
  /** Debian release to boot (default bookworm). */
  suite?: Suite;
  /** Extra Debian packages for the cached root (a different package list is a different cached root). */
  packages?: string[];
  /** A day (YYYY-MM-DD) in the cache key: a release gate boots a root no older than that day's archive. */
  rootDate?: string;
  /** Host directories made visible inside: --bind / --bind-ro. */
  binds?: { host: string; container: string; readOnly?: boolean }[];
  /** 'private' (default): own loopback, the host's test HTTP servers forwarded; 'host': share the host's network. */
  network?: 'private' | 'host';
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  bootTimeoutMs?: number;
}

export function e2eCacheDir(): string {
  if (process.env.STIGMER_E2E_CACHE) return path.resolve(process.env.STIGMER_E2E_CACHE);
  return path.join(userCacheDir(), 'e2e');
}

/**
 * The Debian mirror this machine's apt uses ($STIGMER_E2E_MIRROR overrides): the main archive (not -security,
 * not third-party) of any Debian release apt is configured for. A Debian mirror carries every supported
 * release, so a bookworm host's mirror also serves trixie.
 */
export function debianMirror(): string {
  if (process.env.STIGMER_E2E_MIRROR) return process.env.STIGMER_E2E_MIRROR;
  const debianSuite = (suite: string) => /^(bullseye|bookworm|trixie|forky|sid|stable|testing|unstable)(-updates)?$/.test(suite);
  const files = ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => `/etc/apt/sources.list.d/${f}`)];
  for (const file of files) {
    if (!existsSync(file) || !/\.(list|sources)$/.test(file)) continue;
    const text = readFileSync(file, 'utf8');
    // deb822 stanzas
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uri && suites.some(debianSuite) && !/security/.test(uri)) return uri;
    }
    // one-line format: deb [opts] URI SUITE COMPONENTS
    for (const line of text.split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (m && debianSuite(m[2]!) && !/security/.test(m[1]!)) return m[1]!;
    }
  }
  return 'http://deb.debian.org/debian';
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Why this host cannot boot a Debian root (not root, or a tool missing, with its apt-get install command), or undefined. */
export function hostToolProblem(): string | undefined {
  if (process.platform !== 'linux') return 'booting a Debian root needs a Linux host (systemd-nspawn)';
  if (process.getuid?.() !== 0) {
    return 'booting a Debian root needs root (systemd-nspawn, mmdebstrap root mode, overlay mounts): run as root';
  }
  const missing = [
    ['mmdebstrap', 'mmdebstrap'],
    ['systemd-nspawn', 'systemd-container'],
    ['nsenter', 'util-linux'],
    ['flock', 'util-linux'],
  ].filter(([cmd]) => execaSync('sh', ['-c', `command -v ${cmd}`], { reject: false }).exitCode !== 0);
  if (missing.length) {
    return `missing ${missing.map(([c]) => c).join(', ')}; install: apt-get install -y ${[...new Set(missing.map(([, p]) => p))].join(' ')}`;
  }
  return undefined;
}

function requireHostTools(): void {
  const problem = hostToolProblem();
  if (problem) throw new Error(`e2e harness: ${problem}`);
}

/** Builds (once) and returns the cached Debian root for this package list. */
export async function ensureBaseRoot(opts: { suite?: Suite; packages?: string[]; rootDate?: string; log?: (line: string) => void } = {}): Promise<string> {
  requireHostTools();
  const log = opts.log ?? defaultLog;
  const suite = opts.suite ?? DEFAULT_SUITE;
  const packages = [...new Set([...PACKAGES, ...(opts.packages ?? [])])].sort();
  const key = createHash('sha256').update(JSON.stringify({ suite, variant: 'apt', packages, hooks: HOOKS_VERSION, masked: MASKED_UNITS })).digest('hex').slice(0, 12);
  const dated = opts.rootDate ? `${opts.rootDate}-` : '';
  const rootsDir = path.join(e2eCacheDir(), 'roots');
  const final = path.join(rootsDir, `debian-${suite}-${dated}${key}`);
  if (existsSync(path.join(final, 'etc', 'os-release'))) return final;
  await mkdir(rootsDir, { recursive: true });
  const mirror = debianMirror();
  log(`e2e: building the Debian ${suite} (${SUITES[suite]}) root ${final} with mmdebstrap from ${mirror} (first run only; a few minutes)`);
  const tmp = `${final}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  const hooks = [
    // Test repositories are configured by each test; the Debian mirror stays out of the way of apt-get update.
    'rm -f "$1/etc/apt/sources.list"',
    ...MASKED_UNITS.map((u) => `ln -sf /dev/null "$1/etc/systemd/system/${u}"`),
    // mmdebstrap leaves /etc/machine-id empty (each boot gets a transient id). Never delete it: a missing
    // (or "uninitialized") machine-id makes systemd run systemd-firstboot, which waits for a key press.
    'ln -sf /dev/null "$1/etc/systemd/system/systemd-firstboot.service"',
    'echo e2e > "$1/etc/hostname"',
  ];
  // The existence check runs again under the lock: a concurrent run may have finished the same root.
  const script = `set -e
if [ ! -e "$FINAL/etc/os-release" ]; then
  rm -rf "$TMP"
  mmdebstrap --variant=apt --include="$PACKAGES" ${hooks.map((h) => `--customize-hook=${shellQuote(h)}`).join(' ')} "$SUITE" "$TMP" "$MIRROR"
  rm -rf "$FINAL"
  mv "$TMP" "$FINAL"
fi`;
  const r = await execa('flock', [path.join(rootsDir, '.lock'), 'sh', '-c', script], {
    env: { FINAL: final, TMP: tmp, PACKAGES: packages.join(','), SUITE: suite, MIRROR: mirror },
    reject: false,
    all: true,
  });
  if (r.exitCode !== 0) {
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`e2e: mmdebstrap failed (exit ${r.exitCode}) building ${final} from ${mirror}:\n${tail(r.all ?? '', 60)}`);
  }
  return final;
}

let counter = 0;
const live = new Set<Container>();

// A test process that dies (timeout, Ctrl-C) must not leave containers or mounts behind.
process.once('exit', () => {
  for (const c of live) c.killSync();
});

export class Container {
  /** Host path of the container's root file system (writable: files written here appear inside). */
  readonly root: string;
  /** Host directory bind-mounted read-write at SHARED_INSIDE (/mnt/e2e-host). */
  readonly shared: string;
  readonly name: string;
  readonly network: 'private' | 'host';
  /** PID (host namespace) of the container's systemd. */
  leaderPid = 0;
  private readonly workDir: string;
  private readonly consoleLog: string;
  private nspawn?: ChildProcess;
  /** Settles when systemd-nspawn has exited. */
  private nspawnExited: Promise<void> = Promise.resolve();
  private overlay = false;
  private uids = new Map<string, number>();
  private readonly log: (line: string) => void;

  private readonly exposed = new Set<number>();
  private unsubscribe: () => void = () => {};

  private constructor(workDir: string, name: string, network: 'private' | 'host', log: (line: string) => void) {
    this.workDir = workDir;
    this.root = path.join(workDir, 'root');
    this.shared = path.join(workDir, 'shared');
    this.name = name;
    this.network = network;
    this.consoleLog = path.join(workDir, 'console.log');
    this.log = log;
  }

  /** A fresh container from the cached root, booted until systemd reports running/degraded. */
  static async boot(opts: BootOptions = {}): Promise<Container> {
    const log = opts.log ?? defaultLog;
    const base = await ensureBaseRoot({ suite: opts.suite, packages: opts.packages, rootDate: opts.rootDate, log });
    const name = `e2e-${process.pid}-${++counter}-${randomBytes(2).toString('hex')}`;
    const workDir = await mkdtemp(path.join(os.tmpdir(), `stigmer-${name}-`));
    const c = new Container(workDir, name, opts.network ?? 'private', log);
    live.add(c);
    try {
      await c.prepareRoot(base);
      await c.start(opts);
      if (c.network === 'private') {
        for (const srv of liveServers) await c.exposeHttp(srv);
        c.unsubscribe = onServerStarted((srv) => c.exposeHttp(srv));
      }
    } catch (err) {
      const diag = await c.diagnostics().catch(() => '');
      await c.dispose();
      throw new Error(`${(err as Error).message}${diag}`, { cause: err });
    }
    return c;
  }

  private async prepareRoot(base: string): Promise<void> {
    const upper = path.join(this.workDir, 'upper');
    const work = path.join(this.workDir, 'work');
    await Promise.all([mkdir(this.root), mkdir(upper), mkdir(work), mkdir(this.shared)]);
    const r = await execa('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${base},upperdir=${upper},workdir=${work}`, this.root], { reject: false });
    if (r.exitCode === 0) {
      this.overlay = true;
      return;
    }
    this.log(`e2e: overlay mount failed (${r.stderr.trim()}); copying the root instead`);
    await execa('cp', ['-a', '--reflink=auto', `${base}/.`, this.root]);
  }

  private async start(opts: BootOptions): Promise<void> {
    const args = [
      '--boot',
      '--keep-unit',
      '--register=no',
      '--console=read-only',
      '--link-journal=no',
      '--timezone=off',
      `--machine=${this.name}`,
      `--directory=${this.root}`,
      ...(this.network === 'private' ? ['--private-network'] : []),
      `--bind=${this.shared}:${SHARED_INSIDE}`,
      ...(opts.binds ?? []).map((b) => `--bind${b.readOnly ? '-ro' : ''}=${b.host}:${b.container}`),
    ];
    const fd = openSync(this.consoleLog, 'a');
    const nspawn = spawn('systemd-nspawn', args, { stdio: ['ignore', fd, fd], env: { PATH: process.env.PATH ?? PATH_INSIDE, SYSTEMD_COLORS: '0' } });
    closeSync(fd);
    this.nspawn = nspawn;
    this.nspawnExited = new Promise((resolve) => {
      nspawn.once('exit', () => resolve());
      nspawn.once('error', () => resolve());
    });
    const deadline = Date.now() + (opts.bootTimeoutMs ?? 120_000);
    // 1. The container's systemd: nspawn's child once it has exec'd systemd.
    while (!this.leaderPid) {
      if (this.nspawn.exitCode !== null || this.nspawn.signalCode !== null) throw new Error(`systemd-nspawn exited (${this.nspawn.exitCode ?? this.nspawn.signalCode}) before the container booted`);
      if (Date.now() > deadline) throw new Error('timed out waiting for the container\'s systemd to start');
      const pid = this.nspawn.pid!;
      for (const child of childPids(pid)) {
        if (readProc(child, 'comm') === 'systemd') this.leaderPid = child;
      }
      if (!this.leaderPid) await sleep(100);
    }
    // 2. Boot finished: is-system-running --wait fails until systemd's private socket exists.
    for (;;) {
      const r = await this.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: Math.max(1000, deadline - Date.now()) });
      const state = r.stdout.trim();
      if (state === 'running') return;
      if (state === 'degraded') {
        const failed = await this.exec(['systemctl', '--failed', '--no-pager', '--plain']);
        this.log(`e2e: ${this.name} booted degraded:\n${failed.stdout}`);
        return;
      }
      if (Date.now() > deadline) throw new Error(`container ${this.name} did not finish booting (last state: ${state || r.stderr.trim()})`);
      await sleep(200);
    }
  }

  /** Runs a command inside the container; never throws on a non-zero exit. */
  async exec(cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const env: Record<string, string> = { PATH: PATH_INSIDE, LANG: 'C.UTF-8', TERM: 'dumb', HOME: '/root', USER: 'root', LOGNAME: 'root', ...opts.env };
    let inner = cmd;
    if (opts.user && opts.user !== 'root') {
      const uid = await this.uidOf(opts.user);
      const home = (await this.exec(['sh', '-c', `getent passwd "$1" | cut -d: -f6`, 'sh', opts.user])).stdout.trim();
      Object.assign(env, {
        HOME: home || '/',
        USER: opts.user,
        LOGNAME: opts.user,
        XDG_RUNTIME_DIR: `/run/user/${uid}`,
        DBUS_SESSION_BUS_ADDRESS: `unix:path=/run/user/${uid}/bus`,
        ...opts.env,
      });
      inner = ['runuser', '-u', opts.user, '--', ...envCommand(env, cmd)];
    } else {
      inner = envCommand(env, cmd);
    }
    if (opts.cwd) inner = ['sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh', opts.cwd, ...inner];
    // The time limit is enforced inside the container by coreutils' timeout: nsenter forks to enter the PID
    // namespace, so killing nsenter from here would leave the command running and its pipes open.
    const timeoutMs = opts.timeoutMs ?? 300_000;
    inner = ['timeout', '--kill-after=5', `${Math.max(1, Math.ceil(timeoutMs / 1000))}s`, ...inner];
    const r = await execa('nsenter', ['-t', String(this.leaderPid), '-a', ...inner], {
      reject: false,
      input: opts.input,
      stdin: opts.input === undefined ? 'ignore' : undefined,
      // Last resort if the container itself is wedged.
      timeout: timeoutMs + 30_000,
      forceKillAfterDelay: 5_000,
      // nsenter itself needs a PATH to find `timeout` inside; everything else comes from envCommand.
      env: { PATH: PATH_INSIDE },
      extendEnv: false,
      stripFinalNewline: false,
    });
    const timedOut = r.timedOut || r.exitCode === 124 || r.exitCode === 137;
    const exitCode = r.exitCode ?? (r.timedOut ? 124 : 1);
    return {
      command: `${opts.user ? `[${opts.user}] ` : ''}${cmd.map(shellQuote).join(' ')}`,
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? '') + (timedOut ? `\n(exit ${exitCode}: timed out after ${timeoutMs} ms?)` : ''),
      exitCode,
    };
  }

  /** exec, but a non-zero exit throws with the command, both streams and the container's journal. */
  async run(cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.exec(cmd, opts);
    if (r.exitCode !== 0) throw new Error(`in ${this.name}: \`${r.command}\` exited ${r.exitCode}\n--- stdout\n${tail(r.stdout, 80)}\n--- stderr\n${tail(r.stderr, 80)}${await this.diagnostics()}`);
    return r;
  }

  /** A shell script (sh -ec) inside the container; throws on failure like run(). */
  sh(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(['sh', '-ec', script], opts);
  }

  /** As `user`, with XDG_RUNTIME_DIR set so `systemctl --user` reaches that user's manager (needs lingering or a session). */
  asUser(user: string, cmd: string[], opts: Omit<ExecOptions, 'user'> = {}): Promise<ExecResult> {
    return this.exec(cmd, { ...opts, user });
  }

  async uidOf(user: string): Promise<number> {
    let uid = this.uids.get(user);
    if (uid === undefined) {
      const r = await this.run(['id', '-u', user]);
      uid = Number(r.stdout.trim());
      this.uids.set(user, uid);
    }
    return uid;
  }

  /** Enables lingering for `user` and waits until its user manager is up. */
  async enableLinger(user: string): Promise<void> {
    await this.run(['loginctl', 'enable-linger', user]);
    const uid = await this.uidOf(user);
    await this.waitFor(`user@${uid}.service active`, async () => (await this.exec(['systemctl', 'is-active', `user@${uid}.service`])).stdout.trim() === 'active');
    const r = await this.asUser(user, ['systemctl', '--user', 'is-system-running', '--wait'], { timeoutMs: 60_000 });
    if (!['running', 'degraded'].includes(r.stdout.trim())) throw new Error(`user manager of ${user} is ${r.stdout.trim() || r.stderr.trim()}${await this.diagnostics()}`);
  }

  /** Polls `check` until it returns true (or throws the last error with diagnostics after the timeout). */
  async waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        if (await check()) return;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) throw new Error(`in ${this.name}: timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}${await this.diagnostics()}`);
      await sleep(250);
    }
  }

  /**
   * Makes a host test server reachable inside at its own URL (http://127.0.0.1:<port>): the server also listens
   * on a unix socket in the shared directory, and a socket-activated systemd-socket-proxyd forwards to it.
   * Automatic for servers started while the container lives; a no-op with network 'host'.
   */
  async exposeHttp(srv: StaticServer): Promise<void> {
    if (this.network === 'host' || this.exposed.has(srv.port)) return;
    this.exposed.add(srv.port);
    const sock = `http-${srv.port}.sock`;
    await srv.listenUnix(path.join(this.shared, sock));
    await this.run([
      'systemd-run',
      `--unit=e2e-http-${srv.port}`,
      `--socket-property=ListenStream=127.0.0.1:${srv.port}`,
      '/lib/systemd/systemd-socket-proxyd',
      `${SHARED_INSIDE}/${sock}`,
    ]);
  }

  /** Host path of a path inside the container (refuses paths a tmpfs hides inside, such as /tmp). */
  hostPath(p: string): string {
    const abs = path.posix.resolve('/', p);
    const hidden = HIDDEN_INSIDE.find((d) => abs === d || abs.startsWith(`${d}/`));
    if (hidden) throw new Error(`${p}: the container mounts a tmpfs on ${hidden}, so files written there from the host are invisible inside; use /var/tmp, /root or container.shared (${SHARED_INSIDE})`);
    return path.join(this.root, abs);
  }

  /** Path inside the container of a file in the shared directory. */
  sharedPath(name: string): string {
    return path.posix.join(SHARED_INSIDE, name);
  }

  async writeFile(p: string, content: string | Buffer, opts: { mode?: number; owner?: { uid: number; gid: number } } = {}): Promise<void> {
    const dest = this.hostPath(p);
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(dest, content);
    await chmod(dest, opts.mode ?? 0o644);
    if (opts.owner) await chown(dest, opts.owner.uid, opts.owner.gid);
  }

  async copyIn(hostFile: string, p: string, mode = 0o644): Promise<void> {
    const dest = this.hostPath(p);
    await mkdir(path.dirname(dest), { recursive: true });
    await copyFile(hostFile, dest);
    await chmod(dest, mode);
  }

  readFile(p: string): Promise<string> {
    return readFile(this.hostPath(p), 'utf8');
  }

  exists(p: string): boolean {
    return existsSync(this.hostPath(p));
  }

  async journal(lines = 200, unit?: string): Promise<string> {
    const r = await this.exec(['journalctl', '-b', '--no-pager', '-o', 'short-precise', ...(unit ? ['-u', unit] : []), '-n', String(lines)]);
    return r.stdout + r.stderr;
  }

  /** The journal's tail and the console log, for error messages. */
  async diagnostics(): Promise<string> {
    let out = '';
    if (this.leaderPid && this.isRunning()) out += `\n--- journalctl -b (${this.name}, last 200 lines)\n${await this.journal(200)}`;
    else if (existsSync(this.consoleLog)) out += `\n--- systemd-nspawn console (${this.name})\n${tail(readFileSync(this.consoleLog, 'utf8'), 80)}`;
    return out;
  }

  private nspawnAlive(): boolean {
    return Boolean(this.nspawn && this.nspawn.exitCode === null && this.nspawn.signalCode === null);
  }

  isRunning(): boolean {
    return Boolean(this.nspawnAlive() && this.leaderPid && existsSync(`/proc/${this.leaderPid}`));
  }

  /** Powers the container off (kills it after 30 s) and removes its file system. */
  async dispose(): Promise<void> {
    if (this.nspawnAlive()) {
      // SIGRTMIN+4 asks systemd (PID 1) for an orderly poweroff; no nsenter or D-Bus involved, so it also
      // works when the container is wedged. glibc's SIGRTMIN is 34 on Linux.
      if (this.leaderPid) signal(this.leaderPid, 34 + 4);
      const exited = await Promise.race([this.nspawnExited.then(() => true), sleep(30_000).then(() => false)]);
      if (!exited) {
        this.log(`e2e: ${this.name} did not power off within 30 s; killing it`);
        this.killSync();
        await Promise.race([this.nspawnExited, sleep(10_000)]);
      }
    }
    this.unsubscribe();
    await this.removeRoot();
    live.delete(this);
  }

  /** Last resort (process exit): SIGKILL the container's PID 1 (which ends its PID namespace) and nspawn. */
  killSync(): void {
    if (this.leaderPid) signal(this.leaderPid, 'SIGKILL');
    if (this.nspawn?.pid) signal(this.nspawn.pid, 'SIGKILL');
    if (this.overlay) execaSync('umount', ['-l', this.root], { reject: false });
  }

  private async removeRoot(): Promise<void> {
    if (this.overlay) {
      for (let i = 0; i < 20; i++) {
        const r = await execa('umount', [this.root], { reject: false });
        if (r.exitCode === 0 || !isMounted(this.root)) break;
        await sleep(250);
        if (i === 19) await execa('umount', ['-l', this.root], { reject: false });
      }
      this.overlay = false;
    }
    if (!isMounted(this.root)) await rm(this.workDir, { recursive: true, force: true });
    else this.log(`e2e: ${this.root} is still mounted; left ${this.workDir} in place`);
  }
}

function signal(pid: number, sig: NodeJS.Signals | number): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

function envCommand(env: Record<string, string>, cmd: string[]): string[] {
  return ['env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...cmd];
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const task of listDir(`/proc/${pid}/task`)) {
    const text = readProcFile(`/proc/${pid}/task/${task}/children`);
    for (const p of text.split(/\s+/).filter(Boolean)) out.push(Number(p));
  }
  return out;
}

function readProc(pid: number, file: string): string {
  return readProcFile(`/proc/${pid}/${file}`).trim();
}

function readProcFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function isMounted(dir: string): boolean {
  return readProcFile('/proc/self/mountinfo')
    .split('\n')
    .some((line) => line.split(' ')[4] === dir);
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return (all.length > lines ? [`(... ${all.length - lines} lines before)`, ...all.slice(-lines)] : all).join('\n');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function defaultLog(line: string): void {
  process.stderr.write(line + '\n');
}
