// A static file server on the host's 127.0.0.1 (random port) for e2e tests: serves a repository
// directory to apt/dnf inside an nspawn container (which shares the host's network).
//
//   const srv = await serveDirectory(dir);   // srv.url = "http://127.0.0.1:PORT"
//   srv.root = otherDir;                     // publish something else (next request onwards)
//   srv.requests                             // what was asked for, for assertions and failure messages
//   await srv.listenUnix(sock)               // also serve on a unix socket (Container.exposeHttp forwards to it)
//   await srv.close();
import { createReadStream } from 'node:fs';
import { chmod, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface ServedRequest {
  method: string;
  path: string;
  status: number;
}

export interface StaticServer {
  url: string;
  port: number;
  /** Directory served; may be changed between requests. */
  root: string;
  requests: ServedRequest[];
  /** Also serves on a unix socket (e.g. one bind-mounted into a container with a private network). */
  listenUnix(socketPath: string): Promise<void>;
  close(): Promise<void>;
}

/** Every server not yet closed; containers with a private network forward to each of them (nspawn.ts). */
export const liveServers = new Set<StaticServer>();
type ServerHook = (srv: StaticServer) => Promise<void>;
const startHooks = new Set<ServerHook>();

/** Runs `hook` for every server started from now on; serveDirectory waits for it. Returns an unsubscribe. */
export function onServerStarted(hook: ServerHook): () => void {
  startHooks.add(hook);
  return () => startHooks.delete(hook);
}

const TYPES: Record<string, string> = {
  '.asc': 'text/plain',
  '.deb': 'application/vnd.debian.binary-package',
  '.gpg': 'application/pgp-keys',
  '.gz': 'application/gzip',
  '.json': 'application/json',
  '.rpm': 'application/x-rpm',
  '.xml': 'application/xml',
  '.xz': 'application/x-xz',
  '.zst': 'application/zstd',
};

export async function serveDirectory(root: string): Promise<StaticServer> {
  const state: StaticServer = {
    url: '',
    port: 0,
    root: path.resolve(root),
    requests: [],
    listenUnix: async () => {},
    close: async () => {},
  };
  const handler: http.RequestListener = (req, res) => {
    const done = (status: number) => state.requests.push({ method: req.method ?? '?', path: req.url ?? '', status });
    const fail = (status: number, text: string) => {
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(`${text}\n`);
      done(status);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'method not allowed');
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return fail(400, 'bad path');
    }
    const base = path.resolve(state.root);
    const file = path.resolve(base, `.${rel}`);
    if (file !== base && !file.startsWith(base + path.sep)) return fail(403, 'outside the served directory');
    stat(file).then(
      (st) => {
        if (!st.isFile()) return fail(404, 'not found');
        res.writeHead(200, {
          'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
          'Content-Length': st.size,
          'Last-Modified': st.mtime.toUTCString(),
          'Cache-Control': 'no-store',
        });
        done(200);
        if (req.method === 'HEAD') return res.end();
        // Streamed: packages can be large.
        createReadStream(file)
          .on('error', () => res.destroy())
          .pipe(res);
      },
      () => fail(404, 'not found'),
    );
  };
  const servers: http.Server[] = [];
  /** A TCP port on 127.0.0.1 (0: any free one), or a unix socket path. */
  const listen = (where: { port: number } | { path: string }) => {
    const server = http.createServer(handler);
    servers.push(server);
    return new Promise<http.Server>((resolve, reject) => {
      server.once('error', reject);
      server.listen('port' in where ? { port: where.port, host: '127.0.0.1' } : { path: where.path }, () => resolve(server));
    });
  };
  const { port } = (await listen({ port: 0 })).address() as AddressInfo;
  state.port = port;
  state.url = `http://127.0.0.1:${port}`;
  state.listenUnix = async (socketPath) => {
    await rm(socketPath, { force: true });
    await listen({ path: socketPath });
    // The client side may run as another user (e.g. a proxy inside a container).
    await chmod(socketPath, 0o666);
  };
  state.close = async () => {
    liveServers.delete(state);
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
  };
  liveServers.add(state);
  for (const hook of [...startHooks]) await hook(state);
  return state;
}
