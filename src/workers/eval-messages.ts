/**
 * The messages between the page and the evaluation worker (src/workers/eval.worker.ts): the page
 * sends models and images, the worker scores them with core/measure/accuracy.ts on its own tfjs
 * backend (the page's choice), off the main thread, and answers. Each answer carries its request's
 * id. Cancelling is terminating the worker: there is no cancel message.
 *
 * Plain, structured-cloneable data only; models travel as ModelPayloads (topology + weight arrays).
 */
import type { BackendInfo, BackendName } from '../core/measure/backends';
import type { ModelPayload, PlainEvalOptions } from './payload';

/**
 * Models to score on one set of images. With `labels`: top-1 and top-5 of each of `models`.
 * Without: fidelity of each of `models` to `reference` (whose outputs are computed first, once).
 */
export interface EvalJob {
  models: ModelPayload[];
  reference?: ModelPayload;
  /** Raw bytes (NHWC), laid out as `eval` says (imageSize, channels). */
  images: Uint8Array;
  labels?: Int32Array;
  eval: PlainEvalOptions;
}

/** One model's score: accuracy (labeled) or fidelity (unlabeled); `ms` is its evaluation's wall time. */
export interface ModelScore {
  top1?: number;
  top5?: number;
  agreement?: number;
  meanKL?: number;
  n: number;
  ms: number;
}

export interface EvalAnswer {
  /** One per job model, in order. */
  scores: ModelScore[];
  /** The reference model's outputs (unlabeled jobs): images run and time taken. */
  reference?: { n: number; ms: number };
  backend: BackendInfo;
  /**
   * The worker's tensor count with the first model built, before any scoring and after all of it
   * (the other models built and disposed in between): equal when nothing leaked.
   */
  tensorsBefore: number;
  tensorsAfter: number;
}

/** Page -> evaluation worker. */
export type ToEvalWorker = { type: 'evaluate'; id: number; backend?: BackendName; job: EvalJob };

/**
 * Evaluation worker -> page. Progress is per step (the reference, then each model): `fraction` of
 * step `step` of `steps` done, `what` in words ("evaluating accuracy").
 */
export type FromEvalWorker =
  | { type: 'progress'; id: number; step: number; steps: number; fraction: number; what: string }
  | ({ type: 'evaluated'; id: number } & EvalAnswer)
  | { type: 'error'; id: number; message: string };
