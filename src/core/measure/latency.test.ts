import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../../testing/fixtures';
import { analyzeModel } from '../model/analyze';
import { loadModel } from '../model/load';
import { instantiate } from '../model/tfjs-model';
import { measureInterleaved, measureLatency, summarize } from './latency';
import { buildLatencyTable, calibrate, predictLatency, tableSum } from './latency-table';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('latency harness', () => {
  it('summarizes runs by median, min and interquartile spread', () => {
    expect(summarize([5, 1, 3, 2, 4])).toEqual({ medianMs: 3, minMs: 1, spread: 2 / 3 });
  });

  it('times predict + data on the current backend, records how, and leaves no tensors', async () => {
    const loaded = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.mobilenetV2Like.build())));
    const model = await instantiate(loaded);
    const before = tf.memory().numTensors;
    const s = await measureLatency(model, { warmup: 2, runs: 7 });
    const [a, b] = await measureInterleaved([model, model], { warmup: 1, runs: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(s).toMatchObject({ runs: 7, warmup: 2, backend: 'wasm' });
    expect(s.minMs).toBeGreaterThan(0);
    expect(s.medianMs).toBeGreaterThanOrEqual(s.minMs);
    expect(a.runs).toBe(5);
    expect(b.backend).toBe('wasm');
    model.dispose();
  });
});

describe('per-layer latency table', () => {
  it('times every channel-dependent layer on a grid and interpolates policies between grid points', async () => {
    const loaded = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.mobilenetV1Like.build())));
    const analysis = analyzeModel(loaded);
    let calls = 0;
    const table = await buildLatencyTable(analysis, { warmup: 1, runs: 3 }, () => calls++);
    const ids = table.layers.map((l) => l.layer);
    expect(ids).toEqual(expect.arrayContaining(['stem', 'dw1', 'pw1', 'logits']));
    // Channel-following layers (BN, activations) are timed on their input grid only.
    const bn = table.layers.find((l) => l.className === 'BatchNormalization')!;
    expect(bn.cout).toEqual([0]);
    expect(calls).toBe(table.layers.reduce((s, l) => s + l.cin.length * l.cout.length, 0));
    for (const l of table.layers) {
      expect(l.ms.length).toBe(l.cin.length * l.cout.length);
      expect(l.ms.every((v) => v >= 0)).toBe(true);
    }
    // At full width the sum is the top corner of every grid.
    const full = table.layers.reduce((s, l) => s + l.ms[l.ms.length - 1], 0);
    expect(tableSum(table, analysis, new Map())).toBeCloseTo(full, 9);
    // Calibration recovers a known line, and the prediction follows it.
    const fitted = calibrate(table, [
      { sum: 1, measuredMs: 3 },
      { sum: 2, measuredMs: 5 },
      { sum: 4, measuredMs: 9 },
    ]);
    expect(fitted.scale).toBeCloseTo(2, 9);
    expect(fitted.offset).toBeCloseTo(1, 9);
    expect(fitted.calibrationError).toBeCloseTo(0, 9);
    expect(predictLatency(fitted, analysis, new Map())).toBeCloseTo(2 * full + 1, 9);
  }, 120_000);
});

describe('latency table guards', () => {
  it('makes timings non-decreasing in both channel counts', async () => {
    const { monotone } = await import('./latency-table');
    expect(monotone([1, 0.5, 2, 0.4, 3, 1], 2, 3)).toEqual([1, 1, 2, 1, 3, 3]);
  });

  it('never fits a negative offset or an inverted scale', () => {
    const table = { layers: [], scale: 1, offset: 0, overheadMs: 0, backend: 'wasm', seconds: 0 };
    const fit = calibrate(table, [
      { sum: 1, measuredMs: 1 },
      { sum: 2, measuredMs: 5 },
    ]);
    expect(fit.offset).toBe(0);
    expect(fit.scale).toBeGreaterThan(0);
    const flat = calibrate(table, [
      { sum: 1, measuredMs: 4 },
      { sum: 2, measuredMs: 3 },
    ]);
    expect(flat.scale).toBeGreaterThan(0);
    expect(flat.offset).toBe(0);
  });
});
