// The smoke check before packaging: every payload for the build host's platform (its format and CPU were
// checked with every payload, src/payloads/check.ts) is started with its smoke command (component.smoke, default
// `--version`) under a timeout. A non-zero exit, a crash or a hang stops the build with the binary's own
// output: a frozen (PyInstaller) binary that lost a hidden import must never be packaged.
import { execa } from 'execa';
import { constants } from 'node:fs';
import { access, chmod, copyFile } from 'node:fs/promises';
import { makeTempDir } from '../util/cleanup.ts';
import path from 'node:path';
import { UserError } from '../errors.ts';
import type { Component, Platform, Product } from '../product/model.ts';
import type { Payload } from '../targets/types.ts';
import type { Reporter } from '../util/progress.ts';
import { Secrets } from '../util/secrets.ts';

export function hostPlatform(platform: NodeJS.Platform = process.platform, arch: string = process.arch): Platform | undefined {
  const o = platform === 'linux' ? 'linux' : platform === 'darwin' ? 'darwin' : platform === 'win32' ? 'windows' : undefined;
  const a = arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : undefined;
  return o && a ? (`${o}-${a}` as Platform) : undefined;
}

export interface SmokeOptions {
  report: Reporter;
  timeoutMs?: number;
  /** The build host (tests pretend to be another one). */
  host?: Platform;
  /** Environment the binaries run with (tokens are always removed). */
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_SMOKE_TIMEOUT_MS = 60_000;
const OUTPUT_TAIL = 4000;

function tail(text: string): string {
  const t = text.trim();
  return t.length > OUTPUT_TAIL ? `...${t.slice(-OUTPUT_TAIL)}` : t;
}

/** Runs every payload built for the host's platform; the others are counted. */
export async function smokeCheck(product: Product, payloads: Payload[], opts: SmokeOptions): Promise<void> {
  const host = opts.host ?? hostPlatform();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SMOKE_TIMEOUT_MS;
  const secrets = Secrets.fromEnv(opts.env ?? process.env);
  let ran = 0;
  let skipped = 0;
  const key = (p: Payload) => `${p.component}\u0000${p.platform}`;
  const sorted = [...payloads].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  for (const p of sorted) {
    const component = product.components.find((c) => c.name === p.component);
    if (!component) throw new Error(`internal: payload for unknown component ${p.component}`);
    if (host !== p.platform) {
      skipped++;
      continue;
    }
    await runSmoke(p, component.smoke, component.frozen, timeoutMs, secrets, opts, expectedVersionLine(component));
    ran++;
  }
  opts.report.info(`smoke check: ${ran} payload${ran === 1 ? '' : 's'} started and exited cleanly${skipped ? `; ${skipped} for other platforms not run` : ''}`);
}

/**
 * The first line an upstream program with a contract must print for a version smoke command (contract
 * versionOutput, e.g. "temporal version 1.8.2 (Server 1.31.2, UI 2.50.1)"): a binary of another version or
 * program fails the build.
 */
export function expectedVersionLine(component: Pick<Component, 'smoke' | 'contract'>): string | undefined {
  const asksVersion = component.smoke.length === 1 && (component.smoke[0] === '--version' || component.smoke[0] === 'version');
  return asksVersion ? component.contract?.versionOutput : undefined;
}

async function runSmoke(p: Payload, args: string[], frozen: boolean, timeoutMs: number, secrets: Secrets, opts: SmokeOptions, expected?: string): Promise<void> {
  const workDir = await makeTempDir('stigmer-dist-smoke-');
  const work = workDir.path;
  try {
    let exe = p.path;
    try {
      await access(exe, constants.X_OK);
    } catch {
      // The archive or package sets the mode; run an executable copy.
      exe = path.join(work, path.basename(p.path));
      await copyFile(p.path, exe);
      await chmod(exe, 0o755);
    }
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(opts.env ?? process.env)) if (v !== undefined && !secrets.leaks(v)) env[k] = v;
    // A frozen binary unpacks itself into TMPDIR: give it a private, writable, exec-able one.
    env.TMPDIR = work;
    const cmd = [path.basename(p.path), ...args].join(' ');
    opts.report.progress(`smoke check: ${p.component} ${p.platform}: ${cmd}`);
    const r = await execa(exe, args, { env, extendEnv: false, all: true, reject: false, timeout: timeoutMs, stdin: 'ignore', cwd: work, forceKillAfterDelay: 2000 });
    const output = tail(secrets.redact(r.all ?? ''));
    if (r.timedOut) {
      throw new UserError(`smoke check failed: \`${cmd}\` (${p.component}, ${p.platform}) did not finish within ${timeoutMs / 1000}s${output ? `; its output:\n${output}` : ' and printed nothing'}`, {
        hint: `the binary hangs instead of answering ${args.join(' ') || 'with no arguments'}; fix the build, or set components[].smoke to a command that exits`,
      });
    }
    if (r.failed) {
      const how = r.signal ? `was killed by ${r.signal}` : r.exitCode !== undefined ? `exited with status ${r.exitCode}` : `could not start (${r.code ?? r.shortMessage})`;
      throw new UserError(`smoke check failed: \`${cmd}\` (${p.component}, ${p.platform}) ${how}${output ? `; its output:\n${output}` : ' and printed nothing'}`, {
        hint: frozen
          ? 'a frozen (PyInstaller) binary that cannot start usually lost a module: add it with --hidden-import / a hook, rebuild, and build again'
          : `the binary ${p.path} cannot start on ${p.platform}: fix or replace it before packaging`,
      });
    }
    const first = output.split('\n')[0] ?? '';
    if (expected !== undefined && first !== expected) {
      throw new UserError(`smoke check failed: \`${cmd}\` (${p.component}, ${p.platform}) printed ${JSON.stringify(first)}, not ${JSON.stringify(expected)}`, {
        hint: `the payload is not the pinned upstream program its contract describes: check upstream.version, the asset pins and upstream.contract of ${p.component}`,
      });
    }
    opts.report.info(`smoke check: ${p.component} ${p.platform}: ok${first ? ` (${first.slice(0, 100)})` : ''}`);
  } finally {
    await workDir.dispose();
  }
}
