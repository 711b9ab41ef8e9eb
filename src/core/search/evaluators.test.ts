import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, randomImages, TOPOLOGY_FIXTURES } from '../../testing/fixtures';
import { searchFixture } from '../../testing/search-fixture';
import { analyzeModel, type ModelAnalysis } from '../model/analyze';
import { loadModel } from '../model/load';
import type { LoadedModel } from '../model/types';
import { EVALUATORS, type Evaluator } from '../prune/config';
import { Rng } from '../random';
import { autoEvaluator, resolveEvaluator } from './config';
import { effectiveEvaluator, EpisodeScorer, type ScoringData } from './scorer';

let model: LoadedModel;
let analysis: ModelAnalysis;
let data: ScoringData;

beforeAll(async () => {
  ({ model, analysis } = await searchFixture());
  const scoring = randomImages(16, 8, 4, 2);
  data = { ...scoring, eval: { imageSize: 8, batchSize: 16 }, calibration: randomImages(12, 8, 4, 9).images };
});

function randomPolicy(rng: Rng): Map<string, number> {
  return new Map(analysis.groups.filter((g) => g.prunable).map((g) => [g.id, 1 + rng.int(g.channels)]));
}

const moving = (m: LoadedModel) => Array.from(m.byName.get('stem_bn/moving_mean')!.values);

describe('evaluators', () => {
  it('each prepares the pruned model its own way and reports what it spent', async () => {
    const keep = new Map(analysis.groups.filter((g) => g.prunable).map((g) => [g.id, Math.ceil(g.channels / 2)]));
    const got = new Map<Evaluator, { stats: number[]; kernel: number[]; timings: string[] }>();
    for (const evaluator of EVALUATORS) {
      const scorer = await EpisodeScorer.create(model, analysis, data, { roundTo: 1, evaluator });
      expect(scorer.evaluator).toBe(evaluator);
      const candidate = await scorer.prune(keep);
      const score = await scorer.score(keep);
      got.set(evaluator, { stats: moving(candidate.model), kernel: candidate.model.weights.filter((w) => !/moving_/.test(w.name)).flatMap((w) => Array.from(w.values)), timings: Object.keys(score.timings!).sort() });
      scorer.dispose();
    }
    expect(got.get('slice')!.timings).toEqual(['evaluate', 'prune']);
    expect(got.get('bn')!.timings).toEqual(['batchNorm', 'evaluate', 'prune']);
    expect(got.get('refit')!.timings).toEqual(['evaluate', 'prune', 'refit']);
    expect(got.get('refit+bn')!.timings).toEqual(['batchNorm', 'evaluate', 'prune', 'refit']);
    // Slicing keeps the original's statistics for the kept channels; bn recomputes them.
    expect(got.get('bn')!.stats).not.toEqual(got.get('slice')!.stats);
    expect(got.get('refit')!.stats).toEqual(got.get('slice')!.stats);
    // The refit changes consumers' weights; bn alone changes none but the statistics.
    expect(got.get('bn')!.kernel).toEqual(got.get('slice')!.kernel);
    expect(got.get('refit+bn')!.kernel).toEqual(got.get('refit')!.kernel);
    expect(got.get('refit')!.kernel).not.toEqual(got.get('slice')!.kernel);
  });

  it('defaults to what searches saved before evaluators ran: the refit with calibration images, else slicing', () => {
    expect(effectiveEvaluator(analysis, data).evaluator).toBe('refit');
    expect(effectiveEvaluator(analysis, { calibration: undefined }).evaluator).toBe('slice');
    expect(() => effectiveEvaluator(analysis, { calibration: undefined }, 'bn')).toThrow(/needs calibration images/);
  });

  it('falls back, and says so, on a model without BatchNorm', async () => {
    const plain = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.transposeNet.build(), 1)));
    const a = analyzeModel(plain);
    expect(effectiveEvaluator(a, data, 'bn')).toEqual({ evaluator: 'slice', note: expect.stringMatching(/no BatchNormalization.*sliced/) });
    expect(effectiveEvaluator(a, data, 'refit+bn')).toEqual({ evaluator: 'refit', note: expect.stringMatching(/refit alone/) });
    expect(effectiveEvaluator(a, data, 'refit')).toEqual({ evaluator: 'refit' });
  });

  it('holds the tensor count flat over 300 episodes with every evaluator', async () => {
    for (const evaluator of EVALUATORS) {
      const scorer = await EpisodeScorer.create(model, analysis, data, { roundTo: 1, evaluator });
      const rng = new Rng(7);
      await scorer.score(randomPolicy(rng));
      const afterFirst = tf.memory().numTensors;
      for (let i = 1; i < 300; i++) await scorer.score(randomPolicy(rng));
      expect({ evaluator, tensors: tf.memory().numTensors }).toEqual({ evaluator, tensors: afterFirst });
      scorer.dispose();
    }
  }, 600_000);
});

describe('the automatic evaluator', () => {
  it('recomputes BatchNorm statistics only where the model has them and the images are its own kind; the refit elsewhere', () => {
    expect(autoEvaluator(true, true)).toBe('bn');
    expect(autoEvaluator(true, false)).toBe('refit');
    expect(autoEvaluator(false, true)).toBe('refit');
    expect(resolveEvaluator('auto', true, true)).toBe('bn');
    expect(resolveEvaluator('refit+bn', false, false)).toBe('refit+bn');
  });
});
