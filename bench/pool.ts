/**
 * What the scorer pool buys (issue 16, item 3): a random search on a demo model (default
 * mobilenet-like, 40 episodes) with `amc search`'s defaults (the evaluator `auto` resolves to,
 * BatchNorm statistics recomputed for the demo models; the default reward images of demo:val),
 * scored one episode at a time and on a pool of worker threads (the local scorer + workers - 1
 * threads), side by side in one run: the arms alternate A B B A per round so both see the same
 * load, and the logs are compared (a pooled search must write the same one). Prints the episodes/s
 * of each arm, the speedup, and the load average before and after (on a shared machine, other
 * processes take cores from the pool). Beside them, the ceiling the machine allows at that moment:
 * the same fixed convolution work on one thread, then on `workers` threads at once (this file runs
 * as its own worker thread for it); a pool cannot beat that ratio.
 *
 *   npx tsx bench/pool.ts [--model mobilenet-like] [--episodes 40] [--workers N] [--rounds 1]
 */
import { availableParallelism, loadavg } from 'node:os';
import { isMainThread, parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { defaultWorkers, startThread, threadPool } from '../src/cli/scorer-threads';
import { initBackend } from '../src/core/measure/backends';
import { analyzeModel } from '../src/core/model/analyze';
import { loadModel } from '../src/core/model/load';
import { filesFromPath } from '../src/core/model/node-files';
import type { LoadedModel } from '../src/core/model/types';
import type { ModelAnalysis } from '../src/core/model/analyze';
import { batchNormUnsupported } from '../src/core/prune/batchnorm';
import { calibrationImages, resolveEvaluator, SCORING_DEFAULTS, searchConfig, type SearchConfig } from '../src/core/search/config';
import { demoScoringData } from '../src/core/search/demo-data';
import type { ScoringData } from '../src/core/search/scorer';
import type { EpisodeRecord } from '../src/core/search/search';
import { SearchSession } from '../src/core/search/session';
import { argValue, logger, modelPath } from './util';

const argv = process.argv.slice(2);
const log = logger('pool');
const name = argValue(argv, 'model') ?? 'mobilenet-like';
const episodes = Number(argValue(argv, 'episodes') ?? 40);
const workers = Number(argValue(argv, 'workers') ?? Math.max(2, defaultWorkers()));
const rounds = Number(argValue(argv, 'rounds') ?? 1);

interface Arm {
  /** The episodes' loop; for the pool, with its threads' start (each loads the model and the data) at the first batch. */
  seconds: number;
  log: EpisodeRecord[];
}

async function run(model: LoadedModel, analysis: ModelAnalysis, config: SearchConfig, data: ScoringData, pooled: boolean): Promise<Arm> {
  const session = await SearchSession.open({ model, analysis, config, data, backend: 'wasm', ...(pooled ? { scorerPool: (s, b) => threadPool(s, b, workers) } : {}) });
  session.begin(false);
  const t1 = performance.now();
  for (let turn = session.nextTurn(); turn; turn = session.nextTurn()) await session.play(turn);
  const seconds = (performance.now() - t1) / 1000;
  const arm = { seconds, log: session.amc.log };
  session.dispose();
  return arm;
}

/** Fixed convolution work (a batch of 8 at 32x32x64, 3x3), ms. */
function convWork(n: number): number {
  const x = tf.randomNormal([8, 32, 32, 64]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 64, 64]) as tf.Tensor4D;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) tf.tidy(() => tf.conv2d(x, w, 1, 'same').dataSync());
  const ms = performance.now() - t0;
  tf.dispose([x, w]);
  return ms;
}

/** The machine's scaling now: `threads` threads doing convWork(n) at once vs this thread alone. */
async function ceiling(threads: number, n: number): Promise<number> {
  convWork(3);
  const alone = convWork(n);
  const others = Array.from({ length: threads - 1 }, () => startThread(new URL(import.meta.url)));
  await Promise.all(others.map((w) => new Promise((r) => w.once('message', r))));
  const done = others.map((w) => new Promise<number>((r) => w.once('message', r)));
  others.forEach((w) => w.postMessage(n));
  const mine = convWork(n);
  const slowest = Math.max(mine, ...(await Promise.all(done)));
  await Promise.all(others.map((w) => w.terminate()));
  return (threads * alone) / slowest;
}

if (!isMainThread) {
  // A ceiling thread: warm up, say so, then do the work it is sent.
  await initBackend('wasm');
  convWork(3);
  parentPort!.postMessage('ready');
  parentPort!.once('message', (n: number) => parentPort!.postMessage(convWork(n)));
} else await main();

async function main(): Promise<void> {
  const same = (a: EpisodeRecord[], b: EpisodeRecord[]) => JSON.stringify(a.map((e) => [e.keep, e.reward])) === JSON.stringify(b.map((e) => [e.keep, e.reward]));
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

  await initBackend('wasm');
  const model = await loadModel(filesFromPath(modelPath(name)));
  const analysis = analyzeModel(model);
  const evaluator = resolveEvaluator(SCORING_DEFAULTS.evaluator, !batchNormUnsupported(analysis), true);
  const data = demoScoringData('val', SCORING_DEFAULTS.rewardImages, { calibration: calibrationImages(evaluator) });
  const config = searchConfig({ episodes, seed: 1, agent: 'random', evaluator });
  log(`${name}: ${episodes}-episode random search, evaluator ${evaluator} (${calibrationImages(evaluator)} calibration images), reward on ${SCORING_DEFAULTS.rewardImages} demo:val images, wasm`);
  log(`${availableParallelism()} cores; pool of ${workers} scorers (${workers - 1} worker thread${workers > 2 ? 's' : ''}); load average before ${load()}`);

  const seq: Arm[] = [];
  const pool: Arm[] = [];
  for (let r = 0; r < rounds; r++) {
    // A B B A: a drift in the machine's load over the round weighs on both arms alike.
    for (const pooled of [false, true, true, false]) {
      const arm = await run(model, analysis, config, data, pooled);
      (pooled ? pool : seq).push(arm);
      log(`round ${r + 1} ${pooled ? 'pooled    ' : 'sequential'} ${arm.seconds.toFixed(1)} s (${(episodes / arm.seconds).toFixed(2)} episodes/s)${pooled ? ', threads started in it' : ''}; load ${load()}`);
    }
  }
  const total = (arms: Arm[]) => arms.reduce((s, a) => s + a.seconds, 0);
  const identical = [...seq, ...pool].every((a) => same(a.log, seq[0].log));
  const rate = (arms: Arm[]) => (episodes * arms.length) / total(arms);
  log(`sequential ${rate(seq).toFixed(2)} episodes/s, pooled ${rate(pool).toFixed(2)} episodes/s: speedup x${(total(seq) / total(pool)).toFixed(2)} on ${workers} scorers; logs ${identical ? 'identical' : 'DIFFER'}`);
  const scaling = await ceiling(workers, 30);
  log(`ceiling now: ${workers} threads doing the same convolutions at once get x${scaling.toFixed(2)} the work of one done (what the machine lets a pool reach)`);
  log(`load average after ${load()} (1, 5, 15 min) on ${availableParallelism()} cores: other processes share them`);
  if (!identical) process.exitCode = 1;
}
