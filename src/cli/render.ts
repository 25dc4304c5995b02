// The `render` command: the text artifacts without a build, from a release's SHA256SUMS. Writes the Homebrew tap
// formulae (with that SHA256SUMS) into --tap-dir, and with --out every text artifact; --check only compares.
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { makePlan } from '../plan/plan.ts';
import { TARGETS } from '../targets/registry.ts';
import { CHECKSUMS_FILE, parseChecksums } from '../targets/checksums/index.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { generatedNotice } from '../render/templates.ts';
import { definitionName } from '../render/envfile.ts';
import type { Product } from '../product/model.ts';
import { DEFAULT_CONFIG, loadConfig, resolveVersion } from './context.ts';

export function addRenderCommand(program: Command, helpText: string): void {
  program
    .command('render')
    .description('render the text artifacts without building: the Homebrew tap formulae into --tap-dir, and with --out every text artifact')
    .option('-c, --config <path>', 'product definition', DEFAULT_CONFIG)
    .option('--version <semver>', "version (default: the git tag on HEAD, else the definition's version)")
    .option('--tap-dir <dir>', 'the committed tap formulae', 'formula')
    .option('--checksums <file>', `release ${CHECKSUMS_FILE} whose digests the formulae pin (default: dist/<version>/${CHECKSUMS_FILE}, else <tap-dir>/${CHECKSUMS_FILE})`)
    .option('-o, --out <dir>', 'also write every text artifact (units, plists, env file, formulae) below this folder')
    .option('--check', 'write nothing; fail when <tap-dir> differs from what the definition renders')
    .option('--release-key-fingerprint <fpr>', 'with --out: the key install.sh pins for SHA256SUMS.asc (a build pins its signing key; without this, install.sh is rendered as for an --unsigned release)')
    .addHelpText('after', helpText)
    .action(async (opts: { config?: string; version?: string; tapDir: string; checksums?: string; out?: string; check?: boolean; releaseKeyFingerprint?: string }) => {
      const product = loadConfig(opts.config);
      if (!opts.check) await refuseForeignTap(opts.tapDir, product);
      const version = resolveVersion(product, opts.version);
      const plan = makePlan(product, { version, snapshot: false });
      const sumsFile =
        opts.checksums ??
        (!opts.check && existsSync(path.join('dist', version, CHECKSUMS_FILE)) ? path.join('dist', version, CHECKSUMS_FILE) : path.join(opts.tapDir, CHECKSUMS_FILE));
      const releaseKeyFingerprint = opts.releaseKeyFingerprint?.replace(/\s+/g, '').toUpperCase();
      if (releaseKeyFingerprint !== undefined && !/^[0-9A-F]{40}$/.test(releaseKeyFingerprint)) {
        throw new UserError(`--release-key-fingerprint ${opts.releaseKeyFingerprint}: not an OpenPGP v4 fingerprint`, { hint: 'pass the 40 hex digits `gpg --fingerprint` prints for the release key', exitCode: EXIT.usage });
      }
      const ctx = { product, versions: plan.versions, platforms: plan.platforms, snapshot: false, digestOf: checksumsLookup(sumsFile), releaseKeyFingerprint };
      const rendered = new Map<string, string>();
      for (const t of TARGETS) for (const [p, text] of t.render?.(ctx) ?? []) rendered.set(p, text);
      const formulae = new Map([...rendered].filter(([p]) => p.startsWith('formula/')).map(([p, text]) => [path.basename(p), text]));
      formulae.set(CHECKSUMS_FILE, await readFile(sumsFile, 'utf8'));
      if (opts.check) {
        const drift = await tapDrift(opts.tapDir, formulae);
        if (drift.length) throw new UserError(`${opts.tapDir}/ is out of date with ${path.relative(process.cwd(), product.file)}:\n${drift.map((d) => `  ${d}`).join('\n')}`, { hint: 'run `npx stigmer-dist render` and commit the result' });
        process.stdout.write(`${opts.tapDir}/ matches the definition (${formulae.size - 1} formulae)\n`);
        return;
      }
      await mkdir(opts.tapDir, { recursive: true });
      for (const [name, text] of formulae) await writeFileAtomic(path.join(opts.tapDir, name), text);
      if (opts.out) for (const [p, text] of rendered) await writeFileAtomic(path.join(opts.out, p), text);
      process.stdout.write(`rendered ${formulae.size - 1} formulae into ${opts.tapDir}/${opts.out ? ` and ${rendered.size} text artifacts into ${opts.out}/` : ''}\n`);
    });
}

function checksumsLookup(file: string): (asset: string) => string {
  if (!existsSync(file)) {
    throw new UserError(`no checksums file at ${file}`, { hint: 'run `stigmer-dist build` first, or pass --checksums PATH to a release\'s SHA256SUMS', exitCode: EXIT.config });
  }
  const sums = parseChecksums(readFileSync(file, 'utf8'), file);
  return (asset) => {
    const d = sums.get(asset);
    if (!d) throw new UserError(`${file} has no entry for ${asset}`, { hint: 'render with the SHA256SUMS of the same version and platforms', exitCode: EXIT.config });
    return d;
  };
}

/**
 * A tap directory holds one product's formulae (and that product's SHA256SUMS): refuse to write into one that
 * holds a formula not generated from this definition (another product's, or a hand-written one).
 */
async function refuseForeignTap(dir: string, product: Product): Promise<void> {
  if (!existsSync(dir)) return;
  const ours = `# ${generatedNotice(definitionName(product))}`;
  const foreign: string[] = [];
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.rb')).sort()) {
    const first = (await readFile(path.join(dir, f), 'utf8')).split('\n', 1)[0]!;
    if (first !== ours) foreign.push(`${f} (${first.startsWith('# Generated by stigmer-dist from ') ? `from ${first.slice(33).split('. ')[0]}` : 'not generated by stigmer-dist'})`);
  }
  if (foreign.length) {
    throw new UserError(`${dir}/ holds formulae that are not ${product.meta.name}'s: ${foreign.join(', ')}; a tap directory belongs to one product`, {
      hint: `render ${product.meta.name} into its own directory with --tap-dir (e.g. --tap-dir ${path.join(path.dirname(dir), `${product.meta.name}-formula`)}), or remove those files`,
      exitCode: EXIT.usage,
    });
  }
}

async function tapDrift(dir: string, expected: Map<string, string>): Promise<string[]> {
  const drift: string[] = [];
  const present = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith('.rb')) : [];
  for (const [name, text] of expected) {
    const file = path.join(dir, name);
    if (!existsSync(file)) drift.push(`${name}: missing`);
    else if ((await readFile(file, 'utf8')) !== text) drift.push(`${name}: differs`);
  }
  for (const f of present) if (!expected.has(f)) drift.push(`${f}: not rendered from the definition (remove it)`);
  return drift;
}
