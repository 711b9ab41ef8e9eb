/**
 * What the app weighs on the wire (issue 14, item 6): builds the app into a temporary folder and
 * reports
 *   - the build: every JS chunk, CSS file and WASM binary, raw and gzipped (zlib level 9, what a
 *     static host that precompresses serves), and how many chunks carry a copy of tfjs-core;
 *   - a first visit: the built folder served by a plain static server under a sub-path (with the
 *     COOP/COEP headers a host should send), opened in a fresh Chromium profile, every request the
 *     page and its workers made until the demo model is shown (its summary and warm-up prediction),
 *     each counted at its gzipped size, by kind (JS, CSS, WASM, model, other).
 *
 *   npx tsx bench/bundle.ts                 build, then measure
 *   npx tsx bench/bundle.ts --dir dist      measure an existing build
 *   npx tsx bench/bundle.ts --json out.json also write the numbers as JSON
 *   npx tsx bench/bundle.ts --no-isolation  serve without COOP/COEP
 *   npx tsx bench/bundle.ts --prefix /      serve at the root (a build from before `base: './'`)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';
import { serveStatic } from '../scripts/static-server.ts';
import { argValue } from './util.ts';

const argv = process.argv.slice(2);
const log = (s: string) => process.stderr.write(`bundle         ${s}\n`);

const gz = (buf: Buffer) => gzipSync(buf, { level: 9 }).length;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

type Kind = 'js' | 'css' | 'wasm' | 'model' | 'html' | 'other';
function kindOf(path: string): Kind {
  if (/\/models\//.test(path) || /^models\//.test(path)) return 'model';
  const ext = extname(path).toLowerCase();
  if (ext === '.js' || ext === '.mjs') return 'js';
  if (ext === '.css') return 'css';
  if (ext === '.wasm') return 'wasm';
  if (ext === '.html') return 'html';
  return 'other';
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** A string only tfjs-core's engine carries: one per bundled copy of tfjs. */
const TFJS_MARKER = 'is already registered';

let dir = argValue(argv, 'dir');
let buildSeconds: number | undefined;
if (!dir) {
  dir = mkdtempSync(join(tmpdir(), 'amc-bundle-'));
  log(`building into ${dir}`);
  const t0 = Date.now();
  execFileSync('npx', ['vite', 'build', '--outDir', dir, '--emptyOutDir', '--logLevel', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
  buildSeconds = (Date.now() - t0) / 1000;
}

// --- the build ---------------------------------------------------------------------------
const files = walk(dir).map((p) => {
  const buf = readFileSync(p);
  const rel = relative(dir!, p).split('\\').join('/');
  return { path: rel, kind: kindOf(rel), raw: buf.length, gzip: gz(buf), tfjs: kindOf(rel) === 'js' && buf.includes(TFJS_MARKER) };
});
const sum = (xs: { raw: number; gzip: number }[]) => xs.reduce((a, f) => ({ raw: a.raw + f.raw, gzip: a.gzip + f.gzip }), { raw: 0, gzip: 0 });
const build: Record<string, { raw: number; gzip: number }> = {};
for (const k of ['js', 'css', 'wasm', 'model'] as const) build[k] = sum(files.filter((f) => f.kind === k));
const tfjsCopies = files.filter((f) => f.tfjs).map((f) => f.path);

console.log(`\nBuild (${dir}${buildSeconds ? `, ${buildSeconds.toFixed(0)} s` : ''})`);
for (const f of files.filter((f) => f.kind === 'js' || f.kind === 'wasm' || f.kind === 'css').sort((a, b) => b.gzip - a.gzip)) {
  console.log(`  ${f.path.padEnd(58)} ${kb(f.raw).padStart(11)} raw ${kb(f.gzip).padStart(11)} gzip${f.tfjs ? '  (tfjs-core)' : ''}`);
}
for (const [k, v] of Object.entries(build)) console.log(`  all ${k.padEnd(6)} ${kb(v.raw).padStart(11)} raw ${kb(v.gzip).padStart(11)} gzip`);
console.log(`  chunks carrying tfjs-core: ${tfjsCopies.length} (${tfjsCopies.join(', ')})`);

// --- a first visit -------------------------------------------------------------------------
const isolation = !argv.includes('--no-isolation');
const prefixPath = (argValue(argv, 'prefix') ?? '/bench/sub/path/').replace(/\/?$/, '/');
const srv = await serveStatic(dir, {
  prefix: prefixPath,
  headers: isolation ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {},
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const context = await browser.newContext();
// Requests of the page and its workers (the service worker's precaching is not part of what the
// first view needs: it starts once the page's network is quiet, src/sw-register.ts).
const pageRequests: string[] = [];
const swRequests: string[] = [];
context.on('request', (r) => (r.serviceWorker() ? swRequests : pageRequests).push(new URL(r.url()).pathname));
const page = await context.newPage();
const t0 = Date.now();
await page.goto(srv.url);
await page.getByTestId('summary').waitFor({ state: 'visible', timeout: 180_000 });
await page.locator('[data-testid="run-status"][data-state="ok"]').waitFor({ timeout: 180_000 });
const shownMs = Date.now() - t0;
const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
const served = [...pageRequests];
await browser.close();
await srv.close();
if (swRequests.length) log(`${swRequests.length} service worker requests before the model showed (not counted)`);

const byPath = new Map(files.map((f) => [f.path, f]));
const fetched: { path: string; kind: Kind; raw: number; gzip: number }[] = [];
const seen = new Set<string>();
for (const r of served) {
  let p = decodeURIComponent(r.split('?')[0]).slice(prefixPath.length);
  if (p === '' || p.endsWith('/')) p += 'index.html';
  if (seen.has(p)) continue;
  seen.add(p);
  const f = byPath.get(p);
  if (f) fetched.push({ path: p, kind: f.kind, raw: f.raw, gzip: f.gzip });
}
const visit: Record<string, { raw: number; gzip: number }> = {};
for (const k of ['html', 'js', 'css', 'wasm', 'model', 'other'] as const) visit[k] = sum(fetched.filter((f) => f.kind === k));
const visitTotal = sum(fetched);

console.log(`\nFirst visit until the demo model is shown (${shownMs} ms, crossOriginIsolated ${isolated}, ${fetched.length} files)`);
for (const f of fetched) console.log(`  ${f.path.padEnd(58)} ${kb(f.raw).padStart(11)} raw ${kb(f.gzip).padStart(11)} gzip`);
for (const [k, v] of Object.entries(visit)) if (v.raw) console.log(`  ${k.padEnd(6)} ${kb(v.raw).padStart(11)} raw ${kb(v.gzip).padStart(11)} gzip`);
console.log(`  total  ${kb(visitTotal.raw).padStart(11)} raw ${kb(visitTotal.gzip).padStart(11)} gzip`);

const jsonOut = argValue(argv, 'json');
if (jsonOut) {
  writeFileSync(
    jsonOut,
    JSON.stringify({ date: new Date().toISOString(), buildSeconds, build, tfjsCopies, files, firstVisit: { isolated, shownMs, files: fetched, byKind: visit, total: visitTotal } }, null, 2) + '\n',
  );
  log(`wrote ${jsonOut}`);
}
