/**
 * The on-device part of the bench alone, for a quick look without the hours of `npm run bench`:
 * in headless Chromium on WASM, the latency harness's repeatability and a latency-constrained
 * search by the app's worker beside a MACs-constrained one (bench/browser/device-search.ts).
 * Writes bench/device-run.json and prints the tables.
 *
 *   npx tsx bench/device-run.ts [--model mobilenet-like] [--episodes 200] [--target 0.5] [--seed 1] [--no-repeat]
 *   npx tsx bench/device-run.ts --memory 300     only the memory search on WebGPU (SwiftShader here)
 */
import { writeFileSync } from 'node:fs';
import { BenchBrowser, buildApp } from './browser';
import type { DeviceSearchPlan } from './browser/device-search';
import type { RepeatRow } from './repeatability';
import { deviceTable } from './markdown';
import { argValue, logger } from './util';

/** The plan the full bench uses too: the bench's search settings, the speedup table's timing. */
export const DEVICE_PLAN: DeviceSearchPlan = { episodes: 200, warmup: 100, rewardImages: 300, calibration: 64, seed: 1, latencyTarget: 0.5, timing: { warmup: 20, runs: 300 } };


if (process.argv[1]?.endsWith('device-run.ts')) {
  const argv = process.argv.slice(2);
  const model = argValue(argv, 'model') ?? 'mobilenet-like';
  const plan: DeviceSearchPlan = {
    ...DEVICE_PLAN,
    episodes: Number(argValue(argv, 'episodes') ?? DEVICE_PLAN.episodes),
    seed: Number(argValue(argv, 'seed') ?? DEVICE_PLAN.seed),
    latencyTarget: Number(argValue(argv, 'target') ?? DEVICE_PLAN.latencyTarget),
  };
  plan.warmup = Math.min(plan.warmup, Math.floor(plan.episodes / 2));
  const log = logger('device');
  const browser = await BenchBrowser.start('bench/runs', await buildApp(log), log);
  try {
    const memoryEpisodes = Number(argValue(argv, 'memory') ?? 0);
    if (memoryEpisodes) {
      const plan = { episodes: memoryEpisodes, warmup: Math.floor(memoryEpisodes / 3), at: [1, Math.floor(memoryEpisodes / 3), memoryEpisodes], latency: { warmup: 1, runs: 2 } };
      const memory = await browser.memory('webgpu', plan, logger('memory'));
      writeFileSync('bench/device-memory.json', JSON.stringify({ date: new Date().toISOString(), browser: browser.info, memory }, null, 2) + '\n');
      log(`${memory.episodes} episodes on ${memory.backend} in ${memory.seconds.toFixed(0)} s; tensors after each learning episode ${memory.learningRange.min}-${memory.learningRange.max}${memory.gpuLearningRange ? `, GPU bytes ${memory.gpuLearningRange.min}-${memory.gpuLearningRange.max}` : ''}`);
    } else {
      let repeat: RepeatRow[] = [];
      if (!argv.includes('--no-repeat')) repeat = await browser.repeatability([model], logger('repeatability'));
      const search = await browser.deviceSearch(model, plan, logger('device search'));
      writeFileSync('bench/device-run.json', JSON.stringify({ date: new Date().toISOString(), browser: browser.info, repeat, search }, null, 2) + '\n');
      for (const s of search.searches) {
        log(`${s.resource} ${s.target}: ${s.episodes} episodes in ${s.seconds.toFixed(0)} s; best episode ${s.best.episode + 1} (${s.best.phase}): ${s.resource} ${(s.best.resourceRatio * 100).toFixed(1)}%${s.best.predictedRatio !== undefined ? ` (table predicted ${(s.best.predictedRatio * 100).toFixed(1)}%)` : ''}, val top-1 ${((s.best.valTop1 ?? NaN) * 100).toFixed(1)}%${s.tableHeldOutError !== undefined ? `; table held-out error ${(s.tableHeldOutError * 100).toFixed(1)}%` : ''}; drift ${s.drift.map((d) => `${(d * 100).toFixed(0)}%`).join(' ')}`);
      }
      console.log(deviceTable(search));
    }
  } finally {
    await browser.close();
  }
}
