/**
 * A fresh worker (or Node process) runs slow at first: V8 compiles WebAssembly (and hot
 * JavaScript) with a quick baseline compiler and only later tiers the hot kernels up to optimized
 * code, one function at a time, on a background thread. In headless Chromium here, the reference
 * model's median fell from 2.3 ms to 0.6 ms over its first ~150 runs on WASM, and a search that
 * burned in only the reference model for 1.5 s still saw the device get 40-50% faster over its
 * first ten episodes: the user's model runs kernels (depthwise convolutions, other shapes) the
 * reference never called. Timings taken before that compare cold code with warm code, so whatever
 * times models first burns in the models it will time, once per backend, until their speed stops
 * changing.
 */
import type * as tf from '@tensorflow/tfjs';
import { BURN_IN, BURN_IN_BURST } from './config';
import { measureInterleaved } from './latency';

export { BURN_IN };

export interface BurnInOptions {
  /** Always run at least this long, ms. */
  minMs: number;
  /** Give up waiting for a steady speed after this long, ms. */
  maxMs: number;
  /** Steady: the last `window` bursts' medians all within this fraction of their mean. */
  tolerance?: number;
  window?: number;
}

export interface BurnIn {
  runs: number;
  ms: number;
  /** Whether the speed settled before maxMs. */
  steady: boolean;
}

/** Defaults: BURN_IN (config.ts). A burst is BURN_IN_BURST.runs interleaved rounds of every model. */

/** Runs `models` interleaved, untimed for the caller, until their summed speed is steady. */
export async function burnIn(models: tf.LayersModel[], inputSize: number, options: BurnInOptions = BURN_IN): Promise<BurnIn> {
  const { minMs, maxMs, tolerance = BURN_IN.tolerance, window = BURN_IN.window } = options;
  const t0 = performance.now();
  const bursts: number[] = [];
  let runs = 0;
  for (;;) {
    const stats = await measureInterleaved(models, BURN_IN_BURST, inputSize);
    bursts.push(stats.reduce((s, x) => s + x.medianMs, 0));
    runs += BURN_IN_BURST.runs;
    const ms = performance.now() - t0;
    const last = bursts.slice(-window);
    const mean = last.reduce((a, b) => a + b, 0) / last.length;
    const steady = last.length === window && last.every((b) => Math.abs(b - mean) <= tolerance * mean);
    if ((steady && ms >= minMs) || ms >= maxMs) return { runs, ms, steady };
  }
}
