// A throwaway Windows for e2e tests: a fresh 64-bit WINEPREFIX (Debian's wine64, headless) inside a private
// network namespace, so the services it runs bind a loopback no other test shares. Every wine command goes
// through nsenter into that namespace: processes wine starts inherit it from the wineserver's clients.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface WineResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

// wine's reg.exe when the key is not there ("reg: Unable to find the specified registry key").
const KEY_ABSENT = /unable to find/i;
const live = new Set<WinePrefix>();
process.once('exit', () => {
  for (const w of live) w.killSync();
});

export class WinePrefix {
  readonly dir: string;
  private holder?: ChildProcess;
  private readonly log: (line: string) => void;
  private seq = 0;

  private constructor(dir: string, log: (line: string) => void) {
    this.dir = dir;
    this.log = log;
  }

  /** Host path of C:\ */
  get driveC(): string {
    return path.join(this.dir, 'drive_c');
  }

  /** wineboot -i in a new network namespace (loopback up); waits until the service manager accepts starts. */
  static async create(log: (line: string) => void = () => {}): Promise<WinePrefix> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stigmer-wine-'));
    const w = new WinePrefix(dir, log);
    live.add(w);
    try {
      w.holder = spawn('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec sleep infinity'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 300));
      if (w.holder.exitCode !== null || !w.holder.pid) throw new Error('unshare --net failed (root and iproute2 are needed)');
      log(`wine: prefix ${dir}, network namespace of pid ${w.holder.pid}`);
      await w.boot();
    } catch (err) {
      await w.dispose();
      throw err;
    }
    return w;
  }

  private env(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR']) if (process.env[k]) env[k] = process.env[k]!;
    // No display, no debug channels (STIGMER_E2E_WINEDEBUG=err+msi,err+service to see why an install fails),
    // no Mono/Gecko download prompts.
    return { ...env, WINEPREFIX: this.dir, WINEARCH: 'win64', WINEDEBUG: process.env.STIGMER_E2E_WINEDEBUG ?? '-all', WINEDLLOVERRIDES: 'mscoree=;mshtml=' };
  }

  /**
   * Any command inside the prefix's network namespace, with the wine environment. Output goes through files,
   * not pipes: wine processes started on demand (services.exe, driver hosts) inherit the first client's
   * standard handles and would hold a pipe open for the whole session.
   */
  async exec(command: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<WineResult> {
    const out = path.join(this.dir, `.exec-${++this.seq}`);
    // Plain file descriptors, never pipes to this process.
    const fds = [openSync(`${out}.out`, 'w'), openSync(`${out}.err`, 'w')];
    try {
      const child = spawn('nsenter', [`--net=/proc/${this.holder!.pid}/ns/net`, '--', command, ...args], { env: this.env(), stdio: ['ignore', fds[0]!, fds[1]!] });
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000);
      const code = await new Promise<number>((resolve) => {
        child.once('error', () => resolve(-1));
        child.once('exit', (c, signal) => resolve(c ?? (signal ? -1 : 0)));
      }).finally(() => clearTimeout(timer));
      const r = { exitCode: code };
      const read = async (f: string) => (await readFile(f, 'utf8')).replace(/\r/g, '');
      return { exitCode: r.exitCode, stdout: await read(`${out}.out`), stderr: await read(`${out}.err`) };
    } finally {
      fds.forEach((fd) => closeSync(fd));
      await rm(`${out}.out`, { force: true });
      await rm(`${out}.err`, { force: true });
    }
  }

  wine(args: string[], opts: { timeoutMs?: number } = {}): Promise<WineResult> {
    return this.exec('wine', args, opts);
  }

  private async boot(): Promise<void> {
    const t = Date.now();
    await this.exec('wineboot', ['-i'], { timeoutMs: 300_000 });
    // Then one persistent wineserver (and service manager) for the whole test: every new session restarts
    // wine's driver hosts, whose slow start holds the service start lock.
    await this.exec('wineserver', ['--wait'], { timeoutMs: 120_000 });
    await this.exec('wineserver', ['--persistent']);
    // wineboot sometimes returns before wine.inf is applied (seen under load): finish it.
    for (let i = 0; i < 2 && !(await this.programFilesSet()); i++) await this.exec('wineboot', ['-u'], { timeoutMs: 300_000 });
    if (!(await this.programFilesSet())) throw new Error(`wineboot did not set up ${this.dir} (no ProgramFilesDir)`);
    await this.settle();
    this.log(`wine: prefix ready in ${Math.round((Date.now() - t) / 1000)} s`);
  }

  private async programFilesSet(): Promise<boolean> {
    const r = await this.wine(['reg', 'query', 'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion', '/v', 'ProgramFilesDir']);
    return /ProgramFilesDir\s+REG_SZ\s+C:\\Program Files/.test(r.stdout);
  }

  /**
   * wine's service manager holds a start lock while a slow driver host starts after boot (~30 s at worst);
   * a StartService meanwhile fails with ERROR_SERVICE_DATABASE_LOCKED (1055) and msiexec rolls back (1627).
   * Wait until a probe service's start is answered by anything other than "locked".
   */
  async settle(timeoutMs = 120_000): Promise<void> {
    await this.wine(['sc', 'create', 'StigmerDistProbe', 'binpath=', 'C:\\no-such-probe.exe', 'start=', 'demand']);
    const end = Date.now() + timeoutMs;
    try {
      for (;;) {
        const r = await this.wine(['net', 'start', 'StigmerDistProbe']);
        if (!/locked/i.test(r.stdout + r.stderr)) return;
        if (Date.now() > end) throw new Error('wine service manager still locked after boot');
        await new Promise((res) => setTimeout(res, 1000));
      }
    } finally {
      await this.wine(['sc', 'delete', 'StigmerDistProbe']);
    }
  }

  /** msiexec with a host path; the exit code as the shell sees it (Windows codes cut to 8 bits: 1603 -> 67). */
  async msiexec(action: '/i' | '/x', hostPath: string, logName: string): Promise<WineResult> {
    const r = await this.wine(['msiexec', action, this.windowsPath(hostPath), '/qn', '/l*v', `C:\\${logName}`], { timeoutMs: 300_000 });
    return r;
  }

  /** The verbose msiexec log (for failure messages). */
  async msiLog(logName: string, all = false): Promise<string> {
    const file = path.join(this.driveC, logName);
    if (!existsSync(file)) return '(no log)';
    const buf = await readFile(file);
    const text = buf[1] === 0 ? buf.toString('utf16le') : buf.toString('utf8');
    return all ? text : text.split('\n').filter((l) => /error|failed|return value 3/i.test(l)).slice(-20).join('\n');
  }

  windowsPath(hostPath: string): string {
    return `Z:${path.resolve(hostPath).replace(/\//g, '\\')}`;
  }

  /** sc query: the state name (RUNNING, STOPPED, ...) or null when the service does not exist. */
  async serviceState(name: string): Promise<string | null> {
    const r = await this.wine(['sc', 'query', name]);
    const m = /STATE\s+:\s+\d+\s+(\w+)/.exec(r.stdout);
    return m ? m[1]! : null;
  }

  /** reg query of one key: value name -> { type, data } (null when the key does not exist). */
  async regValues(key: string): Promise<Record<string, { type: string; data: string }> | null> {
    // Only "unable to find" means the key is absent; any other failure of the `reg` process (seen once under
    // load: a non-zero exit for a key that existed) is retried, then reported with what wine said.
    let r = await this.wine(['reg', 'query', key]);
    for (let attempt = 1; r.exitCode !== 0 && !KEY_ABSENT.test(r.stdout + r.stderr) && attempt < 3; attempt++) {
      await new Promise((res) => setTimeout(res, 1000));
      r = await this.wine(['reg', 'query', key]);
    }
    if (r.exitCode !== 0) {
      if (KEY_ABSENT.test(r.stdout + r.stderr)) return null;
      throw new Error(`wine reg query ${key}: exit ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(-500)}`);
    }
    const out: Record<string, { type: string; data: string }> = {};
    for (const line of r.stdout.split('\n')) {
      const m = /^ {4}(.*?) {4}(REG_\w+) {4}(.*)$/.exec(line);
      if (m) out[m[1]!] = { type: m[2]!, data: m[3]! };
    }
    return out;
  }

  /** GET http://127.0.0.1:<port><path> from inside the namespace. */
  async httpGet(port: number, urlPath: string): Promise<{ status: number; body: string } | null> {
    const script = `fetch('http://127.0.0.1:${port}${urlPath}', { signal: AbortSignal.timeout(4000) }).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), () => process.stdout.write('null'))`;
    const r = await this.exec(process.execPath, ['-e', script], { timeoutMs: 20_000 });
    return r.stdout ? (JSON.parse(r.stdout) as { status: number; body: string } | null) : null;
  }

  /** Whether 127.0.0.1:<port> accepts a TCP connection inside the namespace. */
  async tcpConnects(port: number): Promise<boolean> {
    const script = `const s = require('node:net').connect(${port}, '127.0.0.1', () => { process.stdout.write('yes'); s.destroy(); }); s.setTimeout(4000, () => s.destroy()); s.on('error', () => {});`;
    const r = await this.exec(process.execPath, ['-e', script], { timeoutMs: 20_000 });
    return r.stdout === 'yes';
  }

  async dispose(): Promise<void> {
    live.delete(this);
    if (this.holder?.pid && this.holder.exitCode === null) {
      await this.exec('wineserver', ['-k']).catch(() => {});
      this.holder.kill('SIGKILL');
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  killSync(): void {
    try {
      if (this.holder?.pid && this.holder.exitCode === null) {
        spawn('nsenter', [`--net=/proc/${this.holder.pid}/ns/net`, '--', 'wineserver', '-k'], { env: this.env(), stdio: 'ignore' });
          this.holder.kill('SIGKILL');
      }
    } catch {
      // best effort at exit
    }
  }
}
