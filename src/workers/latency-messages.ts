/**
 * The messages between the page and the timing worker (src/workers/latency.worker.ts): the page
 * asks, the worker times on its own tfjs backend, off the main thread, and answers. Requests are
 * served one at a time, in order; each answer carries its request's id.
 *
 * Plain, structured-cloneable data only; models travel as ModelPayloads (topology + weight arrays).
 */
import type { BackendInfo, BackendName } from '../core/measure/backends';
import { COMPARE_TIMING } from '../core/measure/config';
import type { LatencyStats } from '../core/measure/latency';
import type { ModelPayload } from './payload';

/** What the device says about how tfjs runs here (filled where known). */
export interface DeviceFlags {
  /** navigator.hardwareConcurrency. */
  cores?: number;
  /** Whether the page is cross-origin isolated (WASM threads need it). */
  crossOriginIsolated?: boolean;
  /** WASM: whether the browser supports SIMD / threads, and the threads the backend really uses. */
  wasmSimd?: boolean;
  wasmThreadsSupported?: boolean;
  wasmThreads?: number;
  /** The tfjs flag for WASM threads: true where the page is cross-origin isolated (scripts/wasm-threads.ts makes the minified build's threads work). */
  wasmMultithreadFlag?: boolean;
}

/** One timing of the reference model (src/core/measure/reference-model.ts). */
export interface ReferenceTiming {
  medianMs: number;
  /** Median now over the median at the first timing on this backend, minus 1. */
  drift: number;
  /** Timings on this backend so far (this one included). */
  checks: number;
  runs: number;
  warmup: number;
  backend: BackendInfo;
  device: DeviceFlags;
  at: number;
}

/** Timings of several models on one backend, interleaved (A B A B ...). */
export interface ModelsTiming {
  stats: LatencyStats[];
  backend: BackendInfo;
  device: DeviceFlags;
  warmup: number;
  runs: number;
}

export type CompareRowStatus = 'ok' | 'failed' | 'skipped';

/** One backend's line of the "compare backends" table. */
export interface CompareRow {
  backend: BackendName;
  status: CompareRowStatus;
  /** Why it failed, was skipped, or what to know about it (e.g. a fallback adapter). */
  note: string;
  /** WebGPU's adapter was a fallback (software, e.g. SwiftShader): emulated, not this device's GPU. */
  fallbackAdapter?: boolean;
  adapter?: string;
  /** Original first, then pruned. */
  stats?: LatencyStats[];
  warmup?: number;
  runs?: number;
}

export interface TimingOptions {
  warmup: number;
  /** Most timed runs (fewer when one run is slow: see planRuns). */
  runs: number;
  /** Time budget for the timed runs of all models together, ms. */
  budgetMs: number;
}

/** The compare view's timing: median of up to 30 runs after 5 warm-up runs, ~3 s of timed runs at most. */
export const COMPARE_OPTIONS: TimingOptions = COMPARE_TIMING;

/** Page -> timing worker. */
export type ToLatencyWorker =
  | { type: 'reference'; id: number; backend?: BackendName }
  | { type: 'measure'; id: number; backend?: BackendName; models: ModelPayload[]; inputSize: number; options: TimingOptions }
  | {
      type: 'compare';
      id: number;
      backends: BackendName[];
      /** The backend to go back to afterwards (the page's). */
      restore?: BackendName;
      models: ModelPayload[];
      inputSize: number;
      options: TimingOptions;
    };

/** Timing worker -> page. */
export type FromLatencyWorker =
  | { type: 'progress'; id: number; fraction: number; what: string }
  | { type: 'reference'; id: number; result: ReferenceTiming }
  | { type: 'measured'; id: number; result: ModelsTiming }
  | { type: 'compared'; id: number; rows: CompareRow[]; backend: BackendInfo }
  | { type: 'error'; id: number; message: string };
