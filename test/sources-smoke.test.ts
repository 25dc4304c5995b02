// The smoke check before packaging: payloads the build host can run are started with their smoke command; a
// frozen binary that lost a module (built here with Go to behave like PyInstaller's bootloader does then),
// a crash or a hang stops the build with the binary's own output.
import { beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../src/errors.ts';
import { loadProduct } from '../src/product/load.ts';
import { exeName, type Platform } from '../src/product/model.ts';
import { hostPlatform, smokeCheck } from '../src/sources/smoke.ts';
import type { Payload } from '../src/targets/types.ts';
import type { Reporter } from '../src/util/progress.ts';
import { ACME_YAML, fixturePayloads, runCli, STIGMER_YAML, tempDir } from './helpers.ts';

const host = hostPlatform()!;
const product = loadProduct(ACME_YAML);
let lostImport: string;

const LOST_IMPORT_GO = `package main

import (
	"fmt"
	"os"
)

// Behaves like a PyInstaller one-file binary whose build missed a hidden import.
func main() {
	fmt.Fprintln(os.Stderr, "Traceback (most recent call last):")
	fmt.Fprintln(os.Stderr, "  File \\"metrics/__main__.py\\", line 4, in <module>")
	fmt.Fprintln(os.Stderr, "ModuleNotFoundError: No module named 'prometheus_client'")
	fmt.Fprintf(os.Stderr, "[PYI-%d:ERROR] Failed to execute script '__main__' due to unhandled exception!\\n", os.Getpid())
	os.Exit(1)
}
`;

beforeAll(async () => {
  const dir = path.join(os.tmpdir(), 'stigmer-dist-test-lost-import');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'main.go'), LOST_IMPORT_GO);
  lostImport = path.join(dir, 'metrics');
  await execa('go', ['build', '-o', lostImport, 'main.go'], {
    cwd: dir,
    env: { GO111MODULE: 'off', CGO_ENABLED: '0', GOCACHE: path.join(os.tmpdir(), 'stigmer-dist-test-gocache'), GOTOOLCHAIN: 'local', GOFLAGS: '' },
  });
}, 300_000);

function recorder(): Reporter & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (l) => void lines.push(l), warn: (l) => void lines.push(`warning: ${l}`), progress() {}, done() {} };
}

/**
 * A payload as smokeCheck receives it: already checked (src/payloads/check.ts). The scripts below stand in for
 * the host's binaries so each test can make one misbehave (leak, crash, hang) without building a program.
 */
function payload(component: string, platform: Platform, file: string): Payload {
  const arch = platform.split('-')[1]!;
  return { component, platform, path: file, sha256: '0'.repeat(64), size: 1, origin: 'local', binary: { format: 'elf', archs: [arch], description: `ELF ${arch}` } };
}

function writeScript(dir: string, name: string, body: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, `#!/bin/sh\n${body}\n`);
  chmodSync(f, 0o755);
  return f;
}

describe('host platform', () => {
  it('names the build host as a platform', () => {
    expect(hostPlatform('linux', 'x64')).toBe('linux-amd64');
    expect(hostPlatform('darwin', 'arm64')).toBe('darwin-arm64');
    expect(hostPlatform('win32', 'x64')).toBe('windows-amd64');
    expect(hostPlatform('freebsd', 'x64')).toBeUndefined();
  });
});

describe('smoke check', () => {
  it('runs what the host can run, skips the rest, and keeps tokens out of the environment', async () => {
    const dir = tempDir();
    // Fails if the token reached it, or if it has no private writable TMPDIR (a frozen binary unpacks there).
    const ok = writeScript(dir, 'acmectl', 'env | grep -q should_not_leak && { echo leaked; exit 9; }; [ -w "$TMPDIR" ] && [ "$TMPDIR" != /tmp ] || exit 8; echo "acmectl 2.4.0 args:$*"');
    const other = writeScript(dir, 'relayd', 'exit 3'); // for another platform: never run
    const report = recorder();
    const other_: Platform = host === 'linux-amd64' ? 'linux-arm64' : 'linux-amd64';
    await smokeCheck(product, [payload('acmectl', host, ok), payload('relayd', other_, other)], { report, env: { ...process.env, SMOKE_TEST_TOKEN: 'ghp_should_not_leak_123456' } });
    expect(report.lines[0]).toMatch(new RegExp(`^smoke check: acmectl ${host}: ok \\(acmectl 2\\.4\\.0 args:version\\)$`));
    expect(report.lines[1]).toBe('smoke check: 1 payload started and exited cleanly; 1 for other platforms not run');
  });

  it('stops on a frozen binary that lost a module, with its own output', async () => {
    const err = (await smokeCheck(product, [payload('metrics', host, lostImport)], { report: recorder() }).catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(new RegExp(`^smoke check failed: \`metrics --version\` \\(metrics, ${host}\\) exited with status 1; its output:\\n`));
    expect(err.message).toContain("ModuleNotFoundError: No module named 'prometheus_client'");
    expect(err.message).toMatch(/\[PYI-\d+:ERROR\] Failed to execute script '__main__'/);
    expect(err.hint).toMatch(/frozen \(PyInstaller\) binary .* --hidden-import/);
  });

  it("an upstream program with a contract must print the contract's version line (temporal)", async () => {
    const stigmer = loadProduct(STIGMER_YAML);
    const temporal = stigmer.components.find((c) => c.name === 'temporal')!;
    expect(temporal.contract?.versionOutput).toBe('temporal version 1.8.2 (Server 1.31.2, UI 2.50.1)');
    const dir = tempDir();
    const real = writeScript(dir, 'real-temporal', `[ "$*" = --version ] && echo '${temporal.contract!.versionOutput}'`);
    const report = recorder();
    await smokeCheck(stigmer, [payload('temporal', host, real)], { report });
    expect(report.lines[0]).toContain('ok (temporal version 1.8.2 (Server 1.31.2, UI 2.50.1))');
    const older = writeScript(dir, 'older-temporal', "echo 'temporal version 1.8.1 (Server 1.31.1, UI 2.50.0)'");
    const err = (await smokeCheck(stigmer, [payload('temporal', host, older)], { report: recorder() }).catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(
      `smoke check failed: \`older-temporal --version\` (temporal, ${host}) printed "temporal version 1.8.1 (Server 1.31.1, UI 2.50.0)", not "temporal version 1.8.2 (Server 1.31.2, UI 2.50.1)"`,
    );
    expect(err.hint).toMatch(/upstream\.contract of temporal/);
  });

  it('stops on a crash and on a hang', async () => {
    const dir = tempDir();
    const crash = writeScript(dir, 'relayd', 'echo starting; kill -SEGV $$');
    await expect(smokeCheck(product, [payload('relayd', host, crash)], { report: recorder() })).rejects.toThrow(/`relayd --version` \(relayd, .*\) was killed by SIGSEGV; its output:\nstarting/);
    const hang = writeScript(dir, 'acmectl', 'echo waiting; exec sleep 30');
    const started = Date.now();
    await expect(smokeCheck(product, [payload('acmectl', host, hang)], { report: recorder(), timeoutMs: 300 })).rejects.toThrow(/`acmectl version` \(acmectl, .*\) did not finish within 0\.3s; its output:\nwaiting/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('is wired into `build`: a payload that cannot start stops the build before anything is written', async () => {
    const payloads = await fixturePayloads(product);
    const target = path.join(payloads, host, exeName('metrics', host));
    if (!existsSync(target)) throw new Error(`acme fixture has no metrics payload for the host platform ${host}`);
    writeFileSync(target, readFileSync(lostImport));
    const out = tempDir();
    const r = await runCli(['build', '--config', ACME_YAML, '--from', payloads, '--out', out, '-t', 'archive,checksums', '--unsigned-windows']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/error: smoke check failed: `metrics --version` \(metrics, linux-amd64\) exited with status 1; its output:/);
    expect(r.stderr).toContain("ModuleNotFoundError: No module named 'prometheus_client'");
    expect(readdirSync(out)).toEqual([]);
  });
});
