// verify --install's logic that needs no booted system: --distro parsing, the step runner (timing, skip after
// a failure, the failing step's log kept and named), the table. The installs themselves: test/e2e/verify-install.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatInstallTable, parseDistros } from '../src/verify/install/index.ts';
import { StepFailure, StepRunner } from '../src/verify/install/steps.ts';
import { olderMsiPath, productsNamed, registeredProductCode, reportedVersion } from '../src/verify/install/msi.ts';
import { loadProduct } from '../src/product/load.ts';
import { silentReporter } from '../src/util/progress.ts';
import { ACME_YAML, STIGMER_YAML, runCli } from './helpers.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('parseDistros', () => {
  it('accepts the Debian releases and windows, once each', () => {
    expect(parseDistros('debian-12, debian-13,windows,debian-12')).toEqual(['debian-12', 'debian-13', 'windows']);
  });
  it('refuses an unknown name, listing what it accepts (exit 2)', () => {
    expect(() => parseDistros('debian-12,ubuntu-24.04')).toThrow(/unknown distribution "ubuntu-24.04"/);
    try {
      parseDistros('');
    } catch (err) {
      expect((err as { exitCode?: number }).exitCode).toBe(2);
      expect((err as { hint?: string }).hint).toContain('debian-12, debian-13, windows');
    }
  });
});

describe('StepRunner', () => {
  it('records ok rows, then the failure with its kept log, then skips the rest', async () => {
    const logDir = await mkdtemp(path.join(os.tmpdir(), 'sd-steps-'));
    dirs.push(logDir);
    const steps = new StepRunner('acme_1.0.0-1_amd64.deb', 'debian-12', logDir, silentReporter, async () => 'JOURNAL TAIL');
    expect(await steps.step('install', async () => 'installed')).toBe(true);
    expect(
      await steps.step('health', async () => {
        steps.note('$ curl http://127.0.0.1:1/healthz\n(exit 7)');
        throw new StepFailure('acme-relayd: GET http://127.0.0.1:1/healthz does not answer', 'extra detail');
      }),
    ).toBe(false);
    expect(await steps.step('purge', async () => 'never runs')).toBe(false);
    expect(steps.ok).toBe(false);
    expect(steps.rows.map((r) => [r.step, r.result])).toEqual([
      ['install', 'ok'],
      ['health', 'FAIL'],
      ['purge', 'skip'],
    ]);
    const failed = steps.rows[1]!;
    expect(failed.log).toBe(path.join(logDir, 'debian-12-health.log'));
    expect(failed.detail).toBe(`acme-relayd: GET http://127.0.0.1:1/healthz does not answer (log: ${failed.log})`);
    const log = readFileSync(failed.log!, 'utf8');
    for (const part of ['step: health', '$ curl http://127.0.0.1:1/healthz', 'extra detail', 'JOURNAL TAIL']) expect(log).toContain(part);
    expect(steps.rows[2]!.detail).toBe('after the failed step "health"');
    expect(existsSync(path.join(logDir, 'debian-12-install.log'))).toBe(false);

    const table = formatInstallTable(steps.rows).split('\n');
    expect(table[0]).toMatch(/^ARTIFACT\s+PLATFORM\s+STEP\s+RESULT\s+SECONDS\s+DETAIL$/);
    expect(table[2]).toMatch(/^acme_1\.0\.0-1_amd64\.deb\s+debian-12\s+health\s+FAIL\s+\d+\.\d\s+acme-relayd: GET/);
  });
});

describe('verify options that go with --install', () => {
  it('refuses --cached-root (and --json) without --install: exit 2', async () => {
    for (const flag of ['--cached-root', '--json']) {
      const r = await runCli(['verify', flag, '--config', ACME_YAML]);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain('--from-version, --repo-base, --json and --cached-root go with --install');
    }
  });
});

describe('the MSI upgrade (--from-version X --repo-base DIR)', () => {
  it('looks for X\'s MSI directly in DIR under the release asset name the definition gives it', () => {
    expect(olderMsiPath(loadProduct(ACME_YAML), { version: 'v0.9.0', repoBase: '/srv/published' })).toBe('/srv/published/acme-acme-windows-amd64-0.9.0.msi');
    expect(olderMsiPath(loadProduct(STIGMER_YAML), { version: '1.4.0-rc.1', repoBase: '/srv/published' })).toBe('/srv/published/stigmer_windows_amd64_1.4.0-rc.1.msi');
  });
  it('reads the version a health answer reports, when its body is JSON that has one', () => {
    expect(reportedVersion('{"status":"ok","version":"0.1.1"}')).toBe('0.1.1');
    for (const body of ['ok', '{"status":"ok"}', '{"version":3}', 'null', '[]']) expect(reportedVersion(body), body).toBeUndefined();
  });
  it('finds the products registered under the product\'s name in reg query /s output (upper-case ProductCode -> DisplayVersion)', () => {
    const acme = loadProduct(ACME_YAML);
    const code = registeredProductCode(acme, '0.1.1');
    expect(code).toMatch(/^\{[0-9A-F-]{36}\}$/);
    const key = 'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall';
    const output = [
      '',
      key,
      '',
      `${key}\\{11111111-2222-3333-4444-555555555555}`,
      '    DisplayName    REG_SZ    Other Product',
      '    DisplayVersion    REG_SZ    9.9.9',
      '',
      `${key}\\${code.toLowerCase()}`,
      `    DisplayName    REG_SZ    ${acme.meta.displayName}`,
      '    DisplayVersion    REG_SZ    0.1.1',
      '    InstallLocation    REG_SZ    ',
      '',
      `${key}\\Wine Gecko`,
      '    (Default)    REG_SZ    ',
      '',
    ].join('\r\n');
    expect(productsNamed(output, acme.meta.displayName)).toEqual({ [code]: '0.1.1' });
    expect(productsNamed(output, 'Nothing')).toEqual({});
  });
  it('refuses a --from-version that is not a semantic version before anything boots: exit 2', async () => {
    const r = await runCli(['verify', '--install', '--config', ACME_YAML, '--from-version', 'latest', '--repo-base', '/nonexistent']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('--from-version: "latest" is not a semantic version');
  });
});
