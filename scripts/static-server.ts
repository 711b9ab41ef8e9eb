/**
 * A plain static file server (node:http + node:fs, nothing else), as a bare static host would
 * serve the built app: files under `root` at `http://127.0.0.1:PORT<prefix>`, no rewriting, no
 * fallback to index.html, and by default none of the headers `vite preview` adds (no COOP/COEP,
 * no CSP header): what the built folder does on such a host is what e2e/deploy.spec.ts and
 * bench/bundle.ts see. `headers` adds response headers, for a host that can set them.
 */
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  server: Server;
  /** e.g. http://127.0.0.1:41234/some/sub/path/ */
  url: string;
  /** Every path requested, in order (without the origin). */
  requests: string[];
  close(): Promise<void>;
}

export async function serveStatic(
  rootDir: string,
  opts: { prefix?: string; port?: number; headers?: Record<string, string> } = {},
): Promise<StaticServer> {
  const root = resolve(rootDir);
  const prefix = (opts.prefix ?? '/').replace(/\/?$/, '/');
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    requests.push(req.url ?? '/');
    for (const [k, v] of Object.entries(opts.headers ?? {})) res.setHeader(k, v);
    if (!path.startsWith(prefix)) {
      res.statusCode = 404;
      res.end('not under the prefix');
      return;
    }
    let file = normalize(join(root, path.slice(prefix.length)));
    if (file !== root && !file.startsWith(root + sep)) {
      res.statusCode = 403;
      res.end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(`Not found: ${path}`);
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream');
    res.setHeader('Content-Length', String(statSync(file).size));
    res.setHeader('Cache-Control', 'no-cache');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(opts.port ?? 0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    url: `http://127.0.0.1:${port}${prefix}`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
