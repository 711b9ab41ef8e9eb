/**
 * What the timing worker does, without the worker: times the reference model (with a DriftMonitor
 * per backend, so every re-time says how far the device drifted since the first), times models
 * side by side (interleaved, median after warm-up), and compares backends, going back to the
 * page's backend afterwards. One request at a time, in the order they came. Tests drive it in Node.
 *
 * Runs adapt to the device: one round of every model is timed first (after a compiling warm-up),
 * and the number of timed runs is what fits the time budget (at least MIN_RUNS), so a slow
 * backend (the CPU, a software-emulated GPU) gives an answer in seconds, not minutes.
 */
import * as tf from '@tensorflow/tfjs';
import { backendLabel, type BackendInfo, type BackendName } from '../core/measure/backends';
import { DriftMonitor, measureInterleaved, type LatencyStats } from '../core/measure/latency';
import { PROBE_TIMING, REFERENCE_TIMING } from '../core/measure/config';
import { buildReferenceModel, REFERENCE_MODEL } from '../core/measure/reference-model';
import { disposeModel, instantiate } from '../core/model/tfjs-model';
import type { CompareRow, DeviceFlags, FromLatencyWorker, ModelsTiming, TimingOptions, ToLatencyWorker } from './latency-messages';
import type { ModelPayload } from './payload';
import { BURN_IN, burnIn, type BurnInOptions } from '../core/measure/burn-in';
import { errLine } from '../core/errors';
import { stillInUse } from './backend-watch';
import { serialQueue } from './serial';

export const MIN_RUNS = 5;

/** Runs of the reference model per timing (and its warm-up), as DriftMonitor takes them. */
export const REFERENCE_OPTIONS = REFERENCE_TIMING;

/**
 * Warm-up and timed runs for models whose interleaved round (one run of each) took `roundMs`:
 * as many runs as fit `budgetMs`, between MIN_RUNS and `options.runs`; the warm-up shrinks with
 * them on a slow device (at least 1).
 */
export function planRuns(roundMs: number, options: TimingOptions): { warmup: number; runs: number } {
  const max = Math.max(1, Math.floor(options.runs));
  const fit = roundMs > 0 && Number.isFinite(roundMs) ? Math.floor(options.budgetMs / roundMs) : max;
  const runs = Math.min(max, Math.max(Math.min(MIN_RUNS, max), fit));
  const warmup = Math.max(1, Math.min(options.warmup, Math.round((runs / max) * options.warmup)));
  return { warmup, runs };
}

export interface LatencyHostDeps {
  post(msg: FromLatencyWorker): void;
  /** Initializes a backend (the preferred one if it can); see core/measure/backends.ts. */
  initBackend(preferred?: BackendName): Promise<BackendInfo>;
  deviceFlags(): Promise<DeviceFlags>;
  /** Burn-in before the first timing on each backend (see burn-in.ts). Default BURN_IN. */
  burnIn?: BurnInOptions;
}

export class LatencyHost {
  private readonly inOrder = serialQueue();
  private backend: BackendInfo | null = null;
  private readonly references = new Map<string, { model: tf.LayersModel; monitor: DriftMonitor; checks: number }>();
  private readonly warmed = new Set<string>();

  constructor(private readonly deps: LatencyHostDeps) {}

  /** Serves `msg` after every request before it. */
  handle(msg: ToLatencyWorker): Promise<void> {
    return this.inOrder(() => this.serve(msg));
  }

  private async serve(msg: ToLatencyWorker): Promise<void> {
    try {
      switch (msg.type) {
        case 'reference':
          return await this.reference(msg.id, msg.backend);
        case 'measure':
          return await this.measure(msg);
        case 'compare':
          return await this.compare(msg);
      }
    } catch (e) {
      this.deps.post({ type: 'error', id: msg.id, message: errLine(e) });
    }
  }

  /** The backend `name` (or whatever is in use, or the automatic choice), initialized. */
  private async use(name?: BackendName): Promise<BackendInfo> {
    if (stillInUse(this.backend, name)) return this.backend;
    this.backend = await this.deps.initBackend(name);
    return this.backend;
  }

  /** The reference model on this backend (made on first use). */
  private referenceOn(name: string): { model: tf.LayersModel; monitor: DriftMonitor; checks: number } {
    let ref = this.references.get(name);
    if (!ref) {
      const model = buildReferenceModel();
      ref = { model, monitor: new DriftMonitor(model, REFERENCE_OPTIONS), checks: 0 };
      this.references.set(name, ref);
    }
    return ref;
  }

  /** Burns the backend in once (the reference model, untimed) so the first timing is not a cold one. */
  private async warm(name: string, id: number): Promise<void> {
    if (this.warmed.has(name)) return;
    this.deps.post({ type: 'progress', id, fraction: 0, what: `warming up ${backendLabel(name)}` });
    await burnIn([this.referenceOn(name).model], REFERENCE_MODEL.inputShape[0], this.deps.burnIn ?? BURN_IN);
    this.warmed.add(name);
  }

  private async reference(id: number, backend?: BackendName): Promise<void> {
    const info = await this.use(backend);
    await this.warm(info.name, id);
    const ref = this.referenceOn(info.name);
    const { medianMs, drift } = await ref.monitor.check();
    ref.checks++;
    this.deps.post({
      type: 'reference',
      id,
      result: { medianMs, drift, checks: ref.checks, ...REFERENCE_OPTIONS, backend: info, device: await this.deps.deviceFlags(), at: Date.now() },
    });
  }

  /** Builds `models` on the current backend, times them interleaved within the budget, disposes them. */
  private async time(models: ModelPayload[], inputSize: number, options: TimingOptions): Promise<{ stats: LatencyStats[]; warmup: number; runs: number }> {
    const nets: tf.LayersModel[] = [];
    try {
      for (const m of models) nets.push(await instantiate(m));
      // One untimed round compiles (GPU pipelines, WASM allocation); one timed round sizes the plan.
      const probe = await measureInterleaved(nets, PROBE_TIMING, inputSize);
      const plan = planRuns(probe.reduce((s, p) => s + p.medianMs, 0), options);
      const stats = await measureInterleaved(nets, plan, inputSize);
      return { stats, ...plan };
    } finally {
      nets.forEach((n) => disposeModel(n));
    }
  }

  private async measure(msg: Extract<ToLatencyWorker, { type: 'measure' }>): Promise<void> {
    const info = await this.use(msg.backend);
    await this.warm(info.name, msg.id);
    this.deps.post({ type: 'progress', id: msg.id, fraction: 0, what: `timing on ${backendLabel(info.name)}` });
    const t = await this.time(msg.models, msg.inputSize, msg.options);
    const result: ModelsTiming = { ...t, backend: info, device: await this.deps.deviceFlags() };
    this.deps.post({ type: 'measured', id: msg.id, result });
  }

  private async compare(msg: Extract<ToLatencyWorker, { type: 'compare' }>): Promise<void> {
    const rows: CompareRow[] = [];
    const n = msg.backends.length;
    try {
      for (let i = 0; i < n; i++) {
        const name = msg.backends[i];
        this.deps.post({ type: 'progress', id: msg.id, fraction: i / n, what: `timing on ${backendLabel(name)} (${i + 1} of ${n})` });
        rows.push(await this.compareOn(msg.id, name, msg.models, msg.inputSize, msg.options));
      }
    } finally {
      // Back to the page's backend, whatever happened.
      try {
        await this.use(msg.restore);
      } catch {
        this.backend = null;
      }
    }
    this.deps.post({ type: 'progress', id: msg.id, fraction: 1, what: 'done' });
    this.deps.post({ type: 'compared', id: msg.id, rows, backend: this.backend ?? (await this.use()) });
  }

  private async compareOn(id: number, name: BackendName, models: ModelPayload[], inputSize: number, options: TimingOptions): Promise<CompareRow> {
    let info: BackendInfo;
    try {
      info = await this.use(name);
    } catch (e) {
      return { backend: name, status: 'failed', note: errLine(e) };
    }
    if (info.name !== name) return { backend: name, status: 'failed', note: info.reason };
    const adapter = name === 'webgpu' && info.adapter ? info.adapter : undefined;
    const fallbackAdapter = adapter?.isFallbackAdapter ?? false;
    const note = fallbackAdapter ? 'fallback adapter: the GPU is emulated in software, these are not this device’s GPU timings' : '';
    try {
      await this.warm(name, id);
      const t = await this.time(models, inputSize, options);
      return {
        backend: name,
        status: 'ok',
        note,
        ...(adapter ? { adapter: adapter.description || adapter.vendor || adapter.architecture || 'unknown adapter', fallbackAdapter } : {}),
        stats: t.stats,
        warmup: t.warmup,
        runs: t.runs,
      };
    } catch (e) {
      this.backend = null;
      return { backend: name, status: 'failed', note: `${backendLabel(name)} failed while timing (${errLine(e)})`, ...(adapter ? { fallbackAdapter } : {}) };
    }
  }
}

