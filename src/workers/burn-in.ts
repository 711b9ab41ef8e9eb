/**
 * A fresh worker runs slow at first: V8 compiles WebAssembly (and hot JavaScript) with a quick
 * baseline compiler and only later tiers the hot kernels up to optimized code. In headless
 * Chromium here, the reference model's median fell from 2.3 ms to 0.6 ms over its first ~150 runs
 * on WASM. Timings taken before that compare a cold worker with a warm one, so each worker burns
 * in once per backend before its first timing.
 */
import type * as tf from '@tensorflow/tfjs';
import { measureInterleaved } from '../core/measure/latency';

/** Runs `models` (interleaved, untimed) for about `ms` milliseconds, at most `maxRuns` rounds. */
export async function burnIn(models: tf.LayersModel[], inputSize: number, ms: number, maxRuns = 400): Promise<number> {
  const t0 = performance.now();
  let runs = 0;
  while (runs < maxRuns && performance.now() - t0 < ms) {
    await measureInterleaved(models, { warmup: 0, runs: 5 }, inputSize);
    runs += 5;
  }
  return runs;
}

/** Default burn-in per backend, ms. */
export const BURN_IN_MS = 1500;
