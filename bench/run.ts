/**
 * `npm run bench [-- options]`: the benchmark suite. Every figure comes from this run (the AMC
 * searches from reports it ran or reused in bench/runs/), says how it was measured, and
 * comparisons are ratios taken side by side. Writes bench/results.json and regenerates
 * BENCHMARKS.md (bench/markdown.ts; `npx tsx bench/markdown.ts` regenerates it from the JSON).
 * A quick run writes its own results.json and BENCHMARKS.md beside its runs, in bench/runs/quick/.
 *
 *   --quick        checks the machinery in a few minutes: 1 seed, resnet-like only, 12-episode
 *                  searches (4 warm-up), 100 reward images, short memory and responsiveness runs;
 *                  never touches the published BENCHMARKS.md and bench/results.json
 *   --jobs N       searches run N at a time as child processes (default 1; latency searches,
 *                  which time every episode, always run alone, after Chromium's WebGPU memory
 *                  run, which goes on beside the MACs searches since it counts bytes, not time)
 *   --fresh        run every search again instead of reusing finished reports
 *   --import DIR   first copy finished searches from DIR/<model>-<agent>-<seed>/report.json
 *   --reuse-only   run no search: the tables use the finished reports there are (a long run's
 *                  tables so far, without waiting for it)
 *   --seeds 1,2,3  --models a,b  --episodes N   override the search plan
 *   --no-browser   skip the Chromium parts
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { initBackend } from '../src/core/measure/backends';
import { analyzeModel } from '../src/core/model/analyze';
import { loadModel } from '../src/core/model/load';
import { filesFromPath } from '../src/core/model/node-files';
import { BenchBrowser, buildApp } from './browser';
import { DEVICE_PLAN } from './device-run';
import { markdown } from './markdown';
import { memoryBench, type MemoryResult } from './memory';
import { originalAccuracy, policyRows, policySpecs } from './policy';
import { repeatability, repeatText, REPEATS, type RepeatRow } from './repeatability';
import type { Results, RunSummary } from './results';
import { importRuns, runName, runSearches, type SearchSettings } from './runs';
import { scale } from './scale';
import { costRows, pruneSplit } from './search-cost';
import { latencyFallback, speedupNode, speedupSpecs } from './speedup';
import { argValue, DEMO_MODELS, logger, modelPath, presentModels } from './util';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const fresh = argv.includes('--fresh');
const noBrowser = argv.includes('--no-browser');
const reuseOnly = argv.includes('--reuse-only');
const jobs = Number(argValue(argv, 'jobs') ?? 1);
const importDir = argValue(argv, 'import');
const list = (v: string | undefined) => v?.split(',').map((s) => s.trim()).filter(Boolean);

if (!(Number.isInteger(jobs) && jobs >= 1)) {
  console.error(`--jobs needs a whole number of 1 or more, got '${argValue(argv, 'jobs')}'.`);
  process.exit(2);
}

const search: SearchSettings = quick
  ? { episodes: 12, warmup: 4, rewardImages: 100, calibration: 64, roundTo: 1 }
  : { episodes: 200, rewardImages: 300, calibration: 64, roundTo: 1 };
if (argValue(argv, 'episodes')) search.episodes = Number(argValue(argv, 'episodes'));
const seeds = (list(argValue(argv, 'seeds')) ?? (quick ? ['1'] : ['1', '2', '3'])).map(Number);
if (!(Number.isInteger(search.episodes) && search.episodes > (search.warmup ?? 100)) || !seeds.every((s) => Number.isInteger(s) && s > 0)) {
  console.error(`--episodes must be a whole number above the ${search.warmup ?? 100} warm-up episodes and --seeds whole numbers above 0, e.g. --episodes 300 --seeds 1,2,3.`);
  process.exit(2);
}
const wanted = list(argValue(argv, 'models')) ?? (quick ? ['resnet-like'] : [...DEMO_MODELS]);
// Quick searches live apart, so a quick check never replaces a full run's hours of searches.
const runsDir = quick ? 'bench/runs/quick' : 'bench/runs';
const nodeTiming = quick ? { warmup: 10, runs: 100 } : { warmup: 20, runs: 300 };
const browserTiming = quick ? { warmup: 10, runs: 100 } : { warmup: 20, runs: 300 };
/** Every episode's model timed beside the original in the memory runs: few runs, it is the allocations that count. */
const MEMORY_LATENCY = { warmup: 1, runs: 2 };
const memoryPlan = quick ? { episodes: 30, warmup: 10, at: [1, 10, 30] } : { episodes: 300, warmup: 100, at: [1, 100, 300] };
const responsivenessPlan = quick ? { episodes: 8, warmup: 3, rewardImages: 100, timeoutMs: 600_000 } : { episodes: 60, warmup: 20, rewardImages: 300, timeoutMs: 3_600_000 };

function importedFrom(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(`${dir}/bench-run.json`, 'utf8')) as { importedFrom?: string }).importedFrom;
  } catch {
    return undefined;
  }
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

const t0 = performance.now();
const log = logger('bench');
const notes: string[] = [];
const loadStart = loadavg();
const nodeBackend = await initBackend('wasm');
log(`${quick ? 'quick run' : 'full run'}: Node ${process.version}, tfjs ${tf.version.tfjs} on ${nodeBackend.name} (${nodeBackend.reason}); searches in ${runsDir}/, ${jobs} at a time`);

let imported = 0;
if (importDir) imported = importRuns(importDir, runsDir, logger('import'));

// Chromium starts first: its WebGPU memory run counts bytes, not time, so it runs beside the
// searches (which time nothing) rather than after them; everything timed in it runs at the end.
const blog = logger('browser');
const memLog = logger('memory');
let browser: BenchBrowser | undefined;
let browserStartError: string | undefined;
let memoryWebGpu: Promise<MemoryResult> | undefined;
if (!noBrowser) {
  try {
    browser = await BenchBrowser.start(runsDir, await buildApp(blog), blog);
    memLog(`WebGPU in Chromium: ${memoryPlan.episodes} episodes, beside the searches`);
    memoryWebGpu = browser.memory('webgpu', { ...memoryPlan, latency: MEMORY_LATENCY }, (line) => memLog(`WebGPU: ${line}`));
    memoryWebGpu.catch(() => undefined);
  } catch (e) {
    browserStartError = (e as Error).message.split('\n')[0];
    blog(`Chromium did not start: ${(e as Error).message}`);
  }
}

const models = presentModels(wanted, logger('models'));
const missing = wanted.filter((m) => !models.includes(m));
for (const m of missing) notes.push(`models/${m}/model.json was missing when this ran: ${m} is left out of every table.`);

// 1-3: the searches (policy quality, the latency-constrained ones for the speedup; their logs give the cost).
const searchLog = logger('search');
const fallbackNote = (model: string, floor: number, target: number) =>
  notes.push(`On ${model} a 50% latency target cannot be met: with every prunable group at the smallest width, the search's latency table (timed on this machine) predicts ${(floor * 100).toFixed(1)}% of the original's latency, so the latency-constrained search ran at ${Math.round(target * 100)}%.`);
const latencySpecs = speedupSpecs(models, search).map((spec) => {
  const f = fresh ? undefined : latencyFallback(spec, runsDir);
  if (f) fallbackNote(spec.model, f.floor, f.spec.target);
  return f?.spec ?? spec;
});
// Latency searches time every episode's model: they run alone, after the others, never beside another search.
const policyOutcomes = await runSearches(policySpecs(models, seeds, search), runsDir, { jobs, fresh, reuseOnly }, searchLog);
// Nothing is timed while Chromium's memory run still works beside it: the latency searches time every episode.
const webGpuMemory = memoryWebGpu && (await memoryWebGpu.then((result) => ({ result }), (e: Error) => ({ error: e.message.split('\n')[0] })));
const outcomes = [...policyOutcomes, ...(await runSearches(latencySpecs, runsDir, { jobs: 1, fresh, reuseOnly }, searchLog))];
// A latency target under the model's floor fails at once with the floor: search again just above it.
for (const [i, o] of outcomes.entries()) {
  const f = o.status === 'failed' && o.spec.resource === 'latency' ? latencyFallback(o.spec, runsDir) : undefined;
  if (!f) continue;
  searchLog(`${runName(o.spec)}: the target is under the model's floor (${(f.floor * 100).toFixed(1)}%): searching at ${Math.round(f.spec.target * 100)}% instead`);
  fallbackNote(o.spec.model, f.floor, f.spec.target);
  [outcomes[i]] = await runSearches([f.spec], runsDir, { jobs: 1, fresh }, searchLog);
}
const runs: RunSummary[] = outcomes.map((o) => {
  const s = o.report?.search;
  return {
    name: runName(o.spec),
    dir: o.dir,
    status: o.status,
    imported: importedFrom(o.dir),
    error: o.error,
    episodes: s?.config.episodes,
    seconds: s?.seconds,
    bestEpisode: s ? s.best.episode + 1 : undefined,
    bestPhase: s?.best.phase,
    testTop1: s?.test?.best.top1,
    uniformTop1: s?.test?.uniform.top1,
    resourceRatio: s?.best.resourceRatio,
  };
});
const notRun = runs.filter((r) => r.status === 'missing');
if (notRun.length) notes.push(`Run with --reuse-only: ${notRun.length} of ${runs.length} searches had no finished report and were not run (${notRun.map((r) => r.name).join(', ')}); the tables leave them out.`);
const failed = runs.filter((r) => r.status === 'failed');
for (const f of failed) notes.push(`search ${f.name} failed: ${f.error}`);

const policyLog = logger('policy');
policyLog('demo:test top-1 of the original models');
const original = await originalAccuracy(models);
const policy = policyRows(outcomes.filter((o) => o.spec.resource === 'macs'), original);

const speedLog = logger('speedup');
const speedupRows = await speedupNode(models, outcomes, search, runsDir, nodeTiming, speedLog);

const costLog = logger('search cost');
const cost = costRows(outcomes);
for (const row of cost.filter((r) => r.resource === 'macs')) {
  await pruneSplit(row, outcomes, search.calibration, quick ? 4 : 12);
  if (row.pruneSplit) costLog(`${row.model}: prune phase split: slice+rebuild ${row.pruneSplit.sliceRebuildMs.toFixed(0)} ms, refit ${row.pruneSplit.refitMs.toFixed(0)} ms, build ${row.pruneSplit.buildMs.toFixed(0)} ms`);
}

const repeatLog = logger('repeatability');
const repeatRows: RepeatRow[] = [];
for (const name of models) {
  const model = await loadModel(filesFromPath(modelPath(name)));
  const rows = await repeatability(model, analyzeModel(model), { name, where: 'Node WASM', repeats: quick ? 5 : REPEATS });
  repeatRows.push(...rows);
  repeatLog(`${name}: Node WASM, ${repeatText(rows)}`);
}

const scaleRows = await scale(quick, logger('scale'));

memLog(`${memoryPlan.episodes} episodes (${memoryPlan.warmup} warm-up) on the mobilenetV2Like fixture`);
const memory = await memoryBench(memoryPlan.episodes, memoryPlan.warmup, memoryPlan.at, memLog, {
  heap: () => {
    // Without a collection first, heapUsed counts garbage V8 has not collected yet (it read 109 -> 187 MB over 300 episodes where the live heap went 51 -> 60 MB).
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const p = process.memoryUsage();
    return { heapUsedMB: p.heapUsed / 2 ** 20, rssMB: p.rss / 2 ** 20, heapAfterGc: Boolean(gc) };
  },
  latency: MEMORY_LATENCY,
});

const results: Results = {
  date: new Date().toISOString(),
  quick,
  command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  seconds: 0,
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGB: totalmem() / 2 ** 30, os: `${osType()} ${release()}`, node: process.version, loadStart, loadEnd: [] },
  versions: {
    '@tensorflow/tfjs': tf.version.tfjs,
    '@tensorflow/tfjs-backend-wasm': version('@tensorflow/tfjs-backend-wasm'),
    '@playwright/test': version('@playwright/test'),
    vite: version('vite'),
    svelte: version('svelte'),
    tsx: version('tsx'),
  },
  nodeBackend,
  settings: { models, missing, seeds, search, jobs, runsDir, fresh, reuseOnly, imported },
  runs,
  policy,
  speedup: { rows: speedupRows, nodeTiming, browserTiming },
  repeatability: repeatRows,
  cost,
  scale: scaleRows,
  memory,
  notes,
};

// 2 (browser half), 5 (WebGPU) and 6: Chromium.
if (noBrowser) notes.push('Run with --no-browser: the Chromium columns and the responsiveness table are empty.');
else if (!browser) {
  results.speedup.browserError = results.responsivenessError = results.memoryWebGpuError = results.deviceSearchError = browserStartError;
} else {
  try {
    results.speedup.browser = browser.info;
    results.versions.chromium = browser.info.version;
    if (webGpuMemory && 'result' in webGpuMemory) results.memoryWebGpu = webGpuMemory.result;
    else if (webGpuMemory) {
      results.memoryWebGpuError = webGpuMemory.error;
      memLog(`the WebGPU memory run failed: ${webGpuMemory.error}`);
    }
    try {
      results.repeatability.push(...(await browser.repeatability(models, logger('repeatability'))));
    } catch (e) {
      notes.push(`Repeatability in Chromium failed: ${(e as Error).message.split('\n')[0]}`);
    }
    try {
      await browser.latency(speedupRows, browserTiming, logger('speedup'));
    } catch (e) {
      results.speedup.browserError = (e as Error).message.split('\n')[0];
      blog(`latency in Chromium failed: ${results.speedup.browserError}`);
    }
    const onDevice = models.includes('mobilenet-like') ? 'mobilenet-like' : models[0];
    if (onDevice) {
      const plan = quick ? { ...DEVICE_PLAN, episodes: search.episodes, warmup: search.warmup ?? 4, rewardImages: search.rewardImages, timing: browserTiming } : DEVICE_PLAN;
      try {
        results.deviceSearch = await browser.deviceSearch(onDevice, plan, logger('device search'));
      } catch (e) {
        results.deviceSearchError = (e as Error).message.split('\n')[0];
        blog(`the searches in Chromium failed: ${results.deviceSearchError}`);
      }
    }
    const model = models.includes('resnet-like') ? 'resnet-like' : models[0];
    if (!model) results.responsivenessError = 'no demo model to search';
    else {
      try {
        results.responsiveness = await browser.responsiveness({ model, ...responsivenessPlan }, logger('responsive'));
      } catch (e) {
        results.responsivenessError = (e as Error).message.split('\n')[0];
        blog(`responsiveness failed: ${results.responsivenessError}`);
      }
    }
  } finally {
    await browser.close();
  }
}

results.machine.loadEnd = loadavg();
results.seconds = (performance.now() - t0) / 1000;
// A quick run's figures say nothing about AMC: they go beside its runs, never over the published ones.
const resultsFile = quick ? `${runsDir}/results.json` : 'bench/results.json';
const markdownFile = quick ? `${runsDir}/BENCHMARKS.md` : 'BENCHMARKS.md';
mkdirSync(runsDir, { recursive: true });
writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
writeFileSync(markdownFile, markdown(results));
log(`wrote ${resultsFile} and ${markdownFile} in ${(results.seconds / 60).toFixed(1)} min`);
if (failed.length) {
  log(`${failed.length} search(es) failed; see the notes in ${markdownFile}`);
  process.exitCode = 1;
}
