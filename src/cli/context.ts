// Resolution of the inputs every command shares: definition, version, source date.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { makePlan, type Plan } from '../plan/plan.ts';
import { loadProduct } from '../product/load.ts';
import type { Product } from '../product/model.ts';
import { parseVersion } from '../version.ts';

export const DEFAULT_CONFIG = 'packaging/stigmer.yaml';

export function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function loadConfig(config: string | undefined): Product {
  return loadProduct(path.resolve(config ?? DEFAULT_CONFIG));
}

/** --version, else an exact git tag on HEAD (v1.2.3), else the definition's version. */
export function resolveVersion(product: Product, flag: string | undefined): string {
  if (flag) return parseVersion(flag, '--version').version;
  const tag = git(['describe', '--tags', '--exact-match', 'HEAD'], product.dir);
  if (tag && /^v?\d+\.\d+\.\d+/.test(tag)) return parseVersion(tag, `git tag ${tag}`).version;
  return parseVersion(product.meta.version, `${product.file}: product.version`).version;
}

/** SOURCE_DATE_EPOCH, else the HEAD commit time, else 1980-01-01 (the earliest time a zip can hold). */
export function resolveSourceDateEpoch(product: Product): number {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env && /^\d+$/.test(env)) return Number(env);
  const commit = git(['log', '-1', '--format=%ct'], product.dir);
  return commit && /^\d+$/.test(commit) ? Number(commit) : 315532800;
}

export interface CommonOptions {
  config?: string;
  version?: string;
  platform?: string[];
  target?: string[];
  snapshot?: boolean;
}

/** The product and the plan a command's flags select. */
export function planFor(opts: CommonOptions): { product: Product; plan: Plan } {
  const product = loadConfig(opts.config);
  const plan = makePlan(product, { version: resolveVersion(product, opts.version), platforms: opts.platform, targets: opts.target, snapshot: Boolean(opts.snapshot) });
  return { product, plan };
}
