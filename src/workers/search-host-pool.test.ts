import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { asFiles, exportModel, randomImages, TOPOLOGY_FIXTURES } from '../testing/fixtures';
import { MemoryStore, startMessage } from '../testing/search-host';
import { messageLog } from '../testing/messages';
import { exportFiles } from '../core/export/files';
import { loadModel } from '../core/model/load';
import { searchConfig, type SearchConfig } from '../core/search/config';
import { localSlot, SlotPool, type ScorerPool } from '../core/search/pool';
import { EpisodeScorer } from '../core/search/scorer';
import type { EpisodeRecord } from '../core/search/search';
import { SearchHost } from './search-host';
import { browserPoolSize } from './scorer-pool';
import type { ModelFiles, ScoringSpec } from './payload';
import type { FromWorker } from './search-messages';

let files: ModelFiles;
let data: Extract<ScoringSpec, { kind: 'images' }>;

beforeAll(async () => {
  await tf.setBackend('wasm');
  files = exportFiles(await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.mobilenetV2Like.build(), 3))));
  data = { kind: 'images', name: 'random', ...randomImages(30, 8, 4), eval: { imageSize: 8, batchSize: 15 } };
});

const config = (episodes: number, resource: 'macs' | 'latency' = 'macs'): SearchConfig =>
  searchConfig({ episodes, seed: 7, env: { target: 0.5, roundTo: 1, resource, ...(resource === 'latency' ? { protocol: 'accuracy-guaranteed' } : {}) }, ddpg: { warmupEpisodes: 4, hidden1: 16, hidden2: 16 } });

/** A host with an in-process pool of 2 scorers (the same batching as the worker pool, without workers). */
function makeHost(pooled: boolean) {
  const { messages, push, until } = messageLog<FromWorker>();
  const pools: ScorerPool[] = [];
  const factory = vi.fn(async (scorer: EpisodeScorer) => {
    const other = await EpisodeScorer.create(scorer.model, scorer.analysis, scorer.data, scorer.options);
    const pool = new SlotPool([{ depth: 2, score: (k) => other.score(k), dispose: () => other.dispose() }], localSlot(scorer));
    pools.push(pool);
    return pool;
  });
  const store = new MemoryStore();
  const host = new SearchHost({
    post: push,
    store,
    initBackend: async () => ({ name: 'wasm', reason: 'test' }),
    burnIn: { minMs: 10, maxMs: 10 },
    driftEvery: 0,
    timing: { table: { layer: { warmup: 1, runs: 2 }, endToEnd: { warmup: 1, runs: 3 } }, episode: { warmup: 1, runs: 3 } },
    ...(pooled ? { scorerPool: factory } : {}),
  });
  return { host, messages, until, factory, pools, store };
}

const episodes = (m: FromWorker[], which: 'amc' | 'random') => m.flatMap((x) => (x.type === 'episode' && x.search === which ? [x.record] : []));
const done = (m: FromWorker[]) => m.some((x) => x.type === 'status' && x.status === 'done');
const view = (log: EpisodeRecord[]) => log.map((e) => [e.episode, e.phase, e.keep, e.reward]);

describe('search worker host with a scorer pool', () => {
  it('posts every episode of a pooled batch, the log of one at a time, saves once per batch, ends the pool when done', async () => {
    const pooled = makeHost(true);
    await pooled.host.handle(startMessage(files, data, config(6), { randomBaseline: true }));
    await pooled.until(done);
    const alone = makeHost(false);
    await alone.host.handle(startMessage(files, data, config(6), { randomBaseline: true }));
    await alone.until(done);

    expect(pooled.factory).toHaveBeenCalledOnce();
    for (const which of ['amc', 'random'] as const) {
      expect(view(episodes(pooled.messages, which))).toEqual(view(episodes(alone.messages, which)));
      expect(episodes(pooled.messages, which).map((e) => e.episode)).toEqual([0, 1, 2, 3, 4, 5]);
    }
    // Batches: the agent's 4 warm-up episodes, random search's 6, then the agent's 2 learning episodes one by one.
    expect(pooled.store.saved.map((s) => [s.meta.episodes, s.meta.randomEpisodes])).toEqual([
      [4, 0],
      [4, 6],
      [5, 6],
      [6, 6],
    ]);
    // Each message says how many scorers scored its batch: the pool's 2, then the learning episodes alone.
    const scorers = (m: FromWorker[]) => m.flatMap((x) => (x.type === 'episode' ? [`${x.search}:${x.scorers}`] : []));
    expect(scorers(pooled.messages)).toEqual([...Array(4).fill('amc:2'), ...Array(6).fill('random:2'), 'amc:1', 'amc:1']);
    expect(new Set(scorers(alone.messages).map((s) => s.split(':')[1]))).toEqual(new Set(['1']));
    // Ended with the search: the local scorer is all that is left of it.
    expect(pooled.pools[0].size).toBe(1);
  });

  it('never asks for a pool in a latency search', async () => {
    const h = makeHost(true);
    await h.host.handle(startMessage(files, data, config(2, 'latency')));
    await h.until(done);
    expect(h.factory).not.toHaveBeenCalled();
    expect(episodes(h.messages, 'amc')).toHaveLength(2);
  });

  it('sizes the browser pool from the cores: one left to the page, 2 on a 2-core device, at most 4', () => {
    expect([undefined, 1, 2, 3, 4, 8, 16].map(browserPoolSize)).toEqual([1, 1, 2, 2, 3, 4, 4]);
  });
});
