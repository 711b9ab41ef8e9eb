/**
 * AMC searches run in Chromium by the app's own search worker (src/workers/search.worker.ts, the
 * code the Search panel drives), on WASM: a latency-constrained one, whose per-layer table and
 * per-episode timings come from this browser, and a MACs-constrained one at the MACs the latency
 * search's best policy ended at. Their best models, and the original, are then timed interleaved
 * in this page and scored on demo:test: which is faster at the same MACs, and at what accuracy.
 */
import { generateDataset, SPLIT_SIZES } from '../../src/core/data/procedural';
import { evaluateAccuracy } from '../../src/core/measure/accuracy';
import { initBackend } from '../../src/core/measure/backends';
import { measureInterleaved, type LatencyOptions, type LatencyStats } from '../../src/core/measure/latency';
import { exportFiles } from '../../src/core/export/files';
import { analyzeModel } from '../../src/core/model/analyze';
import { filesFromUrl } from '../../src/core/model/files';
import { loadModel } from '../../src/core/model/load';
import { instantiate } from '../../src/core/model/tfjs-model';
import type { LoadedModel } from '../../src/core/model/types';
import { bestOf } from '../../src/core/search/best';
import { searchConfig } from '../../src/core/search/config';
import type { EpisodeRecord } from '../../src/core/search/search';
import { wasmPaths } from '../../src/workers/wasm-paths';
import { burnIn } from '../../src/core/measure/burn-in';
import { fromPrunedPayload } from '../../src/workers/payload';
import type { FromWorker, ToWorker } from '../../src/workers/search-messages';

export interface DeviceSearchPlan {
  episodes: number;
  warmup: number;
  rewardImages: number;
  calibration: number;
  seed: number;
  latencyTarget: number;
  timing: LatencyOptions;
}

export interface WorkerSearch {
  resource: 'latency' | 'macs';
  target: number;
  seconds: number;
  episodes: number;
  originalLatencyMs?: number;
  /** The latency table's error on held-out random policies, when it was timed. */
  tableHeldOutError?: number;
  best: { episode: number; phase: string; reward: number; resourceRatio: number; predictedRatio?: number; valTop1?: number; macs: number; keep: Record<string, number> };
  drift: number[];
}

export interface DeviceModel {
  label: string;
  macs: number;
  params: number;
  testTop1: number;
  latency: Omit<LatencyStats, 'flags'>;
}

export interface DeviceSearchResult {
  model: string;
  plan: DeviceSearchPlan;
  searches: WorkerSearch[];
  /** Original, latency-constrained best, MACs-constrained best: timed interleaved here. */
  models: DeviceModel[];
}

/** One search by the app's worker, to its end; then its best policy pruned (with the refit) by the same worker. */
async function runWorkerSearch(files: { modelJson: string; weights: ArrayBuffer }, plan: DeviceSearchPlan, resource: 'latency' | 'macs', target: number, log: (s: string) => void) {
  const worker = new Worker(new URL('../../src/workers/search.worker.ts', import.meta.url), { type: 'module', name: 'bench-search' });
  const records: EpisodeRecord[] = [];
  const drift: number[] = [];
  let originalLatencyMs: number | undefined;
  let tableHeldOutError: number | undefined;
  const t0 = performance.now();
  const config = searchConfig({ episodes: plan.episodes, seed: plan.seed, env: { resource, target, roundTo: 1 }, ddpg: { warmupEpisodes: plan.warmup } });
  try {
    const pruned = await new Promise<ReturnType<typeof fromPrunedPayload>>((resolve, reject) => {
      const send = (m: ToWorker) => worker.postMessage(m);
      worker.onerror = (e) => reject(new Error(`search worker: ${e.message}`));
      worker.onmessage = (e: MessageEvent<FromWorker>) => {
        const m = e.data;
        if (m.type === 'ready') originalLatencyMs = m.originalLatencyMs;
        else if (m.type === 'latency-table') tableHeldOutError = m.latency.table.heldOutError;
        else if (m.type === 'drift') drift.push(m.drift);
        else if (m.type === 'error' && (m.fatal || m.requestId !== undefined)) reject(new Error(m.message));
        else if (m.type === 'episode' && m.search === 'amc') {
          records.push(m.record);
          if (records.length % 20 === 0) log(`${resource} ${target}: episode ${records.length}/${plan.episodes}, best reward ${bestOf(records, config.env)!.reward.toFixed(4)}`);
        } else if (m.type === 'status' && m.status === 'done') send({ type: 'prune', requestId: 1, keep: bestOf(records, config.env)!.keep });
        else if (m.type === 'pruned') resolve(fromPrunedPayload(m.result));
      };
      send({
        type: 'start',
        id: `bench-${resource}`,
        model: files,
        inputSize: null,
        data: { kind: 'demo', split: 'val', count: plan.rewardImages, labeled: true, calibration: plan.calibration },
        config,
        randomBaseline: false,
        resume: null,
        meta: null,
        backend: 'wasm',
        run: true,
      });
    });
    const best = bestOf(records, config.env)!;
    const search: WorkerSearch = {
      resource,
      target,
      seconds: (performance.now() - t0) / 1000,
      episodes: records.length,
      originalLatencyMs,
      tableHeldOutError,
      best: { episode: best.episode, phase: best.phase, reward: best.reward, resourceRatio: best.resourceRatio, predictedRatio: best.predictedRatio, valTop1: best.score.top1, macs: pruned.cost.totalMacs, keep: best.keep },
      drift,
    };
    return { search, model: pruned.model };
  } finally {
    worker.terminate();
  }
}

export async function deviceSearch(url: string, name: string, plan: DeviceSearchPlan, log: (s: string) => void): Promise<DeviceSearchResult> {
  const info = await initBackend('wasm', wasmPaths);
  if (info.name !== 'wasm') throw new Error(`wasm did not start here: ${info.reason}`);
  const original = await loadModel(await filesFromUrl(url));
  const analysis = analyzeModel(original);
  const files = exportFiles(original);

  const byLatency = await runWorkerSearch(files, plan, 'latency', plan.latencyTarget, log);
  const macsTarget = Math.round((byLatency.search.best.macs / analysis.cost.totalMacs) * 100) / 100;
  log(`latency search done: best at ${(byLatency.search.best.resourceRatio * 100).toFixed(1)}% latency, ${((byLatency.search.best.macs / analysis.cost.totalMacs) * 100).toFixed(1)}% MACs; MACs search at ${macsTarget}`);
  const byMacs = await runWorkerSearch(files, plan, 'macs', macsTarget, log);

  const variants: [string, LoadedModel][] = [
    ['original', original],
    [`AMC, ${Math.round(plan.latencyTarget * 100)}% latency`, byLatency.model],
    [`AMC, ${Math.round(macsTarget * 100)}% MACs`, byMacs.model],
  ];
  const nets = await Promise.all(variants.map(([, m]) => instantiate(m)));
  try {
    await burnIn(nets, analysis.graph.inputSize);
    const stats = await measureInterleaved(nets, plan.timing, analysis.graph.inputSize);
    const test = generateDataset('test', { count: SPLIT_SIZES.test });
    const models: DeviceModel[] = [];
    for (const [i, [label, m]] of variants.entries()) {
      const a = await evaluateAccuracy(nets[i], test.images, test.labels, { imageSize: 32, batchSize: 100 });
      const cost = analyzeModel(m).cost;
      const { flags: _flags, ...latency } = stats[i];
      models.push({ label, macs: cost.totalMacs, params: cost.totalParams, testTop1: a.top1, latency });
    }
    return { model: name, plan, searches: [byLatency.search, byMacs.search], models };
  } finally {
    nets.forEach((n) => n.dispose());
  }
}
