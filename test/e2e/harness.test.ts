// Proves the e2e harness itself (src/verify/install): a booted Debian under systemd-nspawn, commands as root and
// as a lingering user, the host's test HTTP servers (and only those) reachable from inside, and containers
// that never see each other's state. Uses a trivial package built by dpkg-deb, independent of stigmer-dist.
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveDirectory, type StaticServer } from '../../src/verify/install/http.ts';
import { Container } from '../../src/verify/install/nspawn.ts';

const PKG = 'e2e-harness-probe';

async function buildProbeDeb(dir: string): Promise<string> {
  const root = path.join(dir, 'pkg');
  await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
  await mkdir(path.join(root, 'usr/lib/systemd/system'), { recursive: true });
  await writeFile(
    path.join(root, 'DEBIAN/control'),
    `Package: ${PKG}\nVersion: 1.0\nArchitecture: all\nMaintainer: E2E <e2e@example.org>\nDescription: harness probe\n`,
  );
  await writeFile(
    path.join(root, `usr/lib/systemd/system/${PKG}.service`),
    `[Unit]\nDescription=harness probe\n\n[Service]\nType=exec\nDynamicUser=yes\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n`,
  );
  await writeFile(
    path.join(root, 'DEBIAN/postinst'),
    `#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then\n  deb-systemd-helper enable ${PKG}.service >/dev/null || true\n  systemctl --system daemon-reload >/dev/null || true\n  deb-systemd-invoke start ${PKG}.service >/dev/null || true\nfi\n`,
  );
  await chmod(path.join(root, 'DEBIAN/postinst'), 0o755);
  const deb = path.join(dir, 'repo', `${PKG}.deb`);
  await mkdir(path.dirname(deb), { recursive: true });
  await execa('dpkg-deb', ['--root-owner-group', '--build', root, deb]);
  return deb;
}

describe('nspawn harness', () => {
  let tmp: string;
  let srv: StaticServer;
  let a: Container;
  let b: Container;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'stigmer-e2e-harness-'));
    await buildProbeDeb(tmp);
    srv = await serveDirectory(path.join(tmp, 'repo'));
    [a, b] = [await Container.boot(), await Container.boot()];
  });

  afterAll(async () => {
    await Promise.all([a?.dispose(), b?.dispose()]);
    await srv?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('boots systemd as PID 1 and runs commands with a clean environment', async () => {
    expect((await a.run(['cat', '/proc/1/comm'])).stdout.trim()).toBe('systemd');
    const env = (await a.run(['env'])).stdout;
    expect(env).toMatch(/^PATH=/m);
    expect(env).not.toMatch(/^(VITEST|NODE_OPTIONS)=/m);
    const r = await a.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
    expect((await a.exec(['cat'], { input: 'piped' })).stdout).toBe('piped');
    await expect(a.run(['false'])).rejects.toThrow(/exited 1[\s\S]*journalctl -b/);
  });

  it('reaches the host test server at its own URL, but no other host port', async () => {
    // Started after boot: forwarded to the live containers automatically.
    const late = await serveDirectory(path.join(tmp, 'repo'));
    try {
      await a.run(['curl', '-fsS', '-o', '/var/tmp/probe.deb', `${late.url}/${PKG}.deb`]);
      expect(late.requests).toContainEqual({ method: 'GET', path: `/${PKG}.deb`, status: 200 });
    } finally {
      await late.close();
    }
    // A host port that is no test server stays unreachable: the container has its own loopback.
    const other = http.createServer((_q, res) => res.end('host'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const port = (other.address() as AddressInfo).port;
      expect((await a.exec(['curl', '-fsS', '--max-time', '5', `http://127.0.0.1:${port}/`])).exitCode).not.toBe(0);
    } finally {
      other.close();
    }
  });

  it('installs a package whose service systemd starts', async () => {
    await a.run(['curl', '-fsS', '-o', '/var/tmp/probe.deb', `${srv.url}/${PKG}.deb`]);
    await a.run(['dpkg', '-i', '/var/tmp/probe.deb']);
    await a.waitFor(`${PKG} active`, async () => (await a.exec(['systemctl', 'is-active', `${PKG}.service`])).stdout.trim() === 'active');
    expect((await a.run(['systemctl', 'is-enabled', `${PKG}.service`])).stdout.trim()).toBe('enabled');
    expect(await a.journal(50, `${PKG}.service`)).toMatch(/Started/);
  });

  it('gives every container its own file system, and a shared directory with the host', async () => {
    expect((await b.exec(['dpkg', '-s', PKG])).exitCode).not.toBe(0);
    await a.writeFile('/etc/e2e-marker', 'a\n');
    expect((await a.run(['cat', '/etc/e2e-marker'])).stdout).toBe('a\n');
    expect(b.exists('/etc/e2e-marker')).toBe(false);
    expect(() => a.hostPath('/tmp/x')).toThrow(/tmpfs on \/tmp/);
    await writeFile(path.join(a.shared, 'from-host'), 'hello\n');
    expect((await a.run(['cat', a.sharedPath('from-host')])).stdout).toBe('hello\n');
  });

  it('runs systemctl --user for a lingering user', async () => {
    await b.run(['useradd', '--create-home', 'alice']);
    await b.enableLinger('alice');
    const who = await b.asUser('alice', ['sh', '-c', 'id -un; echo $HOME $XDG_RUNTIME_DIR']);
    const uid = await b.uidOf('alice');
    expect(who.stdout).toBe(`alice\n/home/alice /run/user/${uid}\n`);
    await b.asUser('alice', ['systemd-run', '--user', '--unit', 'probe', 'sleep', 'infinity']);
    expect((await b.asUser('alice', ['systemctl', '--user', 'is-active', 'probe.service'])).stdout.trim()).toBe('active');
  });

  it('powers off and removes the container', async () => {
    const root = b.root;
    await b.dispose();
    expect(b.isRunning()).toBe(false);
    await expect(import('node:fs/promises').then((fs) => fs.stat(root))).rejects.toThrow();
  });
});
