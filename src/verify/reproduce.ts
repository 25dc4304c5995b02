// `verify --reproduce`: rebuilds a finished dist/<version>/ into a temp dir with the same plan and
// SOURCE_DATE_EPOCH, then compares every file byte for byte.
import { readFile} from 'node:fs/promises';
import { makeTempDir } from '../util/cleanup.ts';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { executeBuild, type BuildFlags } from '../cli/build.ts';
import { hashFile } from '../util/fsx.ts';
import type { Reporter } from '../util/progress.ts';

export interface ReproduceRow {
  file: string;
  result: 'same' | 'differs' | 'missing in rebuild' | 'only in rebuild';
}

function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => statSync(path.join(dir, f)).isFile()).sort();
}

export async function reproduce(dir: string, flags: Omit<BuildFlags, 'out'>, report: Reporter): Promise<ReproduceRow[]> {
  let record: { version: string; platforms: string[]; targets: string[]; skipped: { target: string }[]; sourceDateEpoch?: number };
  try {
    record = JSON.parse(await readFile(path.join(dir, 'plan.json'), 'utf8'));
  } catch {
    throw new UserError(`${dir}/plan.json is missing or unreadable`, { hint: 'run `stigmer-dist build` first; --reproduce rebuilds what plan.json records', exitCode: EXIT.config });
  }
  if (record.sourceDateEpoch === undefined) throw new UserError(`${dir}/plan.json records no sourceDateEpoch`, { hint: 'rebuild with this stigmer-dist version first', exitCode: EXIT.config });
  const tmpDir = await makeTempDir('stigmer-dist-reproduce-');
  const tmp = tmpDir.path;
  try {
    const skipped = new Set(record.skipped.map((s) => s.target));
    await executeBuild(
      { ...flags, version: record.version, platform: record.platforms, target: record.targets.filter((t) => !skipped.has(t)), out: tmp },
      { sourceDateEpoch: record.sourceDateEpoch, report },
    );
    const rebuilt = path.join(tmp, record.version);
    const a = files(dir);
    const b = new Set(files(rebuilt));
    const rows: ReproduceRow[] = [];
    for (const f of a) {
      if (!b.has(f)) rows.push({ file: f, result: 'missing in rebuild' });
      else rows.push({ file: f, result: (await hashFile(path.join(dir, f))).sha256 === (await hashFile(path.join(rebuilt, f))).sha256 ? 'same' : 'differs' });
      b.delete(f);
    }
    for (const f of b) rows.push({ file: f, result: 'only in rebuild' });
    return rows;
  } finally {
    await tmpDir.dispose();
  }
}
