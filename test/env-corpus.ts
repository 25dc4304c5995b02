// The shared env-file corpus (test/fixtures/env-files/corpus.json) and how a test reads what a file set.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './helpers.ts';

export interface EnvCase {
  name: string;
  content: string;
  env: Record<string, string>;
}

export const ENV_CORPUS: EnvCase[] = JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/env-files/corpus.json'), 'utf8')).cases;

/** `env -0` output as a map. */
export function parseEnvDump(dump: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of dump.split('\0').filter(Boolean)) {
    const i = entry.indexOf('=');
    out.set(entry.slice(0, i), entry.slice(i + 1));
  }
  return out;
}

/** The variables `dump` has beyond `baseline` (what the env file set). */
export function setByFile(dump: string, baseline: string): Record<string, string> {
  const base = parseEnvDump(baseline);
  return Object.fromEntries([...parseEnvDump(dump)].filter(([k]) => !base.has(k)));
}

