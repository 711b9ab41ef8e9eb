import { describe, test, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, adapterLabel, isBackendName } from './backends';

describe('initBackend (Node: no navigator.gpu)', () => {
  test('falls back to WASM and says why', async () => {
    const info = await initBackend();
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.adapter).toBeUndefined();
    expect(info.reason).toMatch(/WebGPU is not available.*using WASM/);
  });

  test('an explicit backend is honored when it initializes', async () => {
    const info = await initBackend('cpu');
    expect(info).toEqual({ name: 'cpu', reason: 'CPU requested' });
    expect(tf.getBackend()).toBe('cpu');
  });

  test('an explicit backend that cannot start falls through with the reason recorded', async () => {
    const info = await initBackend('webgpu');
    expect(info.name).toBe('wasm');
    expect(info.reason).toMatch(/^WebGPU requested but failed/);
  });

  test('no tensors are left behind by the probe', async () => {
    await initBackend('wasm');
    const before = tf.memory().numTensors;
    await initBackend('cpu');
    await initBackend('wasm');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('adapterLabel', () => {
  test('names SwiftShader', () => {
    expect(
      adapterLabel({ vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true }),
    ).toBe('SwiftShader');
    expect(
      adapterLabel({ vendor: 'nvidia', architecture: 'ampere', device: '', description: '', isFallbackAdapter: false }),
    ).toBe('nvidia ampere');
  });
  test('isBackendName', () => {
    expect(isBackendName('webgpu')).toBe(true);
    expect(isBackendName('tpu')).toBe(false);
  });
});
