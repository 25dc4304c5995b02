// A static file server on the host's 127.0.0.1 (random port) for e2e tests: serves a repository
// directory to apt/dnf inside an nspawn container (which shares the host's network).
//
//   const srv = await serveDirectory(dir);   // srv.url = "http://127.0.0.1:PORT"
//   srv.root = otherDir;                     // publish something else (next request onwards)
//   srv.requests                             // what was asked for, for assertions and failure messages
//   await srv.close();
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
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
  close(): Promise<void>;
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
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
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
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  state.port = port;
  state.url = `http://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
