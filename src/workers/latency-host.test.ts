import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../testing/fixtures';
import { initBackend } from '../core/measure/backends';
import { loadModel } from '../core/model/load';
import { analyzeModel } from '../core/model/analyze';
import { pruneModel } from '../core/prune/prune';
import { deviceFlags, describeDevice } from './device-flags';
import { LatencyHost, MIN_RUNS, planRuns } from './latency-host';
import type { FromLatencyWorker, TimingOptions } from './latency-messages';
import { toModelPayload, type ModelPayload } from './payload';

let models: ModelPayload[];

beforeAll(async () => {
  await tf.setBackend('wasm');
  const original = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.mobilenetV1Like.build(), 2)));
  const pruned = pruneModel(original, analyzeModel(original), { stem: 4 }, { roundTo: 1 }).model;
  models = [toModelPayload(original).payload, toModelPayload(pruned).payload];
});

const FAST: TimingOptions = { warmup: 1, runs: 4, budgetMs: 200 };

function makeHost() {
  const messages: FromLatencyWorker[] = [];
  const inits: (string | undefined)[] = [];
  const host = new LatencyHost({
    post: (m) => messages.push(structuredClone(m)),
    initBackend: (preferred) => {
      inits.push(preferred);
      return initBackend(preferred);
    },
    deviceFlags,
    burnIn: { minMs: 30, maxMs: 30 },
  });
  return { host, messages, inits };
}

describe('planRuns', () => {
  it('fits the runs to the budget, between MIN_RUNS and the most asked for', () => {
    const o = { warmup: 5, runs: 30, budgetMs: 3000 };
    expect(planRuns(10, o)).toEqual({ warmup: 5, runs: 30 });
    expect(planRuns(200, o)).toEqual({ warmup: 3, runs: 15 });
    expect(planRuns(5000, o)).toEqual({ warmup: 1, runs: MIN_RUNS });
    expect(planRuns(0, o)).toEqual({ warmup: 5, runs: 30 });
    expect(planRuns(NaN, o)).toEqual({ warmup: 5, runs: 30 });
    // Never more runs than asked for, even when fewer than MIN_RUNS.
    expect(planRuns(5000, { warmup: 2, runs: 3, budgetMs: 10 })).toEqual({ warmup: 2, runs: 3 });
  });
});

describe('timing worker host', () => {
  it('times the reference model and reports drift against its first timing on the backend', async () => {
    const { host, messages } = makeHost();
    await host.handle({ type: 'reference', id: 1, backend: 'wasm' });
    await host.handle({ type: 'reference', id: 2, backend: 'wasm' });
    const r = messages.filter((m): m is Extract<FromLatencyWorker, { type: 'reference' }> => m.type === 'reference');
    expect(r.map((m) => m.id)).toEqual([1, 2]);
    expect(r[0].result.medianMs).toBeGreaterThan(0);
    expect(r[0].result.drift).toBe(0);
    expect(r[0].result.checks).toBe(1);
    expect(r[1].result.checks).toBe(2);
    expect(Number.isFinite(r[1].result.drift)).toBe(true);
    expect(r[1].result.drift).toBeCloseTo(r[1].result.medianMs / r[0].result.medianMs - 1, 9);
    expect(r[0].result.backend.name).toBe('wasm');
    // WASM in Node: SIMD is known, threads are off.
    expect(typeof r[0].result.device.wasmSimd).toBe('boolean');
    expect(r[0].result.device.wasmMultithreadFlag).toBe(false);
    expect(describeDevice(r[0].result.device, 'wasm')).toMatch(/SIMD/);
  });

  it('times models interleaved within the budget and leaves no tensor behind', async () => {
    const { host, messages } = makeHost();
    await host.handle({ type: 'measure', id: 1, backend: 'wasm', models: [models[0]], inputSize: 8, options: FAST });
    const before = tf.memory().numTensors;
    await host.handle({ type: 'measure', id: 7, backend: 'wasm', models, inputSize: 8, options: FAST });
    expect(tf.memory().numTensors).toBe(before);
    const m = messages.filter((x): x is Extract<FromLatencyWorker, { type: 'measured' }> => x.type === 'measured' && x.id === 7)[0];
    expect(m.result.stats).toHaveLength(2);
    for (const s of m.result.stats) {
      expect(s.medianMs).toBeGreaterThan(0);
      expect(s.minMs).toBeLessThanOrEqual(s.medianMs);
      expect(s.spread).toBeGreaterThanOrEqual(0);
      expect(s.backend).toBe('wasm');
      expect(s.runs).toBe(m.result.runs);
    }
    expect(m.result.runs).toBeGreaterThanOrEqual(Math.min(MIN_RUNS, FAST.runs));
    expect(m.result.runs).toBeLessThanOrEqual(FAST.runs);
    expect(messages.some((x) => x.type === 'progress' && x.id === 7)).toBe(true);
  });

  it('compares backends, marks the ones that cannot run here as failed, and goes back to the page backend', async () => {
    const { host, messages, inits } = makeHost();
    await host.handle({ type: 'compare', id: 3, backends: ['wasm', 'webgl', 'cpu'], restore: 'wasm', models, inputSize: 8, options: FAST });
    const c = messages.find((m): m is Extract<FromLatencyWorker, { type: 'compared' }> => m.type === 'compared')!;
    expect(c.id).toBe(3);
    expect(c.rows.map((r) => [r.backend, r.status])).toEqual([
      ['wasm', 'ok'],
      ['webgl', 'failed'],
      ['cpu', 'ok'],
    ]);
    // No WebGL in Node: the row says why.
    expect(c.rows[1].note).toMatch(/WebGL/);
    for (const r of [c.rows[0], c.rows[2]]) {
      expect(r.stats).toHaveLength(2);
      expect(r.stats!.every((s) => s.medianMs > 0 && s.backend === r.backend)).toBe(true);
    }
    expect(c.backend.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(inits.at(-1)).toBe('wasm');
    const progress = messages.filter((m) => m.type === 'progress' && m.id === 3);
    expect(progress.length).toBeGreaterThanOrEqual(3);
  });

  it('answers a bad request with an error and serves the next one', async () => {
    const { host, messages } = makeHost();
    const broken = { ...models[0], topology: { class_name: 'Nope', config: {} } } as unknown as ModelPayload;
    await host.handle({ type: 'measure', id: 1, backend: 'wasm', models: [broken], inputSize: 8, options: FAST });
    await host.handle({ type: 'reference', id: 2, backend: 'wasm' });
    expect(messages.find((m) => m.id === 1 && m.type === 'error')).toBeTruthy();
    expect(messages.find((m) => m.id === 2 && m.type === 'reference')).toBeTruthy();
  });
});
