import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomImages } from '../../testing/fixtures';
import { searchFixture } from '../../testing/search-fixture';
import type { ModelAnalysis } from '../model/analyze';
import type { LoadedModel } from '../model/types';
import { searchConfig, type EnvConfig } from './config';
import type { SavedLatency } from './latency-resource';
import { EpisodeScorer, type ScoringData } from './scorer';
import { SearchSession, type FinetuneBest, type SessionHooks, type SessionOptions } from './session';

let model: LoadedModel;
let analysis: ModelAnalysis;
let data: ScoringData;

beforeAll(async () => {
  ({ model, analysis } = await searchFixture());
  data = { ...randomImages(30, 8, 4), eval: { imageSize: 8, batchSize: 15 } };
});

afterEach(() => {
  vi.restoreAllMocks();
});

const config = (episodes: number, env: Partial<EnvConfig> = {}) => searchConfig({ episodes, seed: 3, env: { target: 0.5, roundTo: 1, ...env }, ddpg: { warmupEpisodes: 1, hidden1: 32, hidden2: 32 } });

/** Short burn-in and timings: these tests check what the session does, not the device. */
function options(c: ReturnType<typeof config>, extra: Partial<SessionOptions> = {}): SessionOptions {
  return {
    model,
    analysis,
    config: c,
    data,
    backend: tf.getBackend(),
    burnIn: { options: { minMs: 10, maxMs: 10 } },
    timing: { table: { layer: { warmup: 1, runs: 2 }, endToEnd: { warmup: 1, runs: 3 } }, episode: { warmup: 1, runs: 3 } },
    ...extra,
  };
}

/** Counts EpisodeScorer.score calls. */
function countScores(): { calls: number } {
  const counter = { calls: 0 };
  const real = EpisodeScorer.prototype.score;
  vi.spyOn(EpisodeScorer.prototype, 'score').mockImplementation(function (this: EpisodeScorer, keep) {
    counter.calls++;
    return real.call(this, keep);
  });
  return counter;
}

describe('search session', () => {
  it('scores the uniform baseline once, under the wall, and alternates the agent with random search', async () => {
    const burned = vi.fn();
    const session = await SearchSession.open(options(config(2)), { burnedIn: burned });
    // Nothing is timed in a MACs search without a drift watch: no burn-in, no reference model.
    expect(burned).not.toHaveBeenCalled();
    expect(await session.checkDrift()).toBeNull();
    const scores = countScores();
    const uniform = await session.uniformBaseline();
    expect(await session.uniformBaseline()).toBe(uniform);
    expect(scores.calls).toBe(1);
    expect(uniform.resourceRatio).toBeLessThanOrEqual(0.5);
    expect(uniform.resource).toBeLessThanOrEqual(session.env.budget);
    expect(uniform.resource).toBe(uniform.macs);
    expect(uniform.predictedRatio).toBeUndefined();
    expect(uniform.reward).toBeCloseTo(-uniform.score.error, 9);
    expect(Object.keys(uniform.keep)).toEqual(session.env.steps.map((s) => s.group.id));

    session.begin(true);
    expect(() => session.begin(false)).toThrow(/already/);
    expect(session.random?.config.agent).toBe('random');
    expect(session.random?.config.seed).toBe(4);
    expect(session.random?.env).not.toBe(session.env);
    const order: string[] = [];
    for (let turn = session.nextTurn(); turn; turn = session.nextTurn()) {
      order.push(turn.which);
      await turn.search.runEpisode();
    }
    expect(order).toEqual(['amc', 'random', 'amc', 'random']);
    expect(session.done).toBe(true);
    // The episodes and the baseline are judged the same way.
    for (const e of [...session.amc.log, ...session.random!.log]) expect(e.resourceRatio).toBeLessThanOrEqual(0.5);
    expect(scores.calls).toBe(5);
    session.dispose();
  });

  it('restores its searches and the saved uniform baseline without scoring it again', async () => {
    const c = config(3);
    const first = await SearchSession.open(options(c));
    first.begin(true);
    const uniform = await first.uniformBaseline();
    for (let i = 0; i < 2; i++) await first.nextTurn()!.search.runEpisode();
    const saved = structuredClone(await first.snapshot());
    expect(saved.uniform).toEqual(uniform);
    expect(saved.amc.episode).toBe(1);
    expect(saved.random?.episode).toBe(1);

    // The same search run on: what the restored one must give.
    while (first.nextTurn()) await first.nextTurn()!.search.runEpisode();
    const expected = first.amc.log.map((e) => [e.keep, e.reward]);
    first.dispose();

    const second = await SearchSession.open(options(c));
    const scores = countScores();
    second.restore(saved);
    expect(await second.uniformBaseline()).toEqual(uniform);
    expect(scores.calls).toBe(0);
    expect(second.amc.episode).toBe(1);
    while (second.nextTurn()) await second.nextTurn()!.search.runEpisode();
    expect(second.amc.log.map((e) => [e.keep, e.reward])).toEqual(expected);
    expect(second.random!.log).toHaveLength(3);
    second.dispose();
  });

  it('ends with the best policy pruned, through the fine-tune when one is given', async () => {
    const session = await SearchSession.open(options(config(2)));
    session.begin(false);
    await expect(session.bestModel()).rejects.toThrow(/no best policy/);
    while (!session.amc.done) await session.amc.runEpisode();
    const plain = await session.bestModel();
    expect(plain.best).toBe(session.amc.best);
    for (const [group, kept] of Object.entries(plain.best.keep)) expect(plain.candidate.result.keep.get(group)).toBe(kept);
    const finetune = vi.fn<FinetuneBest>(async (candidate) => ({ ...candidate, refitMs: 42 }));
    const tuned = await session.bestModel(finetune);
    expect(finetune).toHaveBeenCalledOnce();
    expect(finetune.mock.calls[0][1]).toBe(plain.best);
    expect(finetune.mock.calls[0][2]).toBe(session);
    expect(tuned.candidate.refitMs).toBe(42);
    session.dispose();
  });

  it('burns in and keeps the reference model when drift is watched', async () => {
    const burned = vi.fn();
    const session = await SearchSession.open(options(config(1), { drift: { warmup: 1, runs: 3 } }), { burnedIn: burned });
    expect(burned).toHaveBeenCalledOnce();
    const first = await session.checkDrift();
    expect(first?.medianMs).toBeGreaterThan(0);
    expect(first?.drift).toBe(0);
    const before = tf.memory().numTensors;
    session.dispose();
    // The reference model's weights go with the session.
    expect(tf.memory().numTensors).toBeLessThan(before);
  });
});

describe('search session: latency as the resource', () => {
  let built: SavedLatency;

  it('measures a latency table on its backend, after the burn-in, and says so', async () => {
    const events: string[] = [];
    const hooks: SessionHooks = {
      burnedIn: () => events.push('burn-in'),
      latencyProgress: (f) => events.push(`progress ${f}`),
      latencyTable: (latency, reused) => {
        built = latency;
        events.push(`table ${reused}`);
      },
    };
    const session = await SearchSession.open(options(config(1, { resource: 'latency', protocol: 'accuracy-guaranteed' })), hooks);
    expect(events[0]).toBe('burn-in');
    expect(events.at(-1)).toBe('table false');
    expect(events).toContain('progress 1');
    expect(session.latency).toBe(built);
    expect(built.table.backend).toBe(tf.getBackend());
    expect(session.scorer.originalLatencyMs).toBeGreaterThan(0);
    session.dispose();
  });

  it('anchors the wall on the measured original before any search is built, and judges the uniform baseline by its measured latency', async () => {
    expect(built).toBeDefined();
    // A table that predicts the whole model at 1 µs, far below what it measures: before anchoring,
    // the 90% wall is 0.9 µs and no uniform policy keeps every channel; anchored on the measured
    // original (tens of µs at least), the whole model fits under it.
    const layers = built.table.layers.map((l) => ({ ...l, ms: l.cin.flatMap((ci) => l.cout.map((co) => ci * Math.max(co, 1))) }));
    const fullSum = layers.reduce((s, l) => s + l.ms[l.ms.length - 1], 0);
    const saved: SavedLatency = { table: { ...built.table, layers, scale: 1e-3 / fullSum, offset: 0 }, points: [] };
    const reused = vi.fn();
    const c = config(1, { resource: 'latency', target: 0.9 });
    const session = await SearchSession.open(options(c, { latency: saved }), { latencyTable: (_l, r) => reused(r), latencyProgress: () => reused('progress') });
    expect(reused.mock.calls).toEqual([[true]]);
    expect(session.env.resource.of(new Map())).toBeCloseTo(1e-3, 9);

    // No search yet: the session anchored the wall itself.
    expect(() => session.amc).toThrow(/no search yet/);
    const measured = session.scorer.originalLatencyMs!;
    expect(measured).toBeGreaterThan(0.01);
    expect(session.env.originalResource).toBe(measured);
    expect(session.env.budget).toBeCloseTo(0.9 * measured, 12);

    const uniform = await session.uniformBaseline();
    expect(uniform.ratio).toBe(1);
    expect(uniform.resource).toBe(uniform.score.latencyMs);
    expect(uniform.resourceRatio).toBeCloseTo(uniform.score.latencyMs! / measured, 12);
    expect(uniform.predictedRatio).toBeCloseTo(1e-3 / measured, 9);
    // Accuracy-guaranteed rewards would use the resource; constrained: -error.
    expect(uniform.reward).toBe(-uniform.score.error);

    // Building the searches leaves the wall where it was; random search's own env is anchored too.
    session.begin(true);
    expect(session.env.budget).toBeCloseTo(0.9 * measured, 12);
    expect(session.random!.env.budget).toBeCloseTo(0.9 * measured, 12);
    session.dispose();
  });
});
