// `verify --reproduce`: rebuilds a finished dist/<version>/ into a temp dir with the same plan and
// SOURCE_DATE_EPOCH, then compares every file byte for byte. The rebuild itself is the caller's (the CLI's
// build command): verify sits below the commands and does not import them.
import { makeTempDir } from '../util/cleanup.ts';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { readManifest } from '../manifest/manifest.ts';
import { filesBelow, hashFile } from '../util/fsx.ts';

export interface ReproduceRow {
  file: string;
  result: 'same' | 'differs' | 'missing in rebuild' | 'only in rebuild';
}

/** What to rebuild: the recorded version, platforms and targets (without the skipped ones), into `out`. */
export interface RebuildRequest {
  version: string;
  platforms: string[];
  targets: string[];
  sourceDateEpoch: number;
  out: string;
}

export async function reproduce(dir: string, rebuild: (request: RebuildRequest) => Promise<void>): Promise<ReproduceRow[]> {
  const record = await readManifest(dir, { hint: 'run `stigmer-dist build` first; --reproduce rebuilds what plan.json records' });
  if (record.sourceDateEpoch === undefined) throw new UserError(`${dir}/plan.json records no sourceDateEpoch`, { hint: 'rebuild with this stigmer-dist version first', exitCode: EXIT.config });
  const tmpDir = await makeTempDir('stigmer-dist-reproduce-');
  const tmp = tmpDir.path;
  try {
    const skipped = new Set(record.skipped.map((s) => s.target));
    await rebuild({ version: record.version, platforms: record.platforms, targets: record.targets.filter((t) => !skipped.has(t)), sourceDateEpoch: record.sourceDateEpoch, out: tmp });
    const rebuilt = path.join(tmp, record.version);
    const a = await filesBelow(dir);
    const b = new Set(await filesBelow(rebuilt));
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
