/**
 * The search worker's host with latency as the resource, the reference model's drift, and a
 * backend that fails mid-search (a fake GPU backend: tfjs runs on WASM, the host is told WebGPU,
 * and an episode's scoring throws as a lost device makes it).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { asFiles, exportModel, randomImages, TOPOLOGY_FIXTURES } from '../testing/fixtures';
import { MemoryStore, startMessage } from '../testing/search-host';
import { exportFiles } from '../core/export/files';
import { loadModel } from '../core/model/load';
import type { BackendInfo, BackendName } from '../core/measure/backends';
import { searchConfig, type SearchConfig } from '../core/search/config';
import { EpisodeScorer } from '../core/search/scorer';
import type { EpisodeRecord } from '../core/search/search';
import { canFallBack } from '../core/measure/backends';
import { SearchHost, type HostDeps } from './search-host';
import type { FromWorker, ToWorker } from './search-messages';
import type { ModelFiles, ScoringSpec } from './payload';
import type { SearchStore } from './search-store';
import { messageLog } from '../testing/messages';

let files: ModelFiles;
let data: Extract<ScoringSpec, { kind: 'images' }>;

beforeAll(async () => {
  await tf.setBackend('wasm');
  const model = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.mobilenetV2Like.build(), 3)));
  files = exportFiles(model);
  data = { kind: 'images', name: 'random', ...randomImages(30, 8, 4), eval: { imageSize: 8, batchSize: 15 } };
});

afterEach(() => {
  vi.restoreAllMocks();
});

const config = (episodes: number, resource: 'macs' | 'latency' = 'macs'): SearchConfig =>
  searchConfig({
    episodes,
    seed: 7,
    // Latency: no wall. A table timed this briefly on an 8x8 net is mostly noise, and whether its
    // floor meets a target is the predictor's business (latency-table tests), not this plumbing's.
    env: resource === 'latency' ? { resource, protocol: 'accuracy-guaranteed', roundTo: 1 } : { target: 0.5, roundTo: 1, resource },
    ddpg: { warmupEpisodes: 1, hidden1: 32, hidden2: 32 },
  });

/** Short timings: these tests check the plumbing, not the device. */
const TIMING: HostDeps['timing'] = {
  table: { layer: { warmup: 1, runs: 2 }, endToEnd: { warmup: 1, runs: 3 } },
  episode: { warmup: 1, runs: 3 },
  reference: { warmup: 1, runs: 3 },
};



/**
 * A host on a fake backend: `initBackend` says `claims` (WebGPU unless WASM is asked for) while
 * tfjs really runs on WASM, as a GPU backend would until it fails.
 */
function makeHost(opts: { store?: SearchStore | null; claims?: BackendName; driftEvery?: number } = {}) {
  const { messages, push, until } = messageLog<FromWorker>(90_000);
  const inits: (BackendName | undefined)[] = [];
  const host = new SearchHost({
    post: push,
    store: opts.store === undefined ? new MemoryStore() : opts.store,
    initBackend: async (preferred): Promise<BackendInfo> => {
      inits.push(preferred);
      await tf.setBackend('wasm');
      return preferred === 'wasm' ? { name: 'wasm', reason: 'WASM requested' } : { name: opts.claims ?? 'wasm', reason: 'fake' };
    },
    driftEvery: opts.driftEvery ?? 0,
    burnIn: { minMs: 20, maxMs: 20 },
    timing: TIMING,
  });
  return { host, messages, until, inits };
}

const start = (c: SearchConfig, extra: Partial<Extract<ToWorker, { type: 'start' }>> = {}): ToWorker => startMessage(files, data, c, extra);

const episodes = (m: FromWorker[]) => m.flatMap((x) => (x.type === 'episode' && x.search === 'amc' ? [x.record] : []));
const statuses = (m: FromWorker[]) => m.flatMap((x) => (x.type === 'status' ? [x.status] : []));
const ofType = <T extends FromWorker['type']>(m: FromWorker[], type: T) => m.filter((x): x is Extract<FromWorker, { type: T }> => x.type === type);

/** Makes the `n`-th call of EpisodeScorer.score (1-based; the uniform baseline is call 1) throw, as a lost GPU device does. */
function failScoreCall(n: number, message = 'GPUDevice was lost: the device was destroyed') {
  const real = EpisodeScorer.prototype.score;
  let calls = 0;
  return vi.spyOn(EpisodeScorer.prototype, 'score').mockImplementation(function (this: EpisodeScorer, keep) {
    calls++;
    if (calls === n) return Promise.reject(new Error(message));
    return real.call(this, keep);
  });
}

describe('search host: backend failures', () => {
  it('knows which backends can fall back', () => {
    expect(canFallBack('webgpu')).toBe(true);
    expect(canFallBack('webgl')).toBe(true);
    expect(canFallBack('wasm')).toBe(false);
    expect(canFallBack('cpu')).toBe(false);
  });

  it('an episode that fails on a GPU backend falls back to WASM, says so, and the search carries on as if nothing happened', async () => {
    // The log of an uninterrupted search.
    const straight = makeHost({ store: null });
    await straight.host.handle(start(config(4), { meta: null }));
    await straight.until((m) => statuses(m).includes('done'));
    const expected = episodes(straight.messages);

    // Calls: 1 the uniform baseline, 2 episode 0, 3 episode 1 (fails).
    failScoreCall(3);
    const store = new MemoryStore();
    const { host, messages, until, inits } = makeHost({ store, claims: 'webgpu' });
    await host.handle(start(config(4)));
    await until((m) => statuses(m).includes('done'));

    const ready = ofType(messages, 'ready')[0];
    expect(ready.backend.name).toBe('webgpu');
    const fallbacks = ofType(messages, 'backend');
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0].backend.name).toBe('wasm');
    expect(fallbacks[0].episode).toBe(1);
    expect(fallbacks[0].message).toMatch(/^WebGPU failed \(GPUDevice was lost.*\): the search goes on on WASM from episode 2/);
    expect(inits).toEqual([undefined, 'wasm']);
    expect(ofType(messages, 'error').filter((e) => e.fatal)).toEqual([]);

    // Every episode once, in order; the failed one ran again: the log an uninterrupted search gives.
    const got = episodes(messages);
    expect(got.map((e) => e.episode)).toEqual([0, 1, 2, 3]);
    expect(got.map((e) => [e.keep, e.reward])).toEqual(expected.map((e) => [e.keep, e.reward]));
    // Saved with the backend it now runs on.
    expect(store.last.meta.backend).toBe('wasm');
    expect(store.last.meta.episodes).toBe(4);
  });

  it('a device lost between episodes falls back before the next one', async () => {
    const { host, messages, until } = makeHost({ claims: 'webgpu' });
    await host.handle(start(config(3)));
    await until((m) => episodes(m).length >= 1);
    host.backendLost('the GPU device was lost (test)', 'webgpu');
    await until((m) => statuses(m).includes('done'));
    const fallbacks = ofType(messages, 'backend');
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0].message).toMatch(/the GPU device was lost \(test\)/);
    expect(episodes(messages).map((e) => e.episode)).toEqual([0, 1, 2]);
    // A loss reported for a backend no longer in use is ignored.
    host.backendLost('late news', 'webgpu');
  });

  it('an episode that fails on WASM stops the search with the error (nothing to fall back to)', async () => {
    failScoreCall(2, 'out of memory');
    const { host, messages, until } = makeHost();
    await host.handle(start(config(3)));
    await until((m) => ofType(m, 'error').length > 0);
    const err = ofType(messages, 'error')[0];
    expect(err.fatal).toBe(true);
    expect(err.message).toBe('the search stopped: out of memory');
    expect(ofType(messages, 'backend')).toEqual([]);
  });

  it('a GPU backend that fails while the search is set up runs it on WASM instead', async () => {
    failScoreCall(1, 'WebGPU pipeline creation failed');
    const { host, messages, until } = makeHost({ claims: 'webgpu' });
    await host.handle(start(config(2)));
    await until((m) => statuses(m).includes('done'));
    const notice = ofType(messages, 'error')[0];
    expect(notice.fatal).toBe(false);
    expect(notice.message).toMatch(/^WebGPU failed while the search was set up \(WebGPU pipeline creation failed\): it runs on WASM instead/);
    expect(ofType(messages, 'ready').at(-1)?.backend.name).toBe('wasm');
    expect(episodes(messages)).toHaveLength(2);
  });
});

describe('search host: drift of the reference model', () => {
  it('re-times the reference model at the start and every N agent episodes', async () => {
    const { host, messages, until } = makeHost({ driftEvery: 2 });
    await host.handle(start(config(4)));
    await until((m) => statuses(m).includes('done'));
    const drift = ofType(messages, 'drift');
    expect(drift.map((d) => d.episode)).toEqual([0, 2, 4]);
    for (const d of drift) {
      expect(d.medianMs).toBeGreaterThan(0);
      expect(Number.isFinite(d.drift)).toBe(true);
      expect(d.backend).toBe('wasm');
    }
    // The first timing is the baseline.
    expect(drift[0].drift).toBe(0);
  });
});

describe('search host: latency as the resource', () => {
  it('times a latency table, saves it, and scores every episode by its measured latency', async () => {
    const store = new MemoryStore();
    const { host, messages, until } = makeHost({ store });
    await host.handle(start(config(3, 'latency')));
    await until((m) => statuses(m).includes('done') || ofType(m, 'error').some((e) => e.fatal));
    expect(ofType(messages, 'error').filter((e) => e.fatal)).toEqual([]);
    const progress = ofType(messages, 'latency-progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.fraction).toBe(1);
    const tables = ofType(messages, 'latency-table');
    expect(tables).toHaveLength(1);
    expect(tables[0].reused).toBe(false);
    expect(tables[0].latency.table.layers.length).toBeGreaterThan(0);
    expect(tables[0].latency.table.backend).toBe('wasm');
    // Saved once, with the search, before the first episode.
    expect(store.latency).toHaveLength(1);
    expect(store.latency[0].id).toBe('s1');
    expect(store.latency[0].latency).toEqual(tables[0].latency);
    const firstEpisode = messages.findIndex((m) => m.type === 'episode');
    expect(messages.findIndex((m) => m.type === 'latency-table')).toBeLessThan(firstEpisode);

    const ready = ofType(messages, 'ready')[0];
    expect(ready.originalLatencyMs).toBeGreaterThan(0);
    const uniform = ofType(messages, 'baseline')[0].uniform;
    expect(uniform.score.latencyMs).toBeGreaterThan(0);
    expect(uniform.resourceRatio).toBeCloseTo(uniform.score.latencyMs! / ready.originalLatencyMs!, 9);
    expect(Number.isFinite(uniform.predictedRatio)).toBe(true);
    const eps = episodes(messages);
    expect(eps).toHaveLength(3);
    for (const e of eps) {
      expect(e.score.latencyMs).toBeGreaterThan(0);
      expect(e.resourceRatio).toBeCloseTo(e.score.latencyMs! / ready.originalLatencyMs!, 9);
      // The table's prediction, beside the measurement (its accuracy is the predictor's tests' business).
      expect(Number.isFinite(e.predictedRatio)).toBe(true);
      // -error * log(measured latency in µs): the reward follows the measurement, not the prediction.
      expect(e.reward).toBeCloseTo(-e.score.error * Math.log(Math.max(1000 * e.score.latencyMs!, Math.E)), 9);
    }
  });

  it('a resumed latency search reuses the saved table (same wall), not a re-measured one', async () => {
    const store = new MemoryStore();
    const first = makeHost({ store });
    const c = config(4, 'latency');
    await first.host.handle(start(c));
    await first.until((m) => episodes(m).length >= 2);
    await first.host.handle({ type: 'pause' });
    await first.until((m) => statuses(m).includes('paused'));
    const saved = store.last;
    const table = store.latency[0].latency;

    const second = makeHost({ store: new MemoryStore() });
    await second.host.handle(start(c, { resume: saved.progress, meta: saved.meta, latency: table }));
    await second.until((m) => statuses(m).includes('done'));
    expect(ofType(second.messages, 'latency-progress')).toEqual([]);
    const tables = ofType(second.messages, 'latency-table');
    expect(tables).toHaveLength(1);
    expect(tables[0].reused).toBe(true);
    expect(tables[0].latency).toEqual(table);
    const all: EpisodeRecord[] = [...ofType(second.messages, 'restored')[0].amc, ...episodes(second.messages)];
    expect(all.map((e) => e.episode)).toEqual([0, 1, 2, 3]);
    for (const e of all) expect(Number.isFinite(e.predictedRatio)).toBe(true);
  });

  it('a saved table timed on another backend is measured again, and says so', async () => {
    const store = new MemoryStore();
    const first = makeHost({ store });
    const c = config(1, 'latency');
    await first.host.handle(start(c));
    await first.until((m) => statuses(m).includes('done'));
    const table = structuredClone(store.latency[0].latency);
    table.table.backend = 'webgl';
    const second = makeHost({ store });
    await second.host.handle(start(c, { latency: table }));
    await second.until((m) => statuses(m).includes('done'));
    expect(ofType(second.messages, 'error')[0].message).toMatch(/measured on WebGL, the search now runs on WASM: it is measured again/);
    expect(ofType(second.messages, 'latency-table')[0].reused).toBe(false);
  });
});
