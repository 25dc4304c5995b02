// Where the bundled CLI lives, and whether it is current. bin/stigmer-dist.js runs the bundle only when every
// file it was built from (src/ and the bundled packages) still has the size and modification time recorded at
// bundling; otherwise it runs the TypeScript sources, so an edit, a checkout or an npm install never runs stale
// code. scripts/bundle.ts writes the bundle and this record. JavaScript, not TypeScript: the bundle's whole point
// is that a run loads no .ts file (Node's type stripper alone costs ~100 ms to start). Types: bundle-state.d.ts.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE_DIR = path.join(ROOT, '.bundle', 'cli');
export const BUNDLE_ENTRY = path.join(BUNDLE_DIR, 'main.mjs');
/** In the bundle's folder: { inputs: { <path relative to ROOT, with "/">: [size, mtimeMs] } }, written last (no record, no bundle). */
export const BUNDLE_RECORD = 'inputs.json';

/** Whether the bundle in `dir` was built from exactly the files now on disk. */
export function bundleIsCurrent(dir = BUNDLE_DIR) {
  let record;
  try {
    record = JSON.parse(readFileSync(path.join(dir, BUNDLE_RECORD), 'utf8'));
  } catch {
    return false;
  }
  for (const [file, [size, mtimeMs]] of Object.entries(record.inputs)) {
    const st = statSync(ROOT + file, { throwIfNoEntry: false });
    if (!st || st.size !== size || st.mtimeMs !== mtimeMs) return false;
  }
  return true;
}
