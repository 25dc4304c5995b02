// `npm run bench`: the full stigmer-dist build against the reference tools doing the same work, in one run, on
// realistic payloads at 1x and 4x scale. Writes BENCHMARKS.md. Never part of the tests (no timed assertions).
//
//   npm run bench                                   # 1x and 4x, every target also built alone
//   npm run bench -- --scales 1                     # 1x only
//   npm run bench -- --scales 1,4 --per-target 1    # per-target runs at 1x only (a 4x run then takes ~1 h, not ~1.5 h)
//   npm run bench -- --per-target 0 --no-split      # no per-target runs, no split build
//   npm run bench -- --split-by platform            # the split build with one local job per platform (default:
//                                                   #   one per local target of each platform, e.g. the Linux deb alone)
//   npm run bench -- --scales 0.02 --per-target 0   # a smoke run in a few minutes (its numbers mean little)
//   npm run bench -- --scales 1 --kinds deb --repeat 2  # only the .deb alone, two pairs in alternating order
//                                                   #   (ours, dpkg-deb, dpkg-deb, ours): each side is the mean
//   npm run bench -- --scales 4 --per-target 0 --no-reference  # the single and the split build only (no
//                                                   #   reference tools: no whole-build ratio)
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseProduct } from '../src/product/load.ts';
import { exeName, splitPlatform, type Product } from '../src/product/model.ts';
import { buildStandins } from '../src/payloads/standin.ts';
import { RPM_PAYLOAD } from '../src/targets/rpm/index.ts';
import { xzContentComponents } from '../src/plan/plan.ts';
import { defaultRegistry } from '../src/targets/registry.ts';
import type { PlannedArtifact } from '../src/targets/types.ts';
import { generatePayloads, SIZES_MB } from './payloads.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(REPO, 'bin/stigmer-dist.js');
const EPOCH = '1700000000';
const VERSION = '0.1.0';
const PLAN_RUNS = 5;

interface Timed {
  seconds: number;
  /** Largest resident set of any process in the tree (GNU time): includes xz, rpmbuild, wixl. */
  maxRssKb?: number;
  /** stigmer-dist's own peak (it reports it when STIGMER_DIST_REPORT_RSS is set). */
  ownRssMb?: number;
}

async function timed(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Timed> {
  const start = process.hrtime.bigint();
  const r = await execa('/usr/bin/time', ['-f', '%M', cmd, ...args], { cwd: opts.cwd, env: { SOURCE_DATE_EPOCH: EPOCH, CI: 'true', STIGMER_DIST_REPORT_RSS: '1', ...opts.env }, reject: false, all: true });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.all?.slice(-3000)}`);
  const rss = Number(r.stderr.trim().split('\n').pop());
  const own = /stigmer-dist max RSS: (\d+) MiB/.exec(r.stderr);
  return { seconds, maxRssKb: Number.isFinite(rss) ? rss : undefined, ownRssMb: own ? Number(own[1]) : undefined };
}

/** Stigmer's definition without the upstream pin for temporal (its digests cannot be fetched here): the
 * benchmark's temporal payload comes from the generated folder like the others. */
function benchProduct(work: string): { product: Product; config: string } {
  const text = readFileSync(path.join(REPO, 'packaging/stigmer.yaml'), 'utf8');
  const withoutPin = text.replace(/\n {4}upstream:\n(?: {6}.*\n| *\n)+/, '\n').replace('language: upstream', 'language: other');
  const config = path.join(work, 'stigmer.yaml');
  writeFileSync(config, withoutPin);
  writeFileSync(path.join(work, 'LICENSE'), readFileSync(path.join(REPO, 'packaging/LICENSE')));
  return { product: parseProduct(withoutPin, config), config };
}

function filesIn(dir: string, pred: (f: string) => boolean): string[] {
  return readdirSync(dir).filter(pred).sort();
}

function size(file: string): number {
  return statSync(file).size;
}

type Kind = 'archive' | 'deb' | 'rpm' | 'msi' | 'checksums';
const KINDS: readonly Kind[] = ['archive', 'deb', 'rpm', 'msi', 'checksums'];
/** The kinds a target builds alone (checksums are made inside every build). */
const PER_TARGET_KINDS: readonly Kind[] = KINDS.filter((k) => k !== 'checksums');

/**
 * The reference tools doing the same work as each of our targets (the `kinds` given), reading our output in
 * `ours`. Returns seconds per kind and output sizes.
 */
async function reference(product: Product, payloads: string, ours: string, work: string, license: string, kinds: readonly Kind[] = KINDS) {
  const out = path.join(work, 'ref');
  await mkdir(out, { recursive: true });
  const times: Record<string, number> = {};
  const sizes: Record<string, number> = {};
  /** Largest process per kind (MiB), to tell which tool's memory the whole build's peak is. */
  const peaks: Record<string, number> = {};
  const add = (k: string, t: Timed) => {
    times[k] = (times[k] ?? 0) + t.seconds;
    peaks[k] = Math.max(peaks[k] ?? 0, (t.maxRssKb ?? 0) / 1024);
  };

  // Archives: GNU tar + gzip -9 for unix, zip -9 for Windows, with the same members and metadata.
  for (const c of kinds.includes('archive') ? product.components : []) {
    for (const platform of c.platforms) {
      const { os: o, arch } = splitPlatform(platform);
      const stage = path.join(work, 'stage', c.name, platform);
      await mkdir(path.join(stage, 'bin'), { recursive: true });
      await execa('ln', ['-f', path.join(payloads, platform, exeName(c.binary, platform)), path.join(stage, 'bin', exeName(c.binary, platform))]);
      await mkdir(path.join(stage, 'share/doc/stigmer'), { recursive: true });
      await cp(license, path.join(stage, 'share/doc/stigmer/LICENSE'));
      const name = `${c.name}_${VERSION}_${o}_${arch}`;
      if (o === 'windows') {
        const dest = path.join(out, `${name}.zip`);
        add('archive', await timed('zip', ['-9', '-X', '-q', '-r', dest, 'bin', 'share'], { cwd: stage }));
        sizes.archive = (sizes.archive ?? 0) + size(dest);
      } else {
        const dest = path.join(out, `${name}.tar.gz`);
        const tar = `tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@${EPOCH} -cf - bin share | gzip -9n > ${dest}`;
        add('archive', await timed('sh', ['-c', tar], { cwd: stage }));
        sizes.archive = (sizes.archive ?? 0) + size(dest);
      }
    }
  }

  // .deb: dpkg-deb --build on the same tree (extracted from our package), same compression and level (xz -6).
  for (const deb of kinds.includes('deb') ? filesIn(ours, (f) => f.endsWith('.deb')) : []) {
    const tree = path.join(work, 'debtree', deb);
    await rm(tree, { recursive: true, force: true }); // a --repeat pair extracts again
    await mkdir(path.dirname(tree), { recursive: true });
    await execa('dpkg-deb', ['-R', path.join(ours, deb), tree]);
    const dest = path.join(out, deb);
    const t = await timed('dpkg-deb', ['--root-owner-group', '-Zxz', '-z6', '--build', tree, dest]);
    add('deb', t);
    sizes.deb = (sizes.deb ?? 0) + size(dest);
  }

  // .rpm: rpmbuild of a minimal spec installing the same files, same payload compression (xz level 6).
  for (const rpm of kinds.includes('rpm') ? filesIn(ours, (f) => f.endsWith('.rpm')) : []) {
    const arch = rpm.includes('aarch64') ? 'aarch64' : 'x86_64';
    const platform = arch === 'aarch64' ? 'linux-arm64' : 'linux-amd64';
    const top = path.join(work, 'rpmtop', arch);
    await mkdir(path.join(top, 'SOURCES'), { recursive: true });
    const installs = product.components
      .filter((c) => c.platforms.includes(platform))
      .map((c) => `install -D -m 0755 ${path.join(payloads, platform, c.binary)} %{buildroot}/usr/bin/${c.binary}`)
      .join('\n');
    const spec = [
      'Name: refpkg', `Version: ${VERSION}`, 'Release: 1', 'Summary: reference', 'License: Apache-2.0',
      '%global debug_package %{nil}', '%global __strip /bin/true', '%global __brp_strip %{nil}', '%define _build_id_links none',
      `%define _binary_payload ${RPM_PAYLOAD}`,
      '%description', 'reference build', '%install', installs, '%files',
      ...product.components.filter((c) => c.platforms.includes(platform)).map((c) => `/usr/bin/${c.binary}`), '',
    ].join('\n');
    await writeFile(path.join(top, 'ref.spec'), spec);
    const t = await timed('rpmbuild', ['-bb', '--target', arch, '--define', `_topdir ${top}`, path.join(top, 'ref.spec')]);
    add('rpm', t);
    for (const f of readdirSync(path.join(top, 'RPMS', arch))) sizes.rpm = (sizes.rpm ?? 0) + size(path.join(top, 'RPMS', arch, f));
  }

  // MSI: wixl on our rendered WiX source, with its Source files laid out as it names them.
  const wxsDir = path.join(ours, 'msi');
  const wxs = kinds.includes('msi') && existsSync(wxsDir) ? filesIn(wxsDir, (f) => f.endsWith('.wxs'))[0] : undefined;
  if (wxs) {
    const text = await readFile(path.join(wxsDir, wxs), 'utf8');
    const msiWork = path.join(work, 'msiwork');
    for (const m of text.matchAll(/Source="([^"]+)"/g)) {
      const rel = m[1]!.replace(/\\/g, '/');
      const dest = path.join(msiWork, rel);
      await mkdir(path.dirname(dest), { recursive: true });
      const payload = path.join(payloads, 'windows-amd64', path.basename(rel));
      if (existsSync(payload)) await execa('ln', ['-f', payload, dest]);
      else await writeFile(dest, `reference placeholder for ${rel}\n`);
    }
    await writeFile(path.join(msiWork, 'product.wxs'), text);
    const dest = path.join(out, 'ref.msi');
    add('msi', await timed('wixl', ['-a', 'x64', '-o', dest, 'product.wxs'], { cwd: msiWork }));
    sizes.msi = size(dest);
  }

  // Checksums of every release asset.
  const assets = filesIn(ours, (f) => /\.(tar\.gz|zip|deb|rpm|msi|sh|ps1)$/.test(f));
  add('checksums', await timed('sha256sum', assets, { cwd: ours }));
  return { times, sizes, peaks };
}

async function ourSizes(dir: string): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const f of readdirSync(dir)) {
    const kind = f.endsWith('.deb') ? 'deb' : f.endsWith('.rpm') ? 'rpm' : f.endsWith('.msi') ? 'msi' : /\.(tar\.gz|zip)$/.test(f) ? 'archive' : undefined;
    if (kind) sizes[kind] = (sizes[kind] ?? 0) + size(path.join(dir, f));
  }
  return sizes;
}

/** Seconds of a --local-only job and what it built: the artifact count per role, from its partial manifest. */
interface LocalJob {
  /** The job's options: one platform, or one part of it. */
  job: string;
  platform: string;
  seconds: number;
  ownRssMb?: number;
  maxRssKb?: number;
  built: Record<string, number>;
  /** Whether it took the compress jobs' blocks (--xz-cache): it starts after them. */
  waitsForCompress: boolean;
}

/** A `compress --shard` job (release.compressJobs): one share of a Linux platform's package compression. */
interface CompressJob {
  job: string;
  platform: string;
  seconds: number;
  ownRssMb?: number;
  maxRssKb?: number;
}

interface SplitResult {
  compress: CompressJob[];
  local: LocalJob[];
  join: Timed;
  /**
   * The longest chain of jobs, as the release workflow runs them with one machine per job: a platform's slowest
   * compress job (if it has any) + its slowest local job, the slowest such platform, + the join.
   */
  criticalPath: number;
  /** The jobs on that chain. */
  criticalChain: string[];
  /** How the joined dist was compared with the single build's. */
  identical: string;
}

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function filesBelow(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesBelow(dir, path.posix.join(rel, e.name)) : [path.posix.join(rel, e.name)]))
    .sort();
}

/**
 * The joined dist equals the single build's, byte for byte, or this throws naming the files that differ. Cheap:
 * the same file list and sizes, the same SHA256SUMS (the join hashes every release asset it copies in and writes
 * SHA256SUMS from those hashes), and a sha256 of every file SHA256SUMS does not list (plan.json, repositories).
 */
function compareDists(single: string, joined: string): string {
  const a = filesBelow(single);
  const b = filesBelow(joined);
  const onlyOne = [...a.filter((f) => !b.includes(f)).map((f) => `${f} (single build only)`), ...b.filter((f) => !a.includes(f)).map((f) => `${f} (join only)`)];
  if (onlyOne.length) throw new Error(`split build: the joined dist ${joined} and the single build ${single} hold different files: ${onlyOne.join(', ')}`);
  if (!a.includes('SHA256SUMS')) throw new Error(`split build: the single build ${single} has no SHA256SUMS to compare`);
  const listed = new Set(readFileSync(path.join(single, 'SHA256SUMS'), 'utf8').split('\n').filter(Boolean).map((l) => l.replace(/^[0-9a-f]{64} [ *]/, '')));
  const differ = a.filter((f) => size(path.join(single, f)) !== size(path.join(joined, f)) || ((f === 'SHA256SUMS' || !listed.has(f)) && sha256Of(path.join(single, f)) !== sha256Of(path.join(joined, f))));
  if (differ.length) throw new Error(`split build: the joined dist ${joined} differs from the single build ${single} in ${differ.join(', ')}`);
  return `identical (${a.length} files: same list and sizes, same SHA256SUMS over ${listed.size} release assets, sha256 of the ${a.length - listed.size} other files)`;
}

/**
 * The local jobs alone, one after another, then the join alone over their folders. `byTarget`: one job per local
 * target of each platform (`--local-only --local-targets T`: the Linux deb and rpm on machines of their own);
 * otherwise one job per platform.
 */
async function splitBuild(opts: { product: Product; config: string; payloads: string; work: string; single: string; byTarget: boolean }): Promise<SplitResult> {
  const planned = JSON.parse((await execa(process.execPath, [CLI, 'plan', '--json', '--config', opts.config, '--version', VERSION])).stdout) as {
    targets: string[];
    artifacts: PlannedArtifact[];
    matrix: { compress: { platform: string; shard: string }[] };
  };
  // The compress jobs of the plan's matrix (as release.yml runs them), each into its own folder; a platform's
  // folders are then merged, as its package job downloads them, and given to its local jobs as --xz-cache.
  const compress: CompressJob[] = [];
  const xzCache = new Map<string, string>();
  for (const [i, { platform, shard }] of planned.matrix.compress.entries()) {
    const dir = path.join(opts.work, `xz-${platform}-${i}`);
    const t = await timed(process.execPath, [CLI, 'compress', '--config', opts.config, '--version', VERSION, '--from', opts.payloads, '--platform', platform, '--shard', shard, '--xz-cache', dir]);
    compress.push({ job: `compress --platform ${platform} --shard ${shard}`, platform, seconds: t.seconds, ownRssMb: t.ownRssMb, maxRssKb: t.maxRssKb });
    const merged = path.join(opts.work, `xz-${platform}`);
    await mkdir(merged, { recursive: true });
    for (const f of readdirSync(dir)) await cp(path.join(dir, f), path.join(merged, f));
    xzCache.set(platform, merged);
  }
  const jobs = opts.product.platforms.flatMap((platform): { platform: string; targets?: string[] }[] => {
    const targets = planned.targets.filter((t) => planned.artifacts.some((a) => a.target === t && a.scope === 'local' && a.platform === platform));
    return opts.byTarget && targets.length > 1 ? targets.map((t) => ({ platform, targets: [t] })) : [{ platform }];
  });
  const local: LocalJob[] = [];
  const parts: string[] = [];
  const registry = defaultRegistry();
  for (const job of jobs) {
    const out = path.join(opts.work, `local-${job.platform}${job.targets ? `-${job.targets.join('-')}` : ''}`);
    // Only a job whose targets compress payloads waits for the compress jobs and takes their blocks.
    const compressing = xzContentComponents(opts.product, (job.targets ?? planned.targets).flatMap((t) => registry.get(t) ?? []), planned.artifacts, job.platform as never).size > 0;
    const cache = compressing ? xzCache.get(job.platform) : undefined;
    const t = await timed(process.execPath, [CLI, 'build', ...buildArgs(opts.config), '--from', opts.payloads, '--platform', job.platform, '--local-only', ...(job.targets ? ['--local-targets', job.targets.join(',')] : []), ...(cache ? ['--xz-cache', cache] : []), '--out', out]);
    const manifest = JSON.parse(readFileSync(path.join(out, VERSION, 'plan.json'), 'utf8')) as { artifacts: { role: string }[] };
    const built: Record<string, number> = {};
    for (const a of manifest.artifacts) built[a.role] = (built[a.role] ?? 0) + 1;
    local.push({ job: `--platform ${job.platform} --local-only${job.targets ? ` --local-targets ${job.targets.join(',')}` : ''}${cache ? ' --xz-cache' : ''}`, platform: job.platform, seconds: t.seconds, ownRssMb: t.ownRssMb, maxRssKb: t.maxRssKb, built, waitsForCompress: Boolean(cache) });
    parts.push(path.join(out, VERSION));
  }
  const joined = path.join(opts.work, 'join');
  const join = await timed(process.execPath, [CLI, 'build', ...buildArgs(opts.config), '--join', ...parts, '--out', joined]);
  const identical = compareDists(opts.single, path.join(joined, VERSION));
  const slowest = <T extends { seconds: number }>(jobs: T[]) => jobs.reduce<T | undefined>((a, b) => (a && a.seconds >= b.seconds ? a : b), undefined);
  // Each local job's chain: the slowest compress job of its platform first when it takes their blocks.
  const chains = local.map((l) => [...(l.waitsForCompress ? [slowest(compress.filter((c) => c.platform === l.platform))!] : []), l]);
  const longest = chains.reduce((a, b) => (b.reduce((n, j) => n + j.seconds, 0) > a.reduce((n, j) => n + j.seconds, 0) ? b : a));
  return {
    compress,
    local,
    join,
    criticalPath: longest.reduce((n, j) => n + j.seconds, 0) + join.seconds,
    criticalChain: [...longest.map((j) => `\`${j.job}\` ${j.seconds.toFixed(2)} s`), `join ${join.seconds.toFixed(2)} s`],
    identical,
  };
}

/** Every build here: the same definition and version, unsigned (no key on this machine), Windows files too. */
const buildArgs = (config: string) => ['--config', config, '--version', VERSION, '--unsigned', '--unsigned-windows'];

const CRITICAL_PATH_TARGET = 0.35;

interface ScaleResult {
  scale: number;
  payloadMb: number;
  /** Each side's mean over --repeat pairs. */
  perTarget: Record<string, number>;
  /** Every pair's times, in the order run. */
  perTargetRuns: Record<string, { ours: number[]; ref: number[] }>;
  whole: Timed;
  rebuild: Timed;
  ref: { times: Record<string, number>; sizes: Record<string, number>; peaks: Record<string, number> };
  refTotal: number;
  oursSizes: Record<string, number>;
  plan: { seconds: number };
  split?: SplitResult;
}

const mib = (kb?: number) => (kb === undefined ? '?' : (kb / 1024).toFixed(0));

/** One scale's split build: each local job, the join, the critical path and its ratio to the single build. */
function splitRows(scale: number, split: SplitResult, single: number): string[] {
  return [
    `#### ${scale}x, split build (each job alone on this machine, one after another)`,
    '',
    '| job | seconds | what it built (artifacts by role) | stigmer-dist peak (MiB) | largest process (MiB) |',
    '|---|---:|---|---:|---:|',
    ...split.compress.map((c) => `| \`${c.job}\` | ${c.seconds.toFixed(2)} | its share of the platform's compressed payload blocks | ${c.ownRssMb ?? '?'} | ${mib(c.maxRssKb)} |`),
    ...split.local.map((l) => `| \`${l.job}\` | ${l.seconds.toFixed(2)} | ${Object.entries(l.built).map(([role, n]) => `${role} ${n}`).join(', ')} | ${l.ownRssMb ?? '?'} | ${mib(l.maxRssKb)} |`),
    `| \`--join\` (the ${split.local.length} folders) | ${split.join.seconds.toFixed(2)} | the global artifacts; ${split.identical.split(' (')[0]} to the single build | ${split.join.ownRssMb ?? '?'} | ${mib(split.join.maxRssKb)} |`,
    `| **critical path** (the longest chain: ${split.criticalChain.join(' + ')}) | **${split.criticalPath.toFixed(2)}** | | | |`,
    `| single build (every target, one machine) | ${single.toFixed(2)} | | | |`,
    `| **critical path / single build** | **${(split.criticalPath / single).toFixed(2)}** | target <= ${CRITICAL_PATH_TARGET} at 1x | | |`,
    '',
    `- joined dist vs single build: ${split.identical}`,
    '',
  ];
}

/** The issue's targets against every scale run (a row per target; "-" where this run did not measure it). */
function targetRows(results: ScaleResult[]): string[] {
  const each = (f: (r: ScaleResult) => string | undefined) => results.map((r) => ({ scale: r.scale, v: f(r) })).filter((x) => x.v !== undefined).map((x) => `${x.v} at ${x.scale}x`).join(', ') || '-';
  const verdict = (ok: (r: ScaleResult) => boolean | undefined, at?: number) => {
    const judged = results.filter((r) => at === undefined || r.scale === at).map(ok).filter((x): x is boolean => x !== undefined);
    return !judged.length ? 'not measured' : judged.every(Boolean) ? 'met' : '**missed**';
  };
  const ratio = (a?: number, b?: number) => (a && b ? a / b : undefined);
  const deb = (r: ScaleResult) => ratio(r.perTarget.deb, r.ref.times.deb);
  const debSize = (r: ScaleResult) => ratio(r.oursSizes.deb, r.ref.sizes.deb);
  const cp = (r: ScaleResult) => (r.split ? r.split.criticalPath / r.whole.seconds : undefined);
  return [
    '## Targets (this run)',
    '',
    '| target | result | |',
    '|---|---|---|',
    `| whole build <= 0.8x the reference tools run serially | ${each((r) => (r.refTotal ? (r.whole.seconds / r.refTotal).toFixed(2) : undefined))} | ${verdict((r) => (r.refTotal ? r.whole.seconds / r.refTotal <= 0.8 : undefined))} |`,
    `| .deb writer <= 1.0x dpkg-deb, size within 1% | ${each((r) => (deb(r) === undefined ? undefined : `${deb(r)!.toFixed(2)} (size ${debSize(r)?.toFixed(3) ?? '?'}x)`))} | ${verdict((r) => (deb(r) === undefined ? undefined : deb(r)! <= 1 && Math.abs((debSize(r) ?? 2) - 1) <= 0.01))} |`,
    `| peak RSS <= 256 MiB at 1x and 4x (stigmer-dist itself, whole build${results.some((r) => r.split) ? ' and every split job' : ''}) | ${each((r) => `${peakOwn(r) ?? '?'} MiB`)} | ${verdict((r) => (peakOwn(r) === undefined ? undefined : peakOwn(r)! <= 256))} |`,
    `| unchanged rebuild < 2 s | ${each((r) => `${r.rebuild.seconds.toFixed(2)} s`)} | ${verdict((r) => r.rebuild.seconds < 2)} |`,
    `| \`plan --json\` < 300 ms (median of ${PLAN_RUNS}) | ${each((r) => `${(r.plan.seconds * 1000).toFixed(0)} ms`)} | ${verdict((r) => r.plan.seconds < 0.3)} |`,
    `| split build: critical path (longest chain of compress, local and join jobs) <= ${CRITICAL_PATH_TARGET}x the single build at 1x | ${each((r) => cp(r)?.toFixed(2))} | ${verdict((r) => (cp(r) === undefined ? undefined : cp(r)! <= CRITICAL_PATH_TARGET), 1)} |`,
    '',
  ];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const peakOwn = (r: ScaleResult): number | undefined => {
  const all = [r.whole.ownRssMb, ...(r.split ? [...r.split.compress.map((c) => c.ownRssMb), ...r.split.local.map((l) => l.ownRssMb), r.split.join.ownRssMb] : [])].filter((x): x is number => x !== undefined);
  return all.length ? Math.max(...all) : undefined;
};

async function main() {
  const option = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  const scales = (option('--scales') ?? '1,4').split(',').map(Number);
  if (!scales.every((x) => Number.isFinite(x) && x > 0)) throw new Error(`--scales takes positive numbers separated by commas (e.g. 1,4 or 0.02), not ${option('--scales')}`);
  const perTargetScales = option('--per-target')?.split(',').map(Number) ?? scales;
  const split = !process.argv.includes('--no-split');
  // The split build's local jobs: one per local target of each platform (default), or one per platform (what
  // release.yml runs). Per target is the shorter critical path: measured at 1x on the same payloads, one after the
  // other on a loaded machine, `--platform linux-amd64 --local-only` took 228 s and its rpm alone 183 s (the deb and
  // the archives add more work to that job than sharing the payloads' compression saves).
  const splitByTarget = (option('--split-by') ?? 'target') === 'target';
  const perTargetKinds = (option('--kinds')?.split(',') ?? PER_TARGET_KINDS) as Kind[];
  const unknown = perTargetKinds.filter((k) => !PER_TARGET_KINDS.includes(k));
  if (unknown.length) throw new Error(`--kinds takes ${PER_TARGET_KINDS.join(', ')} separated by commas, not ${unknown.join(', ')}`);
  const repeat = Number(option('--repeat') ?? '1');
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat takes a whole number of pairs (1 or more), not ${option('--repeat')}`);
  const withReference = !process.argv.includes('--no-reference');
  if (!withReference && perTargetScales.some((x) => scales.includes(x))) throw new Error('--no-reference leaves the per-target runs nothing to compare with: add --per-target 0');
  const work = await mkdtemp(path.join(os.tmpdir(), 'stigmer-bench-'));
  const { product, config } = benchProduct(work);
  const cacheDir = path.join(os.homedir(), '.cache/stigmer-dist');
  const standins = await buildStandins({ product, platforms: [...product.platforms], version: VERSION, cacheDir });
  const rows: string[] = [];
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
  const results: ScaleResult[] = [];
  const writeReport = () => {
    const md = [
      '# Benchmarks',
      '',
      'Produced by `npm run bench` ([bench/run.ts](bench/run.ts)); numbers from one run on the machine below, where every',
      'process shares the same two cores. Ratios are ours / reference (below 1.0 is faster). The reference is each',
      "platform's own tool doing the same work: GNU tar + gzip -9 and zip -9 for the archives, `dpkg-deb --build` with",
      "xz -6 (the same compression and level as our writer; both use xz's multi-threaded encoder) on the tree of our own",
      `package, \`rpmbuild\` of a minimal spec with the same files and the same payload setting (${RPM_PAYLOAD}), \`wixl\` on our`,
      'WiX source, `sha256sum` over every asset. Each side runs alone (the machine is otherwise idle). Payloads are',
      'generated ([bench/payloads.ts](bench/payloads.ts)): each platform\'s real stand-in executable with',
      'deterministic, partly compressible data appended to the sizes Stigmer ships.',
      '',
      `Machine: ${machine}.`,
      '',
      ...rows,
      ...targetRows(results),
    ].join('\n');
    writeFileSync(path.join(REPO, 'BENCHMARKS.md'), md + '\n');
    writeFileSync(path.join(work, 'results.json'), JSON.stringify(results, null, 2));
    return md;
  };
  for (const scale of scales) {
    const payloads = await generatePayloads(product, path.join(work, `payloads-${scale}x`), scale, standins);
    const payloadMb = readdirSync(payloads).reduce((n, p) => n + readdirSync(path.join(payloads, p)).reduce((m, f) => m + size(path.join(payloads, p, f)), 0), 0) / 2 ** 20;
    const outRoot = path.join(work, `out-${scale}x`);
    const build = (out: string, targets?: string) => timed(process.execPath, [CLI, 'build', ...buildArgs(config), '--from', payloads, '--out', out, ...(targets ? ['--target', targets] : [])]);
    // Per-target runs (each target alone), each followed at once by its reference tool on the same files: a pair
    // runs minutes apart at most, so a machine whose speed drifts over the run (seen: +-10% within half an hour)
    // shifts both sides alike. Then the whole build, then an unchanged rebuild.
    const perTarget: Record<string, number> = {};
    const refWork = path.join(work, `ref-${scale}x`);
    const license = path.join(work, 'LICENSE');
    const ref: Awaited<ReturnType<typeof reference>> = { times: {}, sizes: {}, peaks: {} };
    const addRef = (r: Awaited<ReturnType<typeof reference>>) => {
      Object.assign(ref.times, r.times);
      Object.assign(ref.sizes, r.sizes);
      for (const [k, mb] of Object.entries(r.peaks)) ref.peaks[k] = Math.max(ref.peaks[k] ?? 0, mb); // the largest over --repeat pairs
    };
    const measured: Kind[] = [];
    const perTargetRuns: Record<string, { ours: number[]; ref: number[] }> = {};
    if (perTargetScales.includes(scale)) {
      for (const t of perTargetKinds) {
        const runs: { ours: number[]; ref: number[] } = { ours: [], ref: [] };
        const outs: string[] = [];
        const ourRun = async () => {
          const out = path.join(work, `t-${t}-${scale}-${outs.length + 1}`);
          outs.push(out);
          runs.ours.push((await build(out, t)).seconds);
        };
        const refRun = async () => {
          const r = await reference(product, payloads, path.join(outs[0]!, VERSION), refWork, license, [t]);
          runs.ref.push(r.times[t]!);
          addRef(r);
        };
        // With --repeat, the order alternates (ours, ref, ref, ours, ...): a machine whose speed drifts over the
        // pairs then shifts both sides' means alike, not only the side that happens to run second.
        for (let i = 0; i < repeat; i++) {
          if (i % 2 === 0) await ourRun().then(refRun);
          else await refRun().then(ourRun);
        }
        perTarget[t] = mean(runs.ours);
        ref.times[t] = mean(runs.ref);
        perTargetRuns[t] = runs;
        measured.push(t);
        for (const out of outs) await rm(out, { recursive: true, force: true });
      }
    }
    const whole = await build(outRoot);
    const rebuild = await build(outRoot);
    const ours = path.join(outRoot, VERSION);
    // The split build of the same payloads: each platform's local job alone, then the join alone.
    const splitRun = split ? await splitBuild({ product, config, payloads, work: path.join(work, `split-${scale}x`), single: ours, byTarget: splitByTarget }) : undefined;
    if (!process.argv.includes('--keep')) await rm(path.join(work, `split-${scale}x`), { recursive: true, force: true }); // ~2 dists of disk at 4x
    if (withReference) addRef(await reference(product, payloads, ours, refWork, license, KINDS.filter((k) => !measured.includes(k))));
    const refTotal = Object.values(ref.times).reduce((a, b) => a + b, 0);
    const oursSizes = await ourSizes(ours);
    // plan: the median of PLAN_RUNS runs (one run right after the builds' IO is noise, not start-up time).
    const planRuns: number[] = [];
    for (let i = 0; i < PLAN_RUNS; i++) planRuns.push((await timed(process.execPath, [CLI, 'plan', '--json', '--config', config, '--version', VERSION])).seconds);
    const plan = { seconds: planRuns.sort((a, b) => a - b)[Math.floor(PLAN_RUNS / 2)]! };
    results.push({ scale, payloadMb, perTarget, perTargetRuns, whole, rebuild, ref, refTotal, oursSizes, plan, split: splitRun });
    rows.push(
      `### ${scale}x (${payloadMb.toFixed(payloadMb < 10 ? 1 : 0)} MiB of payloads: ${Object.entries(SIZES_MB).map(([k, v]) => `${k} ${Number((v * scale).toPrecision(3))} MB`).join(', ')}, ${product.platforms.length} platforms)`,
      '',
      '| work | stigmer-dist (s) | reference (s) | ratio | our size | reference size |',
      '|---|---:|---:|---:|---:|---:|',
      ...PER_TARGET_KINDS.map((k) => {
        const r = ref.times[k];
        const mb = (n?: number) => (n === undefined ? '-' : `${(n / 2 ** 20).toFixed(1)} MiB`);
        const ours = perTarget[k];
        const runs = perTargetRuns[k];
        const each = (xs?: number[]) => (xs && xs.length > 1 ? ` (${xs.map((x) => x.toFixed(2)).join(', ')})` : '');
        return `| ${k} | ${ours === undefined ? '(not run alone)' : ours.toFixed(2) + each(runs?.ours)} | ${r === undefined ? '-' : r.toFixed(2) + each(runs?.ref)} | ${r && ours ? (ours / r).toFixed(2) : '-'} | ${mb(oursSizes[k])} | ${mb(ref.sizes[k])} |`;
      }),
      `| checksums | (in the build) | ${ref.times.checksums?.toFixed(2) ?? '-'} | - | - | - |`,
      withReference
        ? `| **whole build** (every target) vs reference tools one after another | **${whole.seconds.toFixed(2)}** | **${refTotal.toFixed(2)}** | **${(whole.seconds / refTotal).toFixed(2)}** | | |`
        : `| **whole build** (every target; reference tools not run: --no-reference) | **${whole.seconds.toFixed(2)}** | - | - | | |`,
      '',
      `- peak memory of stigmer-dist itself during the whole build: ${whole.ownRssMb ?? '?'} MiB; largest process of the whole tree (xz, rpmbuild, wixl included): ${((whole.maxRssKb ?? 0) / 1024).toFixed(0)} MiB`,
      `- rebuild with unchanged inputs: ${rebuild.seconds.toFixed(2)} s`,
      `- the reference tools' largest process, per kind: ${Object.entries(ref.peaks).map(([k, mb]) => `${k} ${mb.toFixed(0)} MiB`).join(', ') || '- (not run)'}`,
      `- \`plan --json\`: ${(plan.seconds * 1000).toFixed(0)} ms (median of ${PLAN_RUNS} runs)`,
      '',
      ...(splitRun ? splitRows(scale, splitRun, whole.seconds) : []),
    );
    writeReport(); // after every scale, so a long 4x run never loses the 1x numbers
  }
  const md = writeReport();
  process.stdout.write(md + `\n\n(raw results: ${path.join(work, 'results.json')})\n`);
  if (!process.argv.includes('--keep')) await rm(work, { recursive: true, force: true });
}

await main();
