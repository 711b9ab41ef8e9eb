/**
 * The page's side of the evaluation worker (src/workers/eval.worker.ts): one worker per
 * evaluation, made when it starts and terminated when it settles or is cancelled, so no tfjs
 * backend or model stays alive in a worker between evaluations that come minutes apart.
 *
 * The models are sent as payloads (weights copied: the page keeps its models); the images are
 * copied by the structured clone (the page keeps them too). Progress comes per batch.
 */
import { errLine } from '../../core/errors';
import type { BackendName } from '../../core/measure/backends';
import type { LoadedModel } from '../../core/model/types';
import type { EvalAnswer, EvalJob, FromEvalWorker, ToEvalWorker } from '../../workers/eval-messages';
import { toModelPayload, type PlainEvalOptions } from '../../workers/payload';

/** Creates the evaluation worker (tests run one in process: src/testing/local-eval-worker.ts). */
export type EvalWorkerFactory = () => Worker;

export const defaultEvalWorker: EvalWorkerFactory = () => new Worker(new URL('../../workers/eval.worker.ts', import.meta.url), { type: 'module', name: 'amc-eval' });

/** Labeled: accuracy of each of `models`. Unlabeled: fidelity of each to `reference`. */
export interface EvalInput {
  models: LoadedModel[];
  reference?: LoadedModel;
  images: Uint8Array;
  labels?: Int32Array;
  eval: PlainEvalOptions;
}

/** Step `step` of `steps` (the reference first, then each model), `fraction` of it done. */
export interface EvalProgress {
  step: number;
  steps: number;
  fraction: number;
  what: string;
}

export interface EvalTask {
  /** The answer; rejects with the worker's error in words, or EvalCancelled. */
  readonly done: Promise<EvalAnswer>;
  /** Terminates the worker now; `done` rejects with EvalCancelled (nothing happens once settled). */
  cancel(): void;
}

export class EvalCancelled extends Error {
  constructor() {
    super('the evaluation was cancelled');
  }
}

/**
 * A typed array that owns its whole buffer: the structured clone copies a view's entire buffer,
 * so a view into a larger one is copied down to its own bytes first.
 */
function own<T extends Uint8Array | Int32Array>(a: T): T {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : (a.slice() as T);
}

/** The job as it is posted, and the buffers to transfer (the models' weight copies). */
export function toEvalJob(input: EvalInput): { job: EvalJob; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const payload = (m: LoadedModel) => {
    const p = toModelPayload(m);
    transfer.push(...p.transfer);
    return p.payload;
  };
  const job: EvalJob = {
    models: input.models.map(payload),
    ...(input.reference ? { reference: payload(input.reference) } : {}),
    images: own(input.images),
    ...(input.labels ? { labels: own(input.labels) } : {}),
    eval: input.eval,
  };
  return { job, transfer };
}

let seq = 0;

/** Starts `input`'s evaluation in a worker of its own, on `backend` (the page's) when it can. */
export function startEval(
  input: EvalInput,
  opts: { backend?: BackendName; onProgress?: (p: EvalProgress) => void; factory?: EvalWorkerFactory } = {},
): EvalTask {
  const id = ++seq;
  let worker: Worker | null = null;
  let fail: (e: Error) => void = () => undefined;
  const end = () => {
    worker?.terminate();
    worker = null;
  };
  const done = new Promise<EvalAnswer>((resolve, reject) => {
    fail = (e) => {
      end();
      reject(e);
    };
    let w: Worker;
    try {
      w = (opts.factory ?? defaultEvalWorker)();
    } catch (e) {
      reject(new Error(`could not start the evaluation worker: ${errLine(e)}`));
      return;
    }
    worker = w;
    w.onmessage = (e: MessageEvent<FromEvalWorker>) => {
      const m = e.data;
      if (worker !== w || m.id !== id) return;
      if (m.type === 'progress') {
        opts.onProgress?.({ step: m.step, steps: m.steps, fraction: m.fraction, what: m.what });
        return;
      }
      end();
      if (m.type === 'error') reject(new Error(m.message));
      else {
        const { type: _type, id: _id, ...answer } = m;
        resolve(answer);
      }
    };
    w.onerror = (e: ErrorEvent) => {
      if (worker === w) fail(new Error(`the evaluation worker failed: ${e.message || 'unknown error'}`));
    };
    try {
      const { job, transfer } = toEvalJob(input);
      const msg: ToEvalWorker = { type: 'evaluate', id, ...(opts.backend ? { backend: opts.backend } : {}), job };
      w.postMessage(msg, transfer);
    } catch (e) {
      fail(new Error(`could not send the models to the evaluation worker: ${errLine(e)}`));
    }
  });
  return {
    done,
    cancel: () => {
      if (worker) fail(new EvalCancelled());
    },
  };
}
