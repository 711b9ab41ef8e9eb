/**
 * The bench's browser half: builds the app with the bench page (bench/vite.config.ts, into
 * bench/.app), serves it with a tiny static server on 127.0.0.1 (a secure context) at a free
 * port, and drives headless Chromium with Playwright's library API:
 *   - latency: the speedup models timed interleaved on WASM in the page (bench/browser/latency.ts);
 *     WebGPU only when the adapter is not a fallback;
 *   - responsiveness: a short search started from the app's Search panel, long tasks of the main
 *     thread recorded by a PerformanceObserver('longtask') injected before the page's scripts.
 */
import { chromium, type Browser, type ConsoleMessage, type Page } from '@playwright/test';
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AdapterInfo } from '../src/core/measure/backends';
import type { LatencyOptions } from '../src/core/measure/latency';
import type { DeviceSearchPlan, DeviceSearchResult } from './browser/device-search';
import type { FinetuneBenchPlan, FinetuneBenchResult } from './browser/finetune';
import { repeatText, type RepeatRow } from './repeatability';
import type { MemoryResult } from './memory';
import type { SpeedupRow, Timed } from './speedup';

export const APP_DIR = 'bench/.app';

/** The flags playwright.config.ts launches Chromium with (ENVIRONMENT.md: what works headless here). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
};

/** Builds the app and the bench page into bench/.app (a fresh build every time: about 10-30 s). */
export function buildApp(log: (s: string) => void): Promise<number> {
  const t0 = performance.now();
  log(`building the app and the bench page into ${APP_DIR} (npx vite build --config bench/vite.config.ts)`);
  return new Promise((ok, fail) => {
    const child = spawn(join('node_modules', '.bin', 'vite'), ['build', '--config', 'bench/vite.config.ts', '--logLevel', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? ok((performance.now() - t0) / 1000) : fail(new Error(`vite build failed (${code}):\n${out.slice(-3000)}`))));
  });
}

/** Serves `root` at / and `extra` folders at their prefixes, on 127.0.0.1 and a free port. */
export async function serve(root: string, extra: Record<string, string>): Promise<{ server: Server; base: string }> {
  const mounts = [...Object.entries(extra).map(([p, d]) => [p, resolve(d)] as const), ['/', resolve(root)] as const];
  const server = createServer((req, res) => {
    let url = decodeURIComponent((req.url ?? '/').split('?')[0]);
    if (url.endsWith('/')) url += 'index.html';
    const [prefix, dir] = mounts.find(([p]) => url.startsWith(p))!;
    const file = normalize(join(dir, url.slice(prefix.length)));
    if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`Not found: ${url}`);
      return;
    }
    // The bench page is cross-origin isolated, so performance.now() has 5 µs steps rather than 100 µs;
    // the app's document is served as users get it (no isolation headers). Scripts under /assets/
    // carry the headers too: an isolated page may only start workers whose scripts have them, and
    // they change nothing for the app's own document.
    const isolated = url.startsWith('/bench/') || url.startsWith('/assets/') ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size, 'Cache-Control': 'no-cache', ...isolated });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export interface BrowserInfo {
  executable: string;
  version: string;
  userAgent: string;
  /** Whether the bench page is cross-origin isolated (performance.now() at 5 µs rather than 100 µs steps). */
  crossOriginIsolated: boolean;
  buildSeconds: number;
  /** The WebGPU adapter Chromium gives, and whether the bench timed on it. */
  webgpu: { adapter?: AdapterInfo; reason?: string; timed: boolean; why: string };
}

export interface Responsiveness {
  model: string;
  episodes: number;
  warmup: number;
  rewardImages: number;
  refit: boolean;
  searchSeconds: number;
  episodesDone: number;
  /** Long tasks (> 50 ms, by the Long Tasks API's definition) while the search ran. */
  longTasks: number;
  longestMs: number;
  /** Sum over long tasks of (duration - 50 ms): Total Blocking Time over the search. */
  blockingMs: number;
  /** The same while the page opened and loaded the model, before the search: shows the observer works. */
  load: { longTasks: number; longestMs: number; seconds: number };
  supported: boolean;
}

export class BenchBrowser {
  private constructor(
    readonly browser: Browser,
    readonly server: Server,
    readonly base: string,
    readonly info: BrowserInfo,
    private readonly page: Page,
  ) {}

  static async start(runs: string, buildSeconds: number, log: (s: string) => void): Promise<BenchBrowser> {
    const { server, base } = await serve(APP_DIR, { '/runs/': runs });
    const executable = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
    const browser = await chromium.launch({ executablePath: executable, headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    page.on('pageerror', (e) => log(`bench page error: ${String(e)}`));
    await page.goto(`${base}/bench/browser/index.html`);
    await page.waitForFunction(() => 'amcBench' in globalThis, null, { timeout: 60_000 });
    const probe = (await page.evaluate(() => (globalThis as any).amcBench.probeWebGpu())) as { adapter?: AdapterInfo; reason?: string };
    const userAgent = (await page.evaluate(() => (globalThis as any).amcBench.userAgent())) as string;
    const crossOriginIsolated = (await page.evaluate(() => globalThis.crossOriginIsolated)) as boolean;
    const real = probe.adapter && !probe.adapter.isFallbackAdapter;
    const why = !probe.adapter
      ? `no WebGPU adapter (${probe.reason ?? 'none'}): not timed`
      : probe.adapter.isFallbackAdapter
        ? `the only adapter is a fallback (${probe.adapter.description || probe.adapter.vendor || probe.adapter.architecture || 'software'}, isFallbackAdapter: true): emulated on the CPU, so not timed`
        : `a hardware adapter (${probe.adapter.description || probe.adapter.vendor}): timed`;
    const info: BrowserInfo = { executable, version: browser.version(), userAgent, crossOriginIsolated, buildSeconds, webgpu: { ...probe, timed: Boolean(real), why } };
    log(`Chromium ${info.version} at ${base}; WebGPU: ${why}`);
    return new BenchBrowser(browser, server, base, info, page);
  }

  /** Times the speedup rows' models in the page, interleaved, on WASM (and WebGPU on real hardware). */
  async latency(rows: SpeedupRow[], timing: LatencyOptions, log: (s: string) => void): Promise<void> {
    for (const row of rows) {
      const urls = row.variants.map((v) => `${this.base}/runs/${v.files}/model.json`);
      for (const backend of this.info.webgpu.timed ? (['wasm', 'webgpu'] as const) : (['wasm'] as const)) {
        const r = (await this.page.evaluate(({ urls, timing, backend }) => (globalThis as any).amcBench.latency(urls, timing, backend), { urls, timing, backend })) as { stats: Timed[] };
        r.stats.forEach((s, i) => {
          if (backend === 'wasm') row.variants[i].browser = s;
          else row.variants[i].webgpu = s;
        });
      }
      log(`${row.model}: Chromium WASM, median ms ${row.variants.map((v) => `${v.key} ${v.browser!.medianMs.toFixed(2)}`).join(', ')}`);
    }
  }

  /** The latency harness's repeatability on each demo model, on WASM in the page. */
  async repeatability(models: string[], log: (s: string) => void): Promise<RepeatRow[]> {
    const rows: RepeatRow[] = [];
    for (const model of models) {
      const r = (await this.page.evaluate(({ url, model }) => (globalThis as any).amcBench.repeat(url, model), { url: `${this.base}/models/${model}/model.json`, model })) as RepeatRow[];
      rows.push(...r);
      log(`${model}: Chromium WASM, ${repeatText(r)}`);
    }
    return rows;
  }

  /** The memory bench's search in the page on `backend` (WebGPU on a fallback adapter is fine: it counts bytes). */
  async memory(backend: 'webgpu' | 'wasm', plan: { episodes: number; warmup: number; at: number[]; latency: LatencyOptions }, log: (s: string) => void): Promise<MemoryResult> {
    return this.relayed(log, () => this.page.evaluate(({ backend, plan }) => (globalThis as any).amcBench.memory(backend, plan), { backend, plan }) as Promise<MemoryResult>);
  }

  /** Runs `fn` with the page's "[bench] " console lines sent to `log`. */
  private async relayed<T>(log: (s: string) => void, fn: () => Promise<T>): Promise<T> {
    const relay = (m: ConsoleMessage) => {
      if (m.text().startsWith('[bench] ')) log(m.text().slice(8));
    };
    this.page.on('console', relay);
    try {
      return await fn();
    } finally {
      this.page.off('console', relay);
    }
  }

  /**
   * A latency-constrained and a MACs-constrained search by the app's worker in this Chromium,
   * then their best models and the original timed interleaved (bench/browser/device-search.ts).
   */
  async deviceSearch(model: string, plan: DeviceSearchPlan, log: (s: string) => void): Promise<DeviceSearchResult> {
    const url = `${this.base}/models/${model}/model.json`;
    return this.relayed(log, () => this.page.evaluate(({ url, model, plan }) => (globalThis as any).amcBench.deviceSearch(url, model, plan), { url, model, plan }) as Promise<DeviceSearchResult>);
  }

  /** A search started from the Search panel of the built app, as a user would; long tasks counted. */
  async responsiveness(o: { model: string; episodes: number; warmup: number; rewardImages: number; timeoutMs: number }, log: (s: string) => void): Promise<Responsiveness> {
    const context = await this.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => log(`app page error: ${String(e)}`));
    await page.addInitScript(() => {
      const w = globalThis as any;
      w.__longTasks = [];
      try {
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
        }).observe({ type: 'longtask', buffered: true });
        w.__longTasksSupported = true;
      } catch {
        w.__longTasksSupported = false;
      }
    });
    try {
      await page.goto(`${this.base}/?demo=${o.model}`);
      await page.locator('[data-testid=run-status][data-state=ok]').waitFor({ timeout: 120_000 });
      const loaded = (await page.evaluate(() => performance.now())) as number;
      const panel = page.getByTestId('search-panel');
      await panel.getByTestId('search-episodes').fill(String(o.episodes));
      await panel.getByText('More settings').click();
      await panel.getByTestId('search-warmup').fill(String(o.warmup));
      await panel.getByTestId('search-images').fill(String(o.rewardImages));
      const refit = await panel.getByTestId('search-refit').isChecked();
      const t0 = (await page.evaluate(() => performance.now())) as number;
      await panel.getByTestId('search-start').click();
      await page.locator(`[data-testid=search-panel][data-phase=done]`).waitFor({ timeout: o.timeoutMs });
      const t1 = (await page.evaluate(() => performance.now())) as number;
      const episodesDone = Number(await page.getByTestId('reward-chart').getAttribute('data-episodes'));
      const { tasks, supported } = (await page.evaluate(() => ({ tasks: (globalThis as any).__longTasks, supported: (globalThis as any).__longTasksSupported }))) as {
        tasks: { start: number; duration: number }[];
        supported: boolean;
      };
      const during = tasks.filter((t) => t.start >= t0 && t.start <= t1);
      const before = tasks.filter((t) => t.start < loaded);
      const r: Responsiveness = {
        model: o.model,
        episodes: o.episodes,
        warmup: o.warmup,
        rewardImages: o.rewardImages,
        refit,
        searchSeconds: (t1 - t0) / 1000,
        episodesDone,
        longTasks: during.length,
        longestMs: during.length ? Math.max(...during.map((t) => t.duration)) : 0,
        blockingMs: during.reduce((s, t) => s + Math.max(0, t.duration - 50), 0),
        load: { longTasks: before.length, longestMs: before.length ? Math.max(...before.map((t) => t.duration)) : 0, seconds: loaded / 1000 },
        supported,
      };
      log(`${o.model}: ${episodesDone} episodes in ${r.searchSeconds.toFixed(0)} s from the Search panel: ${r.longTasks} long tasks, longest ${r.longestMs.toFixed(0)} ms (page load: ${r.load.longTasks}, longest ${r.load.longestMs.toFixed(0)} ms)`);
      return r;
    } finally {
      await context.close();
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
    await new Promise((ok) => this.server.close(ok));
  }
}

/**
 * The fine-tune bench (bench/browser/finetune.ts) in headless Chromium with the project's flags:
 * one fresh page per plan, so a backend's kernels, WASM's gradient kernels among them, never
 * leak into the next plan. Serves the built app (buildApp first) with the demo models at /models/.
 */
export async function finetuneInChromium(plans: FinetuneBenchPlan[], log: (s: string) => void, timeoutMs = 600_000, onStart?: (plan: FinetuneBenchPlan, i: number) => void): Promise<{ version: string; userAgent: string; crossOriginIsolated: boolean; results: FinetuneBenchResult[] }> {
  const { server, base } = await serve(APP_DIR, {});
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  const results: FinetuneBenchResult[] = [];
  let userAgent = '';
  let crossOriginIsolated = false;
  try {
    for (const [i, plan] of plans.entries()) {
      onStart?.(plan, i);
      const page = await browser.newPage();
      page.on('pageerror', (e) => log(`bench page error: ${String(e)}`));
      page.on('console', (m) => {
        if (m.text().startsWith('[bench] ')) log(m.text().slice(8));
        else if (m.type() === 'error' || m.type() === 'warning') log(`${plan.model} on Chromium ${plan.backend}, page ${m.type()}: ${m.text().split('\n')[0].slice(0, 300)}`);
      });
      try {
        await page.goto(`${base}/bench/browser/index.html`);
        await page.waitForFunction(() => 'amcFinetune' in globalThis, null, { timeout: 60_000 });
        userAgent = (await page.evaluate(() => navigator.userAgent)) as string;
        crossOriginIsolated = (await page.evaluate(() => globalThis.crossOriginIsolated)) as boolean;
        const url = `${base}/models/${plan.model}/model.json`;
        const run = page.evaluate(({ url, plan }) => (globalThis as any).amcFinetune.run(url, plan), { url, plan }) as Promise<FinetuneBenchResult>;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`no result in ${timeoutMs / 1000} s`)), timeoutMs)));
        try {
          results.push(await Promise.race([run, timeout]));
        } finally {
          clearTimeout(timer);
        }
      } catch (e) {
        const error = (e instanceof Error ? e.message : String(e)).split('\n')[0];
        log(`${plan.model} on Chromium ${plan.backend}: ${error}`);
        results.push({ model: plan.model, where: 'Chromium', requested: plan.backend, used: null, reason: '', images: plan.images, batchSize: plan.batchSize, heldOut: 0, student: { params: 0, keep: {} }, kernels: { used: [], missing: [] }, stockStep: { ok: false }, error, totalSeconds: 0 });
      } finally {
        await page.close();
      }
    }
    return { version: browser.version(), userAgent, crossOriginIsolated, results };
  } finally {
    await browser.close();
    await new Promise((ok) => server.close(ok));
  }
}
