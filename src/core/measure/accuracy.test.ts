import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { generateDataset, imagesToTensor, type Dataset } from '../data/procedural';
import { conformImages } from '../data/images';
import { evaluateAccuracy, evaluateFidelity, referenceOutputs } from './accuracy';

/** A tiny untrained classifier over 32x32 RGB (or `size`, `channels`), seeded so its outputs are fixed. */
function tinyModel(seed: number, { softmax = true, size = 32 as number | [number, number], channels = 3 } = {}): tf.LayersModel {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  const input = tf.input({ shape: [h, w, channels] });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 10, activation: softmax ? 'softmax' : 'linear', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 2 }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

let data: Dataset;

beforeAll(async () => {
  await tf.setBackend('cpu');
  data = generateDataset('val', { count: 60 });
});

describe('evaluateAccuracy', () => {
  test('top-1 and top-5 match a direct computation, and no tensor is left behind', async () => {
    const model = tinyModel(1);
    const probs = tf.tidy(() => (model.predict(imagesToTensor(data.images)) as tf.Tensor).arraySync() as number[][]);
    let top1 = 0;
    let top5 = 0;
    probs.forEach((p, i) => {
      const order = p.map((v, j) => [v, j]).sort((a, b) => b[0] - a[0]).map((e) => e[1]);
      if (order[0] === data.labels[i]) top1++;
      if (order.slice(0, 5).includes(data.labels[i])) top5++;
    });
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const r = await evaluateAccuracy(model, data.images, data.labels, { batchSize: 16, onProgress: (f) => progress.push(f) });
    expect(tf.memory().numTensors).toBe(before);
    expect(r).toEqual({ top1: top1 / 60, top5: top5 / 60, n: 60 });
    expect(progress[0]).toBe(0);
    expect(progress[progress.length - 1]).toBe(1);
    expect(progress.length).toBe(1 + Math.ceil(60 / 16));
    model.dispose();
  });

  test('labels that are the model’s own predictions give top-1 = 1; limit evaluates fewer images', async () => {
    const model = tinyModel(3);
    const predicted = tf.tidy(() => (model.predict(imagesToTensor(data.images)) as tf.Tensor).argMax(1).dataSync() as Int32Array);
    const r = await evaluateAccuracy(model, data.images, predicted, { batchSize: 25 });
    expect(r.top1).toBe(1);
    expect(r.top5).toBe(1);
    const some = await evaluateAccuracy(model, data.images, predicted, { limit: 7 });
    expect(some.n).toBe(7);
    model.dispose();
  });

  test('images are resized to the model’s input size', async () => {
    const model = tinyModel(5, { size: 16 });
    const before = tf.memory().numTensors;
    const r = await evaluateAccuracy(model, data.images, data.labels, { batchSize: 32 });
    expect(r.n).toBe(60);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('image layouts', () => {
  test('gray and non-square images: a gray model takes gray bytes as they are and RGB bytes as luma; pause runs per batch', async () => {
    const model = tinyModel(23, { size: [16, 24], channels: 1 });
    const spec = { height: 16, width: 24, channels: 1 as const };
    const gray = conformImages(data.images, data.N, 32, 32, 3, spec);
    const before = tf.memory().numTensors;
    let pauses = 0;
    const g = await evaluateAccuracy(model, gray, data.labels, { imageSize: [16, 24], channels: 1, batchSize: 16, pause: async () => void pauses++ });
    expect(tf.memory().numTensors).toBe(before);
    expect(g.n).toBe(60);
    expect(pauses).toBe(Math.ceil(60 / 16));
    // RGB 32x32 bytes for the same model: tfjs resizes them and turns them to gray.
    const rgbAsGray = await evaluateFidelity(model, model, data.images, { batchSize: 30 });
    expect(rgbAsGray.agreement).toBe(1);
    const ref = await referenceOutputs(model, gray, { imageSize: [16, 24], channels: 1 });
    expect(ref.n).toBe(60);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('evaluateFidelity', () => {
  test('a model equal to the original: agreement 1, KL ~0, no tensor left behind', async () => {
    const original = tinyModel(7);
    const copy = tinyModel(7);
    const before = tf.memory().numTensors;
    const r = await evaluateFidelity(original, copy, data.images, { batchSize: 16 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.n).toBe(60);
    expect(r.agreement).toBe(1);
    expect(r.meanKL).toBeLessThan(1e-6);
    original.dispose();
    copy.dispose();
  });

  test('a different model disagrees somewhere and has positive KL; logits are softmaxed', async () => {
    const original = tinyModel(7);
    const other = tinyModel(11, { softmax: false });
    const r = await evaluateFidelity(original, other, data.images);
    expect(r.agreement).toBeLessThan(1);
    expect(r.meanKL).toBeGreaterThan(1e-4);
    // Logits of the same network as probabilities: identical after softmax.
    const logits = tinyModel(13, { softmax: false });
    const same = await evaluateFidelity(logits, tinyModel(13, { softmax: false }), data.images);
    expect(same.agreement).toBe(1);
    expect(same.meanKL).toBeLessThan(1e-6);
    for (const m of [original, other, logits]) m.dispose();
  });

  test('reference outputs computed once give the same result as the model', async () => {
    const original = tinyModel(17);
    const candidate = tinyModel(19);
    const ref = await referenceOutputs(original, data.images, { batchSize: 20 });
    expect(ref.n).toBe(60);
    expect(ref.numClasses).toBe(10);
    const a = await evaluateFidelity(ref, candidate, data.images);
    const b = await evaluateFidelity(original, candidate, data.images);
    expect(a.agreement).toBe(b.agreement);
    expect(a.meanKL).toBeCloseTo(b.meanKL, 6);
    original.dispose();
    candidate.dispose();
  });
});
