// The Windows service host is built from the checkout it sits in: its bytes (and so the MSI's) must not depend
// on where that checkout is. The same source copied to two folders of different depth builds to the same exe.
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { buildServiceHost, SERVICE_HOST_SOURCE_DIR } from '../src/targets/msi/servicehost.ts';
import { GOPATH_TEMP_PREFIX } from '../src/util/go-build.ts';
import { tempDir } from './helpers.ts';

it('builds the same service host exe from two checkout paths', async () => {
  const checkouts = [path.join(tempDir(), 'a', 'winsvc'), path.join(tempDir(), 'some', 'deeper', 'checkout', 'winsvc')];
  const exes: Buffer[] = [];
  for (const [i, dir] of checkouts.entries()) {
    cpSync(SERVICE_HOST_SOURCE_DIR, dir, { recursive: true });
    const out = path.join(tempDir(), `host-${i}.exe`);
    await buildServiceHost(out, dir);
    exes.push(readFileSync(out));
  }
  expect(exes[0].subarray(0, 2).toString('latin1')).toBe('MZ');
  expect(exes[0].equals(exes[1])).toBe(true);
  // Neither source folder, nor the throwaway GOPATH, nor this checkout is named inside.
  const text = exes[0].toString('latin1');
  for (const dir of [...checkouts, SERVICE_HOST_SOURCE_DIR]) expect(text).not.toContain(path.dirname(dir));
  expect(text).not.toContain(GOPATH_TEMP_PREFIX);
}, 300_000);
