/**
 * What the evaluation worker does, without the worker: builds the models of a job on its backend,
 * scores them on the job's images with core/measure/accuracy.ts (the same code and options the
 * page ran before, so the same numbers), reports progress per batch, and disposes every model it
 * built. One request at a time, in the order they came. Tests drive it in Node.
 */
import * as tf from '@tensorflow/tfjs';
import { evaluateAccuracy, evaluateFidelity, referenceOutputs, type ReferenceOutputs } from '../core/measure/accuracy';
import type { BackendInfo, BackendName } from '../core/measure/backends';
import { errLine } from '../core/errors';
import { disposeModel, instantiate } from '../core/model/tfjs-model';
import type { EvalAnswer, EvalJob, FromEvalWorker, ModelScore, ToEvalWorker } from './eval-messages';
import { stillInUse } from './backend-watch';
import { serialQueue } from './serial';

export interface EvalHostDeps {
  post(msg: FromEvalWorker): void;
  /** Initializes a backend (the preferred one if it can); see core/measure/backends.ts. */
  initBackend(preferred?: BackendName): Promise<BackendInfo>;
}

export class EvalHost {
  private readonly inOrder = serialQueue();
  private backend: BackendInfo | null = null;

  constructor(private readonly deps: EvalHostDeps) {}

  /** Serves `msg` after every request before it. */
  handle(msg: ToEvalWorker): Promise<void> {
    return this.inOrder(() => this.serve(msg));
  }

  private async serve(msg: ToEvalWorker): Promise<void> {
    try {
      const info = await this.use(msg.backend);
      const answer = await this.evaluate(msg.id, msg.job);
      this.deps.post({ type: 'evaluated', id: msg.id, ...answer, backend: info });
    } catch (e) {
      this.deps.post({ type: 'error', id: msg.id, message: errLine(e) });
    }
  }

  private async use(name?: BackendName): Promise<BackendInfo> {
    if (stillInUse(this.backend, name)) return this.backend;
    this.backend = await this.deps.initBackend(name);
    return this.backend;
  }

  private async evaluate(id: number, job: EvalJob): Promise<Omit<EvalAnswer, 'backend'>> {
    if (!job.labels && !job.reference) throw new Error('unlabeled images need the original model to compare with');
    // The reference first (its outputs score every other model), then the models in order.
    const order = job.reference ? [job.reference, ...job.models] : job.models;
    const steps = order.length;
    let ref: ReferenceOutputs | null = null;
    let reference: EvalAnswer['reference'];
    const scores: ModelScore[] = [];
    let first: tf.LayersModel | null = null;
    let tensorsBefore = 0;
    try {
      for (let step = 0; step < steps; step++) {
        const m = await instantiate(order[step]);
        if (step === 0) {
          // Counted with the first model built: the count after all scoring must be the same.
          first = m;
          tensorsBefore = tf.memory().numTensors;
        }
        const opts = { ...job.eval, onProgress: (fraction: number, what: string) => this.deps.post({ type: 'progress', id, step, steps, fraction, what }) };
        try {
          const t0 = performance.now();
          if (job.reference && step === 0) {
            ref = await referenceOutputs(m, job.images, opts);
            reference = { n: ref.n, ms: performance.now() - t0 };
          } else if (job.labels) {
            const r = await evaluateAccuracy(m, job.images, job.labels, opts);
            scores.push({ top1: r.top1, top5: r.top5, n: r.n, ms: performance.now() - t0 });
          } else {
            const f = await evaluateFidelity(ref!, m, job.images, opts);
            scores.push({ agreement: f.agreement, meanKL: f.meanKL, n: f.n, ms: performance.now() - t0 });
          }
        } finally {
          if (m !== first) disposeModel(m);
        }
      }
      return { scores, ...(reference ? { reference } : {}), tensorsBefore, tensorsAfter: tf.memory().numTensors };
    } finally {
      if (first) disposeModel(first);
    }
  }
}
