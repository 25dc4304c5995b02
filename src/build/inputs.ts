// The digest of everything a build's output depends on. A build whose digest matches the one recorded in
// dist/<version>/plan.json (with every artifact still present) is up to date and is not redone.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plan } from '../plan/plan.ts';
import type { Product } from '../product/model.ts';
import type { Payload } from '../targets/types.ts';
import { filesBelowSync } from '../util/fsx.ts';

const TOOL_ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The tool's own code and templates: a change to any of them changes every output's recipe.
const TOOL_DIRS = ['src', 'templates', 'standin', 'winsvc'];

let toolDigest: string | undefined;
function digestOfTool(): string {
  if (toolDigest) return toolDigest;
  const h = createHash('sha256');
  for (const d of TOOL_DIRS) {
    for (const rel of filesBelowSync(path.join(TOOL_ROOT, d))) h.update(`${d}/${rel}\0`).update(readFileSync(path.join(TOOL_ROOT, d, rel))).update('\0');
  }
  h.update(readFileSync(path.join(TOOL_ROOT, 'package-lock.json')));
  return (toolDigest = h.digest('hex'));
}

export function buildInputsDigest(input: {
  product: Product;
  plan: Plan;
  payloads: readonly Pick<Payload, 'component' | 'platform' | 'sha256'>[];
  sourceDateEpoch: number;
  skipped: unknown;
  /** Anything else that shapes the output (signing identity, repository options); undefined disables reuse. */
  extra: unknown;
}): string {
  const h = createHash('sha256');
  h.update(digestOfTool());
  h.update(readFileSync(input.product.file));
  for (const f of input.product.def.files) h.update(readFileSync(path.resolve(input.product.dir, f.src)));
  const payloads = input.payloads.map((p) => `${p.component}/${p.platform}/${p.sha256}`).sort();
  h.update(JSON.stringify({ plan: input.plan, payloads, epoch: input.sourceDateEpoch, skipped: input.skipped, extra: input.extra }));
  return h.digest('hex');
}
