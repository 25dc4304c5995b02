// Where the bundled CLI lives, and whether it is current. bin/stigmer-dist.js runs the bundle only when every
// file it was built from (src/ and the bundled packages) still has the size and modification time recorded at
// bundling; otherwise it runs the TypeScript sources, so an edit, a checkout or an npm install never runs stale
// code. scripts/bundle.ts writes the bundle and this record. JavaScript, not TypeScript: the bundle's whole point
// is that a run loads no .ts file (Node's type stripper alone costs ~100 ms to start). Types: bundle-state.d.ts.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { createRequire } from 'node:module';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE_DIR = path.join(ROOT, '.bundle', 'cli');
export const BUNDLE_ENTRY = path.join(BUNDLE_DIR, 'main.mjs');
/** In the bundle's folder: { inputs: { <path relative to ROOT, with "/">: [size, mtimeMs] } }, written last (no record, no bundle). */
export const BUNDLE_RECORD = 'inputs.json';
/** In the bundle's folder: the same CLI as one classic script, which `plan` runs (see loadPlanScript). */
export const PLAN_SCRIPT = 'plan.cjs';
/** PLAN_SCRIPT is one function expression of these (CommonJS's exports, require and module, and stand-ins for import.meta). */
export const PLAN_SCRIPT_PARAMS = ['exports', 'require', 'module', '__bundleUrl', '__bundleResolve'];
/**
 * In the bundle's folder: V8's code cache of PLAN_SCRIPT after a training `plan` (absent: the script compiles as
 * it runs), after the script's tag: the first PLAN_TAG_LENGTH characters of the sha256 of its text, which the
 * script's first line also holds (planScriptHeader).
 */
export const PLAN_CODE_CACHE = 'plan.v8cache';
const PLAN_TAG_LENGTH = 32;

/** The first line of PLAN_SCRIPT: the function's head, and the tag that binds a code cache to this text. */
export function planScriptHeader(tag) {
  return `(function (${PLAN_SCRIPT_PARAMS.join(', ')}) { "use strict"; /* plan-script ${tag} */\n`;
}

/** The tag in the first line of a PLAN_SCRIPT text (see planScriptHeader). */
function planScriptTag(source) {
  const at = source.indexOf('/* plan-script ') + '/* plan-script '.length;
  return source.slice(at, at + PLAN_TAG_LENGTH);
}

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

/**
 * The CLI's exports from the classic-script bundle in `dir`, compiled with its V8 code cache. Node's own compile
 * cache (ESM) holds only what V8 compiles up front, a module's top level; every function `plan` calls (the YAML
 * parser, zod, the planners) is compiled again on each run. V8's cache of a script, taken after a run, holds those
 * functions too. The cache is made by scripts/bundle.ts with the bundle and only read here: a run writes nothing.
 * V8 rejects a cache from another V8 version or other flags (the script then compiles as it runs), but it checks
 * only the length of the text the cache was made from: the cache is used only after the tag of the script it was
 * made for, so a script and a cache read across a rebundling (two bundles of one length) never meet.
 * `onLoaded(script, cacheFor)`: for scripts/bundle.ts's training run, which takes the cache after it;
 * cacheFor(data) is the file PLAN_CODE_CACHE with V8's data `data`.
 */
export function loadPlanScript(dir = BUNDLE_DIR, onLoaded) {
  const file = path.join(dir, PLAN_SCRIPT);
  const source = readFileSync(file, 'utf8');
  const tag = planScriptTag(source);
  let cachedData;
  try {
    const cache = readFileSync(path.join(dir, PLAN_CODE_CACHE));
    if (tag.length === PLAN_TAG_LENGTH && cache.toString('latin1', 0, PLAN_TAG_LENGTH) === tag) cachedData = cache.subarray(PLAN_TAG_LENGTH);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(source, {
    filename: file,
    cachedData,
    // A package the plan does not load (execa, tar, ...) imported on use, as the ESM bundle does.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  // The script gets its own module, require (Node's modules, for the bundled CommonJS packages), the file URL
  // that stands in for import.meta.url, and import.meta.resolve for packages (which resolve alike from bin/ and
  // from the sources' folders: ROOT/node_modules).
  const module = { exports: {} };
  const resolvePackage = (specifier) => import.meta.resolve(specifier);
  script.runInThisContext()(module.exports, lazyBuiltinRequire(createRequire(file)), module, pathToFileURL(file).href, resolvePackage);
  onLoaded?.(script, (data) => Buffer.concat([Buffer.from(tag, 'latin1'), data]));
  return module.exports;
}

/**
 * Node modules that the bundle's modules import at their top but `plan` never calls (compression, processes,
 * streams, hashing): loaded on first use instead of at start-up. crypto with its 15 internal modules, and
 * child_process with net and dgram, cost more to load than the plan takes to compute.
 */
const LAZY_BUILTINS = new Set(['async_hooks', 'child_process', 'crypto', 'fs/promises', 'http', 'stream', 'stream/promises', 'zlib']);

/**
 * `require` for the classic script in which each LAZY_BUILTINS module is a stand-in that loads the module on its
 * first use and from then on forwards every operation to it. The bundle's CommonJS code reads a module's members
 * only when it calls them (`(0, import_node_zlib.gzipSync)(...)`), so `plan` never loads them.
 */
function lazyBuiltinRequire(require) {
  const standIns = new Map();
  return Object.assign((id) => {
    const name = id.startsWith('node:') ? id.slice(5) : id;
    if (!LAZY_BUILTINS.has(name)) return require(id);
    let standIn = standIns.get(name);
    if (!standIn) {
      let loaded;
      const real = () => (loaded ??= require(`node:${name}`));
      standIn = new Proxy(
        {},
        {
          get: (_, key) => Reflect.get(real(), key),
          set: (_, key, value) => Reflect.set(real(), key, value),
          has: (_, key) => Reflect.has(real(), key),
          ownKeys: () => Reflect.ownKeys(real()),
          // The stand-in's own target is empty: a proxy may report only configurable properties it does not hold.
          getOwnPropertyDescriptor: (_, key) => {
            const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
            return descriptor && { ...descriptor, configurable: true };
          },
          getPrototypeOf: () => Reflect.getPrototypeOf(real()),
          defineProperty: (_, key, descriptor) => Reflect.defineProperty(real(), key, descriptor),
          deleteProperty: (_, key) => Reflect.deleteProperty(real(), key),
        },
      );
      standIns.set(name, standIn);
    }
    return standIn;
  }, require);
}
