import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../../testing/fixtures';
import { analyzeModel, type ModelAnalysis } from '../model/analyze';
import { loadModel } from '../model/load';
import type { LoadedModel } from '../model/types';
import { uniformPolicy } from './policy';
import { pruneModel } from './prune';
import '@tensorflow/tfjs-backend-wasm';
import { cholesky, leastSquares, normalEquationsJs, normalEquationsTf } from './least-squares';
import { refitPruned } from './refit';

/** Runs `body` on the WASM backend; the other tests here run on the CPU backend, as before WASM was imported. */
async function onWasm<T>(body: () => Promise<T> | T): Promise<T> {
  const previous = tf.getBackend() ?? 'cpu';
  await tf.setBackend('wasm');
  try {
    return await body();
  } finally {
    await tf.setBackend(previous);
  }
}

describe('least squares', () => {
  it('recovers the weights that generated exact data', () => {
    const rows = 50;
    const f = 4;
    const o = 3;
    const W = Float64Array.from({ length: f * o }, (_, i) => Math.sin(i + 1));
    const X = Float64Array.from({ length: rows * f }, (_, i) => Math.cos(i * 1.7) + (i % 5) * 0.1);
    const Y = new Float64Array(rows * o);
    for (let r = 0; r < rows; r++) for (let k = 0; k < o; k++) for (let i = 0; i < f; i++) Y[r * o + k] += X[r * f + i] * W[i * o + k];
    const got = leastSquares(X, Y, rows, f, o, 1e-12);
    got.forEach((v, i) => expect(v).toBeCloseTo(W[i], 6));
  });

  it('forms the normal equations with tfjs on WASM as the loops do, and solves them as well', async () => {
    const rows = 300;
    const f = 40;
    const o = 12;
    // ReLU-like features, about 40% of them zero (which the loops skip), from a fixed pseudo-random stream.
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const X = Float64Array.from({ length: rows * f }, () => Math.max(0, next() - 0.4));
    const W = Float64Array.from({ length: f * o }, (_, i) => Math.cos(i * 0.11));
    const Y = new Float64Array(rows * o);
    for (let r = 0; r < rows; r++) for (let k = 0; k < o; k++) for (let i = 0; i < f; i++) Y[r * o + k] += X[r * f + i] * W[i * o + k];
    await onWasm(() => {
      const js = normalEquationsJs(X, Y, rows, f, o);
      const viaTf = normalEquationsTf(X, Y, rows, f, o);
      for (let i = 0; i < f; i++) for (let j = 0; j <= i; j++) expect(viaTf.gram[i * f + j]).toBeCloseTo(js.gram[i * f + j], 2);
      viaTf.moments.forEach((v, i) => expect(v).toBeCloseTo(js.moments[i], 2));
      const solved = leastSquares(X, Y, rows, f, o, 1e-9, 'tf');
      solved.forEach((v, i) => expect(v).toBeCloseTo(W[i], 2));
    });
  });

  it('redoes in float64 the float32 normal equations whose rounding outweighs the ridge, and solves them as the loops do', async () => {
    // 200 features mixed from 8 sources (channels that copy one another, as pruned layers have):
    // X^T X has rank 8, so its smallest pivots are the ridge alone, below float32's rounding.
    const rows = 640;
    const f = 200;
    const o = 16;
    let seed = 11;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const sources = Float64Array.from({ length: rows * 8 }, next);
    const X = new Float32Array(rows * f);
    for (let r = 0; r < rows; r++) for (let i = 0; i < f; i++) for (let s = 0; s < 8; s++) X[r * f + i] += 4 * sources[r * 8 + s] * Math.cos(0.7 * i + 1.3 * s);
    const Y = Float32Array.from({ length: rows * o }, next);
    await onWasm(() => {
      // The premise: float32's sums break the factorization, float64's do not.
      const exact = normalEquationsJs(X, Y, rows, f, o).gram;
      let trace = 0;
      for (let i = 0; i < f; i++) trace += exact[i * f + i];
      const lambda = (1e-6 * trace) / f;
      expect(cholesky(normalEquationsTf(X, Y, rows, f, o).gram, f, lambda, true)).toBe(false);
      expect(cholesky(exact, f, lambda, true)).toBe(true);
      const solved = leastSquares(X, Y, rows, f, o, 1e-6, 'tf');
      expect(solved.every(Number.isFinite)).toBe(true);
      expect(solved).toEqual(leastSquares(X, Y, rows, f, o, 1e-6, 'js'));
    });
  });

  it('with fewer rows than features, solves the same ridge system through X X^T', async () => {
    const rows = 24;
    const f = 90;
    const o = 5;
    let seed = 5;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const X = Float32Array.from({ length: rows * f }, () => Math.max(0, next() - 0.3));
    const Y = Float32Array.from({ length: rows * o }, () => next() - 0.5);
    const ridge = 1e-3;
    for (const mode of ['js', 'tf'] as const) {
      const W = await onWasm(() => leastSquares(X, Y, rows, f, o, ridge, mode));
      // (X^T X + lambda I) W = X^T Y, in float64 on the loops' sums.
      const { gram, moments } = normalEquationsJs(X, Y, rows, f, o);
      let trace = 0;
      for (let i = 0; i < f; i++) trace += gram[i * f + i];
      const lambda = (ridge * trace) / f;
      for (let i = 0; i < f; i++)
        for (let k = 0; k < o; k++) {
          let s = lambda * W[i * o + k];
          for (let j = 0; j < f; j++) s += gram[Math.max(i, j) * f + Math.min(i, j)] * W[j * o + k];
          expect(s, mode).toBeCloseTo(moments[i * o + k], mode === 'js' ? 9 : 4);
        }
    }
  });
});

/**
 * A net where slicing must lose and the refit must not: c1's filters 4-7 are its filters 0-3 times
 * 0.5 (ReLU keeps a positive factor, so those channels are exactly half of channels 0-3), and c2's
 * filters 3-5 are its filters 0-2 times 0.5. The consumers' weights on the copies are scaled down,
 * so L1 importance prunes exactly the copies. Slicing drops what the copies carried; the refit can
 * fold it back into the kept channels (W'[j] = W[j] + 0.5 W[copy of j]) exactly, for the 3x3 conv
 * c2 (im2col) and for the Dense after Flatten alike.
 */
async function redundantNet(): Promise<{ model: LoadedModel; analysis: ModelAnalysis; input: number[] }> {
  const input = [6, 6, 3];
  const net = tf.sequential({
    name: 'redundant',
    layers: [
      tf.layers.conv2d({ name: 'c1', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: input }),
      tf.layers.conv2d({ name: 'c2', filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ name: 'fc', units: 4 }),
    ],
  });
  const model = await loadModel(asFiles(await exportModel(net, 4)));
  const w = (name: string) => model.byName.get(name)!.values as Float32Array;
  // Along the last axis of a [..., C] array: channel c + half = 0.5 x channel c.
  const halfCopies = (a: Float32Array, channels: number) => {
    const half = channels / 2;
    for (let i = 0; i < a.length; i += channels) for (let c = 0; c < half; c++) a[i + half + c] = 0.5 * a[i + c];
  };
  // Consumer weights on the copies (input channel c of `channels`, every `outputs` wide) scaled down.
  const shrinkInputs = (a: Float32Array, channels: number, outputs: number) => {
    for (let i = 0; i < a.length; i++) if (Math.floor(i / outputs) % channels >= channels / 2) a[i] *= 0.2;
  };
  halfCopies(w('c1/kernel'), 8);
  halfCopies(w('c1/bias'), 8);
  shrinkInputs(w('c2/kernel'), 8, 6);
  halfCopies(w('c2/kernel'), 6);
  halfCopies(w('c2/bias'), 6);
  shrinkInputs(w('fc/kernel'), 6, 4);
  return { model, analysis: analyzeModel(model), input };
}

describe('refit of pruned consumers', () => {
  it('folds linearly redundant channels back: its error falls far below slicing\'s, layer by layer and at the output', async () => {
    const { model, analysis, input } = await redundantNet();
    const result = pruneModel(model, analysis, { c1: 4, c2: 3 }, { roundTo: 1 });
    expect(result.kept.get('c1')).toEqual([0, 1, 2, 3]);
    expect(result.kept.get('c2')).toEqual([0, 1, 2]);
    const calibration = tf.randomUniform([128, ...input], -1, 1, 'float32', 9);
    const { model: refitted, report } = await refitPruned(model, analysis, result, calibration, { seed: 1 });
    calibration.dispose();
    expect(report.layers.map((l) => l.layer)).toEqual(['c2', 'fc']);
    for (const l of report.layers) {
      expect(l.applied).toBe(true);
      expect(l.errorSliced).toBeGreaterThan(1e-3);
      expect(l.errorRefit).toBeLessThan(1e-3 * l.errorSliced);
    }
    expect(report.applied).toBe(true);
    expect(report.outputErrorSliced).toBeGreaterThan(1e-3);
    expect(report.outputErrorRefit).toBeLessThan(1e-3 * report.outputErrorSliced);
    expect(refitted).not.toBe(result.model);
  });

  for (const name of ['sequentialCnn', 'mobilenetV1Like', 'mobilenetV2Like', 'concatNet', 'teachableMachineLike', 'conv1dNet'] as const) {
    it(`${name}: every solve fits its layer's samples at least as well as slicing, and the refit halves the output error`, async () => {
      const fixture = TOPOLOGY_FIXTURES[name];
      const original = await loadModel(asFiles(await exportModel(fixture.build())));
      const analysis = analyzeModel(original);
      const result = pruneModel(original, analysis, uniformPolicy(analysis.groups, 0.5), { roundTo: 1 });
      const calibration = tf.randomUniform([32, ...fixture.input], -1, 1, 'float32', 3);
      const { report } = await refitPruned(original, analysis, result, calibration, { seed: 1 });
      calibration.dispose();
      const fitted = report.layers.filter((l) => !l.skipped);
      expect(fitted.length).toBeGreaterThan(0);
      // Every solve, not only those whose refit was kept: a wrong solve cannot hide behind the fallback to slicing.
      // Least squares is the best fit on the layer's own samples, so it matches slicing where slicing is already exact (a
      // removed channel that is always 0) and beats it everywhere else.
      for (const l of fitted) {
        expect(l.samples).toBeGreaterThan(0);
        expect(l.errorRefit, l.layer).toBeLessThanOrEqual(l.errorSliced * (1 + 1e-6) + 1e-12);
      }
      // Measured with these seeds: the output error falls to 0.03-34% of slicing's.
      expect(report.applied).toBe(true);
      expect(report.outputErrorRefit).toBeLessThan(0.5 * report.outputErrorSliced);
    });
  }

  it('conv1dNet: refits the Conv1D consumers through their 1 x k window (dilated and strided), not only the Dense', async () => {
    const fixture = TOPOLOGY_FIXTURES.conv1dNet;
    const original = await loadModel(asFiles(await exportModel(fixture.build())));
    const analysis = analyzeModel(original);
    const result = pruneModel(original, analysis, uniformPolicy(analysis.groups, 0.5), { roundTo: 1 });
    const calibration = tf.randomUniform([32, ...fixture.input], -1, 1, 'float32', 3);
    const { report } = await refitPruned(original, analysis, result, calibration, { seed: 1 });
    calibration.dispose();
    for (const name of ['c2', 'c3']) {
      const l = report.layers.find((x) => x.layer === name)!;
      expect(l.skipped, name).toBeUndefined();
      // c2: 3 taps x 4 kept channels; c3: 3 taps x 6 kept channels.
      expect(l.features, name).toBe(3 * (name === 'c2' ? 4 : 6));
      expect(l.errorRefit, name).toBeLessThan(l.errorSliced);
    }
  });

  for (const name of ['mobilenetV2Like', 'sequentialCnn', 'conv1dNet'] as const) {
    it(`${name}: the products as tfjs ops on WASM give the loops' refit within float32 rounding, and leave no tensors behind`, async () => {
      const fixture = TOPOLOGY_FIXTURES[name];
      const original = await loadModel(asFiles(await exportModel(fixture.build())));
      const analysis = analyzeModel(original);
      const result = pruneModel(original, analysis, uniformPolicy(analysis.groups, 0.5), { roundTo: 1 });
      await onWasm(async () => {
        const calibration = tf.randomUniform([32, ...fixture.input], -1, 1, 'float32', 3);
        try {
          const js = await refitPruned(original, analysis, result, calibration, { seed: 1, products: 'js' });
          const before = tf.memory().numTensors;
          const viaTf = await refitPruned(original, analysis, result, calibration, { seed: 1, products: 'tf' });
          expect(tf.memory().numTensors).toBe(before);
          const close = (a: number, b: number, what: string) => expect(Math.abs(a - b), what).toBeLessThanOrEqual(1e-4 * Math.abs(a) + 1e-9);
          expect(viaTf.report.layers.map((l) => [l.layer, l.applied, l.samples, l.features])).toEqual(js.report.layers.map((l) => [l.layer, l.applied, l.samples, l.features]));
          viaTf.report.layers.forEach((l, i) => {
            close(l.errorSliced, js.report.layers[i].errorSliced, `${l.layer} sliced`);
            close(l.errorRefit, js.report.layers[i].errorRefit, `${l.layer} refit`);
          });
          expect(viaTf.report.applied).toBe(js.report.applied);
          // The weights themselves may differ more, along directions the samples barely constrain; what they compute may not.
          close(viaTf.report.outputErrorRefit, js.report.outputErrorRefit, 'output');
        } finally {
          calibration.dispose();
        }
      });
    });
  }

  it('lowers the error of a 1x1 consumer substantially when inputs are redundant', async () => {
    const fixture = TOPOLOGY_FIXTURES.mobilenetV1Like;
    const original = await loadModel(asFiles(await exportModel(fixture.build())));
    const analysis = analyzeModel(original);
    const result = pruneModel(original, analysis, { stem: 6 }, { roundTo: 1 });
    const calibration = tf.randomUniform([64, ...fixture.input], -1, 1, 'float32', 5);
    const { report } = await refitPruned(original, analysis, result, calibration, { seed: 2 });
    calibration.dispose();
    const pw = report.layers.find((l) => l.layer === 'pw1')!;
    expect(pw.applied).toBe(true);
    expect(pw.errorRefit).toBeLessThan(0.9 * pw.errorSliced);
    expect(report.applied).toBe(true);
    expect(report.outputErrorRefit).toBeLessThan(report.outputErrorSliced);
  });
});
