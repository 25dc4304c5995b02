// The hostile corpus: every case is refused at load naming its field (with file:line:column), or loads with
// its values intact.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DefinitionError, formatProblem } from '../src/errors.ts';
import { makePlan } from '../src/plan/plan.ts';
import { parseProduct } from '../src/product/load.ts';
import { STIGMER_YAML } from './helpers.ts';
import { applyCase, fieldPathKeys } from './fixtures/hostile/apply.ts';
import { ACCEPTED_CASES, HOSTILE_CORPUS, REFUSED_CASES } from './fixtures/hostile/corpus.ts';

// Beside the real definition, so files[].src (LICENSE) resolves as it does for packaging/stigmer.yaml.
const FILE = path.join(path.dirname(STIGMER_YAML), 'hostile.yaml');
const withoutNames = (field: string) => field.replace(/\([^)]*\)/g, '');

describe('hostile definitions', () => {
  it('has at least 40 cases, each named once', () => {
    expect(HOSTILE_CORPUS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(HOSTILE_CORPUS.map((c) => c.name)).size).toBe(HOSTILE_CORPUS.length);
    expect(ACCEPTED_CASES.length).toBeGreaterThanOrEqual(10);
  });

  it.each(REFUSED_CASES.map((c) => [c.name, c] as const))('refuses: %s', (_name, c) => {
    const text = applyCase(c);
    let error: unknown;
    try {
      parseProduct(text, FILE);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DefinitionError);
    const problems = (error as DefinitionError).problems;
    const want = withoutNames((c.expect as { refused: string }).refused);
    const hit = problems.find((p) => withoutNames(p.field) === want);
    expect(hit, `problems: ${problems.map(formatProblem).join('\n')}`).toBeDefined();
    expect(hit!.line).toBeGreaterThan(0);
    expect(hit!.column).toBeGreaterThan(0);
    expect(hit!.fix.length).toBeGreaterThan(10);
    expect((error as Error).message).toContain(`${FILE}:${hit!.line}:${hit!.column}: ${hit!.field}: `);
    // The position named is the field's own line: its key, or its item in a list.
    const line = text.split('\n')[(hit!.line ?? 1) - 1]!;
    const lastKey = hit!.field.replace(/\([^)]*\)/g, '').replace(/\[\d+\]/g, '').split('.').at(-1)!;
    const values = Object.values(c.patch).flatMap((v) => (typeof v === 'string' ? [v.split('\n')[0]!.slice(0, 5)] : []));
    expect(line.includes(lastKey) || line.trimStart().startsWith('-') || values.some((v) => line.includes(v)), line).toBe(true);
  });

  it.each(ACCEPTED_CASES.map((c) => [c.name, c] as const))('accepts intact: %s', (_name, c) => {
    const product = parseProduct(applyCase(c), FILE);
    // What loads also plans: no target refuses it later.
    expect(makePlan(product, { version: product.meta.version, snapshot: true }).artifacts.length).toBeGreaterThan(10);
    for (const [p, v] of Object.entries(c.patch)) {
      let cur: unknown = product.def;
      for (const k of fieldPathKeys(p)) cur = (cur as Record<string | number, unknown>)[k];
      expect(cur).toEqual(v);
    }
  });
});
