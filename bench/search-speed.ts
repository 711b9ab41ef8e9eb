/**
 * Search speed, Node WASM beside Chromium WASM (issue 16, Show): episodes per second per demo model
 * and evaluator, and seconds per episode of a 224x224 model with and without WASM threads.
 *
 *   npx tsx bench/search-speed.ts [--episodes 12] [--warmup 2] [--models a,b] [--evaluators slice,bn]
 *                                 [--tm-episodes 6] [--tm-images 64] [--tm-model DIR] [--cores 4]
 *                                 [--no-browser] [--no-tm] [--note "..."]
 *   npx tsx bench/search-speed.ts --render     the section from bench/search-speed.json, nothing run
 *
 * Every run is bench/search-speed/episodes.ts: an EpisodeScorer and an AmcSearch with the random
 * agent, `--warmup` untimed episodes, then `--episodes` timed ones, each timed around runEpisode()
 * and split by the scorer's timings. The same code runs in this process (Node, WASM backend) and in
 * a page built with the app's Vite config (bench/search-speed/index.html) in headless Chromium, one
 * after the other for each model and evaluator (the order alternating), so both see the same load.
 *
 * Demo models: the search's own data (500 demo:val reward images, calibration from demo:train in
 * the default counts of core/search/config.ts: bn 256, refit and refit+bn 64). Chromium runs WASM
 * as the app does: threads left to tfjs in a cross-origin isolated page, which on this 2-core
 * machine is the threaded build with a pool of 1 thread (the flags are recorded).
 *
 * The 224x224 model: the Teachable Machine export in ../shared/realmodels/tm-image-asl (read from
 * there, never copied; skipped with a message when absent), scored by agreement with the original
 * on --tm-images procedural demo images (32x32, resized bilinearly to 224 by the scorer, [-1, 1] as
 * its metadata says) with its automatic evaluator (the refit on 64 images: BatchNorm statistics of
 * images unlike its own make it worse, core/search/config.ts), in Node and in Chromium three ways:
 * threads off (WASM_HAS_MULTITHREAD_SUPPORT false), threads as the app leaves them (the pool takes
 * half the 2 cores: 1 thread), and 2 threads (the page told --cores 4 by DevTools'
 * Emulation.setHardwareConcurrencyOverride, as bench/threads-predict.ts does).
 *
 * Writes bench/search-speed.json and prints the markdown section (searchSpeedSection) to stdout.
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import { execSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultScaling } from '../src/core/data/images';
import { initBackend } from '../src/core/measure/backends';
import { analyzeModel } from '../src/core/model/analyze';
import { loadModel } from '../src/core/model/load';
import { filesFromPath } from '../src/core/model/node-files';
import { batchNormUnsupported } from '../src/core/prune/batchnorm';
import { EVALUATORS, type Evaluator } from '../src/core/prune/config';
import { calibrationImages, resolveEvaluator, SCORING_DEFAULTS } from '../src/core/search/config';
import { CHROMIUM_ARGS, serve } from './browser';
import { timeEpisodes, type SpeedPlan, type SpeedRun } from './search-speed/episodes';
import { readSearchSpeed, SEARCH_SPEED_JSON, searchSpeedSection, type SearchSpeedResult, type ThreadsMode } from './search-speed-section';
export { readSearchSpeed, SEARCH_SPEED_JSON };
import { argValue, DEMO_MODELS, logger, modelPath, presentModels } from './util';

const APP_DIR = 'bench/runs/search-speed-app';
const PAGE = '/bench/search-speed/index.html';

const argv = process.argv.slice(2);
const log = logger('search-speed');

function snapshot(): { uptime: string; load: number[]; top: string[] } {
  const sh = (cmd: string) => {
    try {
      return execSync(cmd, { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  // What else ran: the busiest processes, their command lines cut short (no paths of other sessions' files matter here).
  const top = sh('ps aux --sort=-%cpu | head -8')
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').slice(0, 160));
  return { uptime: sh('uptime'), load: loadavg(), top };
}

function build(): Promise<number> {
  const t0 = performance.now();
  log(`building the bench page into ${APP_DIR} (vite build --config bench/search-speed/vite.config.ts)`);
  return new Promise((ok, fail) => {
    const child = spawn(join('node_modules', '.bin', 'vite'), ['build', '--config', 'bench/search-speed/vite.config.ts', '--logLevel', 'error'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? ok((performance.now() - t0) / 1000) : fail(new Error(`vite build failed (${code}):\n${out.slice(-3000)}`))));
  });
}

interface SpeedPage {
  page: Page;
  info: { backend: string; flags: Record<string, unknown>; userAgent: string };
  close(): Promise<void>;
}

/** A fresh context and page with WASM started (`threads` as in page.ts), optionally told `cores` logical cores. */
async function openPage(browser: Browser, base: string, threads: boolean, cores?: number): Promise<SpeedPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (cores) await (await context.newCDPSession(page)).send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: cores });
  page.on('pageerror', (e) => log(`page error: ${String(e).slice(0, 300)}`));
  // The build links the app's manifest and icon relative to index.html, which for this page in
  // bench/search-speed/ is a 404 that matters to nothing here; any other failed file is logged by URL.
  page.on('response', (r) => r.status() >= 400 && !/manifest\.webmanifest|icon-\d+\.png/.test(r.url()) && log(`HTTP ${r.status()} for ${r.url()}`));
  page.on('console', (m) => {
    if (m.text().startsWith('[bench] ') || m.text().startsWith('Failed to load resource')) return;
    if (m.type() === 'error' || m.type() === 'warning') log(`page ${m.type()}: ${m.text().split('\n')[0].slice(0, 300)}`);
  });
  await page.goto(`${base}${PAGE}`);
  await page.waitForFunction(() => 'amcSearchSpeed' in globalThis, null, { timeout: 60_000 });
  const info = (await page.evaluate((t) => (globalThis as any).amcSearchSpeed.start(t), threads)) as SpeedPage['info'];
  return { page, info, close: () => context.close() };
}

const inPage = (p: SpeedPage, url: string, plan: SpeedPlan, where: string) =>
  p.page.evaluate(({ url, plan, where }) => (globalThis as any).amcSearchSpeed.run(url, plan, where), { url, plan, where }) as Promise<SpeedRun>;

async function main() {
  const episodes = Number(argValue(argv, 'episodes') ?? 12);
  const warmup = Number(argValue(argv, 'warmup') ?? 2);
  const tmEpisodes = Number(argValue(argv, 'tm-episodes') ?? 6);
  const tmImages = Number(argValue(argv, 'tm-images') ?? 64);
  const cores = Number(argValue(argv, 'cores') ?? 4);
  const tmDir = resolve(argValue(argv, 'tm-model') ?? '../shared/realmodels/tm-image-asl');
  const evaluators = (argValue(argv, 'evaluators')?.split(',') ?? [...EVALUATORS]).filter((e): e is Evaluator => (EVALUATORS as readonly string[]).includes(e));
  const names = presentModels((argValue(argv, 'models')?.split(',') ?? [...DEMO_MODELS]).filter((m) => (DEMO_MODELS as readonly string[]).includes(m)), log);
  const withBrowser = !argv.includes('--no-browser');
  const before = snapshot();
  log(`load before: ${before.uptime}`);
  const t0 = performance.now();

  const node = await initBackend('wasm');
  if (node.name !== 'wasm') throw new Error(`WASM did not start in Node: ${node.reason}`);
  const result: SearchSpeedResult = {
    date: new Date().toISOString(),
    command: `npx tsx bench/search-speed.ts ${argv.filter((a, i) => a !== '--note' && argv[i - 1] !== '--note').join(' ')}`.trim(),
    commit: (() => {
      try {
        return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
      } catch {
        return undefined;
      }
    })(),
    note: argValue(argv, 'note'),
    plan: { episodes, warmup, rewardImages: SCORING_DEFAULTS.rewardImages, calibration: Object.fromEntries(EVALUATORS.map((e) => [e, calibrationImages(e)])) as Record<Evaluator, number>, tmEpisodes, tmImages, cores },
    node: { version: process.version, backend: node.name },
    demo: [],
    tm: { runs: [] },
    before,
    after: before,
    seconds: 0,
  };

  let browser: Browser | undefined;
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  let app: SpeedPage | undefined;
  try {
    if (withBrowser) {
      const buildSeconds = await build();
      server = await serve(APP_DIR, { '/realmodels/': resolve(tmDir, '..') });
      browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
      app = await openPage(browser, server.base, true);
      app.page.on('console', (m) => m.text().startsWith('[bench] ') && log(m.text().slice(8)));
      result.chromium = { version: browser.version(), userAgent: app.info.userAgent, flags: app.info.flags, buildSeconds };
      log(`Chromium ${browser.version()} at ${server.base}; WASM flags ${JSON.stringify(app.info.flags)}`);
    }

    // Demo models: each evaluator in Node and in Chromium, one after the other, the order alternating.
    let k = 0;
    for (const name of names) {
      const model = await loadModel(filesFromPath(modelPath(name)));
      // What `auto` runs for it: its calibration images (demo:train) are of its own kind.
      (result.defaults ??= {})[name] = resolveEvaluator('auto', !batchNormUnsupported(analyzeModel(model)), true);
      for (const evaluator of evaluators) {
        const plan: SpeedPlan = { model: name, evaluator, rewardImages: SCORING_DEFAULTS.rewardImages, calibration: calibrationImages(evaluator), warmup, episodes, seed: 1, data: 'demo' };
        const runNode = async () => result.demo.push(await timeEpisodes(model, plan, 'Node WASM', log));
        const runChromium = async () => {
          if (app && server) result.demo.push(await inPage(app, `${server.base}/models/${name}/model.json`, plan, 'Chromium WASM'));
        };
        for (const step of k++ % 2 === 0 ? [runNode, runChromium] : [runChromium, runNode]) await step();
        writeFileSync(SEARCH_SPEED_JSON, JSON.stringify(result, null, 1) + '\n');
      }
    }
    await app?.close();
    app = undefined;

    // The 224x224 model.
    if (argv.includes('--no-tm')) result.tm.skipped = 'not run (--no-tm)';
    else if (!existsSync(join(tmDir, 'model.json'))) {
      result.tm.skipped = `${tmDir}/model.json is absent (the Teachable Machine export lives in ../shared/realmodels, never in the repository): skipped`;
      log(result.tm.skipped);
    } else {
      const model = await loadModel(filesFromPath(tmDir));
      const analysis = analyzeModel(model);
      const scaling = defaultScaling(model.sidecars);
      // Its automatic evaluator: BatchNorm statistics of procedural images would hurt it (not of its kind).
      const evaluator = resolveEvaluator('auto', !batchNormUnsupported(analysis), false);
      const plan: SpeedPlan = { model: 'tm-image-asl', evaluator, rewardImages: tmImages, calibration: calibrationImages(evaluator), warmup, episodes: tmEpisodes, seed: 1, data: 'fidelity', scaling, batchSize: 50 };
      result.tm.plan = plan;
      result.tm.runs.push({ mode: 'node', run: await timeEpisodes(model, plan, 'Node WASM', log) });
      if (browser && server) {
        const url = `${server.base}/realmodels/${tmDir.split('/').pop()}/model.json`;
        const modes: { mode: ThreadsMode; threads: boolean; cores?: number }[] = [
          { mode: 'off', threads: false },
          { mode: 'app', threads: true },
          { mode: 'forced', threads: true, cores },
        ];
        for (const m of modes) {
          const p = await openPage(browser, server.base, m.threads, m.cores);
          p.page.on('console', (c) => c.text().startsWith('[bench] ') && log(c.text().slice(8)));
          try {
            result.tm.runs.push({ mode: m.mode, flags: p.info.flags, run: await inPage(p, url, plan, `Chromium WASM (${m.mode})`) });
          } finally {
            await p.close();
          }
          writeFileSync(SEARCH_SPEED_JSON, JSON.stringify(result, null, 1) + '\n');
        }
      }
    }
  } finally {
    await app?.close();
    await browser?.close();
    if (server) await new Promise((ok) => server!.server.close(ok));
  }
  result.after = snapshot();
  result.seconds = (performance.now() - t0) / 1000;
  log(`load after: ${result.after.uptime}; ${(result.seconds / 60).toFixed(1)} min in all`);
  writeFileSync(SEARCH_SPEED_JSON, JSON.stringify(result, null, 1) + '\n');
  log(`wrote ${SEARCH_SPEED_JSON}`);
  console.log(searchSpeedSection(result));
}

if (process.argv[1]?.endsWith('search-speed.ts') && argv.includes('--render')) {
  // The section from the last run's JSON, nothing measured.
  console.log(searchSpeedSection(readSearchSpeed()));
} else if (process.argv[1]?.endsWith('search-speed.ts')) {
  main().catch((e) => {
    log(String(e instanceof Error ? (e.stack ?? e.message) : e));
    process.exit(1);
  });
}
