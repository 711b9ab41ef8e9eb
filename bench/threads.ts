/**
 * What WASM threads buy (issue 14, item 5): the built app, served by a plain static server, opened
 * in Chromium with and without cross-origin isolation (COOP/COEP headers; the service worker is
 * blocked so it cannot isolate the page itself), loads a 224x224 model (a Teachable Machine
 * MobileNetV2 export from ../shared/realmodels/tm-image-asl, or --model DIR), prunes it by half
 * and reads the latency the app measured in its timing worker for the original and the pruned
 * model (median, batch 1). The two modes alternate, --rounds times, so both see the same load.
 *
 *   npx tsx bench/threads.ts                 build into a temporary folder, 2 rounds
 *   npx tsx bench/threads.ts --dir dist      an existing build
 *   npx tsx bench/threads.ts --cores 4       report 4 logical cores to the page (DevTools'
 *                                            Emulation.setHardwareConcurrencyOverride): tfjs' pool
 *                                            takes half the reported cores, so a 2-core machine,
 *                                            which runs 1 thread, can be made to run 2
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { serveStatic } from '../scripts/static-server.ts';
import { argValue } from './util.ts';

const argv = process.argv.slice(2);
const log = (s: string) => process.stderr.write(`threads        ${s}\n`);
const modelDir = resolve(argValue(argv, 'model') ?? '../shared/realmodels/tm-image-asl');
const rounds = Number(argValue(argv, 'rounds') ?? 2);
const cores = argValue(argv, 'cores') ? Number(argValue(argv, 'cores')) : undefined;
if (!existsSync(join(modelDir, 'model.json'))) {
  log(`${modelDir}/model.json not found: name a 224x224 LayersModel folder with --model`);
  process.exit(1);
}
let dir = argValue(argv, 'dir');
if (!dir) {
  dir = mkdtempSync(join(tmpdir(), 'amc-threads-'));
  log(`building into ${dir}`);
  execFileSync('npx', ['vite', 'build', '--outDir', dir, '--emptyOutDir', '--logLevel', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
}
const files = readdirSync(modelDir).filter((f) => /\.(json|bin)$/.test(f) && f !== 'metadata.json').map((f) => join(modelDir, f));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});

interface Row {
  mode: string;
  isolated: boolean;
  device: string;
  originalMs: number;
  prunedMs: number;
  load: number;
}
const rows: Row[] = [];
for (let round = 0; round < rounds; round++) {
  for (const threads of [true, false]) {
    const srv = await serveStatic(dir, {
      prefix: '/t/',
      headers: threads ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {},
    });
    const context = await browser.newContext({ serviceWorkers: 'block', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    if (cores) await (await context.newCDPSession(page)).send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: cores });
    try {
      await page.goto(`${srv.url}?demo=builtin`);
      await page.locator('[data-testid="run-status"][data-state="ok"]').waitFor({ timeout: 180_000 });
      await page.getByTestId('file-input').setInputFiles(files);
      await page.getByTestId('summary').waitFor({ timeout: 180_000 });
      await page.waitForFunction(() => document.querySelector('[data-testid="summary"]')?.textContent?.includes('224'), undefined, { timeout: 180_000 }).catch(() => undefined);
      await page.locator('[data-testid="run-status"][data-state="ok"]').waitFor({ timeout: 180_000 });
      await page.getByTestId('step-compress').click();
      await page.getByTestId('ratio-slider').evaluate((el) => {
        const input = el as HTMLInputElement;
        input.value = '0.5';
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
      });
      await page.getByTestId('prune-button').click();
      const orig = page.getByTestId('orig-latency');
      await orig.waitFor({ state: 'attached', timeout: 600_000 });
      const originalMs = Number(await orig.getAttribute('data-value'));
      const prunedMs = Number(await page.getByTestId('pruned-latency').getAttribute('data-value'));
      const device = (await page.getByTestId('device-flags').textContent({ timeout: 60_000 }).catch(() => '')) ?? '';
      const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
      const row = { mode: threads ? 'isolated (threads)' : 'not isolated', isolated, device: device.trim(), originalMs, prunedMs, load: loadavg()[0] };
      rows.push(row);
      log(JSON.stringify(row));
    } finally {
      await context.close();
      await srv.close();
    }
  }
}
await browser.close();

console.log(`\n| mode | device card | original 224x224 (ms) | pruned 50% (ms) | load |\n|---|---|---|---|---|`);
for (const r of rows) console.log(`| ${r.mode} | ${r.device} | ${r.originalMs.toFixed(1)} | ${r.prunedMs.toFixed(1)} | ${r.load.toFixed(1)} |`);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const on = rows.filter((r) => r.isolated).map((r) => r.originalMs);
const off = rows.filter((r) => !r.isolated).map((r) => r.originalMs);
if (on.length && off.length) console.log(`\noriginal model: threads ${med(on).toFixed(1)} ms vs one thread ${med(off).toFixed(1)} ms (${(med(off) / med(on)).toFixed(2)}x)`);
