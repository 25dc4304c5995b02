// The Windows service host's own Go tests (winsvc/*_test.go): clearing stale PyInstaller unpack folders in a
// frozen service's private TEMP/TMP. Run with the local Go toolchain (as `build` builds the host).
import { execa } from 'execa';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO } from './helpers.ts';

it('go test ./winsvc passes', async () => {
  const r = await execa('go', ['test', '-count=1', '.'], {
    cwd: path.join(REPO, 'winsvc'),
    env: { GO111MODULE: 'off', GOFLAGS: '', GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOCACHE: path.join(os.tmpdir(), 'stigmer-dist-test-gocache') },
    reject: false,
    all: true,
  });
  expect(r.exitCode, r.all).toBe(0);
  expect(r.all).toMatch(/^ok\s/m);
}, 300_000);
