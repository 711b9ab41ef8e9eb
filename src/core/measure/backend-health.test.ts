import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { checkBackend, isBackendFailure, resetBackend } from './backend-health';
import { initBackend } from './backends';

interface WasmBackendLike {
  wasm: { _malloc: (n: number) => number };
}

describe('a backend left broken is detected and reset', () => {
  afterAll(async () => {
    await initBackend('cpu');
  });

  it('a healthy backend passes the check and leaves no tensor', async () => {
    await initBackend('wasm');
    const before = tf.memory().numTensors;
    expect(await checkBackend()).toBeNull();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('WASM whose memory fails is found broken, then restarted with fresh memory that computes', async () => {
    await initBackend('wasm');
    const broken = tf.backend() as unknown as WasmBackendLike;
    // What the WASM backend does after memory bombs: every allocation traps.
    broken.wasm._malloc = () => {
      throw new WebAssembly.RuntimeError('memory access out of bounds');
    };
    const problem = await checkBackend();
    expect(problem).toMatch(/memory access out of bounds/);
    expect(isBackendFailure(new WebAssembly.RuntimeError('memory access out of bounds'))).toBe(true);
    const info = await resetBackend(problem!);
    expect(info.name).toBe('wasm');
    expect(info.reason).toMatch(/^WASM restarted after it failed \(.*memory access out of bounds/);
    expect(tf.backend()).not.toBe(broken);
    expect(await checkBackend()).toBeNull();
    const y = tf.add(tf.scalar(2), tf.scalar(3));
    expect((await y.data())[0]).toBe(5);
    y.dispose();
  });

  it('a model error is not a backend failure', () => {
    expect(isBackendFailure(new Error('model.json: describes a model TensorFlow.js cannot build (Unknown activation: bogus).'))).toBe(false);
    expect(isBackendFailure(new Error('Aborted(OOM)'))).toBe(true);
  });
});
