import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { randomImages } from '../testing/fixtures';
import { searchFixture } from '../testing/search-fixture';
import type { ModelAnalysis } from '../core/model/analyze';
import type { LoadedModel } from '../core/model/types';
import { searchConfig } from '../core/search/config';
import { PruningEnv } from '../core/search/env';
import { EpisodeScorer, type ScoringData } from '../core/search/scorer';
import { AmcSearch } from '../core/search/search';
import { threadPool } from './scorer-threads';

let model: LoadedModel;
let analysis: ModelAnalysis;
let data: ScoringData;

beforeAll(async () => {
  ({ model, analysis } = await searchFixture('mobilenetV1Like', 4));
  data = { images: randomImages(20, 8, 4).images, eval: { imageSize: 8, batchSize: 10 }, calibration: randomImages(12, 8, 4, 3).images };
});

const config = searchConfig({ episodes: 6, seed: 9, agent: 'random', evaluator: 'bn', env: { target: 0.5, roundTo: 1 } });
const scorer = () => EpisodeScorer.create(model, analysis, data, { seed: 9, roundTo: 1, evaluator: 'bn' });

describe('amc search scorer threads', () => {
  it('scores random search in a worker thread to the log of one episode at a time', async () => {
    const alone = await scorer();
    const straight = new AmcSearch(new PruningEnv(analysis, config.env), alone, config);
    while (!straight.done) await straight.runEpisode();
    alone.dispose();

    const before = tf.memory().numTensors;
    const local = await scorer();
    const pool = await threadPool(local, 'wasm', 2);
    expect(pool?.size).toBe(2);
    const localScores = vi.spyOn(local, 'score');
    const pooled = new AmcSearch(new PruningEnv(analysis, config.env), local, config);
    while (!pooled.done) await pooled.runEpisodes(6, pool);
    const view = (s: AmcSearch) => s.log.map((e) => [e.keep, e.reward, e.score.meanKL]);
    expect(view(pooled)).toEqual(view(straight));
    // The thread scored some of them.
    expect(localScores.mock.calls.length).toBeLessThan(6);
    pool!.dispose();
    expect(pool!.size).toBe(1);
    local.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('is no pool for 1 worker', async () => {
    const local = await scorer();
    expect(await threadPool(local, 'wasm', 1)).toBeNull();
    local.dispose();
  });
});
