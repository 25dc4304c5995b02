// A stand-in GitHub REST API on loopback for the operations stigmer-dist uses. Every request is matched to its
// operation in GitHub's published OpenAPI description and checked against it (parameters, JSON body), and
// every answer is validated against the documented response schema: contract problems are collected in
// `violations`, which the tests expect to stay empty. The API runs on 127.0.0.1; uploads and asset storage run
// on 127.0.0.2 (another host, like uploads.github.com and the storage GitHub redirects downloads to).
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { checkRequest, checkResponse, matchOperation, sample } from './openapi.ts';
import { sendFile, serve, type Loopback } from './loopback.ts';

type Perm = 'write' | 'read';

interface Asset {
  id: number;
  name: string;
  label: string | null;
  state: 'uploaded' | 'open';
  contentType: string;
  data: Buffer;
  updatedAt: string;
}

interface Release {
  id: number;
  tag: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  assets: Asset[];
}

interface Pull {
  number: number;
  title: string;
  body: string;
  head: string; // owner:branch
  base: string;
  state: 'open' | 'closed';
}

interface Repo {
  owner: string;
  name: string;
  defaultBranch: string;
  refs: Map<string, string>; // "heads/main" -> commit sha
  releases: Release[];
  pulls: Pull[];
  forkOf?: string;
}

type GitObject =
  | { type: 'blob'; content: Buffer }
  | { type: 'tree'; entries: Map<string, string> } // path -> blob sha (flat, full paths)
  | { type: 'commit'; tree: string; parents: string[]; message: string };

export interface LoggedCall {
  host: string;
  method: string;
  path: string;
  operation?: string;
  status: number;
  authorization?: string;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The request's Authorization header as an error body repeats it. */
export function echoAuthorization(req: http.IncomingMessage): string {
  return ` (request sent Authorization: ${req.headers.authorization ?? 'none'})`;
}

const sha1 = (s: string | Buffer) => createHash('sha1').update(s).digest('hex');

export class GithubStandin {
  api!: Loopback;
  storage!: Loopback;
  readonly violations: string[] = [];
  readonly calls: LoggedCall[] = [];
  readonly repos = new Map<string, Repo>();
  readonly objects = new Map<string, GitObject>();
  /** Asset name -> how many more uploads of it are cut off half-way (the asset is left "open"). */
  readonly cutUploads = new Map<string, number>();
  /** Operation id -> answers to give before the real one (a flaky or rate-limiting API). */
  readonly failNext = new Map<string, { status: number; headers?: Record<string, string> }[]>();
  /** Release assets carry "digest" (newer API versions) or null (older ones). */
  digests = true;
  private nextId = 100;
  private clock = 0;
  private readonly tokens: Record<string, Perm>;

  private constructor(tokens: Record<string, Perm>) {
    this.tokens = tokens;
  }

  static async start(tokens: Record<string, Perm> = {}): Promise<GithubStandin> {
    const s = new GithubStandin(tokens);
    s.api = await serve((req, res, body) => s.handle('api', req, res, body));
    s.storage = await serve((req, res) => s.handleStorage(req, res), '127.0.0.2', { readBody: false });
    return s;
  }

  async close(): Promise<void> {
    await Promise.all([this.api.close(), this.storage.close()]);
  }

  get apiBase(): string {
    return this.api.origin;
  }

  private now(): string {
    return new Date(Date.UTC(2026, 0, 1, 0, 0, this.clock++)).toISOString().replace('.000Z', 'Z');
  }

  // ---- state set-up and inspection -------------------------------------------------------------------------

  addRepo(full: string, opts: { defaultBranch?: string; files?: Record<string, string>; forkOf?: string } = {}): Repo {
    const [owner, name] = full.split('/') as [string, string];
    const branch = opts.defaultBranch ?? 'main';
    const repo: Repo = { owner, name, defaultBranch: branch, refs: new Map(), releases: [], pulls: [], forkOf: opts.forkOf };
    if (opts.forkOf) {
      const up = this.repo(opts.forkOf);
      for (const [k, v] of up.refs) repo.refs.set(k, v);
      repo.defaultBranch = up.defaultBranch;
    } else {
      const tree = this.putTree(new Map(Object.entries(opts.files ?? {}).map(([p, c]) => [p, this.putBlob(Buffer.from(c))])));
      repo.refs.set(`heads/${branch}`, this.putCommit(tree, [], 'initial commit'));
    }
    this.repos.set(full, repo);
    return repo;
  }

  repo(full: string): Repo {
    const r = this.repos.get(full);
    if (!r) throw new Error(`stand-in: no repo ${full}`);
    return r;
  }

  /** Adds a published release with assets (for the payload source tests). */
  addRelease(full: string, tag: string, assets: Record<string, Buffer>, opts: { draft?: boolean } = {}): Release {
    const release: Release = { id: this.nextId++, tag, name: tag, body: '', draft: Boolean(opts.draft), prerelease: false, assets: [] };
    for (const [name, data] of Object.entries(assets)) release.assets.push({ id: this.nextId++, name, label: null, state: 'uploaded', contentType: 'application/octet-stream', data, updatedAt: this.now() });
    this.repo(full).releases.push(release);
    return release;
  }

  /** What a publisher killed mid-upload leaves behind: an asset that never reached "uploaded". */
  leaveBrokenUpload(full: string, tag: string, name: string): void {
    const rel = this.repo(full).releases.find((r) => r.tag === tag)!;
    rel.assets.push({ id: this.nextId++, name, label: null, state: 'open', contentType: 'application/octet-stream', data: Buffer.from('partial'), updatedAt: this.now() });
  }

  /** The files on a branch: path -> content. */
  files(full: string, branch?: string): Record<string, string> {
    const repo = this.repo(full);
    const commit = this.objects.get(repo.refs.get(`heads/${branch ?? repo.defaultBranch}`)!) as Extract<GitObject, { type: 'commit' }>;
    const tree = this.objects.get(commit.tree) as Extract<GitObject, { type: 'tree' }>;
    return Object.fromEntries([...tree.entries].map(([p, s]) => [p, (this.objects.get(s) as Extract<GitObject, { type: 'blob' }>).content.toString('utf8')]));
  }

  commitCount(full: string, branch?: string): number {
    const repo = this.repo(full);
    let n = 0;
    for (let c = repo.refs.get(`heads/${branch ?? repo.defaultBranch}`); c; c = (this.objects.get(c) as Extract<GitObject, { type: 'commit' }>).parents[0]) n++;
    return n;
  }

  writes(): LoggedCall[] {
    return this.calls.filter((c) => c.method !== 'GET');
  }

  // ---- git objects -------------------------------------------------------------------------------------------

  private putBlob(content: Buffer): string {
    const sha = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
    this.objects.set(sha, { type: 'blob', content });
    return sha;
  }

  private putTree(entries: Map<string, string>): string {
    const sorted = new Map([...entries].sort(([a], [b]) => (a < b ? -1 : 1)));
    const sha = sha1(`tree ${JSON.stringify([...sorted])}`);
    this.objects.set(sha, { type: 'tree', entries: sorted });
    return sha;
  }

  private putCommit(tree: string, parents: string[], message: string): string {
    const sha = sha1(`commit ${JSON.stringify({ tree, parents, message })}`);
    this.objects.set(sha, { type: 'commit', tree, parents, message });
    return sha;
  }

  private isAncestor(ancestor: string, of: string): boolean {
    const seen = new Set<string>();
    const stack = [of];
    while (stack.length) {
      const c = stack.pop()!;
      if (c === ancestor) return true;
      if (seen.has(c)) continue;
      seen.add(c);
      const o = this.objects.get(c);
      if (o?.type === 'commit') stack.push(...o.parents);
    }
    return false;
  }

  // ---- JSON shapes (schema samples + our fields) ---------------------------------------------------------------

  private repoUrl(r: Repo): string {
    return `${this.api.origin}/repos/${r.owner}/${r.name}`;
  }

  private assetJson(r: Repo, a: Asset): Record<string, unknown> {
    return sample('release-asset', {
      url: `${this.repoUrl(r)}/releases/assets/${a.id}`,
      browser_download_url: `${this.storage.origin}/storage/${a.id}`,
      id: a.id,
      node_id: `RA_${a.id}`,
      name: a.name,
      label: a.label,
      state: a.state,
      content_type: a.contentType,
      size: a.data.length,
      digest: this.digests && a.state === 'uploaded' ? `sha256:${createHash('sha256').update(a.data).digest('hex')}` : null,
      download_count: 0,
      created_at: a.updatedAt,
      updated_at: a.updatedAt,
      uploader: null,
    });
  }

  private releaseJson(r: Repo, rel: Release): Record<string, unknown> {
    const url = `${this.repoUrl(r)}/releases/${rel.id}`;
    return sample('release', {
      url,
      html_url: `https://github.invalid/${r.owner}/${r.name}/releases/tag/${rel.tag}`,
      assets_url: `${url}/assets`,
      upload_url: `${this.storage.origin}/repos/${r.owner}/${r.name}/releases/${rel.id}/assets{?name,label}`,
      tarball_url: null,
      zipball_url: null,
      id: rel.id,
      node_id: `RE_${rel.id}`,
      tag_name: rel.tag,
      target_commitish: r.defaultBranch,
      name: rel.name,
      body: rel.body,
      draft: rel.draft,
      prerelease: rel.prerelease,
      created_at: '2026-01-01T00:00:00Z',
      published_at: rel.draft ? null : '2026-01-01T00:00:00Z',
      assets: rel.assets.map((a) => this.assetJson(r, a)),
    });
  }

  private refJson(r: Repo, ref: string, sha: string): Record<string, unknown> {
    return { ref: `refs/${ref}`, node_id: `REF_${sha.slice(0, 8)}`, url: `${this.repoUrl(r)}/git/refs/${ref}`, object: { type: 'commit', sha, url: `${this.repoUrl(r)}/git/commits/${sha}` } };
  }

  private commitJson(r: Repo, sha: string): Record<string, unknown> {
    const c = this.objects.get(sha) as Extract<GitObject, { type: 'commit' }>;
    const who = { name: 'stand-in', email: 'stand-in@example.invalid', date: '2026-01-01T00:00:00Z' };
    return sample('git-commit', {
      sha,
      node_id: `C_${sha.slice(0, 8)}`,
      url: `${this.repoUrl(r)}/git/commits/${sha}`,
      html_url: `https://github.invalid/${r.owner}/${r.name}/commit/${sha}`,
      author: who,
      committer: who,
      message: c.message,
      tree: { sha: c.tree, url: `${this.repoUrl(r)}/git/trees/${c.tree}` },
      parents: c.parents.map((p) => ({ sha: p, url: `${this.repoUrl(r)}/git/commits/${p}`, html_url: `https://github.invalid/${r.owner}/${r.name}/commit/${p}` })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    });
  }

  private treeJson(r: Repo, sha: string, recursive: boolean): Record<string, unknown> {
    const t = this.objects.get(sha) as Extract<GitObject, { type: 'tree' }>;
    const entries: Record<string, unknown>[] = [];
    const dirs = new Set<string>();
    for (const [p, blob] of t.entries) {
      const parts = p.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
      if (recursive || parts.length === 1) entries.push({ path: p, mode: '100644', type: 'blob', sha: blob, size: (this.objects.get(blob) as { content: Buffer }).content.length, url: `${this.repoUrl(r)}/git/blobs/${blob}` });
    }
    for (const d of dirs) if (recursive || !d.includes('/')) entries.push({ path: d, mode: '040000', type: 'tree', sha: sha1(`dir ${sha} ${d}`), url: `${this.repoUrl(r)}/git/trees/x` });
    entries.sort((a, b) => ((a.path as string) < (b.path as string) ? -1 : 1));
    return { sha, url: `${this.repoUrl(r)}/git/trees/${sha}`, truncated: false, tree: entries };
  }

  private repoJson(r: Repo, perm?: Perm): Record<string, unknown> {
    const owner = sample('simple-user', { login: r.owner, id: 1, type: 'User' });
    return sample('full-repository', {
      id: 1,
      node_id: `R_${r.owner}_${r.name}`,
      name: r.name,
      full_name: `${r.owner}/${r.name}`,
      owner,
      private: false,
      fork: Boolean(r.forkOf),
      default_branch: r.defaultBranch,
      url: this.repoUrl(r),
      html_url: `https://github.invalid/${r.owner}/${r.name}`,
      ...(perm ? { permissions: { admin: false, maintain: false, push: perm === 'write', triage: perm === 'write', pull: true } } : {}),
    });
  }

  private pullJson(r: Repo, p: Pull, simple: boolean): Record<string, unknown> {
    const [headOwner, headRef] = p.head.split(':') as [string, string];
    const headRepo = this.repos.get(`${headOwner}/${r.name}`) ?? [...this.repos.values()].find((x) => x.owner === headOwner && x.forkOf === `${r.owner}/${r.name}`) ?? r;
    const repoShape = (x: Repo) => sample('repository', { id: 1, node_id: `R_${x.owner}`, name: x.name, full_name: `${x.owner}/${x.name}`, owner: sample('simple-user', { login: x.owner }), default_branch: x.defaultBranch });
    const side = (label: string, ref: string, repo: Repo) => ({ label, ref, sha: repo.refs.get(`heads/${ref}`) ?? '0'.repeat(40), repo: repoShape(repo), user: sample('simple-user', { login: repo.owner }) });
    return sample(simple ? 'pull-request-simple' : 'pull-request', {
      url: `${this.repoUrl(r)}/pulls/${p.number}`,
      id: p.number,
      node_id: `PR_${p.number}`,
      html_url: `https://github.invalid/${r.owner}/${r.name}/pull/${p.number}`,
      number: p.number,
      state: p.state,
      title: p.title,
      body: p.body,
      head: side(p.head, headRef, headRepo),
      base: side(`${r.owner}:${p.base}`, p.base, r),
    });
  }

  // ---- request handling --------------------------------------------------------------------------------------

  private perm(req: http.IncomingMessage): Perm | 'anonymous' | 'bad' {
    const auth = req.headers.authorization;
    if (!auth) return 'anonymous';
    const token = auth.replace(/^(token|bearer)\s+/i, '');
    return this.tokens[token] ?? 'bad';
  }

  private error(status: number, message: string, headers: Record<string, string> = {}): Answer {
    return { status, body: { message, documentation_url: 'https://docs.github.com/rest' }, headers };
  }

  private async handle(host: 'api' | 'uploads', req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const m = matchOperation(method, url.pathname);
    const call: LoggedCall = { host, method, path: url.pathname + url.search, operation: m?.op.operationId, status: 0, authorization: req.headers.authorization };
    this.calls.push(call);
    if (!m) {
      this.violations.push(`${method} ${url.pathname}: no such operation in GitHub's OpenAPI description`);
      call.status = 404;
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `Not Found${echoAuthorization(req)}` }));
      return;
    }
    const isUpload = m.op.operationId === 'repos/upload-release-asset';
    if (isUpload !== (host === 'uploads')) this.violations.push(`${m.op.operationId} sent to the ${host} host`);
    this.violations.push(...checkRequest(m, url.searchParams, req.headers['content-type'], isUpload ? Buffer.alloc(0) : body));
    const perm = this.perm(req);
    let answer: Answer;
    const injected = this.failNext.get(m.op.operationId)?.shift();
    if (injected) answer = this.error(injected.status, injected.status === 429 || injected.status === 403 ? 'API rate limit exceeded' : 'Server Error', injected.headers);
    else if (perm === 'bad') answer = this.error(401, 'Bad credentials');
    else if (method !== 'GET' && perm === 'anonymous') answer = this.error(401, 'Requires authentication');
    else if (method !== 'GET' && perm === 'read') {
      answer = this.error(403, 'Resource not accessible by personal access token', { 'x-accepted-github-permissions': m.op.operationId.startsWith('pulls/') ? 'pull_requests=write' : 'contents=write' });
    } else {
      answer = this.route(m.op.operationId, m.params, url.searchParams, req, isUpload ? body : body.length ? JSON.parse(body.toString('utf8')) : undefined, perm);
    }
    call.status = answer.status;
    // Like a careless proxy or API: every error body repeats the credentials it was sent (the token tests).
    const errorBody = answer.body as { message?: unknown } | undefined;
    if (answer.status >= 400 && errorBody && typeof errorBody.message === 'string') errorBody.message += echoAuthorization(req);
    if (answer.status !== 302 && answer.status !== 204) this.violations.push(...checkResponse(m, answer.status, answer.body ?? null));
    res.writeHead(answer.status, { ...(answer.body !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...answer.headers });
    res.end(answer.body !== undefined ? JSON.stringify(answer.body) : undefined);
  }

  private async handleStorage(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const dl = /^\/storage\/(\d+)$/.exec(url.pathname);
    if (dl) {
      this.calls.push({ host: 'storage', method: req.method ?? 'GET', path: url.pathname, status: 200, authorization: req.headers.authorization });
      const asset = this.findAsset(Number(dl[1]));
      if (!asset) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `Not Found${echoAuthorization(req)}` }));
        return;
      }
      req.resume();
      sendFile(req, res, asset.asset.data);
      return;
    }
    // Uploads: read the body here, so an upload can be cut off half-way.
    const upload = /^\/repos\/([^/]+)\/([^/]+)\/releases\/(\d+)\/assets$/.exec(url.pathname);
    const name = url.searchParams.get('name') ?? '';
    const cuts = this.cutUploads.get(name) ?? 0;
    if (upload && req.method === 'POST' && cuts > 0 && this.perm(req) === 'write') {
      this.cutUploads.set(name, cuts - 1);
      const rel = this.repos.get(`${upload[1]}/${upload[2]}`)?.releases.find((r) => r.id === Number(upload[3]));
      if (rel && !rel.assets.some((a) => a.name === name)) {
        // GitHub keeps the half-uploaded asset around (not "uploaded") until it is deleted.
        rel.assets.push({ id: this.nextId++, name, label: null, state: 'open', contentType: String(req.headers['content-type']), data: Buffer.alloc(0), updatedAt: this.now() });
      }
      this.calls.push({ host: 'uploads', method: 'POST', path: url.pathname + url.search, operation: 'repos/upload-release-asset', status: 0, authorization: req.headers.authorization });
      let seen = 0;
      req.on('data', (c: Buffer) => {
        seen += c.length;
        if (seen > 100) req.socket.destroy();
      });
      req.on('end', () => req.socket.destroy());
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    await this.handle('uploads', req, res, Buffer.concat(chunks));
  }

  private findAsset(id: number): { repo: Repo; release: Release; asset: Asset } | undefined {
    for (const repo of this.repos.values()) for (const release of repo.releases) for (const asset of release.assets) if (asset.id === id) return { repo, release, asset };
    return undefined;
  }

  private page<T>(items: T[], query: URLSearchParams, base: string): { items: T[]; headers: Record<string, string> } {
    const per = Number(query.get('per_page') ?? 30);
    const page = Number(query.get('page') ?? 1);
    const out = items.slice((page - 1) * per, page * per);
    const headers: Record<string, string> = {};
    if (page * per < items.length) {
      const next = new URLSearchParams(query);
      next.set('page', String(page + 1));
      headers.link = `<${base}?${next}>; rel="next"`;
    }
    return { items: out, headers };
  }

  private route(op: string, p: Record<string, string>, query: URLSearchParams, req: http.IncomingMessage, body: unknown, perm: Perm | 'anonymous'): Answer {
    const repo = this.repos.get(`${p.owner}/${p.repo}`);
    if (!repo) return this.error(404, 'Not Found');
    const b = (body ?? {}) as Record<string, unknown>;
    const canPush = perm === 'write';
    switch (op) {
      case 'repos/get':
        return { status: 200, body: this.repoJson(repo, perm === 'anonymous' ? undefined : perm) };
      case 'repos/list-releases': {
        const visible = repo.releases.filter((r) => canPush || !r.draft).slice().reverse();
        const { items, headers } = this.page(visible, query, `${this.repoUrl(repo)}/releases`);
        return { status: 200, body: items.map((r) => this.releaseJson(repo, r)), headers };
      }
      case 'repos/get-release-by-tag': {
        const rel = repo.releases.find((r) => r.tag === p.tag && !r.draft);
        return rel ? { status: 200, body: this.releaseJson(repo, rel) } : this.error(404, 'Not Found');
      }
      case 'repos/create-release': {
        if (repo.releases.some((r) => r.tag === b.tag_name)) {
          return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }], documentation_url: 'https://docs.github.com/rest' } };
        }
        const rel: Release = { id: this.nextId++, tag: String(b.tag_name), name: String(b.name ?? b.tag_name), body: String(b.body ?? ''), draft: Boolean(b.draft), prerelease: Boolean(b.prerelease), assets: [] };
        repo.releases.push(rel);
        return { status: 201, body: this.releaseJson(repo, rel) };
      }
      case 'repos/update-release': {
        const rel = repo.releases.find((r) => r.id === Number(p.release_id));
        if (!rel) return this.error(404, 'Not Found');
        if (typeof b.body === 'string') rel.body = b.body;
        if (typeof b.name === 'string') rel.name = b.name;
        if (typeof b.draft === 'boolean') rel.draft = b.draft;
        if (typeof b.prerelease === 'boolean') rel.prerelease = b.prerelease;
        return { status: 200, body: this.releaseJson(repo, rel) };
      }
      case 'repos/list-release-assets': {
        const rel = repo.releases.find((r) => r.id === Number(p.release_id));
        if (!rel || (rel.draft && !canPush)) return this.error(404, 'Not Found');
        const { items, headers } = this.page(rel.assets, query, `${this.repoUrl(repo)}/releases/${rel.id}/assets`);
        return { status: 200, body: items.map((a) => this.assetJson(repo, a)), headers };
      }
      case 'repos/get-release-asset': {
        const found = this.findAsset(Number(p.asset_id));
        if (!found || found.repo !== repo) return this.error(404, 'Not Found');
        if (req.headers.accept === 'application/octet-stream') return { status: 302, headers: { location: `${this.storage.origin}/storage/${found.asset.id}?X-Signature=stand-in` } };
        return { status: 200, body: this.assetJson(repo, found.asset) };
      }
      case 'repos/delete-release-asset': {
        for (const rel of repo.releases) {
          const i = rel.assets.findIndex((a) => a.id === Number(p.asset_id));
          if (i >= 0) {
            rel.assets.splice(i, 1);
            return { status: 204 };
          }
        }
        return this.error(404, 'Not Found');
      }
      case 'repos/upload-release-asset': {
        const rel = repo.releases.find((r) => r.id === Number(p.release_id));
        if (!rel) return this.error(404, 'Not Found');
        const name = query.get('name') ?? '';
        const data = body as Buffer;
        if (!req.headers['content-length']) this.violations.push(`upload of ${name} without Content-Length`);
        else if (Number(req.headers['content-length']) !== data.length) this.violations.push(`upload of ${name}: Content-Length ${req.headers['content-length']} but ${data.length} bytes`);
        if (rel.assets.some((a) => a.name === name)) {
          return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }], documentation_url: 'https://docs.github.com/rest' } };
        }
        const asset: Asset = { id: this.nextId++, name, label: query.get('label'), state: 'uploaded', contentType: String(req.headers['content-type'] ?? 'application/octet-stream'), data, updatedAt: this.now() };
        rel.assets.push(asset);
        return { status: 201, body: this.assetJson(repo, asset) };
      }
      case 'git/get-ref': {
        const sha = repo.refs.get(p.ref!);
        return sha ? { status: 200, body: this.refJson(repo, p.ref!, sha) } : this.error(404, 'Not Found');
      }
      case 'git/create-ref': {
        const ref = String(b.ref).replace(/^refs\//, '');
        if (repo.refs.has(ref)) return { status: 422, body: { message: 'Reference already exists', documentation_url: 'https://docs.github.com/rest' } };
        if (!this.objects.has(String(b.sha))) return { status: 422, body: { message: 'Object does not exist', documentation_url: 'https://docs.github.com/rest' } };
        repo.refs.set(ref, String(b.sha));
        return { status: 201, body: this.refJson(repo, ref, String(b.sha)) };
      }
      case 'git/update-ref': {
        const old = repo.refs.get(p.ref!);
        if (!old) return this.error(422, 'Reference does not exist');
        if (!b.force && !this.isAncestor(old, String(b.sha))) return { status: 422, body: { message: 'Update is not a fast forward', documentation_url: 'https://docs.github.com/rest' } };
        repo.refs.set(p.ref!, String(b.sha));
        return { status: 200, body: this.refJson(repo, p.ref!, String(b.sha)) };
      }
      case 'git/get-commit': {
        const o = this.objects.get(p.commit_sha!);
        return o?.type === 'commit' ? { status: 200, body: this.commitJson(repo, p.commit_sha!) } : this.error(404, 'Not Found');
      }
      case 'git/create-commit': {
        const tree = String(b.tree);
        const parents = (b.parents as string[]) ?? [];
        if (this.objects.get(tree)?.type !== 'tree' || parents.some((x) => this.objects.get(x)?.type !== 'commit')) return { status: 422, body: { message: 'Tree or parent does not exist', documentation_url: 'https://docs.github.com/rest' } };
        return { status: 201, body: this.commitJson(repo, this.putCommit(tree, parents, String(b.message))) };
      }
      case 'git/get-tree': {
        const o = this.objects.get(p.tree_sha!);
        return o?.type === 'tree' ? { status: 200, body: this.treeJson(repo, p.tree_sha!, query.has('recursive')) } : this.error(404, 'Not Found');
      }
      case 'git/create-tree': {
        const base = b.base_tree ? this.objects.get(String(b.base_tree)) : undefined;
        if (b.base_tree && base?.type !== 'tree') return { status: 422, body: { message: 'base_tree does not exist', documentation_url: 'https://docs.github.com/rest' } };
        const entries = new Map(base?.type === 'tree' ? base.entries : []);
        for (const e of (b.tree as { path: string; sha?: string | null; content?: string }[]) ?? []) {
          if (e.sha === null) entries.delete(e.path);
          else if (e.content !== undefined) entries.set(e.path, this.putBlob(Buffer.from(e.content)));
          else if (this.objects.get(String(e.sha))?.type === 'blob') entries.set(e.path, String(e.sha));
          else return { status: 422, body: { message: `blob ${e.sha} does not exist`, documentation_url: 'https://docs.github.com/rest' } };
        }
        const sha = this.putTree(entries);
        return { status: 201, body: this.treeJson(repo, sha, true) };
      }
      case 'git/create-blob': {
        const content = b.encoding === 'base64' ? Buffer.from(String(b.content), 'base64') : Buffer.from(String(b.content));
        const sha = this.putBlob(content);
        return { status: 201, body: { sha, url: `${this.repoUrl(repo)}/git/blobs/${sha}` } };
      }
      case 'pulls/list': {
        const open = repo.pulls.filter((x) => (query.get('state') ?? 'open') === 'all' || x.state === (query.get('state') ?? 'open'));
        const matching = open.filter((x) => (!query.get('head') || x.head === query.get('head')) && (!query.get('base') || x.base === query.get('base')));
        return { status: 200, body: matching.map((x) => this.pullJson(repo, x, true)) };
      }
      case 'pulls/create': {
        const head = String(b.head);
        const [headOwner, headRef] = head.includes(':') ? (head.split(':') as [string, string]) : [repo.owner, head];
        const headRepo = headOwner === repo.owner ? repo : [...this.repos.values()].find((x) => x.owner === headOwner && x.forkOf === `${repo.owner}/${repo.name}`);
        if (!headRepo?.refs.has(`heads/${headRef}`)) return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'invalid', field: 'head' }], documentation_url: 'https://docs.github.com/rest' } };
        const full = `${headOwner}:${headRef}`;
        if (repo.pulls.some((x) => x.state === 'open' && x.head === full && x.base === b.base)) {
          return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${full}.` }], documentation_url: 'https://docs.github.com/rest' } };
        }
        const pr: Pull = { number: repo.pulls.length + 1, title: String(b.title), body: String(b.body ?? ''), head: full, base: String(b.base), state: 'open' };
        repo.pulls.push(pr);
        return { status: 201, body: this.pullJson(repo, pr, false) };
      }
      default:
        this.violations.push(`stand-in does not implement ${op}`);
        return this.error(404, 'Not Found');
    }
  }
}
