// GitHub's published OpenAPI description (@octokit/openapi) as a contract for the stand-in API: find the
// operation of a request, validate its query, path parameters and JSON body, validate each response against
// the documented schema for its status, and make minimal valid sample objects from the schemas.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = { [k: string]: unknown };

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  operationId: string;
  method: string;
  path: string;
  regex: RegExp;
  names: string[];
  parameters: Parameter[];
  requestSchema?: Schema;
  requestTypes: string[];
  responses: Record<string, { schema?: Schema; contentTypes: string[] }>;
}

const require = createRequire(import.meta.url);
const SPEC_FILE = require.resolve('@octokit/openapi/generated/api.github.com.json');

let loaded: { spec: { paths: Record<string, Record<string, Schema>>; components: Record<string, Record<string, Schema>> }; ajv: Ajv; ops: Operation[] } | undefined;

function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#/') ? `gh${x}` : rewriteRefs(x);
    return out;
  }
  return v;
}

function load() {
  if (loaded) return loaded;
  const spec = JSON.parse(readFileSync(SPEC_FILE, 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false, coerceTypes: false });
  (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
  // Every "#/components/..." reference resolves inside one schema document named "gh".
  ajv.addSchema({ $id: 'gh', components: rewriteRefs({ schemas: spec.components.schemas }) });
  const resolve = <T>(x: unknown): T => {
    let cur = x as { $ref?: string };
    while (cur && typeof cur.$ref === 'string') {
      const parts = cur.$ref.replace(/^#\//, '').split('/');
      cur = parts.reduce((o: Record<string, unknown>, k) => o[k] as Record<string, unknown>, spec as Record<string, unknown>) as { $ref?: string };
    }
    return cur as T;
  };
  const ops: Operation[] = [];
  for (const [p, item] of Object.entries(spec.paths as Record<string, Record<string, Schema>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op || typeof op !== 'object' || !('operationId' in op)) continue;
      const names: string[] = [];
      // A git ref ("heads/main") may hold slashes; every other parameter is one segment.
      const pattern = p.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, (_m, name: string) => {
        names.push(name);
        return name === 'ref' ? '(.+)' : '([^/]+)';
      });
      const parameters = ((op.parameters as unknown[]) ?? []).map((x) => resolve<Parameter>(x));
      const body = resolve<{ content?: Record<string, { schema?: Schema }> }>(op.requestBody);
      const responses: Operation['responses'] = {};
      for (const [status, r] of Object.entries((op.responses as Record<string, unknown>) ?? {})) {
        const res = resolve<{ content?: Record<string, { schema?: Schema }> }>(r);
        responses[status] = { schema: res.content?.['application/json']?.schema, contentTypes: Object.keys(res.content ?? {}) };
      }
      ops.push({
        operationId: op.operationId as string,
        method: method.toUpperCase(),
        path: p,
        regex: new RegExp(`^${pattern}$`),
        names,
        parameters,
        requestSchema: body?.content?.['application/json']?.schema,
        requestTypes: Object.keys(body?.content ?? {}),
        responses,
      });
    }
  }
  // Literal paths before templated ones (e.g. /releases/latest before /releases/{release_id}).
  ops.sort((a, b) => a.names.length - b.names.length);
  loaded = { spec, ajv, ops };
  return loaded;
}

const compiled = new Map<unknown, ValidateFunction>();

function validator(schema: Schema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = load().ajv.compile(rewriteRefs(schema) as Schema);
    compiled.set(schema, v);
  }
  return v;
}

function errorsOf(v: ValidateFunction): string {
  return (v.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`)
    .join('; ');
}

export interface Matched {
  op: Operation;
  params: Record<string, string>;
}

/** The documented operation for a method and path, with its decoded path parameters. */
export function matchOperation(method: string, pathname: string): Matched | undefined {
  for (const op of load().ops) {
    if (op.method !== method) continue;
    const m = op.regex.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    op.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
    return { op, params };
  }
  return undefined;
}

function coerce(value: string, schema: Schema | undefined): unknown {
  const type = schema?.type;
  if (type === 'integer' || type === 'number') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

/** Contract problems of a request: unknown query parameters, bad parameter values, a body off schema. */
export function checkRequest(m: Matched, query: URLSearchParams, contentType: string | undefined, body: Buffer): string[] {
  const problems: string[] = [];
  const id = m.op.operationId;
  for (const p of m.op.parameters.filter((x) => x.in === 'path')) {
    const v = validator(p.schema ?? {});
    if (!v(coerce(m.params[p.name] ?? '', p.schema))) problems.push(`${id}: path parameter ${p.name}=${m.params[p.name]}: ${errorsOf(v)}`);
  }
  const known = new Map(m.op.parameters.filter((x) => x.in === 'query').map((p) => [p.name, p]));
  for (const [k, value] of query) {
    const p = known.get(k);
    if (!p) {
      problems.push(`${id}: undocumented query parameter ${k}`);
      continue;
    }
    const v = validator(p.schema ?? {});
    if (!v(coerce(value, p.schema))) problems.push(`${id}: query ${k}=${value}: ${errorsOf(v)}`);
  }
  for (const p of m.op.parameters.filter((x) => x.in === 'query' && x.required)) {
    if (!query.has(p.name)) problems.push(`${id}: required query parameter ${p.name} missing`);
  }
  if (m.op.requestSchema) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8') || 'null');
    } catch {
      problems.push(`${id}: body is not JSON`);
    }
    if (parsed !== undefined) {
      const v = validator(m.op.requestSchema);
      if (!v(parsed)) problems.push(`${id}: request body: ${errorsOf(v)}`);
    }
  } else if (m.op.requestTypes.length && body.length && contentType && !m.op.requestTypes.some((t) => t === '*/*' || contentType.startsWith(t.split(';')[0]!)) && !m.op.requestTypes.includes('application/octet-stream')) {
    problems.push(`${id}: content type ${contentType} is not one of ${m.op.requestTypes.join(', ')}`);
  }
  return problems;
}

/** Contract problems of a response: an undocumented status, or a JSON body off schema. */
export function checkResponse(m: Matched, status: number, body: unknown): string[] {
  const id = m.op.operationId;
  const documented = m.op.responses[String(status)];
  if (!documented) {
    // GitHub answers any operation with these (auth, permission, rate limit); they carry a basic-error.
    if ([401, 403, 404, 422, 429, 500, 502, 503].includes(status)) {
      const v = validator({ $ref: '#/components/schemas/basic-error' });
      return v(body) ? [] : [`${id}: ${status} body: ${errorsOf(v)}`];
    }
    return [`${id}: status ${status} is not documented`];
  }
  if (!documented.schema) return [];
  const v = validator(documented.schema);
  return v(body) ? [] : [`${id}: ${status} response: ${errorsOf(v)}`];
}

/** A minimal instance of a component schema (required fields only), deep-merged with `overrides`. */
export function sample(schemaName: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { spec } = load();
  const deref = (s: Schema): Schema => {
    let cur = s;
    while (typeof cur.$ref === 'string') cur = spec.components.schemas[(cur.$ref as string).split('/').pop()!] as Schema;
    return cur;
  };
  const make = (raw: Schema, depth: number): Json => {
    const s = deref(raw);
    if (s.nullable === true && depth > 0) return null;
    if (Array.isArray(s.allOf)) return Object.assign({}, ...(s.allOf as Schema[]).map((x) => make(x, depth) as object));
    if (Array.isArray(s.anyOf)) return make((s.anyOf as Schema[])[0]!, depth);
    if (Array.isArray(s.oneOf)) return make((s.oneOf as Schema[])[0]!, depth);
    if (Array.isArray(s.enum)) return s.enum[0] as Json;
    switch (s.type) {
      case 'object': {
        const props = (s.properties ?? {}) as Record<string, Schema>;
        const out: Record<string, Json> = {};
        for (const k of (s.required as string[]) ?? []) out[k] = props[k] ? make(props[k]!, depth + 1) : 'x';
        return out;
      }
      case 'array':
        return [];
      case 'integer':
      case 'number':
        return 1;
      case 'boolean':
        return false;
      case 'string':
        if (s.format === 'date-time') return '2026-01-01T00:00:00Z';
        if (s.format === 'uri' || s.format === 'uri-template') return 'https://example.invalid/x';
        if (s.format === 'email') return 'x@example.invalid';
        return 'x';
      default:
        return s.properties ? make({ ...s, type: 'object' }, depth) : null;
    }
  };
  const merge = (a: unknown, b: unknown): unknown => {
    if (b && typeof b === 'object' && !Array.isArray(b) && a && typeof a === 'object' && !Array.isArray(a)) {
      const out: Record<string, unknown> = { ...(a as object) };
      for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
      return out;
    }
    return b === undefined ? a : b;
  };
  return merge(make({ $ref: `#/components/schemas/${schemaName}` }, 0), overrides) as Record<string, unknown>;
}
