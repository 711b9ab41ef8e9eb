import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { randomImages } from '../../testing/fixtures';
import { searchFixture } from '../../testing/search-fixture';
import type { ModelAnalysis } from '../model/analyze';
import type { LoadedModel } from '../model/types';
import { searchConfig, type SearchConfig } from './config';
import { PruningEnv } from './env';
import { localSlot, ScorerLost, SlotPool, type PoolSlot, type ScorerPool } from './pool';
import { EpisodeScorer, type ScoringData } from './scorer';
import { AmcSearch, type EpisodeRecord, type Score } from './search';
import { SearchSession } from './session';

let model: LoadedModel;
let analysis: ModelAnalysis;
let data: ScoringData;

beforeAll(async () => {
  ({ model, analysis } = await searchFixture());
  // Calibration images: BatchNorm statistics recomputed, so the pooled scorers run the evaluator too.
  // Unlabeled (fidelity): the mean KL differs from policy to policy, where the top-1 of a random fixture often does not.
  data = { images: randomImages(24, 8, 4).images, eval: { imageSize: 8, batchSize: 12 }, calibration: randomImages(16, 8, 4, 9).images };
});

const ddpg = (episodes: number, warmup: number, seed = 5): SearchConfig =>
  searchConfig({ episodes, seed, evaluator: 'bn', env: { target: 0.5, roundTo: 1 }, ddpg: { warmupEpisodes: warmup, hidden1: 16, hidden2: 16, batchSize: 8 } });

const scorer = () => EpisodeScorer.create(model, analysis, data, { seed: 5, roundTo: 1, evaluator: 'bn' });

/** A pool of in-process scorers: the same dispatch and batching as worker threads, without them. */
async function inProcessPool(local: EpisodeScorer, extra: number): Promise<{ pool: ScorerPool; scorers: EpisodeScorer[] }> {
  const scorers = await Promise.all(Array.from({ length: extra }, scorer));
  const remotes: PoolSlot[] = scorers.map((s) => ({ depth: 2, score: (keep) => s.score(keep) }));
  return { pool: new SlotPool(remotes, localSlot(local)), scorers };
}

const logOf = (log: EpisodeRecord[]) => log.map((e) => ({ episode: e.episode, phase: e.phase, keep: e.keep, ratios: e.ratios, reward: e.reward, error: e.score.error, meanKL: e.score.meanKL }));

async function sequential(config: SearchConfig): Promise<EpisodeRecord[]> {
  const s = await scorer();
  const search = new AmcSearch(new PruningEnv(analysis, config.env), s, config);
  while (!search.done) await search.runEpisode();
  search.dispose();
  s.dispose();
  return search.log;
}

describe('scorer pool', () => {
  it('pooled warm-up episodes give the log of one at a time, learning after them; tensors back to the start', async () => {
    const config = ddpg(9, 6);
    const straight = await sequential(config);
    const before = tf.memory().numTensors;
    const local = await scorer();
    const { pool, scorers } = await inProcessPool(local, 2);
    const search = new AmcSearch(new PruningEnv(analysis, config.env), local, config);
    const batches: number[] = [];
    while (!search.done) batches.push((await search.runEpisodes(4, pool)).length);
    // 6 warm-up episodes in batches of 4 and 2; the learning ones one at a time.
    expect(batches).toEqual([4, 2, 1, 1, 1]);
    expect(logOf(search.log)).toEqual(logOf(straight));
    expect(new Set(search.log.map((e) => e.score.meanKL)).size).toBe(9); // every episode tells apart
    expect(search.log.map((e) => e.phase)).toEqual([...Array(6).fill('warm-up'), 'learning', 'learning', 'learning']);
    search.dispose();
    pool.dispose();
    [local, ...scorers].forEach((s) => s.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('pooled random search gives the log of one at a time', async () => {
    const config = searchConfig({ ...ddpg(7, 0), agent: 'random' });
    const straight = await sequential(config);
    const local = await scorer();
    const { pool, scorers } = await inProcessPool(local, 1);
    const search = new AmcSearch(new PruningEnv(analysis, config.env), local, config);
    const scoreMany = vi.spyOn(pool, 'scoreMany');
    while (!search.done) await search.runEpisodes(3, pool);
    expect(scoreMany).toHaveBeenCalledTimes(2); // 3 + 3 on the pool, the last one alone
    expect(logOf(search.log)).toEqual(logOf(straight));
    [local, ...scorers].forEach((s) => s.dispose());
  });

  it('a search saved between pooled batches mid-warm-up resumes to the same log', async () => {
    const config = ddpg(8, 5, 7);
    const straight = await sequential(config);
    const local = await scorer();
    const { pool, scorers } = await inProcessPool(local, 1);
    const first = new AmcSearch(new PruningEnv(analysis, config.env), local, config);
    await first.runEpisodes(3, pool);
    const saved = structuredClone(await first.snapshot());
    first.dispose();
    expect(saved.episode).toBe(3);
    const resumed = AmcSearch.restore(new PruningEnv(analysis, config.env), local, saved);
    while (!resumed.done) await resumed.runEpisodes(3, pool);
    resumed.dispose();
    expect(logOf(resumed.log)).toEqual(logOf(straight));
    [local, ...scorers].forEach((s) => s.dispose());
  });

  it('a session batches the warm-up and random search on its pool, alternating as before', async () => {
    const config = ddpg(6, 4);
    let dispose: MockInstance | undefined;
    const factory = vi.fn(async (s: EpisodeScorer) => {
      const { pool } = await inProcessPool(s, 1);
      dispose = vi.spyOn(pool, 'dispose');
      return pool;
    });
    const session = await SearchSession.open({ model, analysis, config, data, backend: tf.getBackend(), scorerPool: factory });
    // Started when a turn first has independent episodes, not before.
    expect(factory).not.toHaveBeenCalled();
    expect(session.pool).toBeNull();
    expect(session.scorersUsed).toBe(1);
    session.begin(true);
    const plays: string[] = [];
    for (let turn = session.nextTurn(); turn; turn = session.nextTurn()) plays.push(`${turn.which}:${(await session.play(turn)).length}${session.pool ? '' : ' (pool ended)'}`);
    // The agent's 4 warm-up episodes together, random search's in batches, the agent's learning episodes alone;
    // the pool ends once no search has an independent episode left.
    expect(plays).toEqual(['amc:4', 'random:6 (pool ended)', 'amc:1 (pool ended)', 'amc:1 (pool ended)']);
    expect(factory).toHaveBeenCalledOnce();
    expect(dispose).toHaveBeenCalledOnce();
    // The report's `scorers`: the pool's size, still known after the pool ended.
    expect(session.scorersUsed).toBe(2);
    const alone = await SearchSession.open({ model, analysis, config, data, backend: tf.getBackend() });
    alone.begin(true);
    for (let turn = alone.nextTurn(); turn; turn = alone.nextTurn()) await alone.play(turn);
    expect(logOf(session.amc.log)).toEqual(logOf(alone.amc.log));
    expect(logOf(session.random!.log)).toEqual(logOf(alone.random!.log));
    session.dispose();
    alone.dispose();
    expect(dispose).toHaveBeenCalledOnce();
  });

  it('a latency search never uses the pool', async () => {
    // Accuracy-guaranteed: no wall, so a tiny model timed on a busy machine cannot make the target unreachable.
    const config = searchConfig({ ...ddpg(3, 3), env: { resource: 'latency', protocol: 'accuracy-guaranteed', roundTo: 1 } });
    const factory = vi.fn(async (s: EpisodeScorer) => (await inProcessPool(s, 1)).pool);
    const session = await SearchSession.open(
      {
        model,
        analysis,
        config,
        data,
        backend: tf.getBackend(),
        burnIn: { options: { minMs: 10, maxMs: 10 } },
        timing: { table: { layer: { warmup: 1, runs: 2 }, endToEnd: { warmup: 1, runs: 3 } }, episode: { warmup: 1, runs: 3 } },
        scorerPool: factory,
      },
      {},
    );
    session.begin(false);
    await session.play(session.nextTurn()!);
    expect(factory).not.toHaveBeenCalled();
    expect(session.pool).toBeNull();
    expect(session.batch).toBe(1);
    expect(session.scorersUsed).toBe(1);
    // Even handed a pool, a latency search plays one episode at a time on its own scorer.
    const pool: ScorerPool = { size: 4, scoreMany: vi.fn(), dispose: vi.fn() };
    expect(session.amc.independentAhead).toBe(0);
    expect(await session.amc.runEpisodes(4, pool)).toHaveLength(1);
    expect(pool.scoreMany).not.toHaveBeenCalled();
    session.dispose();
  });
});

describe('pool dispatch', () => {
  const keeps = Array.from({ length: 6 }, (_, i) => new Map([['g', i]]));
  const slot = (name: string, log: string[], fail?: (i: number) => Error | undefined): PoolSlot => ({
    depth: 2,
    score: async (keep) => {
      const i = keep.get('g')!;
      await new Promise((r) => setTimeout(r, 1 + i));
      const e = fail?.(i);
      if (e) throw e;
      log.push(`${name}${i}`);
      return { error: i / 10 } as Score;
    },
  });

  it('returns the scores in the order asked, spread over every scorer', async () => {
    const log: string[] = [];
    const pool = new SlotPool([slot('a', log), slot('b', log)], { ...slot('l', log), depth: 1 });
    expect((await pool.scoreMany(keeps)).map((s) => s.error)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(new Set(log.map((l) => l[0]))).toEqual(new Set(['a', 'b', 'l']));
  });

  it('scores a lost remote scorer’s policies on the others, and drops it', async () => {
    const log: string[] = [];
    const dying = slot('x', log, () => new ScorerLost('thread exited'));
    const pool = new SlotPool([dying, slot('a', log)], { ...slot('l', log), depth: 1 });
    expect((await pool.scoreMany(keeps)).map((s) => s.error)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(pool.size).toBe(2);
    expect(log.some((l) => l.startsWith('x'))).toBe(false);
  });

  it('fails the batch on an error of the scoring itself, once nothing of it runs', async () => {
    const log: string[] = [];
    const pool = new SlotPool([slot('a', log, (i) => (i === 0 ? new Error('bad policy') : undefined))], { ...slot('l', log), depth: 1 });
    await expect(pool.scoreMany(keeps)).rejects.toThrow('bad policy');
    const settled = log.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(log.length).toBe(settled);
  });
});
