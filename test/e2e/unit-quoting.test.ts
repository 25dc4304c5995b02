// The units of the accepted unusual definitions (test/fixtures/unusual.ts), loaded by systemd in a booted
// Debian root: ExecStart's argv and Environment read back over D-Bus (what `systemctl show` prints, as JSON so
// spaces and quotes stay unambiguous) equal the definition's argv and values byte for byte.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandArgs } from '../../src/product/model.ts';
import { renderServiceUnit } from '../../src/render/systemd.ts';
import { UNUSUAL_CASES, loadUnusualProduct } from '../fixtures/unusual.ts';
import { Container } from '../../src/verify/install/nspawn.ts';

const defsDir = mkdtempSync(path.join(os.tmpdir(), 'sd-unit-quoting-'));
let c: Container;

beforeAll(async () => {
  c = await Container.boot();
});

afterAll(async () => {
  await c?.dispose();
  rmSync(defsDir, { recursive: true, force: true });
});

describe.each(UNUSUAL_CASES)('systemd reads the unit of "$label" as the definition says', ({ label, patch }) => {
  it('ExecStart argv and Environment over D-Bus', async () => {
    const product = loadUnusualProduct(defsDir, { label, patch });
    const service = product.services.find((s) => s.name === 'acme-relayd')!;
    const unitName = `quoting-${label.replace(/\W+/g, '-')}.service`;
    await c.writeFile(`/etc/systemd/system/${unitName}`, renderServiceUnit(product, service, 'system'));
    expect((await c.exec(['systemctl', 'daemon-reload'])).exitCode).toBe(0);
    const objectPath = JSON.parse((await c.exec(['busctl', '--json=short', 'call', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'LoadUnit', 's', unitName])).stdout).data[0];
    const prop = async (name: string) => {
      const r = await c.exec(['busctl', '--json=short', 'get-property', 'org.freedesktop.systemd1', objectPath, 'org.freedesktop.systemd1.Service', name]);
      expect(r.exitCode, r.stderr).toBe(0);
      return JSON.parse(r.stdout).data;
    };
    const dirs = { stateDir: `/var/lib/acme-relay/${service.name}`, logsDir: '/var/log/acme-relay', runtimeDir: `/run/acme-relay/${service.name}`, configDir: '/etc/acme-relay' };
    const execStart = await prop('ExecStart');
    // a(sasbttttuii): [path, argv, ignore-failure, ...]
    // systemd keeps ExecStart's "$$" (a literal "$") as written and replaces it only when it executes the command,
    // so every "$" of the definition's argv must read back doubled: then none is expanded as a variable.
    const atRest = (word: string) => word.replaceAll('$', '$$$$');
    expect(execStart[0][1]).toEqual([`/usr/bin/${service.binary}`, ...expandArgs(service, dirs)].map(atRest));
    expect(await prop('Environment')).toEqual(Object.entries(service.env).map(([k, v]) => `${k}=${v}`));
    const description = await c.exec(['systemctl', 'show', '-P', 'Description', unitName]);
    expect(description.stdout.replace(/\n$/, '')).toBe(service.description);
  });
});
