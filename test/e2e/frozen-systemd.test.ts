// Issue 15, "Proof", parts 1 and 2 under a real systemd (a booted Debian root, src/verify/install/nspawn.ts): the
// Stigmer .deb of a snapshot build (stand-in payloads) installed with apt;
// - the frozen (PyInstaller one-file) service's unit has KillMode=mixed, and on `systemctl stop` the program
//   (the bootloader's child) logs exactly one SIGTERM and the bootloader removes its _MEI unpack folder;
// - the temporal service runs with the definition's `temporal server start-dev` command line under the
//   Temporal CLI flag contract (the stand-in exits 1 on any flag the contract does not list).
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkArgs } from '../../src/product/contract.ts';
import { expandArgs } from '../../src/product/model.ts';
import { loadProduct } from '../../src/product/load.ts';
import { serviceDirsText } from '../../src/layout/path.ts';
import { systemLayout } from '../../src/layout/system.ts';
import { Container } from '../../src/verify/install/nspawn.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'stigmer-dist.js');
const DEFINITION = path.join(ROOT, 'packaging/stigmer.yaml');
const PLATFORM = process.arch === 'arm64' ? 'linux-arm64' : 'linux-amd64';

const product = loadProduct(DEFINITION);
const frozen = product.services.find((s) => s.frozen)!;
const temporal = product.components.find((c) => c.contract && c.service)!;

let work: string;
let c: Container;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'stigmer-e2e-frozen-'));
  const out = path.join(work, 'dist');
  const r = await execa(process.execPath, [CLI, 'build', '--snapshot', '--config', DEFINITION, '--platform', PLATFORM, '--target', 'deb', '--out', out], { cwd: ROOT, reject: false, all: true, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new Error(`build exited ${r.exitCode}:\n${r.all}`);
  const plan = JSON.parse(await readFile(path.join(out, product.meta.version, 'plan.json'), 'utf8')) as { artifacts: { path: string; role: string }[] };
  const deb = plan.artifacts.find((a) => a.role === 'deb')!;
  c = await Container.boot();
  await c.copyIn(path.join(out, product.meta.version, deb.path), '/var/tmp/product.deb');
  await c.run(['apt-get', 'install', '-y', '/var/tmp/product.deb'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
}, 900_000);

afterAll(async () => {
  await c?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

async function health(port: number, p = '/healthz'): Promise<{ pid: number; args: string[]; meipass?: string; tmpdir: string }> {
  const r = await c.run(['curl', '-fsS', '--max-time', '5', `http://127.0.0.1:${port}${p}`]);
  return JSON.parse(r.stdout);
}

describe('frozen service under systemd', () => {
  it('KillMode=mixed: `systemctl stop` delivers exactly one SIGTERM to the program, and the unpack folder is gone', async () => {
    const unit = `${frozen.name}.service`;
    expect((await c.run(['systemctl', 'show', '--property=KillMode', '--value', unit])).stdout.trim()).toBe('mixed');
    // Keep the runtime directory (TMPDIR) after the stop, so its emptiness proves the bootloader cleaned up.
    await c.run(['mkdir', '-p', `/run/systemd/system/${unit}.d`]);
    await c.run(['sh', '-c', `printf '[Service]\\nRuntimeDirectoryPreserve=yes\\n' > /run/systemd/system/${unit}.d/e2e-preserve.conf`]);
    await c.run(['systemctl', 'daemon-reload']);
    await c.run(['systemctl', 'restart', unit]);
    let h: Awaited<ReturnType<typeof health>> | undefined;
    await c.waitFor(`${unit} answering`, async () => {
      h = await health(frozen.health!.portNumber, frozen.health!.path).catch(() => undefined);
      return h !== undefined;
    }, 60_000);
    const tmpdir = systemLayout(product).service(frozen).runtimeDir.path;
    const mainPid = Number((await c.run(['systemctl', 'show', '--property=MainPID', '--value', unit])).stdout.trim());
    // The bootloader is the main process; the program answering is its child, running from _MEI* in TMPDIR.
    expect(h!.pid).not.toBe(mainPid);
    expect(path.posix.dirname(h!.meipass!)).toBe(tmpdir);
    // /run is the container's own tmpfs: look from inside.
    const existsInside = async (p: string) => (await c.exec(['test', '-e', p])).exitCode === 0;
    expect(await existsInside(h!.meipass!)).toBe(true);
    const since = (await c.run(['date', '+%Y-%m-%d %H:%M:%S.%N'])).stdout.trim().slice(0, 26);
    await c.run(['systemctl', 'stop', unit]);
    const journal = (await c.run(['journalctl', '--no-pager', '-o', 'cat', '-u', unit, '--since', since])).stdout;
    expect(journal.match(new RegExp(`\\[${h!.pid}\\]: signal SIGTERM received`, 'g')), journal).toHaveLength(1);
    expect(journal).not.toMatch(new RegExp(`\\[${h!.pid}\\]: signal SIG(KILL|HUP|INT)`));
    expect(journal).toMatch(new RegExp(`\\[${h!.pid}\\]: stopped \\(exit 0\\)`));
    expect(await existsInside(h!.meipass!)).toBe(false);
    expect((await c.run(['sh', '-c', `ls -A ${tmpdir}`])).stdout.trim()).toBe('');
    await c.run(['rm', '-rf', `/run/systemd/system/${unit}.d`]);
    await c.run(['systemctl', 'daemon-reload']);
  });
});

describe('temporal under its Temporal CLI contract', () => {
  it("runs `server start-dev` with the definition's args, which the contract accepts", async () => {
    const svc = temporal.service!;
    expect(checkArgs(temporal.contract!, svc.args)).toEqual([]);
    await c.waitFor(`${svc.name} answering`, async () => (await health(svc.health!.portNumber).catch(() => undefined)) !== undefined, 60_000);
    const h = await health(svc.health!.portNumber);
    expect(h.args).toEqual(expandArgs(svc, serviceDirsText(systemLayout(product).service(svc))));
    expect((await c.run(['systemctl', 'is-active', `${svc.name}.service`])).stdout.trim()).toBe('active');
    // The same binary refuses a flag `start-dev` does not accept, as the real CLI does.
    const bad = await c.exec([`/usr/bin/${svc.binary}`, 'server', 'start-dev', '--no-such-flag']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr.split('\n')[0]).toBe('Error: unknown flag: --no-such-flag');
    const version = await c.run([`/usr/bin/${svc.binary}`, '--version']);
    expect(version.stdout.trim()).toBe(temporal.contract!.versionOutput);
  });
});
