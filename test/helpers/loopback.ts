// Loopback HTTP servers for tests: one per host address (127.0.0.1 and 127.0.0.2 are two hosts on Linux), a
// request log with headers, and Range support for serving a file body.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface LoggedRequest {
  method: string;
  url: string;
  host: string;
  headers: http.IncomingHttpHeaders;
}

export interface Loopback {
  origin: string;
  host: string;
  port: number;
  requests: LoggedRequest[];
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void | Promise<void>;

/** Starts a server on `host` (default 127.0.0.1); the handler gets the whole request body. */
export async function serve(handler: Handler, host = '127.0.0.1', opts: { readBody?: boolean } = {}): Promise<Loopback> {
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', host, headers: req.headers });
    if (opts.readBody === false) {
      Promise.resolve(handler(req, res, Buffer.alloc(0))).catch((err) => {
        res.destroy(err as Error);
      });
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Promise.resolve(handler(req, res, Buffer.concat(chunks))).catch((err) => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end(String((err as Error).stack ?? err));
        } else res.destroy(err as Error);
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://${host}:${port}`,
    host,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers with `data`, honouring a "Range: bytes=N-" request (206) like a static file server. */
export function sendFile(req: http.IncomingMessage, res: http.ServerResponse, data: Buffer, extra: Record<string, string> = {}): void {
  const etag = `"${data.length}-${data.subarray(0, 8).toString('hex')}"`;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  if (range && (!ifRange || ifRange === etag)) {
    const start = Number(range[1]);
    if (start >= data.length) {
      res.writeHead(416, { 'content-range': `bytes */${data.length}` });
      res.end();
      return;
    }
    res.writeHead(206, { 'content-length': String(data.length - start), 'content-range': `bytes ${start}-${data.length - 1}/${data.length}`, etag, 'accept-ranges': 'bytes', ...extra });
    res.end(data.subarray(start));
    return;
  }
  res.writeHead(200, { 'content-length': String(data.length), etag, 'accept-ranges': 'bytes', ...extra });
  res.end(data);
}
