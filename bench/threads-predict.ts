/**
 * WASM threads vs one thread on a 224x224 model, predict() alone (issue 14, item 5).
 *
 * A plain page (stock tf.min.js and tf-backend-wasm.js from node_modules, nothing of the app),
 * served cross-origin isolated (COOP/COEP) by scripts/static-server.ts, loads a 224x224 LayersModel
 * (by default the Teachable Machine MobileNetV2 export in ../shared/realmodels/tm-image-asl) on the
 * WASM backend and times batch-1 predict (median of --runs after 10 warm-ups), once per mode, in
 * alternation, --rounds times:
 *   - threads: the threaded SIMD build, tfjs' pool at half the logical cores the page reports;
 *     --cores N makes the page report N (DevTools' Emulation.setHardwareConcurrencyOverride), so a
 *     2-core machine, whose pool is 1 thread, can run 2;
 *   - one thread: the same page with WASM_HAS_MULTITHREAD_SUPPORT=false (the plain SIMD build).
 *
 *   npx tsx bench/threads-predict.ts --cores 4 --rounds 3
 */
import { existsSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { chromium } from '@playwright/test';
import { serveStatic } from '../scripts/static-server.ts';
import { argValue } from './util.ts';

const argv = process.argv.slice(2);
const log = (s: string) => process.stderr.write(`threads-predict ${s}\n`);
const require = createRequire(import.meta.url);
const modelDir = resolve(argValue(argv, 'model') ?? '../shared/realmodels/tm-image-asl');
const rounds = Number(argValue(argv, 'rounds') ?? 3);
const runs = Number(argValue(argv, 'runs') ?? 30);
const cores = argValue(argv, 'cores') ? Number(argValue(argv, 'cores')) : undefined;
if (!existsSync(join(modelDir, 'model.json'))) {
  log(`${modelDir}/model.json not found: name a 224x224 LayersModel folder with --model`);
  process.exit(1);
}

// A folder with the page, tfjs' own dist files and the model (links, nothing copied).
const root = mkdtempSync(join(tmpdir(), 'amc-threads-predict-'));
const tfDist = dirname(require.resolve('@tensorflow/tfjs/dist/tf.min.js'));
const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.js'));
symlinkSync(tfDist, join(root, 'tf'));
symlinkSync(wasmDist, join(root, 'wasm'));
symlinkSync(modelDir, join(root, 'model'));
writeFileSync(
  join(root, 'index.html'),
  `<!doctype html><meta charset="utf-8"><title>threads</title>
<script src="tf/tf.min.js"></script><script src="wasm/tf-backend-wasm.js"></script>
<script>
window.bench = async (threads, runs) => {
  if (!threads) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  tf.wasm.setWasmPaths(new URL('wasm/', location.href).href);
  await tf.setBackend('wasm');
  await tf.ready();
  const model = await tf.loadLayersModel('model/model.json');
  const shape = model.inputs[0].shape.map((d, i) => (i === 0 ? 1 : d ?? 224));
  const x = tf.randomUniform(shape);
  const once = async () => { const t0 = performance.now(); const y = model.predict(x); await y.data(); y.dispose(); return performance.now() - t0; };
  for (let i = 0; i < 10; i++) await once();
  const ms = [];
  for (let i = 0; i < runs; i++) ms.push(await once());
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], min: ms[0], threads: tf.wasm.getThreadsCount(), isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency, shape };
};
</script>`,
);
log(`model ${modelDir} (${readdirSync(modelDir).join(', ')})`);

const srv = await serveStatic(root, { prefix: '/p/', headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const rows: { mode: string; threads: number; median: number; min: number; load: number }[] = [];
for (let r = 0; r < rounds; r++) {
  for (const threads of [true, false]) {
    const context = await browser.newContext();
    const page = await context.newPage();
    if (cores) await (await context.newCDPSession(page)).send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: cores });
    page.on('pageerror', (e) => log(`pageerror ${String(e).slice(0, 200)}`));
    await page.goto(srv.url);
    const out = await page.evaluate(([t, n]) => (window as unknown as { bench(t: boolean, n: number): Promise<{ median: number; min: number; threads: number; isolated: boolean; cores: number; shape: number[] }> }).bench(t, n), [threads, runs] as [boolean, number]);
    const row = { mode: threads ? 'threads' : 'one thread', threads: out.threads, median: out.median, min: out.min, load: loadavg()[0] };
    rows.push(row);
    log(JSON.stringify({ ...row, isolated: out.isolated, cores: out.cores, shape: out.shape }));
    await context.close();
  }
}
await browser.close();
await srv.close();

console.log(`\n| mode | tfjs threads | median predict (ms) | min (ms) | load |\n|---|---|---|---|---|`);
for (const r of rows) console.log(`| ${r.mode} | ${r.threads} | ${r.median.toFixed(1)} | ${r.min.toFixed(1)} | ${r.load.toFixed(1)} |`);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const on = med(rows.filter((r) => r.mode === 'threads').map((r) => r.median));
const off = med(rows.filter((r) => r.mode !== 'threads').map((r) => r.median));
console.log(`\nmedian of the rounds' medians: threads ${on.toFixed(1)} ms, one thread ${off.toFixed(1)} ms: ${(off / on).toFixed(2)}x`);
