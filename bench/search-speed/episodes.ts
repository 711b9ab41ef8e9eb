/**
 * Episodes per second of a search, the same code in Node and in the bench page in Chromium
 * (bench/search-speed.ts drives both): an EpisodeScorer and an AmcSearch with the random agent
 * (every episode is a warm-up-like episode: random actions, no DDPG update, so what is timed is the
 * scoring, which is what the evaluator changes), `warmup` untimed episodes, then `episodes` timed
 * ones, each timed end to end around runEpisode() and split by the scorer's own `timings`.
 *
 * No Node imports: the page bundles it. The tfjs backend is started by the caller.
 */
import * as tf from '@tensorflow/tfjs';
import { generateDataset, IMAGE_SIZE, type Scaling } from '../../src/core/data/procedural';
import { analyzeModel } from '../../src/core/model/analyze';
import type { LoadedModel } from '../../src/core/model/types';
import type { Evaluator } from '../../src/core/prune/config';
import { searchConfig } from '../../src/core/search/config';
import { demoScoringData } from '../../src/core/search/demo-data';
import { PruningEnv } from '../../src/core/search/env';
import { EpisodeScorer, type ScoringData } from '../../src/core/search/scorer';
import { AmcSearch } from '../../src/core/search/search';

export interface SpeedPlan {
  /** The model's name, for the record. */
  model: string;
  evaluator: Evaluator;
  rewardImages: number;
  /** Calibration images of the evaluator (0 for slice). */
  calibration: number;
  warmup: number;
  episodes: number;
  seed: number;
  /**
   * 'demo': the search's demo data (demo:val labeled reward images, demo:train calibration), as
   * `amc search` and the page score a demo model; 'fidelity': the same procedural images without
   * labels (agreement with the original), resized bilinearly by the scorer to the model's input,
   * as a stand-in for a user's unlabeled photos.
   */
  data: 'demo' | 'fidelity';
  /** How bytes become inputs (fidelity: the model's own, 'signed' for Teachable Machine). */
  scaling?: Scaling;
  /** Images per predict call when scoring (the search's: 100 for demo data, 50 for a folder). */
  batchSize?: number;
}

export interface SpeedRun {
  model: string;
  /** 'Node WASM', 'Chromium WASM', ... */
  where: string;
  /** The evaluator asked for, and the one the scorer ran (less BatchNorm where the model has none). */
  asked: Evaluator;
  evaluator: Evaluator;
  rewardImages: number;
  calibration: number;
  /** The model's input height (224 for the Teachable Machine export, 32 for the demo models). */
  inputSize: number;
  /** The original's multiply-accumulates per image: with macsRatio, what an episode computes. */
  originalMacs: number;
  warmup: number;
  episodes: number;
  /** Scorer creation (the original's outputs for fidelity) and the untimed warm-up episodes, ms. */
  setupMs: number;
  warmupMs: number;
  /** Wall time of the timed episodes, ms, and their count over it. */
  totalMs: number;
  episodesPerSecond: number;
  /** Mean ms per timed episode: the scorer's phases (prune, refit, batchNorm, evaluate) and the agent's. */
  phases: Record<string, number>;
  /** Each timed episode's wall ms, in order. */
  perEpisodeMs: number[];
  /** Mean MACs ratio of the timed episodes' policies (the wall keeps them near the 50% target). */
  macsRatio: number;
  /** tf.memory().numTensors before the scorer and after everything was disposed: equal when nothing leaks. */
  tensors: [number, number];
}

function scoringData(plan: SpeedPlan): ScoringData {
  if (plan.data === 'demo') {
    const d = demoScoringData('val', plan.rewardImages, { calibration: plan.calibration, scaling: plan.scaling });
    return plan.batchSize ? { ...d, eval: { ...d.eval, batchSize: plan.batchSize } } : d;
  }
  return {
    images: generateDataset('val', { count: plan.rewardImages }).images,
    eval: { imageSize: IMAGE_SIZE, batchSize: plan.batchSize ?? 50, scaling: plan.scaling ?? 'unit' },
    calibration: plan.calibration ? generateDataset('train', { count: plan.calibration }).images : undefined,
  };
}

export async function timeEpisodes(model: LoadedModel, plan: SpeedPlan, where: string, log: (s: string) => void = () => {}): Promise<SpeedRun> {
  const tensorsBefore = tf.memory().numTensors;
  const analysis = analyzeModel(model);
  const t0 = performance.now();
  const scorer = await EpisodeScorer.create(model, analysis, scoringData(plan), { seed: plan.seed, evaluator: plan.evaluator });
  const config = searchConfig({ agent: 'random', episodes: plan.warmup + plan.episodes, seed: plan.seed });
  const search = new AmcSearch(new PruningEnv(analysis, config.env), scorer, config);
  const setupMs = performance.now() - t0;
  const perEpisodeMs: number[] = [];
  const sums: Record<string, number> = {};
  let macs = 0;
  let warmupMs = 0;
  try {
    for (let e = 0; e < plan.warmup + plan.episodes; e++) {
      const s = performance.now();
      const record = await search.runEpisode();
      const ms = performance.now() - s;
      if (e < plan.warmup) {
        warmupMs += ms;
        continue;
      }
      perEpisodeMs.push(ms);
      macs += record.resourceRatio;
      const { score: _score, ...phases } = record.timings;
      for (const [k, v] of Object.entries(phases)) sums[k] = (sums[k] ?? 0) + v;
    }
  } finally {
    search.dispose();
    scorer.dispose();
  }
  const totalMs = perEpisodeMs.reduce((a, b) => a + b, 0);
  const n = perEpisodeMs.length;
  const phases = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n]));
  const run: SpeedRun = {
    model: plan.model,
    where,
    asked: plan.evaluator,
    evaluator: scorer.evaluator,
    rewardImages: plan.rewardImages,
    calibration: scorer.evaluator === 'slice' ? 0 : plan.calibration,
    inputSize: Number(analysis.graph.tensors.get(analysis.graph.inputs[0])?.shape[1] ?? analysis.graph.inputSize),
    originalMacs: analysis.cost.totalMacs,
    warmup: plan.warmup,
    episodes: n,
    setupMs,
    warmupMs,
    totalMs,
    episodesPerSecond: n / (totalMs / 1000),
    phases,
    perEpisodeMs,
    macsRatio: macs / n,
    tensors: [tensorsBefore, tf.memory().numTensors],
  };
  log(`${plan.model} ${where} ${plan.evaluator}: ${run.episodesPerSecond.toFixed(2)} episodes/s (${(totalMs / n).toFixed(0)} ms each: ${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')})`);
  return run;
}
