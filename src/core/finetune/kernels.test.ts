// Checks kernels.ts against tfjs itself, so it fails when a tfjs upgrade adds, removes or fixes a
// kernel. Never imports wasm-gradients: the WASM backend must be as tfjs ships it.
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { BACKEND_NAMES } from '../measure/backends';
import { MISSING_TRAINING_KERNELS, TRAINING_KERNELS, WRONG_TRAINING_KERNELS } from './kernels';

beforeAll(() => {
  // Every kernel of every backend registers on import; a backend need not initialize to be asked.
  expect(tf.getKernel('Conv2D', 'wasm')).toBeDefined();
});

describe('MISSING_TRAINING_KERNELS', () => {
  test('wasm: exactly the training kernels tf.getKernel finds no WASM kernel for', () => {
    expect(TRAINING_KERNELS.filter((k) => tf.getKernel(k, 'wasm') === undefined)).toEqual(MISSING_TRAINING_KERNELS.wasm);
  });

  test.each(BACKEND_NAMES.filter((b) => b !== 'wasm'))('%s: the same check', (b) => {
    expect(TRAINING_KERNELS.filter((k) => tf.getKernel(k, b) === undefined)).toEqual(MISSING_TRAINING_KERNELS[b]);
  });

  test('lists only training kernels, and the training kernels are real kernel names (the CPU has them all)', () => {
    for (const b of BACKEND_NAMES) for (const k of [...MISSING_TRAINING_KERNELS[b], ...WRONG_TRAINING_KERNELS[b]]) expect(TRAINING_KERNELS).toContain(k);
    expect(TRAINING_KERNELS.filter((k) => tf.getKernel(k, 'cpu') === undefined)).toEqual([]);
  });
});

test("WASM's own MaxPoolGrad is still wrong (why installWasmGradients replaces it)", async () => {
  const shape: [number, number, number, number] = [2, 8, 8, 4];
  const grad = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.tensor4d(Array.from({ length: 512 }, (_, i) => Math.sin(i * 1.37) * 10), shape);
    const w = tf.tensor4d(Array.from({ length: 128 }, (_, i) => Math.cos(i)), [2, 4, 4, 4]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid'), w)))(x);
    const out = Array.from(await g.data());
    tf.dispose([x, w, g]);
    return out;
  };
  const cpu = await grad('cpu');
  const wasm = await grad('wasm');
  const err = Math.max(...cpu.map((v, i) => Math.abs(v - wasm[i])));
  expect(WRONG_TRAINING_KERNELS.wasm).toContain('MaxPoolGrad');
  expect(err).toBeGreaterThan(0.1);
});
