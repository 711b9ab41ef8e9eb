/**
 * Search cost: episodes per second and where an episode's time goes, read from the searches' own
 * logs (every episode records its phases' wall time in ms), and a side measurement that splits
 * the scorer's "prune" phase into channel selection + rebuild, the least-squares refit, and
 * building the tfjs model (the scorer times those three together).
 */
import * as tf from '@tensorflow/tfjs';
import { generateDataset } from '../src/core/data/procedural';
import { inputTensor } from '../src/core/measure/accuracy';
import { analyzeModel } from '../src/core/model/analyze';
import { loadModel } from '../src/core/model/load';
import { filesFromPath } from '../src/core/model/node-files';
import { instantiate } from '../src/core/model/tfjs-model';
import { groupImportance, pruneModel } from '../src/core/prune/prune';
import { refitPruned, type FeatureCache } from '../src/core/prune/refit';
import type { RunOutcome } from './runs';
import { mean, median, modelPath } from './util';

export interface PhaseSplit {
  episodes: number;
  /** Mean ms per episode of each phase the log records. */
  pruneMs: number;
  refitMs?: number;
  evaluateMs: number;
  latencyMs: number;
  agentMs: number;
  /** score + agent: the episode as the search loop times it. */
  totalMs: number;
}

export interface CostRow {
  model: string;
  /** 'macs' or 'latency': latency searches also time every pruned model. */
  resource: string;
  steps: number;
  runs: number;
  episodes: number;
  /** Sum of the episodes' timed phases (score + agent: the whole episode), s. */
  loopSeconds: number;
  episodesPerSecond: number;
  /** Per search, the time after the last episode (scoring the best and the uniform policy on demo:test, the final timing, export), mean s. */
  finishSeconds: number;
  noUpdate: PhaseSplit | null;
  learning: PhaseSplit | null;
  /** A 300-episode DDPG search (100 warm-up + 200 learning episodes, then the final scoring), extrapolated from the means. */
  full300Seconds: number | null;
  /** Side measurement of the prune phase on policies from the logs (median ms). */
  pruneSplit?: { policies: number; calibration: number; sliceRebuildMs: number; refitMs: number; buildMs: number };
}

function split(entries: { ms: Record<string, number> }[]): PhaseSplit | null {
  if (!entries.length) return null;
  const m = (k: string) => mean(entries.map((e) => e.ms[k] ?? 0));
  const hasRefit = entries.some((e) => e.ms.refit !== undefined);
  return {
    episodes: entries.length,
    pruneMs: m('prune'),
    refitMs: hasRefit ? m('refit') : undefined,
    evaluateMs: m('evaluate'),
    latencyMs: m('latency'),
    agentMs: m('agent'),
    totalMs: m('score') + m('agent'),
  };
}

export function costRows(outcomes: RunOutcome[]): CostRow[] {
  const rows: CostRow[] = [];
  const done = outcomes.filter((o) => o.report);
  const keys = [...new Set(done.map((o) => `${o.spec.model}|${o.spec.resource}`))];
  for (const key of keys) {
    const [model, resource] = key.split('|');
    const mine = done.filter((o) => o.spec.model === model && o.spec.resource === resource);
    const logs = mine.flatMap((o) => o.report!.search.log);
    const episodes = logs.length;
    const episodeMs = (e: { ms: Record<string, number> }) => (e.ms.score ?? 0) + (e.ms.agent ?? 0);
    const loopSeconds = logs.reduce((t, e) => t + episodeMs(e), 0) / 1000;
    // The report's `seconds` runs from the first episode to the report, so it includes the final scoring.
    const finishSeconds = mean(mine.map((o) => o.report!.search.seconds - o.report!.search.log.reduce((t, e) => t + episodeMs(e), 0) / 1000));
    const noUpdate = split(logs.filter((e) => e.phase !== 'learning'));
    const learning = split(logs.filter((e) => e.phase === 'learning'));
    rows.push({
      model,
      resource,
      steps: Object.keys(mine[0].report!.policy).length,
      runs: mine.length,
      episodes,
      loopSeconds,
      episodesPerSecond: episodes / loopSeconds,
      finishSeconds,
      noUpdate,
      learning,
      full300Seconds: noUpdate && learning ? (100 * noUpdate.totalMs + 200 * learning.totalMs) / 1000 + finishSeconds : null,
    });
  }
  return rows;
}

/**
 * Times the three parts of the scorer's prune phase on `count` policies taken from the logs:
 * pruneModel (channel selection and rebuild of config and weights), refitPruned (least squares on
 * `calibration` demo:train images, the original's features cached as in a search) and instantiate
 * (tf.loadLayersModel of the result). The first policy is a warm-up (it fills the feature cache).
 */
export async function pruneSplit(row: CostRow, outcomes: RunOutcome[], calibration: number, count: number): Promise<void> {
  const mine = outcomes.filter((o) => o.report && o.spec.model === row.model && o.spec.resource === row.resource);
  if (!mine.length) return;
  const roundTo = mine[0].report!.options.roundTo;
  const logs = mine.flatMap((o) => o.report!.search.log as { keep?: Record<string, number> }[]);
  const step = Math.max(1, Math.floor(logs.length / (count + 1)));
  const policies = logs.filter((_, i) => i % step === 0).map((e) => e.keep!).filter(Boolean).slice(0, count + 1);
  if (policies.length < 2) return;
  const model = await loadModel(filesFromPath(modelPath(row.model)));
  const analysis = analyzeModel(model);
  const importance = groupImportance(model, analysis);
  const calib = inputTensor(analysis.graph.tensors.get(analysis.graph.inputs[0])!.shape, generateDataset('train', { count: calibration }).images, { imageSize: 32, batchSize: 100 });
  const cache: FeatureCache = new Map();
  const times = { slice: [] as number[], refit: [] as number[], build: [] as number[] };
  try {
    for (const [i, policy] of policies.entries()) {
      const t0 = performance.now();
      const result = pruneModel(model, analysis, policy, { roundTo, importance });
      const t1 = performance.now();
      const { model: refitted } = await refitPruned(model, analysis, result, calib, { seed: 1, originalFeatures: cache });
      const t2 = performance.now();
      const net = await instantiate(refitted);
      const t3 = performance.now();
      net.dispose();
      if (i === 0) continue;
      times.slice.push(t1 - t0);
      times.refit.push(t2 - t1);
      times.build.push(t3 - t2);
    }
  } finally {
    tf.dispose(calib);
  }
  row.pruneSplit = { policies: times.slice.length, calibration, sliceRebuildMs: median(times.slice), refitMs: median(times.refit), buildMs: median(times.build) };
}
