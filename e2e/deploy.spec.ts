/**
 * Issue 14, items 5 and 7: the built folder (dist/, built by playwright.config.ts's webServer) is
 * deployable on any static host under any sub-path, works offline after one visit, and is
 * cross-origin isolated (fine timers, WASM threads) both where the host sends COOP/COEP
 * (`vite preview`) and where it cannot (a plain static server: the service worker adds them).
 *
 * The static host is scripts/static-server.ts: node:http serving dist/ under /some/sub/path/, with
 * no headers of its own, no rewriting and no fallback.
 */
import { test, expect, type Page } from '@playwright/test';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic, type StaticServer } from '../scripts/static-server';
import { waitForModel, collectErrors, goToStep, setRange } from './helpers';

const DIST = join(process.cwd(), 'dist');
const PREFIX = '/some/sub/path/';

async function isolated(page: Page): Promise<boolean> {
  try {
    return await page.evaluate(() => globalThis.crossOriginIsolated);
  } catch {
    return false; // the page is reloading itself
  }
}

async function prune(page: Page): Promise<void> {
  await goToStep(page, 'compress');
  await setRange(page.getByTestId('ratio-slider'), 0.5);
  await page.getByTestId('prune-button').click();
  await expect(page.getByTestId('prune-result')).toBeVisible({ timeout: 60_000 });
}

/** First visit: the demo shows, then the service worker takes over and the page reloads itself isolated. */
async function firstVisit(page: Page, srv: StaticServer): Promise<void> {
  await page.goto(`${srv.url}?demo=builtin`);
  await waitForModel(page);
  await expect.poll(() => isolated(page), { timeout: 120_000, message: 'the service worker makes the page cross-origin isolated' }).toBe(true);
  await waitForModel(page);
}

test.describe('deploy: a plain static host under a sub-path', () => {
  test.setTimeout(300_000);
  let srv: StaticServer;
  test.beforeEach(async () => {
    srv = await serveStatic(DIST, { prefix: PREFIX });
  });
  test.afterEach(async () => {
    await srv?.close();
  });

  test('loads the demo and prunes from a sub-path; isolated by the service worker, WASM threads on', async ({ page }) => {
    const errors = collectErrors(page);
    const failed: string[] = [];
    page.context().on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await firstVisit(page, srv);
    // Everything the app asked for was under the sub-path, and found.
    const outside = srv.requests.filter((p) => !p.startsWith(PREFIX));
    expect(outside, 'requests outside the sub-path').toEqual([]);
    expect(failed, 'failed requests').toEqual([]);
    expect(srv.requests.some((p) => p.startsWith(`${PREFIX}models/builtin/`))).toBe(true);
    expect(srv.requests.some((p) => /\/assets\/.*\.wasm$/.test(p))).toBe(true);

    // Fine-grained timers (not the 0.1 ms steps of a page that is not isolated).
    const step = await page.evaluate(() => {
      let min = Infinity;
      let last = performance.now();
      for (let i = 0; i < 200000 && min > 0.001; i++) {
        const t = performance.now();
        if (t > last) min = Math.min(min, t - last);
        last = t;
      }
      return min;
    });
    expect(step).toBeLessThan(0.05);

    // WASM runs its threaded build (the pthread workers of the minified build start; tfjs' pool
    // takes half the logical cores, so this 2-core machine runs 1 thread of it).
    expect(await page.getByTestId('device-backend').textContent()).toContain('WASM');
    await expect(page.getByTestId('device-flags')).toContainText(/\d+ threads? \(threads on\)/, { timeout: 90_000 });

    await prune(page);

    // The cache holds the build's own files only, all under the sub-path.
    const cached = await page.evaluate(async () => {
      const out: string[] = [];
      for (const k of await caches.keys()) for (const r of await (await caches.open(k)).keys()) out.push(r.url);
      return out;
    });
    expect(cached.length).toBeGreaterThan(10);
    expect(cached.filter((u) => !u.startsWith(srv.url) || u.includes('?'))).toEqual([]);
    expect(errors).toEqual([]);
  });

  test('works offline after one visit: reload with the server gone, load the demo, prune', async ({ page, context }) => {
    const errors = collectErrors(page);
    await firstVisit(page, srv);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    expect(await page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);

    // Offline: the browser context has no network and the host is gone.
    await srv.close();
    await context.setOffline(true);
    await page.reload();
    await waitForModel(page);
    expect(await isolated(page)).toBe(true);
    await prune(page);
    // Another bundled demo, never opened online, is in the cache too.
    await page.goto(`${srv.url}?demo=plain-cnn`);
    await waitForModel(page);
    await context.setOffline(false);
    expect(errors).toEqual([]);
  });
});

test('a new build on the host replaces the cached one once no tab runs the old one', async ({ context }) => {
  test.setTimeout(300_000);
  // A copy of the build, changed in place below as a new deployment would change it.
  const dir = mkdtempSync(join(tmpdir(), 'amc-deploy-'));
  cpSync(DIST, dir, { recursive: true });
  const srv = await serveStatic(dir, { prefix: PREFIX });
  try {
    const page = await context.newPage();
    await firstVisit(page, srv);
    const before = await page.evaluate(async () => (await caches.keys()).sort());
    expect(before).toHaveLength(1);

    // "Deploy" a new build: another index.html and, with it, a new sw.js (its version changes).
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    writeFileSync(join(dir, 'index.html'), html.replace('<title>', '<meta name="amc-build" content="2" /><title>'));
    const sw = readFileSync(join(dir, 'sw.js'), 'utf8');
    writeFileSync(join(dir, 'sw.js'), sw.replace(/"version": "([0-9a-f]+)"/, '"version": "$1b"'));

    // The open tab keeps the build it runs; the new worker installs beside it and waits.
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
    await expect.poll(() => page.evaluate(async () => Boolean((await navigator.serviceWorker.getRegistration())?.waiting)), { timeout: 120_000 }).toBe(true);
    expect(await page.evaluate(() => document.querySelector('meta[name=amc-build]'))).toBeNull();

    // Once that tab is closed, the next visit gets the new build, and the old cache is gone.
    await page.close();
    const next = await context.newPage();
    await next.goto(`${srv.url}?demo=builtin`);
    await waitForModel(next);
    await expect.poll(() => next.evaluate(() => document.querySelector('meta[name=amc-build]') !== null), { timeout: 60_000 }).toBe(true);
    await expect.poll(() => next.evaluate(async () => (await caches.keys()).sort()), { timeout: 60_000 }).not.toEqual(before);
    expect(await next.evaluate(async () => (await caches.keys()).length)).toBe(1);
  } finally {
    await srv.close();
  }
});

test('vite preview sends COOP/COEP: the built app is isolated and WASM runs its threaded build', async ({ page }) => {
  const response = await page.goto('/?demo=builtin');
  expect(response?.headers()['cross-origin-opener-policy']).toBe('same-origin');
  expect(response?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
  await waitForModel(page);
  expect(await isolated(page)).toBe(true);
  await expect(page.getByTestId('device-flags')).toContainText(/\d+ threads? \(threads on\)/, { timeout: 90_000 });
  const manifest = await page.evaluate(async () => {
    const href = document.querySelector<HTMLLinkElement>('link[rel=manifest]')!.href;
    return (await fetch(href)).json();
  });
  expect(manifest).toMatchObject({ start_url: './', display: 'standalone' });
  expect(manifest.icons.map((i: { sizes: string }) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
});
