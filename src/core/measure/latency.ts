/**
 * Inference latency of a model on the current backend, measured the way a user's app would see it:
 * `predict` then `await data()` on every output, timed with `performance.now()`. Never
 * `tf.time`/`tf.profile`: they change how WebGPU submits work and they time kernels, not the wait.
 *
 * Warm-up runs come first after every build (a new shape compiles new GPU pipelines, WASM
 * allocates), then `runs` timed runs; the median is the figure used, min and spread say how noisy
 * the device was. Each measurement records the backend and the tfjs flags it ran under.
 */
import * as tf from '@tensorflow/tfjs';
import { DRIFT_TIMING, LATENCY_DEFAULTS } from './config';

export interface LatencyOptions {
  /** Untimed runs first (default 5). */
  warmup?: number;
  /** Timed runs (default 30). */
  runs?: number;
  /** Batch size of the timed input (default 1: what an app does per image). */
  batch?: number;
}

export interface LatencyStats {
  medianMs: number;
  minMs: number;
  /** Interquartile range over the median: how much the runs disagreed. */
  spread: number;
  runs: number;
  warmup: number;
  backend: string;
  flags: Record<string, unknown>;
}

export { LATENCY_DEFAULTS };

export function summarize(ms: number[]): { medianMs: number; minMs: number; spread: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => {
    const i = (s.length - 1) * q;
    const lo = Math.floor(i);
    const hi = Math.ceil(i);
    return s[lo] + (s[hi] - s[lo]) * (i - lo);
  };
  const median = at(0.5);
  return { medianMs: median, minMs: s[0], spread: median > 0 ? (at(0.75) - at(0.25)) / median : 0 };
}

/** A fixed random input for each of the model's inputs, at its declared size (free dims as `size`). */
export function probeInputs(model: tf.LayersModel, batch = 1, size = 224): tf.Tensor[] {
  return model.inputs.map((input, i) => {
    const shape = input.shape.map((d, k) => (k === 0 ? batch : (d ?? size)));
    return tf.randomUniform(shape, 0, 1, 'float32', 17 + i);
  });
}

/** One predict + wait for every output; returns the wall time in ms. */
async function once(model: tf.LayersModel, inputs: tf.Tensor[]): Promise<number> {
  const t0 = performance.now();
  const out = model.predict(inputs.length === 1 ? inputs[0] : inputs);
  const outs = Array.isArray(out) ? out : [out];
  await Promise.all(outs.map((o) => o.data()));
  const ms = performance.now() - t0;
  tf.dispose(outs);
  return ms;
}

/** Times `model` (already built) on the current backend. */
export async function measureLatency(model: tf.LayersModel, options: LatencyOptions = {}, inputSize = 224): Promise<LatencyStats> {
  const { warmup, runs, batch } = { ...LATENCY_DEFAULTS, ...options };
  const inputs = probeInputs(model, batch, inputSize);
  try {
    for (let i = 0; i < warmup; i++) await once(model, inputs);
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push(await once(model, inputs));
    return { ...summarize(ms), runs, warmup, backend: tf.getBackend(), flags: { ...tf.env().getFlags() } };
  } finally {
    tf.dispose(inputs);
  }
}

/**
 * Times several models with their runs interleaved (A B C A B C ...), so that a device that heats
 * up or a neighbour that wakes affects every model alike: ratios between them are fair.
 */
export async function measureInterleaved(models: tf.LayersModel[], options: LatencyOptions = {}, inputSize = 224): Promise<LatencyStats[]> {
  const { warmup, runs, batch } = { ...LATENCY_DEFAULTS, ...options };
  const inputs = models.map((m) => probeInputs(m, batch, inputSize));
  try {
    for (let i = 0; i < warmup; i++) for (let k = 0; k < models.length; k++) await once(models[k], inputs[k]);
    const ms = models.map(() => [] as number[]);
    for (let i = 0; i < runs; i++) for (let k = 0; k < models.length; k++) ms[k].push(await once(models[k], inputs[k]));
    const flags = { ...tf.env().getFlags() };
    return ms.map((m) => ({ ...summarize(m), runs, warmup, backend: tf.getBackend(), flags }));
  } finally {
    tf.dispose(inputs.flat());
  }
}

/**
 * Re-times a fixed reference model now and then and reports how far the device has drifted from
 * its first timing (phones heat up and slow down; a laptop may leave battery saving).
 */
export class DriftMonitor {
  private baseline?: number;
  readonly history: { at: number; medianMs: number; drift: number }[] = [];

  constructor(
    private readonly reference: tf.LayersModel,
    private readonly options: LatencyOptions = DRIFT_TIMING,
    private readonly inputSize = 224,
  ) {}

  /** Times the reference; drift = median now / median at the first check - 1. */
  async check(): Promise<{ medianMs: number; drift: number }> {
    const { medianMs } = await measureLatency(this.reference, this.options, this.inputSize);
    this.baseline ??= medianMs;
    const drift = medianMs / this.baseline - 1;
    this.history.push({ at: Date.now(), medianMs, drift });
    return { medianMs, drift };
  }
}
