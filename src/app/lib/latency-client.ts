/**
 * The page's side of the timing worker (src/workers/latency.worker.ts): one worker per app, made on
 * the first request and made again if it dies; each request is a promise, with progress on the way.
 */
import { errLine } from '../../core/errors';
import type { BackendInfo, BackendName } from '../../core/measure/backends';
import type { LoadedModel } from '../../core/model/types';
import type { CompareRow, FromLatencyWorker, ModelsTiming, ReferenceTiming, TimingOptions, ToLatencyWorker } from '../../workers/latency-messages';
import { toModelPayload, type ModelPayload } from '../../workers/payload';

export type LatencyWorkerFactory = () => Worker;

const defaultFactory: LatencyWorkerFactory = () => new Worker(new URL('../../workers/latency.worker.ts', import.meta.url), { type: 'module', name: 'amc-timing' });

type Progress = (fraction: number, what: string) => void;

interface Pending {
  resolve: (m: FromLatencyWorker) => void;
  reject: (e: Error) => void;
  onProgress?: Progress;
}

/** Models for posting: weights copied (the page keeps its models), listed for transfer. */
function payloads(models: readonly LoadedModel[]): { models: ModelPayload[]; transfer: ArrayBuffer[] } {
  const out: ModelPayload[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const m of models) {
    const p = toModelPayload(m);
    out.push(p.payload);
    transfer.push(...p.transfer);
  }
  return { models: out, transfer };
}

export class LatencyClient {
  private worker: Worker | null = null;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly factory: LatencyWorkerFactory = defaultFactory) {}

  /** Times the reference model on `backend` (the page's); drift is against the first timing there. */
  async reference(backend?: BackendName): Promise<ReferenceTiming> {
    const m = await this.request((id) => ({ type: 'reference', id, backend }));
    if (m.type !== 'reference') throw new Error(`unexpected answer ${m.type}`);
    return m.result;
  }

  /** Times `models` (original first) interleaved on `backend`. */
  async measure(models: LoadedModel[], inputSize: number, backend: BackendName | undefined, options: TimingOptions, onProgress?: Progress): Promise<ModelsTiming> {
    const p = payloads(models);
    const m = await this.request((id) => ({ type: 'measure', id, backend, models: p.models, inputSize, options }), p.transfer, onProgress);
    if (m.type !== 'measured') throw new Error(`unexpected answer ${m.type}`);
    return m.result;
  }

  /** Times `models` on each of `backends` in turn, then goes back to `restore`. */
  async compare(
    models: LoadedModel[],
    inputSize: number,
    backends: BackendName[],
    restore: BackendName | undefined,
    options: TimingOptions,
    onProgress?: Progress,
  ): Promise<{ rows: CompareRow[]; backend: BackendInfo }> {
    const p = payloads(models);
    const m = await this.request((id) => ({ type: 'compare', id, backends, restore, models: p.models, inputSize, options }), p.transfer, onProgress);
    if (m.type !== 'compared') throw new Error(`unexpected answer ${m.type}`);
    return { rows: m.rows, backend: m.backend };
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
    this.failAll(new Error('the timing worker was closed'));
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = this.factory();
    w.onmessage = (e: MessageEvent<FromLatencyWorker>) => this.onMessage(e.data);
    w.onerror = (e: ErrorEvent) => {
      if (this.worker !== w) return;
      this.worker = null;
      w.terminate();
      this.failAll(new Error(`the timing worker failed: ${e.message || 'unknown error'}`));
    };
    this.worker = w;
    return w;
  }

  private request(make: (id: number) => ToLatencyWorker, transfer: ArrayBuffer[] = [], onProgress?: Progress): Promise<FromLatencyWorker> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      let w: Worker;
      try {
        w = this.ensure();
      } catch (e) {
        reject(new Error(`could not start the timing worker: ${errLine(e)}`));
        return;
      }
      this.pending.set(id, { resolve, reject, onProgress });
      w.postMessage(make(id), transfer);
    });
  }

  /** Applies one message from the worker (public for tests). */
  onMessage(m: FromLatencyWorker): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') {
      p.onProgress?.(m.fraction, m.what);
      return;
    }
    this.pending.delete(m.id);
    if (m.type === 'error') p.reject(new Error(m.message));
    else p.resolve(m);
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
