/**
 * Issue 13, item 6: the built app's Content-Security-Policy (scripts/csp.ts). The page carries it
 * as a <meta>, `vite preview` sends it as a header (so the workers run under it too). Under it the
 * app loads the demo model, prunes and searches, on WASM, WebGL and WebGPU, with no violation
 * reported; a model with HTML and script in its names renders inert; every request goes to the
 * page's own origin.
 */
import { test, expect, type Page } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { waitForModel, collectErrors, pickFiles, setRange } from './helpers';
import { fixtureDir, writeSequentialCnn } from './fixtures';

interface Watch {
  /** securitypolicyviolation events (page), CSP lines in any console (page or workers). */
  violations: string[];
  /** Every http(s)/ws request the page or its workers made. */
  requests: string[];
  dialogs: string[];
  errors: string[];
}

/** Records violations, requests, dialogs and page errors from before the first navigation. */
async function watch(page: Page): Promise<Watch> {
  const w: Watch = { violations: [], requests: [], dialogs: [], errors: collectErrors(page) };
  await page.exposeFunction('__cspViolation', (s: string) => w.violations.push(s));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (globalThis as unknown as { __cspViolation(s: string): void }).__cspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const onConsole = (text: string) => {
    if (/content security policy|refused to/i.test(text)) w.violations.push(text);
  };
  page.on('console', (m) => onConsole(m.text()));
  page.on('worker', (wk) => (wk as unknown as { on?(e: 'console', f: (m: { text(): string }) => void): void }).on?.('console', (m) => onConsole(m.text())));
  page.context().on('request', (r) => {
    if (/^(https?|wss?):/.test(r.url())) w.requests.push(r.url());
  });
  page.on('dialog', (d) => {
    w.dialogs.push(d.message());
    void d.dismiss();
  });
  return w;
}

function expectSameOrigin(w: Watch, page: Page): void {
  const origin = new URL(page.url()).origin;
  const foreign = w.requests.filter((u) => new URL(u).origin !== origin);
  expect(foreign, `requests to another origin than ${origin}`).toEqual([]);
}

test('the built page carries the policy as a <meta> and the preview server as a header', async ({ page, request }) => {
  const res = await request.get('/');
  const header = res.headers()['content-security-policy'];
  expect(header).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(header).toContain("frame-ancestors 'none'");
  const html = await res.text();
  expect(html).toMatch(/<meta http-equiv="Content-Security-Policy"/);
  // Scripts get the header too: a worker's script is fetched by URL, and a <meta> does not reach it.
  const script = html.match(/\/assets\/[^"]+\.js/);
  expect(script).not.toBeNull();
  expect((await request.get(script![0])).headers()['content-security-policy']).toBe(header);
  await page.goto('/');
  const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(meta).toContain("default-src 'self'");
  expect(meta).toContain("object-src 'none'");
  expect(meta).not.toContain('unsafe-inline');
  expect(meta).not.toContain("'unsafe-eval'");
});

test('the policy refuses an injected inline script, and this spec sees the refusal', async ({ page }) => {
  const w = await watch(page);
  await page.goto('/');
  await waitForModel(page);
  const ran = await page.evaluate(async () => {
    const g = globalThis as unknown as { __injected?: boolean };
    const s = document.createElement('script');
    s.textContent = 'globalThis.__injected = true';
    document.body.append(s);
    const img = document.createElement('img');
    img.setAttribute('onerror', 'globalThis.__injected = true');
    img.src = 'data:,x';
    document.body.append(img);
    await new Promise((r) => setTimeout(r, 300));
    return g.__injected === true;
  });
  expect(ran).toBe(false);
  await expect.poll(() => w.violations.length).toBeGreaterThanOrEqual(2);
  expect(w.violations.join('\n')).toMatch(/script-src/);
});

test('the demo model loads, prunes and searches under the policy with no violation, all from this origin', async ({ page }) => {
  test.setTimeout(240_000);
  const w = await watch(page);
  await page.goto('/?backend=wasm');
  await waitForModel(page);
  await expect(page.getByTestId('backend-name')).toHaveText(/WASM/);
  await setRange(page.getByTestId('ratio-slider'), 0.5);
  await page.getByTestId('prune-button').click();
  await expect(page.getByTestId('prune-result')).toBeVisible();

  // The search worker: its own WASM backend, IndexedDB, under the header policy.
  const panel = page.getByTestId('search-panel');
  await panel.getByTestId('search-episodes').fill('2');
  await panel.getByText('More settings').click();
  await panel.getByTestId('search-images').fill('50');
  await panel.getByTestId('search-start').click();
  await expect(panel.locator('[data-testid=past-search][data-state=done]')).toHaveCount(1, { timeout: 120_000 });
  await panel.getByTestId('past-delete').click();

  expect(w.violations).toEqual([]);
  expect(w.errors).toEqual([]);
  expect(w.dialogs).toEqual([]);
  expect(w.requests.length).toBeGreaterThan(0);
  expectSameOrigin(w, page);
});

for (const backend of ['webgl', 'webgpu'] as const) {
  test(`${backend} starts under the policy and runs the demo model with no violation`, async ({ page }) => {
    test.setTimeout(180_000);
    const w = await watch(page);
    await page.goto(`/?backend=${backend}`);
    await expect(page.getByTestId('backend-name')).toHaveText(backend === 'webgl' ? /WebGL/ : /WebGPU/, { timeout: 60_000 });
    await waitForModel(page, 'ok', 150_000);
    expect(w.violations).toEqual([]);
    expect(w.errors).toEqual([]);
    expectSameOrigin(w, page);
  });
}

const XSS = '<img src=x onerror=alert(1)>';
const XSS2 = '<script>alert(2)</script>';

/** Counts what an injection would have added to the page. */
async function injected(page: Page): Promise<{ imgs: number; inlineScripts: number; onerror: number }> {
  return page.evaluate(() => ({
    imgs: document.querySelectorAll('img[src="x"]').length,
    inlineScripts: Array.from(document.scripts).filter((s) => !s.src).length,
    onerror: document.querySelectorAll('[onerror]').length,
  }));
}

test('a model with HTML and script in its layer and class names renders inert', async ({ page }) => {
  test.setTimeout(180_000);
  const w = await watch(page);
  const dir = fixtureDir('csp');
  // Class names in metadata.json (Teachable Machine): a model the app loads and shows.
  const tm = await writeSequentialCnn(join(dir, XSS.replace(/[<>/ ]/g, '_')), { size: 8, channels: 3, filters: 8, classes: 3, metadata: true });
  const metaPath = join(tm.dir, 'metadata.json');
  const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
  meta.labels = [XSS, XSS2, 'plain'];
  meta.modelName = XSS2;
  writeFileSync(metaPath, JSON.stringify(meta));

  // A layer named with HTML: loaded and listed, or refused with the name in the message.
  const named = await writeSequentialCnn(join(dir, 'named'), { size: 8, channels: 3, filters: 8, classes: 3 });
  const text = readFileSync(named.modelJson, 'utf8').replaceAll('"conv1', JSON.stringify(XSS).slice(0, -1));
  writeFileSync(named.modelJson, text);

  await page.goto('/?backend=wasm');
  await waitForModel(page);
  await pickFiles(page, tm.files);
  await waitForModel(page);
  await expect(page.getByTestId('summary')).toBeVisible();

  await pickFiles(page, named.files);
  // Whatever the verdict, the name is on the page as text.
  await expect(page.getByText(XSS, { exact: false }).first()).toBeVisible({ timeout: 60_000 });
  await page.waitForTimeout(500);

  expect(await injected(page)).toEqual({ imgs: 0, inlineScripts: 0, onerror: 0 });
  expect(w.dialogs).toEqual([]);
  expect(w.violations).toEqual([]);
  expect(w.errors).toEqual([]);
  expectSameOrigin(w, page);
});

test('a model from ?url= on another HTTPS host loads under the policy; requests go to this origin and that host only; plain http elsewhere is refused', async ({ page }) => {
  test.setTimeout(120_000);
  const w = await watch(page);
  const m = await writeSequentialCnn(join(fixtureDir('csp-url'), 'remote'), { size: 8, channels: 3, filters: 8, classes: 3 });
  const host = 'https://models.example.test';
  await page.route(`${host}/**`, async (route) => {
    const name = basename(new URL(route.request().url()).pathname);
    const file = name === 'model.json' ? m.modelJson : name === 'weights.bin' ? m.weights : null;
    const headers = { 'access-control-allow-origin': '*' };
    if (!file) return route.fulfill({ status: 404, headers, body: 'not found' });
    return route.fulfill({ status: 200, headers, contentType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream', body: readFileSync(file) });
  });
  await page.goto('/?backend=wasm&url=' + encodeURIComponent(`${host}/m/model.json`));
  await waitForModel(page);
  expect(w.violations).toEqual([]);
  const origin = new URL(page.url()).origin;
  const others = [...new Set(w.requests.map((u) => new URL(u).origin))].filter((o) => o !== origin);
  expect(others).toEqual([host]);

  const plain = await page.evaluate(() =>
    fetch('http://models.example.test/m/model.json').then(
      () => 'fetched',
      () => 'refused',
    ),
  );
  expect(plain).toBe('refused');
  await expect.poll(() => w.violations.join('\n')).toMatch(/connect-src/);
  expect(w.errors).toEqual([]);
});
