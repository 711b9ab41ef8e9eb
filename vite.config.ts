/// <reference types="vitest/config" />
import { defineConfig, type Plugin, type Connect } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createReadStream, existsSync, statSync, cpSync } from 'node:fs';
import { resolve, join, normalize, sep, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cspHeader, cspMeta } from './scripts/csp.ts';
import { offlineApp, ISOLATION_HEADERS } from './scripts/offline.ts';
import { wasmThreadsScript } from './scripts/wasm-threads.ts';
import { sharedWorkerChunks } from './scripts/shared-workers.ts';
import { leanTfjs } from './scripts/lean-tfjs.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
const modelsDir = resolve(root, 'models');

const MIME: Record<string, string> = {
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves the repository's top-level `models/` folder at `/models/` in dev and preview,
 * and copies it into the build output, so bundled demo models load by URL everywhere.
 */
function bundledModels(): Plugin {
  let outDir = resolve(root, 'dist');
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const url = req.url ? decodeURIComponent(req.url.split('?')[0]) : '';
    if (!url.startsWith('/models/')) return next();
    const file = normalize(join(modelsDir, url.slice('/models/'.length)));
    if (!file.startsWith(modelsDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(`Not found: ${url}`);
      return;
    }
    const size = statSync(file).size;
    res.statusCode = 200;
    res.setHeader('Content-Type', MIME[extname(file).toLowerCase()] ?? 'application/octet-stream');
    res.setHeader('Content-Length', String(size));
    res.setHeader('Cache-Control', 'no-cache');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  };
  return {
    name: 'amc-bundled-models',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
    writeBundle() {
      if (existsSync(modelsDir)) cpSync(modelsDir, join(outDir, 'models'), { recursive: true });
    },
  };
}

/**
 * The Content-Security-Policy (scripts/csp.ts says what each source is for): a <meta> in the built
 * index.html (build only, so the dev server's HMR keeps working), and the same policy as a header
 * on every `vite preview` response, so the workers' scripts (which a <meta> does not reach) get it.
 */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'amc-csp',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        if (ctx.server) return [];
        return [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: cspMeta() }, injectTo: 'head-prepend' }];
      },
    },
    configurePreviewServer(server) {
      const header = cspHeader();
      server.middlewares.use((_req, res, next) => {
        res.setHeader('Content-Security-Policy', header);
        next();
      });
    },
  };
}

export default defineConfig({
  // Every URL in the build is relative to the page: the folder works from any host, under any
  // sub-path (the demo models are fetched from import.meta.env.BASE_URL, './' in a build).
  base: './',
  plugins: [
    leanTfjs(resolve(root, 'src/tfjs-lean.ts')),
    sharedWorkerChunks(),
    wasmThreadsScript(),
    svelte(),
    bundledModels(),
    contentSecurityPolicy(),
    offlineApp({ root, modelsDir }),
  ],
  // Cross-origin isolation (fine timers, WASM threads): the headers on every response of the dev
  // and preview servers; a static host that cannot send them gets them from the service worker.
  server: { host: '127.0.0.1', port: 5173, headers: { ...ISOLATION_HEADERS } },
  preview: { host: '127.0.0.1', port: 4173, headers: { ...ISOLATION_HEADERS } },
  // Only used by the dev server: a build makes the workers entry chunks of the page's own build
  // (scripts/shared-workers.ts), so tfjs is shared, not bundled once per worker.
  worker: { format: 'es', plugins: () => [wasmThreadsScript()] },
  build: {
    target: 'es2022',
    // No <link rel=modulepreload> helper: the workers share the page's chunks, and the helper that
    // preloads a dynamic import's dependencies touches `document`, which a worker does not have.
    modulePreload: false,
    // tfjs is large by nature; the backends are split into their own chunks.
    chunkSizeWarningLimit: 4096,
  },
  test: {
    include: ['src/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['e2e/**', 'node_modules/**', 'dist/**'],
    environment: 'node',
    testTimeout: 60000,
  },
});
