// Loads a product definition: parse YAML -> validate strictly -> semantic checks -> derive the frozen model.
// Every problem names the file, line, field and the fix; all problems are reported at once.
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import validSemver from 'semver/functions/valid.js';
import { LineCounter, parseDocument, isMap, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { DefinitionError, UserError, EXIT, type Problem } from '../errors.ts';
import { productDefinitionSchema, PLATFORMS, type ProductDefinition, type Platform } from './schema.ts';
import { checkArgs, ContractFileError, contractPath, loadContract, type FlagContract } from './contract.ts';
import { deriveProduct, type Product } from './model.ts';
import { COMMON_LICENSES, EMBEDDED_LICENSES } from './licenses.ts';
import { dangerousEnvName, describeChar, FORBIDDEN_CHAR, MULTILINE_FIELDS, reservedAccount, reservedDirName } from './fields.ts';
import { msiVersion, parseVersion } from '../version.ts';

type PathKey = string | number;

export function loadProduct(file: string): Product {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read the product definition ${file}: ${(err as Error).message}`, {
      hint: 'pass the right file with --config PATH (default: packaging/stigmer.yaml)',
      exitCode: EXIT.config,
    });
  }
  return parseProduct(text, file);
}

export function parseProduct(text: string, file: string): Product {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locate = (offset: number | undefined) => {
    if (offset === undefined) return {};
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    throw new DefinitionError(
      doc.errors.map((e) => ({
        file,
        ...locate(e.pos[0]),
        field: '',
        message: `YAML syntax error: ${e.message.split('\n')[0]}`,
        fix: e.code === 'DUPLICATE_KEY' ? 'remove the repeated key' : 'fix the YAML syntax at this position (indentation, quoting, colons)',
      })),
    );
  }
  const raw = doc.toJS();
  const at = (p: PathKey[]) => locate(nodeOffset(doc, p));
  // Control characters first: a field that holds one is reported for that, not also for its character set.
  const controls = controlCharProblems(raw);
  const controlPaths = new Set(controls.map((c) => JSON.stringify(c.path)));
  const toProblem = ({ path: p, ...rest }: PathProblem): Problem => ({ ...rest, ...at(p), file, field: fieldName(p, raw) });
  // jitless: a definition is validated once per run, and compiling zod's fast path for each object schema
  // (new Function) costs more than it saves on one parse (a large part of `plan`'s start-up).
  const result = productDefinitionSchema.safeParse(raw, { jitless: true });
  if (!result.success || controls.length) {
    const issues = result.success ? [] : result.error.issues.filter((i) => !controlPaths.has(JSON.stringify(i.path.filter((k) => typeof k !== 'symbol'))));
    throw new DefinitionError([...controls.map(toProblem), ...issues.map((issue) => issueToProblem(issue, raw, file, at))]);
  }
  const def = result.data;
  const contracts = loadContracts(def, path.dirname(file));
  const problems = [...semanticProblems(def, file, path.dirname(file)), ...contracts.problems].map(toProblem);
  if (problems.length > 0) throw new DefinitionError(problems);
  return deriveProduct(def, path.resolve(file), contracts.byComponent);
}

function nodeOffset(doc: Document, p: PathKey[]): number | undefined {
  // Walk down as far as the path exists, so a missing field points at its parent.
  for (let n = p.length; n >= 0; n--) {
    const sub = p.slice(0, n);
    const parentNode = n > 0 ? doc.getIn(sub.slice(0, -1), true) : doc.contents;
    if (n > 0 && isMap(parentNode)) {
      const pair = parentNode.items.find((it) => isScalar(it.key) && it.key.value === sub[sub.length - 1]);
      if (pair && isScalar(pair.key) && pair.key.range) return pair.key.range[0];
    }
    const node = n === 0 ? doc.contents : doc.getIn(sub, true);
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (range) return range[0];
  }
  return undefined;
}

function fieldName(p: PathKey[], raw: unknown): string {
  let out = '';
  let cur: unknown = raw;
  for (const k of p) {
    if (typeof k === 'number') {
      out += `[${k}]`;
      const item = Array.isArray(cur) ? cur[k] : undefined;
      const name = item && typeof item === 'object' && 'name' in item ? (item as { name: unknown }).name : undefined;
      if (typeof name === 'string') out += `(${name})`;
    } else {
      out += out ? `.${k}` : k;
    }
    cur = cur && typeof cur === 'object' ? (cur as Record<PathKey, unknown>)[k] : undefined;
  }
  return out;
}

function issueToProblem(issue: z.core.$ZodIssue, raw: unknown, file: string, at: (p: PathKey[]) => object): Problem {
  const p = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
  const base = { file, field: fieldName(p, raw) };
  switch (issue.code) {
    case 'unrecognized_keys': {
      const keyPath = [...p, issue.keys[0]!];
      const allowed = allowedKeysAt(p);
      return {
        ...base,
        ...at(keyPath),
        field: fieldName(keyPath, raw),
        message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
        fix: `remove it or fix the spelling${allowed.length ? `; allowed here: ${allowed.join(', ')}` : ''}`,
      };
    }
    case 'invalid_type':
      if (valueAt(raw, p) === undefined) {
        return { ...base, ...at(p), message: 'required field is missing', fix: `add "${String(p[p.length - 1])}" (${issue.expected})` };
      }
      return { ...base, ...at(p), message: `expected ${issue.expected}, got ${describe(valueAt(raw, p))}`, fix: issue.expected === 'string' ? 'quote the value so YAML reads it as a string' : `change it to a ${issue.expected}` };
    case 'invalid_value':
      if (p.length === 1 && p[0] === 'schemaVersion') {
        return { ...base, ...at(p), message: issue.message, fix: 'this stigmer-dist reads schemaVersion 1; migrate the file or use a matching stigmer-dist' };
      }
      return {
        ...base,
        ...at(p),
        message: `${JSON.stringify(valueAt(raw, p))} is not allowed`,
        fix: `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    default:
      return { ...base, ...at(p), message: `${shortValue(valueAt(raw, p))} ${issue.message}`, fix: `change the value: it ${issue.message}` };
  }
}

/** A value for a message: JSON, cut at 80 characters (a 5000-character value would bury the message). */
function shortValue(v: unknown): string {
  const json = JSON.stringify(v) ?? String(v);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}

function valueAt(raw: unknown, p: PathKey[]): unknown {
  let cur = raw;
  for (const k of p) cur = cur && typeof cur === 'object' ? (cur as Record<PathKey, unknown>)[k] : undefined;
  return cur;
}

/** Keys the schema allows at a path, so an unknown key's error can list them. */
function allowedKeysAt(p: PathKey[]): string[] {
  // zod 4 exposes its definition under _zod.def; unwrap optional/default wrappers as we walk.
  type Def = { type: string; innerType?: Schema; element?: Schema; valueType?: Schema; shape?: Record<string, Schema> };
  type Schema = { _zod: { def: Def } };
  const unwrap = (s: Schema): Schema => {
    let cur = s;
    while (cur._zod.def.innerType) cur = cur._zod.def.innerType;
    return cur;
  };
  let cur: Schema | undefined = unwrap(productDefinitionSchema as unknown as Schema);
  for (const k of p) {
    if (!cur) return [];
    const def: Def = cur._zod.def;
    if (def.type === 'object' && typeof k === 'string') cur = def.shape?.[k];
    else if (def.type === 'array') cur = def.element;
    else if (def.type === 'record') cur = def.valueType;
    else return [];
    if (cur) cur = unwrap(cur);
  }
  return cur?._zod.def.type === 'object' ? Object.keys(cur._zod.def.shape ?? {}) : [];
}

interface PathProblem extends Omit<Problem, 'file' | 'field'> {
  path: PathKey[];
}

/** Every string (keys too) holding a control character, line separator or bidi override; "\n" only where multi-line. */
function controlCharProblems(raw: unknown): PathProblem[] {
  const out: PathProblem[] = [];
  const dotted = (p: PathKey[]) => p.map((k) => (typeof k === 'number' ? '[]' : k)).join('.').replace(/\.\[\]/g, '[]');
  const check = (value: string, p: PathKey[], isKey: boolean) => {
    const multiline = !isKey && MULTILINE_FIELDS.has(dotted(p));
    const bad = [...value].find((ch) => FORBIDDEN_CHAR.test(ch) && !(multiline && ch === '\n'));
    if (bad === undefined) return;
    out.push({
      path: p,
      message: `${isKey ? 'a key here contains' : 'contains'} the forbidden character ${describeChar(bad)}`,
      fix: bad === '\n' ? 'keep the value on one line: only product.description may span lines (every generated script, unit and package field would otherwise gain a line)' : bad === '\r' ? 'save the file with LF line endings and remove the carriage return' : 'remove it: no field may hold control characters, line separators or bidirectional overrides',
    });
  };
  const walk = (v: unknown, p: PathKey[]) => {
    if (typeof v === 'string') check(v, p, false);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        check(k, p, true);
        walk(x, [...p, k]);
      }
    }
  };
  walk(raw, []);
  return out;
}

const PLACEHOLDER = /\{([a-zA-Z]+)(?::([a-z0-9-]+))?\}/g;
const KNOWN_PLACEHOLDERS = ['stateDir', 'logsDir', 'runtimeDir', 'configDir', 'port'];

function semanticProblems(def: ProductDefinition, _file: string, baseDir: string): PathProblem[] {
  const out: PathProblem[] = [];
  if (!validSemver(def.product.version)) {
    out.push({ path: ['product', 'version'], message: `"${def.product.version}" is not a semantic version`, fix: 'use MAJOR.MINOR.PATCH, e.g. "1.2.3" or "1.2.3-rc.1"' });
  }
  out.push(...ownershipProblems(def), ...packagingProblems(def));
  const seen = { component: new Map<string, number>(), service: new Map<string, number>(), binary: new Map<string, number>(), port: new Map<number, string>() };
  const dup = (kind: keyof Omit<typeof seen, 'port'>, value: string, i: number, p: PathKey[]) => {
    const first = seen[kind].get(value);
    if (first !== undefined) {
      out.push({ path: p, message: `duplicate ${kind} name "${value}" (also components[${first}])`, fix: `give each ${kind} a unique name` });
    } else seen[kind].set(value, i);
  };
  def.components.forEach((c, i) => {
    dup('component', c.name, i, ['components', i, 'name']);
    dup('binary', c.binary ?? c.name, i, ['components', i, c.binary ? 'binary' : 'name']);
    if (c.service) dup('service', c.service.name ?? c.name, i, ['components', i, 'service', c.service.name ? 'name' : 'description']);
    for (const [j, plat] of (c.platforms ?? []).entries()) {
      if (!def.platforms.includes(plat)) {
        out.push({ path: ['components', i, 'platforms', j], message: `platform ${plat} is not in the product's platforms`, fix: `add it to platforms or remove it here (product platforms: ${def.platforms.join(', ')})` });
      }
    }
    if (c.upstream) {
      for (const plat of c.platforms ?? def.platforms) {
        if (!c.upstream.assets[plat]) {
          out.push({ path: ['components', i, 'upstream', 'assets'], message: `no pinned asset for ${plat}`, fix: `add assets.${plat} (url + sha256) or limit components[${i}].platforms` });
        }
      }
    }
    const svc = c.service;
    if (!svc) return;
    const portNames = new Set<string>();
    svc.ports.forEach((pt, j) => {
      if (portNames.has(pt.name)) out.push({ path: ['components', i, 'service', 'ports', j, 'name'], message: `duplicate port name "${pt.name}"`, fix: 'give each port of a service its own name' });
      portNames.add(pt.name);
      const owner = seen.port.get(pt.port);
      if (owner) out.push({ path: ['components', i, 'service', 'ports', j, 'port'], message: `port ${pt.port} is already used by ${owner}`, fix: 'give every service its own port numbers' });
      else seen.port.set(pt.port, c.name);
    });
    if (svc.health && !portNames.has(svc.health.port)) {
      out.push({ path: ['components', i, 'service', 'health', 'port'], message: `"${svc.health.port}" is not one of this service's ports`, fix: `use one of: ${[...portNames].join(', ') || '(declare a port under service.ports first)'}` });
    }
    svc.args.forEach((arg, j) => {
      for (const m of arg.matchAll(PLACEHOLDER)) {
        if (!KNOWN_PLACEHOLDERS.includes(m[1]!) || (m[1] === 'port') !== (m[2] !== undefined)) {
          out.push({ path: ['components', i, 'service', 'args', j], message: `unknown placeholder ${m[0]}`, fix: `use one of {stateDir} {logsDir} {runtimeDir} {configDir} {port:NAME}` });
        } else if (m[1] === 'port' && !portNames.has(m[2]!)) {
          out.push({ path: ['components', i, 'service', 'args', j], message: `${m[0]} names no port of this service`, fix: `declare a port named "${m[2]}" or use one of: ${[...portNames].join(', ')}` });
        }
      }
    });
    for (const name of Object.keys(svc.env)) {
      if (dangerousEnvName(name)) out.push({ path: ['components', i, 'service', 'env', name], message: `${name} is read by the dynamic loader or the launcher's shell to run code`, fix: 'remove it: a service default must not change how programs are loaded or scripts run' });
    }
    svc.secrets.forEach((name, j) => {
      if (dangerousEnvName(name)) out.push({ path: ['components', i, 'service', 'secrets', j], message: `${name} is read by the dynamic loader or the launcher's shell to run code`, fix: 'remove it from secrets' });
    });
    for (const name of svc.secrets) {
      if (name in svc.env) out.push({ path: ['components', i, 'service', 'secrets'], message: `${name} is both a secret and a default in env`, fix: 'secrets come only from the env file: remove it from env' });
    }
  });
  out.push(...fileProblems(def, baseDir));
  // Service ordering: references must exist, and the graph must be acyclic.
  const byName = new Map(def.components.map((c, i) => [c.name, { c, i }]));
  def.components.forEach((c, i) => {
    c.service?.after.forEach((dep, j) => {
      const target = byName.get(dep);
      if (!target) out.push({ path: ['components', i, 'service', 'after', j], message: `"${dep}" is not a component`, fix: `use one of: ${[...byName.keys()].join(', ')}` });
      else if (!target.c.service) out.push({ path: ['components', i, 'service', 'after', j], message: `"${dep}" is not a service`, fix: 'order services only after other services' });
    });
  });
  const cycle = findCycle(def);
  if (cycle) {
    const i = def.components.findIndex((c) => c.name === cycle[0]);
    out.push({ path: ['components', i, 'service', 'after'], message: `dependency cycle between services: ${cycle.join(' -> ')}`, fix: 'remove one of these "after" entries so the services can start in order' });
  }
  return out;
}

/**
 * The identities and directories the package creates and purge removes must be the product's own: never a system
 * account, never a directory of the OS or of another package.
 */
function ownershipProblems(def: ProductDefinition): PathProblem[] {
  const out: PathProblem[] = [];
  const { name } = def.product;
  const inst = def.install;
  const own = (dir: string) => dir === name || dir.startsWith(`${name}-`) || dir.startsWith(`${name}.`);
  for (const key of ['user', 'group'] as const) {
    if (reservedAccount(inst[key])) {
      out.push({ path: ['install', key], message: `"${inst[key]}" is an account of the operating system or of another package`, fix: `use the product's own ${key} (e.g. "${name}"); purge removes the ${key} the package created` });
    }
  }
  for (const key of ['stateDir', 'logsDir'] as const) {
    const dir = inst[key];
    const where = key === 'stateDir' ? '/var/lib' : '/var/log';
    if (reservedDirName(dir)) out.push({ path: ['install', key], message: `${where}/${dir} belongs to the operating system or to another package`, fix: `use the product's own directory name (e.g. "${name}"): purge removes ${where}/<${key}>` });
    else if (!own(dir)) out.push({ path: ['install', key], message: `"${dir}" is not the product's own directory name`, fix: `use "${name}" or a name starting with "${name}-": purge removes ${where}/<${key}>, which must belong to this product` });
  }
  const segs = inst.configDir.split('/').slice(1);
  if (segs[0] !== 'etc' || segs.length !== 2) {
    out.push({ path: ['install', 'configDir'], message: `${inst.configDir} is not a directory of its own directly under /etc`, fix: `use /etc/${name}: packages ship configuration under /etc, and purge removes the config directory` });
  } else if (reservedDirName(segs[1]!)) {
    out.push({ path: ['install', 'configDir'], message: `${inst.configDir} belongs to the operating system or to another package`, fix: `use /etc/${name}: purge removes the config directory` });
  } else if (!own(segs[1]!) && segs[1] !== inst.stateDir) {
    out.push({ path: ['install', 'configDir'], message: `${inst.configDir} is not the product's own directory`, fix: `use /etc/${name} (or /etc/<stateDir>): purge removes the config directory` });
  }
  if (!inst.envFile.startsWith(`${inst.configDir}/`)) {
    out.push({ path: ['install', 'envFile'], message: `${inst.envFile} is not inside configDir ${inst.configDir}`, fix: `move it under ${inst.configDir}/ (e.g. ${inst.configDir}/${name}.env)` });
  }
  return out;
}

/** What a target would refuse later, decided by the definition alone: checked here so `plan` fails as `build` would. */
function packagingProblems(def: ProductDefinition): PathProblem[] {
  const out: PathProblem[] = [];
  const version = def.product.version;
  const hasOs = (os: string) => def.platforms.some((p) => p.startsWith(`${os}-`));
  if (!validSemver(version)) {
    out.push({ path: ['product', 'version'], message: `"${version}" is not a semantic version`, fix: 'use MAJOR.MINOR.PATCH, e.g. "1.2.3" or "1.2.3-rc.1"' });
  } else if (hasOs('windows')) {
    try {
      msiVersion(parseVersion(version, 'product.version'), 'product.version');
    } catch (err) {
      out.push({ path: ['product', 'version'], message: (err as UserError).message, fix: (err as UserError).hint ?? 'choose a version Windows Installer accepts' });
    }
  }
  if (hasOs('linux')) {
    const licenseFile = def.files.some((f) => /^(LICEN[CS]E|COPYING)([.-][A-Za-z0-9.-]+)?$/i.test(path.posix.basename(f.dest)));
    const lic = def.product.license;
    if (!COMMON_LICENSES[lic] && !EMBEDDED_LICENSES[lic] && !licenseFile) {
      out.push({ path: ['product', 'license'], message: `${lic} has no text in Debian's /usr/share/common-licenses, and no license file is packaged`, fix: `add the license text to files (e.g. { src: LICENSE, dest: share/doc/${def.product.name}/LICENSE }): the deb's copyright file embeds it` });
    }
  }
  if (def.platforms.includes('windows-amd64')) {
    const onWindows = (c: ProductDefinition['components'][number]) => (c.platforms ?? def.platforms).includes('windows-amd64');
    def.components.forEach((c, i) => {
      if (!onWindows(c) || !c.service) return;
      c.service.after.forEach((dep, j) => {
        const d = def.components.find((x) => x.name === dep);
        if (d && !onWindows(d)) {
          out.push({ path: ['components', i, 'service', 'after', j], message: `the Windows service starts after "${dep}", which is not built for windows-amd64`, fix: `add windows-amd64 to ${dep}'s platforms, or remove windows-amd64 from this component's platforms` });
        }
      });
      c.service.args.forEach((arg, j) => {
        if (arg === '') out.push({ path: ['components', i, 'service', 'args', j], message: 'an empty argument cannot be carried by a Windows service\'s argument list', fix: 'remove the empty argument' });
      });
    });
  }
  return out;
}

/** Extra files: the source is a regular file beside the definition; the destination is the product's own and collides with nothing. */
function fileProblems(def: ProductDefinition, baseDir: string): PathProblem[] {
  const out: PathProblem[] = [];
  const name = def.product.name;
  const ownRoots = [`share/doc/${name}/`, `share/${name}/`, `lib/${name}/`, `libexec/${name}/`, 'share/man/'];
  const generated = new Set([`share/doc/${name}/copyright`, `share/doc/${name}/changelog.gz`, `share/doc/${name}/changelog.Debian.gz`]);
  const binaries = new Set(def.components.flatMap((c) => [`bin/${c.binary ?? c.name}`, `bin/${c.binary ?? c.name}.exe`]));
  const dests = new Map<string, number>();
  def.files.forEach((f, i) => {
    const src = path.resolve(baseDir, f.src);
    const st = lstatSync(src, { throwIfNoEntry: false });
    if (!st) out.push({ path: ['files', i, 'src'], message: `${f.src} does not exist (relative to ${baseDir})`, fix: 'fix the path or add the file' });
    else if (!st.isFile()) out.push({ path: ['files', i, 'src'], message: `${f.src} is not a regular file (a ${st.isSymbolicLink() ? 'symbolic link' : st.isDirectory() ? 'directory' : 'special file'})`, fix: 'point src at the file itself: links and devices are never packaged' });
    const dest = f.dest;
    const key = dest.toLowerCase(); // Windows and macOS file systems ignore case
    if (binaries.has(dest) || binaries.has(key)) {
      out.push({ path: ['files', i, 'dest'], message: `${dest} is where a component binary is installed`, fix: 'give the file its own path, e.g. under share/doc/<name>/' });
    } else if (generated.has(dest)) {
      out.push({ path: ['files', i, 'dest'], message: `${dest} is generated by the package itself`, fix: 'choose another file name' });
    } else if (!ownRoots.some((r) => dest.startsWith(r)) || /^share\/man\/(?!man[1-9]\/[^/]+$)/.test(dest)) {
      out.push({ path: ['files', i, 'dest'], message: `${dest} is not in a directory of the product's own`, fix: `install it under ${ownRoots.slice(0, 4).join(', ')} or share/man/manN/: other directories belong to the OS or to other packages` });
    }
    const first = dests.get(key);
    if (first !== undefined) out.push({ path: ['files', i, 'dest'], message: `${dest} is also the destination of files[${first}]`, fix: 'give each file its own destination' });
    else dests.set(key, i);
  });
  // A file's path may not be a folder of another file.
  def.files.forEach((f, i) => {
    const other = def.files.findIndex((g) => g.dest.toLowerCase().startsWith(`${f.dest.toLowerCase()}/`));
    if (other >= 0) out.push({ path: ['files', i, 'dest'], message: `${f.dest} is a folder of files[${other}] (${def.files[other]!.dest})`, fix: 'a path cannot be both a file and a folder: rename one of them' });
  });
  return out;
}

/** Each upstream component's command-line contract, and every service arg the contract refuses. */
function loadContracts(def: ProductDefinition, baseDir: string): { byComponent: Map<string, FlagContract>; problems: PathProblem[] } {
  const byComponent = new Map<string, FlagContract>();
  const problems: PathProblem[] = [];
  def.components.forEach((c, i) => {
    const rel = c.upstream?.contract;
    if (!rel) return;
    let contract: FlagContract;
    try {
      contract = loadContract(contractPath(baseDir, rel));
    } catch (err) {
      if (!(err instanceof ContractFileError)) throw err;
      problems.push({ path: ['components', i, 'upstream', 'contract'], message: err.message, fix: err.fix });
      return;
    }
    byComponent.set(c.name, contract);
    if (contract.version !== c.upstream!.version) {
      problems.push({ path: ['components', i, 'upstream', 'contract'], message: `${rel} is the contract of ${contract.program} ${contract.version}, but upstream.version is ${c.upstream!.version}`, fix: `use the contract of ${contract.program} ${c.upstream!.version} (from its commands reference at that tag)` });
    }
    if (!c.service) return;
    for (const p of checkArgs(contract, c.service.args)) {
      problems.push({ path: ['components', i, 'service', 'args', p.index], message: `${p.message}; contract ${rel}`, fix: p.fix });
    }
  });
  return { byComponent, problems };
}

function findCycle(def: ProductDefinition): string[] | undefined {
  const after = new Map(def.components.map((c) => [c.name, c.service?.after ?? []]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of after.get(n) ?? []) {
      if (!after.has(d)) continue;
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of after.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}
