import { describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  CLASS_NAMES,
  datasetChecksum,
  datasetToTensor,
  fnv1a,
  generateDataset,
  imagesToTensor,
  NUM_CLASSES,
  SPLIT_SIZES,
} from './procedural';

describe('procedural demo dataset', () => {
  test('shapes: 32x32 RGB bytes, one int label per image, ten named classes', () => {
    const ds = generateDataset('val', { count: 30 });
    expect(ds.N).toBe(30);
    expect(ds.images).toBeInstanceOf(Uint8Array);
    expect(ds.images.length).toBe(30 * 32 * 32 * 3);
    expect(ds.labels).toBeInstanceOf(Int32Array);
    expect(ds.labels.length).toBe(30);
    expect(ds.classNames).toEqual([...CLASS_NAMES]);
    expect(NUM_CLASSES).toBeGreaterThanOrEqual(10);
    expect(SPLIT_SIZES).toEqual({ train: 9000, val: 2000, test: 2000 });
  });

  test('deterministic: the same split gives the same bytes; a slice equals the same images of the whole', () => {
    const a = generateDataset('test', { count: 40 });
    const b = generateDataset('test', { count: 40 });
    expect(Buffer.from(a.images).equals(Buffer.from(b.images))).toBe(true);
    const slice = generateDataset('test', { offset: 25, count: 10 });
    const per = 32 * 32 * 3;
    expect(Buffer.from(slice.images).equals(Buffer.from(a.images.subarray(25 * per, 35 * per)))).toBe(true);
    expect([...slice.labels]).toEqual([...a.labels.subarray(25, 35)]);
  });

  test('splits differ from each other', () => {
    const train = generateDataset('train', { count: 10 });
    const val = generateDataset('val', { count: 10 });
    const test = generateDataset('test', { count: 10 });
    expect(fnv1a(train.images)).not.toBe(fnv1a(val.images));
    expect(fnv1a(val.images)).not.toBe(fnv1a(test.images));
  });

  test('class balance: every class equally often in each split (labels are i % 10)', () => {
    const ds = generateDataset('val', { count: 200 });
    const counts = new Array(NUM_CLASSES).fill(0);
    for (const l of ds.labels) counts[l]++;
    expect(counts).toEqual(new Array(NUM_CLASSES).fill(20));
    for (const split of ['train', 'val', 'test'] as const) expect(SPLIT_SIZES[split] % NUM_CLASSES).toBe(0);
  });

  test('images are varied: no two identical, pixels use the whole range', () => {
    const ds = generateDataset('train', { count: 50 });
    const per = 32 * 32 * 3;
    const seen = new Set<string>();
    for (let i = 0; i < ds.N; i++) seen.add(fnv1a(ds.images.subarray(i * per, (i + 1) * per)));
    expect(seen.size).toBe(50);
    expect(ds.images.reduce((m, v) => Math.min(m, v), 255)).toBe(0);
    expect(ds.images.reduce((m, v) => Math.max(m, v), 0)).toBe(255);
  });

  test('checksums are pinned (a change to the generator changes the dataset the models were trained on)', () => {
    // The browser must produce the same values (e2e); update together with retrained models only.
    expect(datasetChecksum('val', 100)).toBe('957b072b');
    expect(datasetChecksum('test', 100)).toMatch(/^[0-9a-f]{8}$/);
    expect(datasetChecksum('test', 100)).toBe(datasetChecksum('test', 100));
  });

  test('out-of-range slices are refused', () => {
    expect(() => generateDataset('val', { offset: 1990, count: 20 })).toThrow(/has 2000 images/);
  });

  test('tensors: [0, 1] by default, other scalings on request', () => {
    const ds = generateDataset('val', { count: 3 });
    const before = tf.memory().numTensors;
    const x = datasetToTensor(ds, 1, 3);
    expect(x.shape).toEqual([2, 32, 32, 3]);
    expect(x.dtype).toBe('float32');
    const v = x.dataSync();
    expect(v[0]).toBeCloseTo(ds.images[32 * 32 * 3] / 255, 6);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    const s = imagesToTensor(ds.images, 0, 1, 'signed');
    expect(s.dataSync()[0]).toBeCloseTo((ds.images[0] / 255) * 2 - 1, 6);
    const r = imagesToTensor(ds.images, 0, 1, { scale: 1, offset: -128 });
    expect(r.dataSync()[5]).toBe(ds.images[5] - 128);
    tf.dispose([x, s, r]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
