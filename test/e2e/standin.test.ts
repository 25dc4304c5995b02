// The snapshot stand-in payloads are real executables: build them with Go and run them.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { loadProduct } from '../../src/product/load.ts';
import { exeName, type Platform, type Product } from '../../src/product/model.ts';
import { buildStandins } from '../../src/payloads/standin.ts';
import type { UncheckedPayload as Payload } from '../../src/targets/types.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VERSION = '0.1.0-snapshot.1';
const PLATFORMS: Platform[] = ['linux-amd64', 'linux-arm64', 'windows-amd64'];
const BUILD_TIMEOUT = 600_000;

let product: Product;
let tmp: string;
let payloads: Payload[];
const reported: string[] = [];

function payload(component: string, platform: Platform): Payload {
  const p = payloads.find((x) => x.component === component && x.platform === platform);
  if (!p) throw new Error(`no stand-in for ${component} ${platform}`);
  return p;
}

/** Environment without the variables the stand-ins report, so the assertions do not depend on the caller. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STIGMER_') && !k.endsWith('_API_KEY')) env[k] = v;
  return { ...env, ...extra };
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

beforeAll(async () => {
  product = loadProduct(path.join(repo, 'packaging/stigmer.yaml'));
  tmp = await mkdtemp(path.join(os.tmpdir(), 'standin-test-'));
  payloads = await buildStandins({
    product,
    platforms: PLATFORMS,
    version: VERSION,
    cacheDir: path.join(tmp, 'cache-a'),
    report: (l) => reported.push(l),
  });
}, BUILD_TIMEOUT);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('buildStandins', () => {
  it('builds one payload per component and platform, with digests of the files', async () => {
    expect(payloads).toHaveLength(product.components.length * PLATFORMS.length);
    for (const c of product.components) {
      for (const platform of PLATFORMS) {
        const p = payload(c.name, platform);
        expect(p.origin).toBe('standin');
        expect(path.basename(p.path)).toBe(exeName(c.binary, platform));
        expect(path.basename(path.dirname(p.path))).toBe(platform);
        expect(p.path.startsWith(path.join(tmp, 'cache-a', 'standins') + path.sep)).toBe(true);
        const bytes = await readFile(p.path);
        expect(p.size).toBe(bytes.length);
        expect(p.sha256).toBe(sha256(bytes));
      }
    }
    // Only the final names are left: every temporary build output was renamed into place.
    for (const p of payloads) expect(await readdir(path.dirname(p.path))).toEqual([path.basename(p.path)]);
  });

  it('reuses the cache on a second build', async () => {
    const lines: string[] = [];
    const again = await buildStandins({ product, platforms: PLATFORMS, version: VERSION, cacheDir: path.join(tmp, 'cache-a'), report: (l) => lines.push(l) });
    expect(again).toEqual(payloads);
    expect(lines).toHaveLength(payloads.length);
    expect(lines.every((l) => l.includes(': cached '))).toBe(true);
    expect(reported.every((l) => l.includes(': built '))).toBe(true);
  });

  it('is reproducible: a build into another cache directory gives identical bytes', async () => {
    const strip = (ps: Payload[]) => ps.map(({ component, platform, sha256, size }) => ({ component, platform, sha256, size }));
    // From scratch (a fresh GOCACHE compiles the standard library again) for one platform...
    const fresh = await buildStandins({ product, platforms: ['linux-amd64'], version: VERSION, cacheDir: path.join(tmp, 'cache-b') });
    expect(fresh.map((p) => p.path)).not.toEqual(payloads.filter((p) => p.platform === 'linux-amd64').map((p) => p.path));
    expect(strip(fresh)).toEqual(strip(payloads.filter((p) => p.platform === 'linux-amd64')));
    // ...and for every platform with the compiled standard library copied over (it takes a minute per platform).
    await cp(path.join(tmp, 'cache-a', 'go-build'), path.join(tmp, 'cache-c', 'go-build'), { recursive: true });
    const other = await buildStandins({ product, platforms: PLATFORMS, version: VERSION, cacheDir: path.join(tmp, 'cache-c') });
    expect(other.map((p) => p.path)).not.toEqual(payloads.map((p) => p.path));
    expect(strip(other)).toEqual(strip(payloads));
  }, BUILD_TIMEOUT);

  it('throws MissingToolError when go is not on PATH', async () => {
    const saved = process.env.PATH;
    process.env.PATH = path.join(tmp, 'empty-bin');
    try {
      await expect(buildStandins({ product, platforms: ['linux-amd64'], version: VERSION, cacheDir: path.join(tmp, 'cache-nogo') })).rejects.toMatchObject({
        name: 'MissingToolError',
        tool: 'go',
        install: 'apt-get install golang-go',
      });
    } finally {
      process.env.PATH = saved;
    }
  });

  it('keys the cache on the baked-in configuration', async () => {
    const other = await buildStandins({ product, platforms: ['linux-amd64'], version: `${VERSION}.other`, cacheDir: path.join(tmp, 'cache-a') });
    for (const p of other) {
      expect(path.dirname(p.path)).not.toBe(path.dirname(payload(p.component, 'linux-amd64').path));
      expect(p.sha256).not.toBe(payload(p.component, 'linux-amd64').sha256);
    }
  }, BUILD_TIMEOUT);
});

describe('executable formats', () => {
  it('windows-amd64 stand-ins are PE32+ x86-64 executables', async () => {
    for (const c of product.components) {
      const b = await readFile(payload(c.name, 'windows-amd64').path);
      expect(b.subarray(0, 2).toString('latin1')).toBe('MZ');
      const pe = b.readUInt32LE(0x3c);
      expect(b.subarray(pe, pe + 4)).toEqual(Buffer.from('PE\0\0', 'latin1'));
      expect(b.readUInt16LE(pe + 4)).toBe(0x8664); // IMAGE_FILE_MACHINE_AMD64
      expect(b.readUInt16LE(pe + 22) & 0x0002).toBe(0x0002); // IMAGE_FILE_EXECUTABLE_IMAGE
      expect(b.readUInt16LE(pe + 24)).toBe(0x20b); // optional header magic: PE32+
    }
  });

  it('linux stand-ins are 64-bit little-endian ELF executables for their architecture', async () => {
    for (const [platform, machine] of [['linux-amd64', 62], ['linux-arm64', 183]] as const) {
      for (const c of product.components) {
        const b = await readFile(payload(c.name, platform).path);
        expect(b.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
        expect(b[4]).toBe(2); // ELFCLASS64
        expect(b[5]).toBe(1); // little-endian
        expect(b.readUInt16LE(16)).toBe(2); // ET_EXEC
        expect(b.readUInt16LE(18)).toBe(machine); // e_machine: 62 x86-64, 183 aarch64
        expect(statSync(payload(c.name, platform).path).mode & 0o111).not.toBe(0);
      }
    }
  });
});

describe.skipIf(process.platform !== 'linux' || process.arch !== 'x64')('running the linux-amd64 stand-ins', () => {
  it('--version prints the binary, version and component', async () => {
    for (const c of product.components) {
      const r = await execa(payload(c.name, 'linux-amd64').path, ['--version'], { env: cleanEnv({ TMPDIR: tmp }), extendEnv: false });
      expect(r.exitCode).toBe(0);
      // An upstream program with a contract prints what the real one prints.
      expect(r.stdout).toBe(c.contract?.versionOutput ?? `${c.binary} ${VERSION} (stigmer-dist stand-in for ${c.name})`);
      const v = await execa(payload(c.name, 'linux-amd64').path, ['version'], { env: cleanEnv({ TMPDIR: tmp }), extendEnv: false });
      expect(v.stdout).toBe(r.stdout);
    }
  });

  it('a CLI component prints a usage line without arguments', async () => {
    const cli = product.components.find((c) => !c.service)!;
    const r = await execa(payload(cli.name, 'linux-amd64').path, [], { env: cleanEnv({}), extendEnv: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: ${cli.binary} `));
    expect(r.stdout.split('\n')).toHaveLength(1);
  });

  it('stigmer-server serves its health check, hides secrets and stops cleanly on SIGTERM', async () => {
    const server = product.components.find((c) => c.name === 'stigmer-server')!;
    const service = server.service!;
    const health = service.health!;
    for (const p of service.ports) {
      if (!(await portFree(p.port))) {
        throw new Error(`port ${p.port} (${service.name} ${p.name}) is in use on 127.0.0.1: stop whatever listens on it and re-run`);
      }
    }
    const dataDir = path.join(tmp, 'server-data');
    const args = ['serve', '--data-dir', dataDir, '--port', String(service.ports[0]!.port), '--http-port', String(health.portNumber)];
    const child = spawn(payload(server.name, 'linux-amd64').path, args, {
      cwd: tmp,
      env: cleanEnv({ STIGMER_LOG_FORMAT: 'json', STIGMER_AUTH_TOKEN: 's3cret', TMPDIR: tmp }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));
    try {
      const url = `http://127.0.0.1:${health.portNumber}${health.path}`;
      let res: Response | undefined;
      const deadline = Date.now() + 15_000;
      while (!res) {
        if (exitedEarly) throw new Error(`the stand-in exited before answering ${url}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`no answer on ${url} within 15s\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        try {
          res = await fetch(url);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain('s3cret');
      const body = JSON.parse(text);
      expect(body).toMatchObject({
        status: 'ok',
        component: 'stigmer-server',
        version: VERSION,
        pid: child.pid,
        uid: process.getuid!(),
        args,
        workingDir: tmp,
        tmpdir: tmp,
        env: { STIGMER_LOG_FORMAT: 'json', STIGMER_TEMPORAL_ADDRESS: '' },
        secrets: { STIGMER_AUTH_TOKEN: `sha256:${createHash('sha256').update('s3cret').digest('hex').slice(0, 16)}` },
      });
      expect(typeof body.user).toBe('string');
      expect(body.user.length).toBeGreaterThan(0);

      // Every declared port serves HTTP, "/" answers with text.
      for (const p of service.ports) {
        const root = await fetch(`http://127.0.0.1:${p.port}/`);
        expect(root.status).toBe(200);
        expect(root.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(await root.text()).toContain('stigmer-server');
      }
      expect((await fetch(`http://127.0.0.1:${health.portNumber}/no-such-path`)).status).toBe(404);
    } finally {
      if (!exitedEarly) child.kill('SIGTERM');
    }
    const { code, signal } = await exited;
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/starting stigmer-server .*args=\["serve","--data-dir",/);
    expect(stdout).toContain(`listening on http://127.0.0.1:${service.ports[0]!.port} (${service.ports[0]!.name})`);
    expect(stdout).toMatch(new RegExp(`GET ${health.path} from 127\\.0\\.0\\.1:\\d+ on ${health.port} -> 200`));
    expect(stdout).toContain('received SIGTERM, shutting down');
    expect(lines.at(-1)).toMatch(/stopped \(exit 0\)$/);
    expect(stdout).not.toContain('s3cret');
    // The stop released the ports.
    for (const p of service.ports) expect(await portFree(p.port)).toBe(true);
  });

  describe('an upstream component under its command-line contract (temporal)', () => {
    const temporal = () => product.components.find((c) => c.contract)!;
    const runTemporal = (args: string[]) =>
      execa(payload(temporal().name, 'linux-amd64').path, args, { env: cleanEnv({ TMPDIR: tmp }), extendEnv: false, reject: false, timeout: 20_000 });

    it('refuses a flag the real program does not accept, in its words and with its exit status', async () => {
      const args = [...temporal().service!.args.map((a) => a.replace(/\{[^}]+\}/g, '1')), '--no-such-flag'];
      const r = await runTemporal(args);
      expect(r.exitCode).toBe(1);
      expect(r.stderr.split('\n')[0]).toBe('Error: unknown flag: --no-such-flag');
      const wrongCommand = await runTemporal(['server', 'start', '--ip', '127.0.0.1']);
      expect(wrongCommand.exitCode).toBe(1);
      expect(wrongCommand.stderr).toMatch(/^Error: unknown command "start" for "temporal server"/);
      const missingValue = await runTemporal(['server', 'start-dev', '--db-filename']);
      expect(missingValue.stderr).toMatch(/^Error: flag needs an argument: --db-filename/);
    });

    it("starts with the definition's args and serves its ports", async () => {
      const svc = temporal().service!;
      for (const p of svc.ports) if (!(await portFree(p.port))) throw new Error(`port ${p.port} (${svc.name} ${p.name}) is in use on 127.0.0.1`);
      const args = svc.args.map((a) => a.replace('{stateDir}', tmp).replace(/\{port:([a-z0-9-]+)\}/g, (_m, n: string) => String(svc.ports.find((p) => p.name === n)!.port)));
      const child = spawn(payload(temporal().name, 'linux-amd64').path, args, { env: cleanEnv({ TMPDIR: tmp }), stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        const url = `http://127.0.0.1:${svc.health!.portNumber}/healthz`;
        let body: { args: string[] } | undefined;
        for (let i = 0; i < 150 && !body; i++) {
          try {
            body = (await (await fetch(url)).json()) as { args: string[] };
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        expect(body, stderr).toBeDefined();
        expect(body!.args).toEqual(args);
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
    });
  });

  describe('the frozen stand-in as a PyInstaller bootloader', () => {
    /** Starts the frozen agent-runner as a service; returns its output and how it ended. */
    async function startFrozen(tmpdir: string) {
      const svc = product.components.find((c) => c.frozen && c.service)!.service!;
      for (const p of svc.ports) if (!(await portFree(p.port))) throw new Error(`port ${p.port} (${svc.name} ${p.name}) is in use on 127.0.0.1`);
      const child = spawn(payload(svc.component, 'linux-amd64').path, ['--data-dir', tmpdir], { env: cleanEnv({ TMPDIR: tmpdir }), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      let health: { pid: number; meipass: string } | undefined;
      for (let i = 0; i < 150 && !health; i++) {
        try {
          health = (await (await fetch(`http://127.0.0.1:${svc.health!.portNumber}${svc.health!.path}`)).json()) as { pid: number; meipass: string };
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      if (!health) throw new Error(`the frozen stand-in did not answer; output:\n${stdout}`);
      return { child, health, exited, output: () => stdout };
    }

    it('runs the program as a child from a _MEI folder, forwards one SIGTERM, removes the folder', async () => {
      const dir = await mkdtemp(path.join(tmp, 'frozen-'));
      const run = await startFrozen(dir);
      expect(run.health.pid).not.toBe(run.child.pid);
      expect(path.dirname(run.health.meipass)).toBe(dir);
      expect(path.basename(run.health.meipass)).toMatch(/^_MEI/);
      run.child.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });
      expect(run.output().match(/signal SIGTERM received/g)).toHaveLength(1);
      expect(run.output()).toContain(`[${run.health.pid}]: signal SIGTERM received`);
      expect(await readdir(dir)).toEqual([]);
    });
  });

  describe('the frozen (PyInstaller one-file) agent-runner', () => {
    const run = (tmpdir: string) =>
      execa(payload('agent-runner', 'linux-amd64').path, ['--version'], { env: cleanEnv({ TMPDIR: tmpdir }), extendEnv: false, reject: false });
    const pyiError = (dir: string) =>
      new RegExp(`^\\[PYI-\\d+:ERROR\\] Failed to extract/execute in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/_MEI\\S*: .+`);

    it('unpacks into a good TMPDIR, runs from there and cleans up', async () => {
      const good = await mkdtemp(path.join(tmp, 'good-tmp-'));
      const r = await run(good);
      expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: '' });
      expect(r.stdout).toBe(`agent-runner ${VERSION} (stigmer-dist stand-in for agent-runner)`);
      expect(await readdir(good)).toEqual([]);
    });

    it('fails like PyInstaller when TMPDIR does not exist', async () => {
      const missing = path.join(tmp, 'no-such-dir');
      const r = await run(missing);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(pyiError(missing));
    });

    it('fails like PyInstaller when TMPDIR is not a directory', async () => {
      const file = path.join(tmp, 'not-a-dir');
      await writeFile(file, 'x');
      const r = await run(file);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(pyiError(file));
    });

    it('fails like PyInstaller when TMPDIR is on a noexec mount', async () => {
      // A private noexec tmpfs (the e2e tests run as root), so the check never depends on the host's mounts.
      const noexec = await mkdtemp(path.join(os.tmpdir(), 'sd-noexec-'));
      await execa('mount', ['-t', 'tmpfs', '-o', 'noexec,nosuid,nodev,size=64m', 'tmpfs', noexec]);
      try {
        const r = await run(noexec);
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toMatch(pyiError(noexec));
        expect(r.stderr).toMatch(/permission denied/);
        expect((await readdir(noexec)).filter((n) => n.startsWith('_MEI'))).toEqual([]);
      } finally {
        await execa('umount', [noexec]);
        await rm(noexec, { recursive: true, force: true });
      }
    });
  });
});
