// Loads a product definition: parse YAML -> validate strictly -> semantic checks -> derive the frozen model.
// Every problem names the file, line, field and the fix; all problems are reported at once.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import validSemver from 'semver/functions/valid.js';
import { LineCounter, parseDocument, isMap, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { DefinitionError, UserError, EXIT, type Problem } from '../errors.ts';
import { productDefinitionSchema, type ProductDefinition } from './schema.ts';
import { deriveProduct, type Product } from './model.ts';

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
  const result = productDefinitionSchema.safeParse(raw);
  if (!result.success) {
    throw new DefinitionError(result.error.issues.map((issue) => issueToProblem(issue, raw, file, at)));
  }
  const def = result.data;
  const problems = semanticProblems(def, file, path.dirname(file)).map((p) => ({ ...p, ...at(p.path), file, field: fieldName(p.path, raw) }));
  if (problems.length > 0) throw new DefinitionError(problems.map(({ path: _p, ...rest }) => rest));
  return deriveProduct(def, path.resolve(file));
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
      return { ...base, ...at(p), message: `${JSON.stringify(valueAt(raw, p))} ${issue.message}`, fix: `change the value: it ${issue.message}` };
  }
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

const PLACEHOLDER = /\{([a-zA-Z]+)(?::([a-z0-9-]+))?\}/g;
const KNOWN_PLACEHOLDERS = ['stateDir', 'logsDir', 'runtimeDir', 'configDir', 'port'];

function semanticProblems(def: ProductDefinition, _file: string, baseDir: string): PathProblem[] {
  const out: PathProblem[] = [];
  if (!validSemver(def.product.version)) {
    out.push({ path: ['product', 'version'], message: `"${def.product.version}" is not a semantic version`, fix: 'use MAJOR.MINOR.PATCH, e.g. "1.2.3" or "1.2.3-rc.1"' });
  }
  if (!def.install.envFile.startsWith('/etc/')) {
    out.push({ path: ['install', 'envFile'], message: `${def.install.envFile} is outside /etc`, fix: 'put the env file under /etc (e.g. /etc/stigmer/stigmer.env); packages may only ship configuration there' });
  }
  if (!def.install.envFile.startsWith(def.install.configDir + '/')) {
    out.push({ path: ['install', 'envFile'], message: `${def.install.envFile} is not inside configDir ${def.install.configDir}`, fix: `move it under ${def.install.configDir}/` });
  }
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
    for (const name of svc.secrets) {
      if (name in svc.env) out.push({ path: ['components', i, 'service', 'secrets'], message: `${name} is both a secret and a default in env`, fix: 'secrets come only from the env file: remove it from env' });
    }
  });
  def.files.forEach((f, i) => {
    if (!existsSync(path.resolve(baseDir, f.src))) out.push({ path: ['files', i, 'src'], message: `${f.src} does not exist (relative to ${baseDir})`, fix: 'fix the path or add the file' });
  });
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
