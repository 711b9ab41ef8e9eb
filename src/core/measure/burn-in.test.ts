import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildReferenceModel } from './reference-model';
import { burnIn } from './burn-in';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('burnIn', () => {
  it('runs at least minMs and stops at maxMs even when the speed never settles', async () => {
    const model = buildReferenceModel();
    const before = tf.memory().numTensors;
    const steadyAtOnce = await burnIn([model], 32, { minMs: 100, maxMs: 5000, tolerance: 10, window: 2 });
    expect(steadyAtOnce.steady).toBe(true);
    expect(steadyAtOnce.ms).toBeGreaterThanOrEqual(100);
    expect(steadyAtOnce.ms).toBeLessThan(5000);
    const never = await burnIn([model], 32, { minMs: 0, maxMs: 150, tolerance: -1 });
    expect(never.steady).toBe(false);
    expect(never.ms).toBeGreaterThanOrEqual(150);
    expect(never.runs).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
