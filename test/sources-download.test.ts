// Downloads under network faults, against loopback servers only: every case ends in the right file or a clear
// error, and the cache never holds a corrupt entry.
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ChecksumMismatchError, DownloadCache } from '../src/sources/cache.ts';
import { closeDispatchers, httpOptions, type HttpOptions } from '../src/sources/http.ts';
import { Limiter } from '../src/util/concurrency.ts';
import { progressBoard } from '../src/sources/index.ts';
import type { Reporter } from '../src/util/progress.ts';
import { sendFile, serve } from './helpers/loopback.ts';

const DATA = randomBytes(300_000);
const SHA = createHash('sha256').update(DATA).digest('hex');

afterAll(() => closeDispatchers());

function testHttp(overrides: Partial<HttpOptions> = {}): { http: HttpOptions; delays: number[] } {
  const delays: number[] = [];
  const http = httpOptions({
    connectTimeoutMs: 1000,
    headersTimeoutMs: 1000,
    readTimeoutMs: 300,
    concurrency: 4,
    ...overrides,
    retry: { attempts: 4, baseDelayMs: 10, maxDelayMs: 40, maxRetryAfterMs: 5_000, random: () => 0.5, sleep: async (ms) => void delays.push(ms) },
  });
  return { http, delays };
}

async function tempCache(http: HttpOptions, offline = false, root?: string): Promise<DownloadCache> {
  const dir = root ?? (await mkdtemp(path.join(os.tmpdir(), 'sd-cache-')));
  if (!root) onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return new DownloadCache({ root: dir, offline, http });
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** Nothing in blobs/ and no temp files: a failed download left no trace. */
function expectClean(cache: DownloadCache): void {
  expect(filesUnder(path.join(cache.root, 'blobs'))).toEqual([]);
  expect(filesUnder(path.join(cache.root, 'tmp'))).toEqual([]);
}

describe('downloads under network faults', () => {
  it('resumes with Range after the connection is reset mid-body', async () => {
    let hits = 0;
    const srv = await serve((req, res) => {
      if (++hits === 1) {
        res.writeHead(200, { 'content-length': String(DATA.length) });
        // Give the client time to take the first bytes in (a loaded CI machine is slow), then cut the connection.
        res.write(DATA.subarray(0, 100_000), () => setTimeout(() => res.socket?.destroy(), 300));
        return;
      }
      sendFile(req, res, DATA);
    });
    onTestFinished(() => srv.close());
    const { http } = testHttp();
    const cache = await tempCache(http);
    const got = await cache.fetch({ key: 'url:reset', url: `${srv.origin}/f`, sha256: SHA, label: 'f' });
    expect(got.sha256).toBe(SHA);
    expect(readFileSync(got.path).equals(DATA)).toBe(true);
    expect(srv.requests).toHaveLength(2);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(String(srv.requests[1]!.headers.range))?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(100_000);
  });

  it('retries a 500 and then succeeds', async () => {
    let hits = 0;
    const srv = await serve((req, res) => {
      if (++hits === 1) {
        res.writeHead(500).end('boom');
        return;
      }
      sendFile(req, res, DATA);
    });
    onTestFinished(() => srv.close());
    const { http, delays } = testHttp();
    const got = await (await tempCache(http)).fetch({ key: 'url:500', url: `${srv.origin}/f`, sha256: SHA, label: 'f' });
    expect(got.sha256).toBe(SHA);
    expect(delays).toHaveLength(1);
  });

  it('waits as long as Retry-After says on a 429', async () => {
    let hits = 0;
    const srv = await serve((req, res) => {
      if (++hits === 1) {
        res.writeHead(429, { 'retry-after': '3' }).end();
        return;
      }
      sendFile(req, res, DATA);
    });
    onTestFinished(() => srv.close());
    const { http, delays } = testHttp();
    const got = await (await tempCache(http)).fetch({ key: 'url:429', url: `${srv.origin}/f`, sha256: SHA, label: 'f' });
    expect(got.sha256).toBe(SHA);
    expect(delays).toEqual([3000]);
  });

  it('fails at once, saying when, if Retry-After is longer than it will wait', async () => {
    const srv = await serve((_req, res) => void res.writeHead(503, { 'retry-after': '3600' }).end());
    onTestFinished(() => srv.close());
    const { http, delays } = testHttp();
    const cache = await tempCache(http);
    await expect(cache.fetch({ key: 'url:503', url: `${srv.origin}/f`, sha256: SHA, label: 'slow.tar.gz' })).rejects.toThrow(/slow\.tar\.gz: HTTP 503: the server asks to come back in 3600s/);
    expect(delays).toEqual([]);
    expectClean(cache);
  });

  it('times out a transfer that stalls past the read timeout, then resumes it', async () => {
    let hits = 0;
    const srv = await serve((req, res) => {
      if (++hits === 1) {
        res.writeHead(200, { 'content-length': String(DATA.length) });
        res.write(DATA.subarray(0, 1000)); // then silence
        return;
      }
      sendFile(req, res, DATA);
    });
    onTestFinished(() => srv.close());
    const { http } = testHttp({ readTimeoutMs: 200 });
    const got = await (await tempCache(http)).fetch({ key: 'url:stall', url: `${srv.origin}/f`, sha256: SHA, label: 'f' });
    expect(got.sha256).toBe(SHA);
    expect(srv.requests[1]!.headers.range).toBe('bytes=1000-');
  });

  it('gives up with a clear error on a server that always trickles', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(DATA.length) });
      res.write(DATA.subarray(0, 10));
    });
    onTestFinished(() => srv.close());
    const { http } = testHttp({ readTimeoutMs: 150 });
    http.retry.attempts = 2;
    const cache = await tempCache(http);
    const err = await cache.fetch({ key: 'url:trickle', url: `${srv.origin}/f`, sha256: SHA, label: 'trickle.bin' }).catch((e: Error) => e);
    expect(String(err)).toMatch(/trickle\.bin: transfer stalled \(no data after 150ms\) \(gave up after \d+ tries\)/);
    expectClean(cache);
  });

  it('refuses a body shorter than its Content-Length: retries, then a clear error, nothing cached', async () => {
    const srv = await serve((req, res) => {
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range) {
        res.writeHead(416, { 'content-range': `bytes */${DATA.length}` }).end();
        return;
      }
      res.writeHead(200, { 'content-length': String(DATA.length + 5000) });
      res.write(DATA, () => res.socket?.destroy());
    });
    onTestFinished(() => srv.close());
    const { http } = testHttp();
    const cache = await tempCache(http);
    const err = await cache.fetch({ key: 'url:short', url: `${srv.origin}/f`, sha256: SHA, label: 'short.bin' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String(err)).toMatch(/short\.bin: .*\(gave up after \d+ tries\)/);
    expectClean(cache);
  });

  it('refuses a body longer than its Content-Length (raw socket): checksum mismatch, nothing cached', async () => {
    const server = net.createServer((sock) => {
      sock.once('data', () => {
        sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${DATA.length - 100}\r\nConnection: close\r\n\r\n`);
        sock.end(DATA);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/f`;
    const { http } = testHttp();
    const cache = await tempCache(http);
    const err = await cache.fetch({ key: 'url:long', url, sha256: SHA, label: 'long.bin' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expectClean(cache);
  });

  it('refuses a size that differs from the expected size before downloading it', async () => {
    const srv = await serve((req, res) => sendFile(req, res, DATA));
    onTestFinished(() => srv.close());
    const { http } = testHttp();
    const cache = await tempCache(http);
    await expect(cache.fetch({ key: 'url:size', url: `${srv.origin}/f`, size: DATA.length + 1, label: 'sized.bin' })).rejects.toThrow(
      `sized.bin: the server announces ${DATA.length} bytes but ${DATA.length + 1} were expected`,
    );
    expectClean(cache);
  });

  it('names the URL and both digests when the bytes are corrupted', async () => {
    const bad = Buffer.from(DATA);
    bad[1234] = bad[1234]! ^ 0xff;
    const badSha = createHash('sha256').update(bad).digest('hex');
    const srv = await serve((req, res) => sendFile(req, res, bad));
    onTestFinished(() => srv.close());
    const { http } = testHttp();
    const cache = await tempCache(http);
    const url = `${srv.origin}/temporal.tar.gz`;
    const err = (await cache.fetch({ key: 'url:corrupt', url, sha256: SHA, label: 'temporal' }).catch((e: Error) => e)) as ChecksumMismatchError;
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect(err.message).toBe(`checksum mismatch for ${url}\n    expected sha256 ${SHA}\n    got      sha256 ${badSha}`);
    expectClean(cache);
  });

  it('never sends Authorization to another host after a redirect', async () => {
    const other = await serve((req, res) => sendFile(req, res, DATA), '127.0.0.2');
    onTestFinished(() => other.close());
    const first = await serve((req, res) => {
      if (req.url === '/cross') res.writeHead(302, { location: `${other.origin}/blob` }).end();
      else if (req.url === '/same') res.writeHead(307, { location: '/blob' }).end();
      else sendFile(req, res, DATA);
    });
    onTestFinished(() => first.close());
    const { http } = testHttp();
    const headers = { authorization: 'Bearer ghp_redirect_secret_0123456789' };
    await (await tempCache(http)).fetch({ key: 'url:cross', url: `${first.origin}/cross`, headers, sha256: SHA, label: 'x' });
    expect(first.requests[0]!.headers.authorization).toBe(headers.authorization);
    expect(other.requests).toHaveLength(1);
    expect(other.requests[0]!.headers.authorization).toBeUndefined();
    // A redirect within the same origin keeps it.
    await (await tempCache(http)).fetch({ key: 'url:same', url: `${first.origin}/same`, headers, sha256: SHA, label: 'x' });
    expect(first.requests.filter((r) => r.url === '/blob').map((r) => r.headers.authorization)).toEqual([headers.authorization]);
  });

  it('limits concurrent downloads', async () => {
    let inflight = 0;
    let peak = 0;
    const srv = await serve(async (req, res) => {
      inflight++;
      peak = Math.max(peak, inflight);
      await new Promise((r) => setTimeout(r, 60));
      inflight--;
      sendFile(req, res, Buffer.from(req.url!));
    });
    onTestFinished(() => srv.close());
    const { http } = testHttp({ concurrency: 2 });
    const cache = await tempCache(http);
    const got = await Promise.all(Array.from({ length: 6 }, (_, i) => cache.fetch({ key: `url:c${i}`, url: `${srv.origin}/c${i}`, label: `c${i}` })));
    expect(got.map((g) => readFileSync(g.path, 'utf8'))).toEqual(['/c0', '/c1', '/c2', '/c3', '/c4', '/c5']);
    expect(peak).toBe(2);
    // Limiter on its own: order kept, limit held.
    const l = new Limiter(1);
    const order: number[] = [];
    await Promise.all([3, 1, 2].map((n) => l.run(async () => void order.push(n))));
    expect(order).toEqual([3, 1, 2]);
  });

  it('re-verifies a cache hit and serves --offline from the cache alone', async () => {
    const srv = await serve((req, res) => sendFile(req, res, DATA));
    const { http } = testHttp();
    const online = await tempCache(http);
    const req = { key: 'url:offline', url: `${srv.origin}/f`, sha256: SHA, label: 'temporal 1.28.0' };
    const first = await online.fetch(req);
    await srv.close();
    const offline = new DownloadCache({ root: online.root, offline: true, http });
    expect((await offline.fetch(req)).path).toBe(first.path);
    // An entry known only by its key (no pin) works offline too.
    const keyed = await offline.fetch({ key: 'url:offline', url: req.url, label: 'by key' });
    expect(keyed.sha256).toBe(SHA);
    // A corrupted entry is never served: it is dropped, and offline that is a clear miss.
    writeFileSync(first.path, 'garbage');
    await expect(offline.fetch(req)).rejects.toThrow(/--offline: temporal 1\.28\.0 is not in the cache/);
    expect(existsSync(first.path)).toBe(false);
  });

  it('refuses a download over the size bound', async () => {
    const srv = await serve((req, res) => sendFile(req, res, DATA));
    onTestFinished(() => srv.close());
    const { http } = testHttp();
    const cache = await tempCache(http);
    await expect(cache.fetch({ key: 'url:big', url: `${srv.origin}/f`, label: 'big.bin', maxBytes: 1000 })).rejects.toThrow(/big\.bin: 300000 bytes is over the 1000-byte limit/);
    expectClean(cache);
  });

  it('goes through the proxy named by HTTP_PROXY', async () => {
    const origin = await serve((req, res) => sendFile(req, res, DATA));
    onTestFinished(() => origin.close());
    // A CONNECT proxy that tunnels every host to the loopback file server: no real network, proof of use.
    const tunnels: string[] = [];
    const open = new Set<net.Socket>();
    const proxy = http.createServer((_req, res) => void res.writeHead(405).end());
    proxy.on('connect', (req: http.IncomingMessage, sock: net.Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      open.add(sock);
      const up = net.connect(origin.port, '127.0.0.1', () => {
        sock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(sock);
        sock.pipe(up);
      });
      up.on('error', () => sock.destroy());
      sock.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    onTestFinished(
      () =>
        new Promise<void>((r) => {
          for (const s of open) s.destroy();
          proxy.close(() => r());
        }),
    );
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy, http_proxy: process.env.http_proxy };
    process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    delete process.env.http_proxy;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    onTestFinished(() => {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    });
    // Distinct timeouts: a dispatcher of its own, created now, under this environment.
    const { http: opts } = testHttp({ connectTimeoutMs: 777 });
    const got = await (await tempCache(opts)).fetch({ key: 'url:proxy', url: 'http://downloads.example.invalid/f', sha256: SHA, label: 'proxied' });
    expect(got.sha256).toBe(SHA);
    expect(tunnels).toEqual(['downloads.example.invalid:80']);
  });

  it('draws one progress line for the running downloads', async () => {
    const lines: string[] = [];
    const report: Reporter = { info() {}, warn() {}, progress: (l) => void lines.push(l), done() {} };
    let t = 0;
    const board = progressBoard(report, () => (t += 1000));
    const tick = board.start('stigmer-server_linux_amd64 (o/r@v1)', 2_000_000);
    tick(1_000_000, 2_000_000);
    board.finish('stigmer-server_linux_amd64 (o/r@v1)');
    expect(lines).toContain('downloading stigmer-server_linux_amd64 [#####.....] 50% 1.0/2.0 MB');
  });
});
