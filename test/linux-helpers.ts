// Fixtures for the deb and rpm tests: real ELF payloads (tiny Go programs for amd64 and arm64, one unstripped,
// plus the system's dynamically linked /bin/true standing in for a PyInstaller bootloader), laid out as a
// --from folder, the build both suites start from, and small readers for what dpkg-deb / rpm print.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, chmodSync, cpSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exeName, type Platform, type Product } from '../src/product/model.ts';
import { runBuild } from '../src/build/build.ts';
import { makePlan } from '../src/plan/plan.ts';
import { loadProduct } from '../src/product/load.ts';
import { checkPayloads } from '../src/payloads/check.ts';
import type { BuildContext, Payload, UncheckedPayload } from '../src/targets/types.ts';
import { silentReporter } from '../src/util/progress.ts';
import { mapVersion } from '../src/version.ts';
import { fixtureProgram } from './go-programs.ts';
import { REPO, STIGMER_YAML } from './helpers.ts';

export interface ElfFixtures {
  amd64: string;
  arm64: string;
  /** Built without -s -w: carries a symbol table (lintian/rpmlint "unstripped"). */
  amd64Unstripped: string;
}

/** The Linux fixture programs (test/go-programs.ts), built once per machine. */
export async function elfFixtures(): Promise<ElfFixtures> {
  return { amd64: await fixtureProgram('linux-amd64'), arm64: await fixtureProgram('linux-arm64'), amd64Unstripped: await fixtureProgram('linux-amd64', { unstripped: true }) };
}

/**
 * A --from folder (DIR/<platform>/<binary>) of real ELF payloads for the Linux platforms. Each file is distinct
 * (the component name is appended after the ELF image, which loaders ignore). On amd64 the "stigmer" CLI is
 * the unstripped build and frozen components are a copy of the dynamically linked /bin/true.
 */
export function linuxPayloadDir(product: Product, fx: ElfFixtures, root: string, platforms: Platform[] = ['linux-amd64', 'linux-arm64']): string {
  const dir = path.join(root, `${product.meta.name}-payloads`);
  for (const c of product.components) {
    for (const p of c.platforms.filter((x) => platforms.includes(x))) {
      const amd64 = p === 'linux-amd64';
      const from = amd64 && c.frozen ? '/bin/true' : amd64 && c.name === product.meta.name ? fx.amd64Unstripped : amd64 ? fx.amd64 : fx.arm64;
      const file = path.join(dir, p, exeName(c.binary, p));
      mkdirSync(path.dirname(file), { recursive: true });
      copyFileSync(from, file);
      appendFileSync(file, `\nfixture payload ${c.name} ${p}\n`);
      chmodSync(file, 0o755);
    }
  }
  return dir;
}

/** Payload records for an in-process build from a linuxPayloadDir folder, checked as a build checks them. */
export function payloadsFrom(dir: string, product: Product, platforms: Platform[]): Promise<Payload[]> {
  return checkPayloads(
    product.components.flatMap((c) =>
      c.platforms
        .filter((p) => platforms.includes(p))
        .map((p): UncheckedPayload => {
          const file = path.join(dir, p, exeName(c.binary, p));
          const data = readFileSync(file);
          return { component: c.name, platform: p, path: file, size: data.length, sha256: createHash('sha256').update(data).digest('hex'), origin: 'local' };
        }),
    ),
  );
}

export const sha256File = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** "Key: value" lines of `dpkg-deb --field` / `rpm -qi` output. */
export function fields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z][A-Za-z -]*?)\s*: ?(.*)$/.exec(line);
    if (m && !(m[1]! in out)) out[m[1]!.trim()] = m[2]!.trim();
  }
  return out;
}

export const LINUX: Platform[] = ['linux-amd64', 'linux-arm64'];
export const FIXTURE_VERSION = '1.2.3-rc.1';
export const FIXTURE_EPOCH = 1700000000;

/** A BuildContext for calling one target's build directly, with payloads from a fixture folder. */
export function linuxBuildContext(product: Product, payloads: Payload[], outDir: string, version = FIXTURE_VERSION): BuildContext {
  return {
    product,
    versions: mapVersion(version),
    platforms: LINUX,
    snapshot: false,
    outDir,
    sourceDateEpoch: FIXTURE_EPOCH,
    report: silentReporter,
    inputsOf: () => [],
    payload(component, platform) {
      const p = payloads.find((x) => x.component === component && x.platform === platform);
      if (!p) throw new Error(`no fixture payload ${component} ${platform}`);
      return p;
    },
    built() {
      throw new Error('not used');
    },
  };
}

/** Runs a command, failing with its output when it exits non-zero; resolves to its stdout. */
export async function sh(cmd: string, args: string[], cwd?: string): Promise<string> {
  const r = await execa(cmd, args, { cwd, reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export interface TwoCheckouts {
  fx: ElfFixtures;
  stigmer: Product;
  /** Temp root holding everything below; the caller removes it. */
  work: string;
  payloadDir: string;
  distA: string;
  distB: string;
}

/**
 * The same release build of the real definition from two checkouts in different directories, through the
 * planner and the build pipeline (the Linux platforms, `targets` only): reproducibility across paths.
 */
export async function buildFromTwoCheckouts(prefix: string, targets: string[], opts: { together: boolean }): Promise<TwoCheckouts> {
  const fx = await elfFixtures();
  const stigmer = loadProduct(STIGMER_YAML);
  const work = await mkdtemp(path.join(os.tmpdir(), prefix));
  const payloadDir = linuxPayloadDir(stigmer, fx, work);
  const copy = path.join(work, 'elsewhere', 'packaging');
  mkdirSync(copy, { recursive: true });
  cpSync(path.join(REPO, 'packaging'), copy, { recursive: true });
  const build = async (config: string, outRoot: string) => {
    const product = loadProduct(config);
    const plan = makePlan(product, { version: FIXTURE_VERSION, platforms: LINUX, targets, snapshot: false });
    // A release build without a key, as with --unsigned: the packages' own bytes (signing has its own tests).
    const unsigned = { signer: async () => undefined };
    return (await runBuild({ product, plan, outRoot, payloads: await payloadsFrom(payloadDir, product, LINUX), sourceDateEpoch: FIXTURE_EPOCH, report: silentReporter, skipped: [], repo: unsigned })).outDir;
  };
  const a = () => build(STIGMER_YAML, path.join(work, 'a', 'dist'));
  const b = () => build(path.join(copy, 'stigmer.yaml'), path.join(work, 'elsewhere', 'out'));
  const [distA, distB] = opts.together ? await Promise.all([a(), b()]) : [await a(), await b()];
  return { fx, stigmer, work, payloadDir, distA, distB };
}
