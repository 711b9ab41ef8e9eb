import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../../testing/fixtures';
import { analyzeModel, type ModelAnalysis } from '../../core/model/analyze';
import { loadModel } from '../../core/model/load';
import type { LoadedModel } from '../../core/model/types';
import type { EpisodeRecord } from '../../core/search/search';
import type { FromWorker, ToWorker, UniformBaseline } from '../../workers/search-messages';
import type { AppState } from './app.svelte';
import { bestOf } from '../../core/search/best';
import { SearchState } from './search.svelte';
import { DeviceState } from './device.svelte';

let model: LoadedModel;
let analysis: ModelAnalysis;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.mobilenetV1Like.build(), 4)));
  analysis = analyzeModel(model);
});

/** A worker that records what the page posts. */
class FakeWorker {
  posted: ToWorker[] = [];
  terminated = false;
  onmessage: ((e: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  postMessage(m: ToWorker) {
    this.posted.push(m);
  }
  terminate() {
    this.terminated = true;
  }
  send(m: FromWorker) {
    this.onmessage?.({ data: m } as MessageEvent<FromWorker>);
  }
}

function setup() {
  const workers: FakeWorker[] = [];
  const app = { model, analysis, inputSize: null, source: { kind: 'files', label: 'model.json' }, backend: { kind: 'ready', info: { name: 'cpu', reason: '' } } } as unknown as AppState;
  const state = new SearchState(app, null, () => {
    const w = new FakeWorker();
    workers.push(w);
    return w as unknown as Worker;
  });
  // The tiny fixture rounded to 8 channels cannot reach 50% MACs: any target it can meet will do.
  state.target = 1;
  return { state, workers, app };
}

function record(episode: number, reward: number, resourceRatio: number, top1: number, phase: EpisodeRecord['phase'] = 'learning'): EpisodeRecord {
  return {
    episode,
    phase,
    keep: { a: 8 },
    ratios: [0.5],
    resource: 100 * resourceRatio,
    resourceRatio,
    macs: 100 * resourceRatio,
    params: 10,
    score: { error: 1 - top1, top1 },
    reward,
    sigma: 0,
    timings: { score: 100, agent: 20 },
  };
}

const uniform: UniformBaseline = { ratio: 0.5, keep: { a: 8 }, resource: 40, resourceRatio: 0.4, macs: 40, params: 5, score: { error: 0.5, top1: 0.5 }, reward: -0.5 };

describe('SearchState', () => {
  it('starts a worker with the settings (warm-up a third of a short budget) and the demo val split', async () => {
    const { state, workers } = setup();
    state.episodes = 9;
    state.rewardImages = 50;
    expect(state.warmup).toBe(3);
    await state.start();
    expect(workers).toHaveLength(1);
    const start = workers[0].posted[0] as Extract<ToWorker, { type: 'start' }>;
    expect(start.type).toBe('start');
    expect(start.config.episodes).toBe(9);
    expect(start.config.ddpg.warmupEpisodes).toBe(3);
    expect(start.config.env).toMatchObject({ protocol: 'constrained', resource: 'macs', target: 1 });
    expect(start.data).toMatchObject({ kind: 'demo', split: 'val', count: 50, labeled: false });
    expect(start.run).toBe(true);
    // No IndexedDB in Node: the search runs unsaved, and says so.
    expect(start.meta).toBeNull();
    expect(state.notice).toMatch(/cannot be saved/);
    expect(state.phase).toBe('starting');
  });

  it('refuses bad settings and impossible targets with a message, before any worker starts', async () => {
    const { state, workers } = setup();
    state.episodes = 0;
    await state.start();
    expect(workers).toHaveLength(0);
    expect(state.phase).toBe('error');
    expect(state.error).toMatch(/episode budget/);
    state.episodes = 5;
    state.target = 0.01;
    await state.start();
    expect(workers).toHaveLength(0);
    expect(state.error).toMatch(/^A macs target of 1\.0% cannot be met/);
  });

  it('keeps what the worker reports: progress, best, Pareto front, time left', async () => {
    const { state, workers } = setup();
    state.episodes = 4;
    state.randomBaseline = true;
    await state.start();
    const w = workers[0];
    w.send({ type: 'ready', backend: { name: 'wasm', reason: '' }, groups: [{ id: 'a', channels: 16 }], originalResource: 100, originalMacs: 100, originalParams: 10, budget: 50, floor: 20, labeled: true, images: 50, evaluator: 'refit' });
    w.send({ type: 'baseline', uniform });
    w.send({ type: 'status', status: 'running', episodes: 0, randomEpisodes: 0, elapsedMs: 0 });
    expect(state.phase).toBe('running');
    expect(state.msLeft).toBeUndefined();
    w.send({ type: 'episode', search: 'amc', record: record(0, -0.6, 0.45, 0.4, 'warm-up'), ms: 1000, tensors: 10, saved: true, scorers: 1 });
    w.send({ type: 'episode', search: 'random', record: record(0, -0.7, 0.5, 0.3, 'random'), ms: 500, tensors: 10, saved: true, scorers: 1 });
    w.send({ type: 'episode', search: 'amc', record: record(1, -0.3, 0.49, 0.7), ms: 3000, tensors: 10, saved: true, scorers: 1 });
    // The first episode shows at once; the ones right behind it wait for the next batch.
    expect(state.log).toHaveLength(1);
    state.flush();
    expect(state.log.map((e) => e.episode)).toEqual([0, 1]);
    expect(state.best?.episode).toBe(1);
    expect(state.randomBest?.episode).toBe(0);
    expect(state.front).toEqual([0, 1]);
    expect(state.total).toBe(8);
    expect(state.fraction).toBeCloseTo(3 / 8, 9);
    // 2 agent episodes left at 2 s, 3 random ones at 0.5 s.
    expect(state.msLeft).toBe(2 * 2000 + 3 * 500);
    expect(state.timeLeftText).toBe('6 s');
    expect(state.elapsedMs).toBe(4500);

    state.pause();
    expect(w.posted.at(-1)).toEqual({ type: 'pause' });
    expect(state.phase).toBe('pausing');
    // The episode under way still arrives; the status says running until the pause takes effect.
    w.send({ type: 'status', status: 'running', episodes: 2, randomEpisodes: 1, elapsedMs: 4500 });
    expect(state.phase).toBe('pausing');
    w.send({ type: 'status', status: 'paused', episodes: 2, randomEpisodes: 1, elapsedMs: 4500 });
    expect(state.phase).toBe('paused');
    state.resume();
    expect(w.posted.at(-1)).toEqual({ type: 'resume' });
    state.stop();
    expect(w.posted.at(-1)).toEqual({ type: 'stop' });
    expect(state.phase).toBe('stopping');
    w.send({ type: 'status', status: 'stopped', episodes: 2, randomEpisodes: 1, elapsedMs: 4500 });
    expect(state.phase).toBe('stopped');
  });

  it('restores a saved log at once and estimates from its recorded timings', async () => {
    const { state, workers } = setup();
    state.episodes = 5;
    await state.start();
    workers[0].send({ type: 'restored', amc: [record(0, -0.5, 0.5, 0.5, 'warm-up'), record(1, -0.4, 0.5, 0.6)], random: [], elapsedMs: 240 });
    expect(state.log).toHaveLength(2);
    expect(state.msLeft).toBe(3 * 120);
    expect(state.elapsedMs).toBe(240);
  });

  it('asks the worker for a picked episode and shows its errors', async () => {
    const { state, workers } = setup();
    state.episodes = 3;
    await state.start();
    const w = workers[0];
    const picking = state.pick({ which: 'amc', episode: 1, keep: { a: 8 }, label: 'episode 2' });
    expect(state.compareStatus).toEqual({ kind: 'loading', label: 'episode 2' });
    const req = w.posted.at(-1) as Extract<ToWorker, { type: 'prune' }>;
    expect(req).toMatchObject({ type: 'prune', keep: { a: 8 } });
    w.send({ type: 'error', message: 'could not prune that policy: boom', requestId: req.requestId, fatal: false });
    await picking;
    expect(state.compareStatus).toEqual({ kind: 'error', message: 'could not prune that policy: boom' });
    expect(state.picked?.episode).toBe(1);
  });

  it('a fatal worker error stops the search with the message; others are notices', async () => {
    const { state, workers } = setup();
    state.episodes = 3;
    await state.start();
    workers[0].send({ type: 'error', message: 'could not save the search in this browser (full)', fatal: false });
    expect(state.phase).toBe('starting');
    expect(state.notice).toMatch(/^Could not save/);
    workers[0].send({ type: 'error', message: 'a macs target of 1.0% cannot be met', fatal: true });
    expect(state.phase).toBe('error');
    expect(state.error).toBe('A macs target of 1.0% cannot be met');
    expect(state.busy).toBe(false);
  });

  it('a new search closes the old worker', async () => {
    const { state, workers } = setup();
    state.episodes = 3;
    await state.start();
    workers[0].send({ type: 'status', status: 'done', episodes: 3, randomEpisodes: 0, elapsedMs: 1 });
    await state.start();
    expect(workers).toHaveLength(2);
    expect(workers[0].terminated).toBe(true);
    // Messages from the old worker are ignored.
    workers[0].send({ type: 'episode', search: 'amc', record: record(0, -0.1, 0.5, 0.9), ms: 1, tensors: 1, saved: false, scorers: 1 });
    expect(state.log).toHaveLength(0);
  });

  it('a latency search leaves the target check to the worker, and shows its table, drift and backend fallback', async () => {
    const { state, workers, app } = setup();
    state.episodes = 3;
    state.resource = 'latency';
    // No MACs check for latency: the worker checks the target against its measured table.
    state.target = 0.01;
    await state.start();
    expect(workers).toHaveLength(1);
    const w = workers[0];
    const start = w.posted[0] as Extract<ToWorker, { type: 'start' }>;
    expect(start.config.env).toMatchObject({ resource: 'latency', target: 0.01 });
    const device = DeviceState.of(app);
    expect(device.searchDrift).toEqual([]);

    w.send({ type: 'latency-progress', fraction: 0.4, what: 'timing layers (4/10)' });
    expect(state.latencyTable).toEqual({ kind: 'measuring', fraction: 0.4, what: 'timing layers (4/10)' });
    const table = { layers: [], scale: 1, offset: 0, overheadMs: 0.1, backend: 'webgpu', seconds: 3, calibrationError: 0.05 };
    w.send({ type: 'latency-table', latency: { table, points: [] }, reused: false });
    expect(state.latencyTable).toMatchObject({ kind: 'ready', reused: false, latency: { table: { backend: 'webgpu' } } });
    w.send({ type: 'ready', backend: { name: 'webgpu', reason: '' }, groups: [{ id: 'a', channels: 16 }], originalResource: 5, originalMacs: 100, originalParams: 10, budget: 2.5, floor: 1, labeled: true, images: 50, evaluator: 'refit', originalLatencyMs: 5 });
    expect(state.info?.originalLatencyMs).toBe(5);
    w.send({ type: 'drift', episode: 0, medianMs: 2, drift: 0, backend: 'webgpu' });
    w.send({ type: 'drift', episode: 10, medianMs: 2.2, drift: 0.1, backend: 'webgpu' });
    expect(device.searchDrift.map((d) => d.drift)).toEqual([0, 0.1]);

    w.send({ type: 'backend', backend: { name: 'wasm', reason: 'WASM requested' }, episode: 12, message: 'webGPU failed (device lost): the search goes on on WASM from episode 13', originalLatencyMs: 7 });
    expect(state.info?.backend.name).toBe('wasm');
    expect(state.info?.originalLatencyMs).toBe(7);
    expect(state.fallbacks).toEqual(['WebGPU failed (device lost): the search goes on on WASM from episode 13']);
    expect(state.phase).toBe('starting');

    // A new search starts with a clean slate.
    w.send({ type: 'status', status: 'done', episodes: 3, randomEpisodes: 0, elapsedMs: 1 });
    await state.start();
    expect(state.fallbacks).toEqual([]);
    expect(state.latencyTable).toEqual({ kind: 'none' });
    expect(device.searchDrift).toEqual([]);
  });

  it('picks the best as AmcSearch does: highest reward, earliest on ties', () => {
    expect(bestOf([record(0, -0.5, 0.5, 0.5), record(1, -0.2, 0.5, 0.8), record(2, -0.2, 0.5, 0.8)])?.episode).toBe(1);
    expect(bestOf([])).toBeUndefined();
  });

  it('under a latency target, the best is among the episodes whose measured latency met it', () => {
    const latency = { protocol: 'constrained' as const, resource: 'latency' as const, target: 0.5 };
    // Episode 1 is more accurate but measured 8% over the target; episode 2 measured 4% over: within the slack.
    const log = [record(0, -0.4, 0.45, 0.6), record(1, -0.1, 0.54, 0.9), record(2, -0.2, 0.52, 0.8)];
    expect(bestOf(log, latency)?.episode).toBe(2);
    expect(bestOf(log, { ...latency, resource: 'macs' })?.episode).toBe(1);
    expect(bestOf(log, { ...latency, protocol: 'accuracy-guaranteed' })?.episode).toBe(1);
    // None met it: the best of all, rather than nothing.
    expect(bestOf([record(0, -0.4, 0.7, 0.6), record(1, -0.1, 0.8, 0.9)], latency)?.episode).toBe(1);
  });
});
