import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, randomImages, TOPOLOGY_FIXTURES } from '../testing/fixtures';
import { MemoryStore, startMessage } from '../testing/search-host';
import { exportFiles } from '../core/export/files';
import { loadModel } from '../core/model/load';
import type { LoadedModel } from '../core/model/types';
import { analyzeModel } from '../core/model/analyze';
import { pruneModel } from '../core/prune/prune';
import { searchConfig, type SearchConfig } from '../core/search/config';
import { SearchHost } from './search-host';
import { fromPrunedPayload, type ModelFiles, type ScoringSpec } from './payload';
import type { FromWorker, ToWorker } from './search-messages';
import type { SearchStore } from './search-store';
import { messageLog } from '../testing/messages';

let model: LoadedModel;
let files: ModelFiles;
let data: Extract<ScoringSpec, { kind: 'images' }>;

beforeAll(async () => {
  await tf.setBackend('wasm');
  model = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.mobilenetV2Like.build(), 3)));
  files = exportFiles(model);
  data = { kind: 'images', name: 'random', ...randomImages(30, 8, 4), eval: { imageSize: 8, batchSize: 15 } };
});

const config = (episodes: number): SearchConfig => searchConfig({ episodes, seed: 7, env: { target: 0.5, roundTo: 1 }, ddpg: { warmupEpisodes: 1, hidden1: 32, hidden2: 32 } });



/** A host whose messages are collected (as structured clones, like postMessage makes). */
function makeHost(store: SearchStore | null = new MemoryStore()) {
  const { messages, push, until } = messageLog<FromWorker>();
  const host = new SearchHost({
    post: push,
    store,
    initBackend: async () => ({ name: 'wasm', reason: 'test' }),
    burnIn: { minMs: 50, maxMs: 200 },
  });
  return { host, messages, until };
}

const start = (c: SearchConfig, extra: Partial<Extract<ToWorker, { type: 'start' }>> = {}): ToWorker => startMessage(files, data, c, extra);

const episodes = (m: FromWorker[], which: 'amc' | 'random' = 'amc') =>
  m.flatMap((x) => (x.type === 'episode' && x.search === which ? [x.record] : []));
const statuses = (m: FromWorker[]) => m.flatMap((x) => (x.type === 'status' ? [x.status] : []));

describe('search worker host', () => {
  it('reports ready and the uniform baseline, runs the budget, saves before posting each episode', async () => {
    const store = new MemoryStore();
    const { host, messages, until } = makeHost(store);
    await host.handle(start(config(3)));
    await until((m) => statuses(m).includes('done'));
    const types = messages.map((m) => m.type);
    expect(types[0]).toBe('ready');
    expect(types[1]).toBe('baseline');
    const ready = messages[0] as Extract<FromWorker, { type: 'ready' }>;
    expect(ready.labeled).toBe(true);
    expect(ready.images).toBe(30);
    expect(ready.calibration).toBe(0);
    expect(ready.groups.length).toBeGreaterThan(0);
    const baseline = messages[1] as Extract<FromWorker, { type: 'baseline' }>;
    expect(baseline.uniform.resourceRatio).toBeLessThanOrEqual(0.5);
    expect(baseline.uniform.reward).toBeCloseTo(-baseline.uniform.score.error, 9);
    const eps = episodes(messages);
    expect(eps.map((e) => e.episode)).toEqual([0, 1, 2]);
    expect(eps.map((e) => e.phase)).toEqual(['warm-up', 'learning', 'learning']);
    // One save per episode, each already holding that episode.
    expect(store.saved.map((s) => s.meta.episodes)).toEqual([1, 2, 3]);
    expect(store.saved.map((s) => s.progress.amc.log.length)).toEqual([1, 2, 3]);
    expect(store.last.meta.best?.reward).toBe(Math.max(...eps.map((e) => e.reward)));
    expect(store.last.meta.uniform?.ratio).toBe(baseline.uniform.ratio);
    expect(store.last.meta.backend).toBe('wasm');
    expect(store.last.progress.amc.agent?.actor.length).toBeGreaterThan(0);
    expect(store.last.progress.amc.replay?.size).toBe(3 * store.last.progress.amc.log[0].ratios.length);
    for (const m of messages) if (m.type === 'episode') expect(m.saved).toBe(true);
  });

  it('pauses between episodes, resumes, and a stop marks the saved search stopped', async () => {
    const store = new MemoryStore();
    const { host, messages, until } = makeHost(store);
    await host.handle(start(config(6)));
    await until((m) => episodes(m).length >= 1);
    await host.handle({ type: 'pause' });
    await until((m) => statuses(m).includes('paused'));
    const atPause = episodes(messages).length;
    await new Promise((r) => setTimeout(r, 300));
    expect(episodes(messages).length).toBe(atPause);
    void host.handle({ type: 'resume' });
    await until((m) => episodes(m).length >= atPause + 1);
    await host.handle({ type: 'stop' });
    await until((m) => statuses(m).includes('stopped'));
    const n = episodes(messages).length;
    expect(n).toBeLessThan(6);
    expect(store.last.meta.stopped).toBe(true);
    expect(store.last.meta.episodes).toBe(n);
  });

  it('resumes from a saved snapshot and gives the log an uninterrupted run gives', async () => {
    const full = makeHost(null);
    await full.host.handle(start(config(4), { meta: null }));
    await full.until((m) => statuses(m).includes('done'));
    const straight = episodes(full.messages);

    const store = new MemoryStore();
    const first = makeHost(store);
    await first.host.handle(start(config(4)));
    await first.until((m) => episodes(m).length >= 2);
    await first.host.handle({ type: 'pause' });
    await first.until((m) => statuses(m).includes('paused'));
    const saved = store.last;
    const done = saved.meta.episodes;
    expect(done).toBeGreaterThanOrEqual(2);

    const second = makeHost(new MemoryStore());
    await second.host.handle(start(config(4), { resume: saved.progress, meta: saved.meta }));
    await second.until((m) => statuses(m).includes('done'));
    const restored = second.messages.find((m) => m.type === 'restored') as Extract<FromWorker, { type: 'restored' }>;
    expect(restored.amc.length).toBe(done);
    const resumed = [...restored.amc, ...episodes(second.messages)];
    expect(resumed.map((e) => [e.keep, e.reward])).toEqual(straight.map((e) => [e.keep, e.reward]));
    // The baseline is not scored again.
    const baseline = second.messages.find((m) => m.type === 'baseline') as Extract<FromWorker, { type: 'baseline' }>;
    expect(baseline.uniform).toEqual(saved.progress.uniform);
  });

  it('interleaves the random-search baseline with the same budget', async () => {
    const store = new MemoryStore();
    const { host, messages, until } = makeHost(store);
    await host.handle(start(config(3), { randomBaseline: true }));
    await until((m) => statuses(m).includes('done'));
    const order = messages.flatMap((m) => (m.type === 'episode' ? [m.search] : []));
    expect(order).toEqual(['amc', 'random', 'amc', 'random', 'amc', 'random']);
    expect(episodes(messages, 'random').every((e) => e.phase === 'random')).toBe(true);
    for (const e of episodes(messages, 'random')) expect(e.resourceRatio).toBeLessThanOrEqual(0.5);
    expect(store.last.meta.randomEpisodes).toBe(3);
    expect(store.last.progress.random?.config.agent).toBe('random');
  });

  it('says how many images calibrate the evaluator, for the report', async () => {
    const { host, messages, until } = makeHost(null);
    const calibration = randomImages(12, 8, 4, 9).images;
    await host.handle(startMessage(files, { ...data, calibration }, { ...config(1), evaluator: 'bn' }, { meta: null, run: false }));
    await until((m) => statuses(m).includes('paused'));
    const ready = messages[0] as Extract<FromWorker, { type: 'ready' }>;
    expect(ready.evaluator).toBe('bn');
    expect(ready.calibration).toBe(12);
  });

  it('returns the pruned model of any policy, equal to pruning it directly', async () => {
    const { host, messages, until } = makeHost(null);
    await host.handle(start(config(1), { meta: null, run: false }));
    await until((m) => statuses(m).includes('paused'));
    const ready = messages[0] as Extract<FromWorker, { type: 'ready' }>;
    const keep = Object.fromEntries(ready.groups.map((g) => [g.id, Math.max(1, Math.floor(g.channels / 2))]));
    await host.handle({ type: 'prune', requestId: 9, keep });
    const reply = messages.find((m) => m.type === 'pruned') as Extract<FromWorker, { type: 'pruned' }>;
    expect(reply.requestId).toBe(9);
    const result = fromPrunedPayload(reply.result);
    const direct = pruneModel(model, analyzeModel(model), keep, { roundTo: 1 });
    expect(result.cost.totalMacs).toBe(direct.cost.totalMacs);
    expect(result.model.weights.map((w) => w.name)).toEqual(direct.model.weights.map((w) => w.name));
    for (const w of result.model.weights) expect(Array.from(w.values)).toEqual(Array.from(direct.model.byName.get(w.name)!.values));
    expect(result.model.byName.size).toBe(result.model.weights.length);
  });

  it('reports an impossible target as one fatal error', async () => {
    const { host, messages } = makeHost(null);
    const c = searchConfig({ episodes: 2, env: { target: 0.01, roundTo: 1 } });
    await host.handle(start(c, { meta: null }));
    const err = messages.find((m) => m.type === 'error') as Extract<FromWorker, { type: 'error' }>;
    expect(err.fatal).toBe(true);
    expect(err.message).toMatch(/cannot be met/);
  });

  it('keeps the tensor count flat across episodes', async () => {
    const { host, messages, until } = makeHost(null);
    await host.handle(start(config(5), { meta: null }));
    await until((m) => statuses(m).includes('done'));
    const counts = messages.flatMap((m) => (m.type === 'episode' ? [m.tensors] : []));
    // From the first learning episode on (the agent's networks exist from the start).
    expect(new Set(counts.slice(1)).size).toBe(1);
  });
});
