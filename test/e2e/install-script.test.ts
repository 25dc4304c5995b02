// install.sh for real: in a booted Debian 12 (systemd-nspawn), a non-root user with lingering runs the release's
// install.sh against the release served on the host's loopback. The services must run under `systemctl --user`
// and answer their health endpoints; a re-run of the next version's script upgrades in place; --uninstall leaves
// nothing behind but the env file.
//
// The release is a snapshot (stand-in payloads) of packaging/stigmer.yaml for linux-amd64.
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProduct } from '../../src/product/load.ts';
import type { Product } from '../../src/product/model.ts';
import { CLI, REPO, STIGMER_YAML } from '../helpers.ts';
import { serveDirectory, type StaticServer } from '../../src/verify/install/http.ts';
import { Container } from '../../src/verify/install/nspawn.ts';

const USER = 'alice';

async function buildRelease(definition: string, out: string, version: string): Promise<string> {
  const r = await execa(process.execPath, [CLI, 'build', '--snapshot', '-c', definition, '-p', 'linux-amd64', '-t', 'archive,installer,checksums,checksums-signature', '--version', version, '--out', out], {
    cwd: REPO,
    reject: false,
    env: { SOURCE_DATE_EPOCH: '1700000000' },
  });
  if (r.exitCode !== 0) throw new Error(`snapshot build of ${version} failed:\n${r.stderr}`);
  return path.join(out, version);
}

describe('install.sh: per-user install with systemd --user services', () => {
  let tmp: string;
  let srv: StaticServer;
  let c: Container;
  let product: Product;
  let releases: Record<string, string>;
  let home: string;
  let skeleton: string[];

  const asUser = (cmd: string[]) => c.asUser(USER, cmd);
  const userFiles = async () => (await c.run(['find', home, '-mindepth', '1', '(', '-type', 'f', '-o', '-type', 'l', ')', '-printf', '%P\\n'])).stdout.split('\n').filter(Boolean).sort();

  async function runInstaller(args: string[]) {
    // As a user would: fetch the script from the release, then run it.
    await asUser(['curl', '-fsS', '-o', '/tmp/install.sh', `${srv.url}/install.sh`]).then((r) => expect(r.exitCode).toBe(0));
    return asUser(['sh', '/tmp/install.sh', '--base-url', srv.url, ...args]);
  }

  async function expectServing(version: string) {
    for (const s of product.services) {
      await c.waitFor(`${s.name}.service active for ${USER}`, async () => (await asUser(['systemctl', '--user', 'is-active', `${s.name}.service`])).stdout.trim() === 'active');
    }
    for (const s of product.services) {
      const health = s.health!;
      let body = '';
      await c.waitFor(`${s.name} health on port ${health.portNumber}`, async () => {
        const r = await c.exec(['curl', '-fsS', `http://127.0.0.1:${health.portNumber}${health.path}`]);
        body = r.stdout;
        return r.exitCode === 0 && JSON.parse(body).version === version;
      });
      expect(JSON.parse(body)).toMatchObject({ status: 'ok', component: s.component, version, user: USER });
    }
  }

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'stigmer-e2e-install-'));
    const definition = STIGMER_YAML;
    product = loadProduct(definition);
    const out = path.join(tmp, 'dist');
    releases = { '0.1.0': await buildRelease(definition, out, '0.1.0'), '0.1.1': await buildRelease(definition, out, '0.1.1') };
    srv = await serveDirectory(releases['0.1.0']!);
    c = await Container.boot();
    await c.run(['useradd', '--create-home', '--shell', '/bin/bash', USER]);
    await c.enableLinger(USER);
    home = `/home/${USER}`;
    skeleton = await userFiles();
  });

  afterAll(async () => {
    await c?.dispose();
    await srv?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('installs into ~/.local without root and starts every service under systemctl --user', async () => {
    await c.run(['touch', '/var/tmp/before-install']);
    const r = await runInstaller([]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`Installed ${product.meta.displayName} 0.1.0 into ${home}/.local`);
    for (const comp of product.components) {
      const v = await asUser([`${home}/.local/bin/${comp.binary}`, '--version']);
      // An upstream program (Temporal) prints its own version.
      expect(v.stdout).toContain(comp.upstream ? comp.upstream.version : '0.1.0');
    }
    // The env file: the user's, mode 0600.
    const env = await c.run(['stat', '-c', '%U %a', `${home}/.config/stigmer/stigmer.env`]);
    expect(env.stdout.trim()).toBe(`${USER} 600`);
    // Enabled through the grouping target, so the services come back at the next boot of the user manager.
    expect((await asUser(['systemctl', '--user', 'is-enabled', 'stigmer.target'])).stdout.trim()).toBe('enabled');
    await expectServing('0.1.0');
    // Nothing was written to the system's directories (the install ran as the user, without root).
    expect((await c.run(['find', '/usr', '/etc', '/opt', '-newer', '/var/tmp/before-install'])).stdout).toBe('');
  });

  it('upgrades in place when the next release\'s install.sh runs, keeping the secrets the user set', async () => {
    // The user puts a secret into the env file the units read (EnvironmentFile=-%E/stigmer/stigmer.env).
    const envFile = `${home}/.config/stigmer/stigmer.env`;
    await asUser(['sh', '-c', 'printf "STIGMER_AUTH_TOKEN=e2e-token\\n" >>"$1"', 'sh', envFile]);
    srv.root = releases['0.1.1']!;
    const r = await runInstaller([]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`Installed ${product.meta.displayName} 0.1.1`);
    await expectServing('0.1.1');
    expect((await c.readFile(envFile)).endsWith('STIGMER_AUTH_TOKEN=e2e-token\n')).toBe(true);
    // The restarted server read it (the stand-in reports a digest, never the value).
    const server = product.services.find((s) => s.secrets.includes('STIGMER_AUTH_TOKEN'))!;
    const health = JSON.parse((await c.run(['curl', '-fsS', `http://127.0.0.1:${server.health!.portNumber}${server.health!.path}`])).stdout);
    expect(health.secrets.STIGMER_AUTH_TOKEN).toMatch(/^sha256:[0-9a-f]{16}$/);
  });

  it('--uninstall stops and removes the services and files, and keeps only the env file', async () => {
    const r = await asUser(['sh', '/tmp/install.sh', '--uninstall']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    for (const s of product.services) {
      expect((await asUser(['systemctl', '--user', 'is-active', `${s.name}.service`])).stdout.trim()).not.toBe('active');
      expect((await c.exec(['curl', '-fsS', `http://127.0.0.1:${s.health!.portNumber}/`])).exitCode).not.toBe(0);
    }
    expect((await asUser(['systemctl', '--user', 'list-unit-files', '--no-legend', 'stigmer*'])).stdout.trim()).toBe('');
    const left = (await userFiles()).filter((f) => !skeleton.includes(f));
    expect(left).toEqual(['.config/stigmer/stigmer.env']);
    expect(c.exists(`${home}/.local/bin`) ? (await c.run(['ls', '-A', `${home}/.local/bin`])).stdout : '').toBe('');
  });
});
