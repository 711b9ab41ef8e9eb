import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmGradients } from './wasm-gradients';

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

type Case = { name: string; x: number[]; f: number[]; run: (x: tf.Tensor4D, f: tf.Tensor4D) => tf.Tensor };

const cases: Case[] = [
  { name: 'conv2d same s1', x: [2, 6, 6, 3], f: [3, 3, 3, 4], run: (x, f) => tf.conv2d(x, f, 1, 'same') },
  { name: 'conv2d same s2 (odd size)', x: [2, 7, 7, 3], f: [3, 3, 3, 5], run: (x, f) => tf.conv2d(x, f, 2, 'same') },
  { name: 'conv2d valid s2', x: [1, 8, 7, 2], f: [3, 2, 2, 3], run: (x, f) => tf.conv2d(x, f, [2, 1], 'valid') },
  { name: 'conv2d 1x1', x: [2, 4, 4, 5], f: [1, 1, 5, 6], run: (x, f) => tf.conv2d(x, f, 1, 'valid') },
  {
    name: 'fused conv2d (linear, bias: the Conv2D-before-BN path)',
    x: [2, 6, 6, 3],
    f: [3, 3, 3, 4],
    run: (x, f) => tf.fused.conv2d({ x, filter: f, strides: 1, pad: 'same', bias: tf.ones([4]), activation: 'linear' }),
  },
  {
    name: 'fused conv2d s2 (linear, no bias)',
    x: [2, 8, 8, 3],
    f: [3, 3, 3, 4],
    run: (x, f) => tf.fused.conv2d({ x, filter: f, strides: 2, pad: 'same', activation: 'linear' }),
  },
  { name: 'depthwise same s1', x: [2, 6, 6, 3], f: [3, 3, 3, 1], run: (x, f) => tf.depthwiseConv2d(x, f, 1, 'same') },
  { name: 'depthwise same s2 (odd size)', x: [2, 7, 7, 4], f: [3, 3, 4, 1], run: (x, f) => tf.depthwiseConv2d(x, f, 2, 'same') },
  { name: 'depthwise valid s2, multiplier 2', x: [1, 8, 8, 3], f: [3, 3, 3, 2], run: (x, f) => tf.depthwiseConv2d(x, f, 2, 'valid') },
  { name: 'depthwise same s1, multiplier 2', x: [2, 5, 5, 2], f: [3, 3, 2, 2], run: (x, f) => tf.depthwiseConv2d(x, f, 1, 'same') },
  { name: 'conv2d 1x1 s2 (projection shortcut)', x: [2, 6, 6, 3], f: [1, 1, 3, 4], run: (x, f) => tf.conv2d(x, f, 2, 'same') },
  { name: 'maxPool 2x2/2 valid', x: [2, 6, 6, 3], f: [1], run: (x, f) => tf.mul(tf.maxPool(x, 2, 2, 'valid'), f) },
  { name: 'maxPool 2x2/2 same, odd size', x: [2, 7, 5, 2], f: [1], run: (x, f) => tf.mul(tf.maxPool(x, 2, 2, 'same'), f) },
  { name: 'maxPool 3x3/2 same (overlapping windows)', x: [1, 7, 7, 2], f: [1], run: (x, f) => tf.mul(tf.maxPool(x, 3, 2, 'same'), f) },
  { name: 'maxPool 3x3/1 valid', x: [1, 5, 6, 2], f: [1], run: (x, f) => tf.mul(tf.maxPool(x, 3, 1, 'valid'), f) },
  {
    name: 'maxPool with ties (after ReLU): the first maximum of each window takes the gradient',
    x: [2, 6, 6, 3],
    f: [1],
    run: (x, f) => tf.mul(tf.maxPool(tf.relu(tf.sub(x, 0.5)) as tf.Tensor4D, 2, 2, 'valid'), f),
  },
  {
    name: 'batchNorm (training: x, mean and variance all carry gradients)',
    x: [2, 4, 4, 3],
    f: [3],
    run: (x, f) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.batchNorm(x, mean, variance, tf.tensor1d([0.1, -0.2, 0.3]), f, 1e-3);
    },
  },
];

/** Gradients of sum(output * weights) with respect to x and filter, on the current backend. */
function gradients(c: Case): { dx: Float32Array; df: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(c.x.reduce((a, b) => a * b), 1), c.x as [number, number, number, number]);
    const f = tf.tensor(values(c.f.reduce((a, b) => a * b), 2), c.f) as unknown as tf.Tensor4D;
    const g = tf.grads((xx: tf.Tensor, ff: tf.Tensor) => {
      const y = c.run(xx as tf.Tensor4D, ff as tf.Tensor4D);
      return tf.sum(tf.mul(y, tf.tensor(values(y.size, 3), y.shape)));
    });
    const [dx, df] = g([x, f]);
    return { dx: dx.dataSync() as Float32Array, df: df.dataSync() as Float32Array };
  });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('WASM backprop kernels written with forward ops', () => {
  const reference = new Map<string, { dx: Float32Array; df: Float32Array }>();

  beforeAll(async () => {
    await tf.setBackend('cpu');
    for (const c of cases) reference.set(c.name, gradients(c));
    installWasmGradients();
    await tf.setBackend('wasm');
  });

  for (const c of cases) {
    test(`${c.name}: gradients match the CPU backend`, () => {
      expect(tf.getBackend()).toBe('wasm');
      const before = tf.memory().numTensors;
      const got = gradients(c);
      const want = reference.get(c.name)!;
      expect(maxDiff(got.dx, want.dx)).toBeLessThan(1e-4);
      expect(maxDiff(got.df, want.df)).toBeLessThan(1e-4);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  test('conv2dTranspose (forward, served by the replaced Conv2DBackpropInput) matches the CPU backend', async () => {
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(values(2 * 4 * 4 * 3, 5), [2, 4, 4, 3]);
        const f = tf.tensor4d(values(3 * 3 * 5 * 3, 6), [3, 3, 5, 3]);
        const a = tf.conv2dTranspose(x, f, [2, 8, 8, 5], 2, 'same');
        const b = tf.conv2dTranspose(x, f, [2, 9, 9, 5], 2, 'valid');
        return [a.dataSync() as Float32Array, b.dataSync() as Float32Array];
      });
    const got = run();
    await tf.setBackend('cpu');
    const want = run();
    await tf.setBackend('wasm');
    expect(maxDiff(got[0], want[0])).toBeLessThan(1e-4);
    expect(maxDiff(got[1], want[1])).toBeLessThan(1e-4);
  });

  test('a conv net with BN and depthwise layers takes a training step on WASM', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', useBias: false }),
        tf.layers.batchNormalization(),
        tf.layers.reLU(),
        tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }),
        tf.layers.conv2d({ filters: 6, kernelSize: 1, activation: 'relu' }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const xs = tf.tensor4d(values(4 * 8 * 8 * 3, 7), [4, 8, 8, 3]);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
    const before = model.getWeights()[0].dataSync().slice();
    const h = await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0 });
    expect(Number.isFinite(h.history.loss[0] as number)).toBe(true);
    expect(maxDiff(model.getWeights()[0].dataSync() as Float32Array, before as Float32Array)).toBeGreaterThan(0);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
