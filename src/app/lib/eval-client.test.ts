import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, randomImages, sequentialCnn } from '../../testing/fixtures';
import { localEvalFactory, type LocalEvalWorker } from '../../testing/local-eval-worker';
import { evaluateAccuracy, evaluateFidelity, referenceOutputs } from '../../core/measure/accuracy';
import { loadModel } from '../../core/model/load';
import { disposeModel, instantiate } from '../../core/model/tfjs-model';
import type { LoadedModel } from '../../core/model/types';
import { EvalCancelled, startEval, toEvalJob, type EvalProgress } from './eval-client';

let a: LoadedModel;
let b: LoadedModel;
const { images, labels } = randomImages(30, 8, 3);
const EVAL = { imageSize: 8, channels: 3 as const, batchSize: 7 };

beforeAll(async () => {
  await tf.setBackend('cpu');
  a = await loadModel(asFiles(await exportModel(sequentialCnn(), 1)));
  b = await loadModel(asFiles(await exportModel(sequentialCnn(), 2)));
});

/** What the page computed before: the same core code, in process. */
async function direct<T>(model: LoadedModel, fn: (m: tf.LayersModel) => Promise<T>): Promise<T> {
  const m = await instantiate(model);
  try {
    return await fn(m);
  } finally {
    disposeModel(m);
  }
}

describe('evaluation in a worker', () => {
  it('gives the accuracy the page computed, per model, with progress per step and flat tensors; the worker ends', async () => {
    const made: LocalEvalWorker[] = [];
    const seen: EvalProgress[] = [];
    const task = startEval({ models: [a, b], images, labels, eval: EVAL }, { backend: 'cpu', factory: localEvalFactory(made), onProgress: (p) => seen.push(p) });
    const r = await task.done;
    for (const [i, m] of [a, b].entries()) {
      const want = await direct(m, (t) => evaluateAccuracy(t, images, labels, EVAL));
      expect(r.scores[i]).toMatchObject({ top1: want.top1, top5: want.top5, n: 30 });
    }
    expect(r.reference).toBeUndefined();
    expect(r.tensorsBefore).toBeGreaterThan(0);
    expect(r.tensorsAfter).toBe(r.tensorsBefore);
    expect(r.backend.name).toBe('cpu');
    // 5 batches of 7 (the last 2) per model, and the 0 before them.
    expect(seen.filter((p) => p.step === 0)).toHaveLength(6);
    expect(seen.every((p) => p.steps === 2)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ step: 1, fraction: 1, what: 'evaluating accuracy' });
    expect(made).toHaveLength(1);
    expect(made[0].terminated).toBe(true);
    expect(made[0].posted[0]).toMatchObject({ type: 'evaluate', backend: 'cpu' });
  });

  it('scores fidelity to the reference on unlabeled images, the reference run first', async () => {
    const r = await startEval({ models: [b], reference: a, images, eval: EVAL }, { factory: localEvalFactory() }).done;
    const ref = await direct(a, (t) => referenceOutputs(t, images, EVAL));
    const want = await direct(b, (t) => evaluateFidelity(ref, t, images, EVAL));
    expect(r.reference?.n).toBe(30);
    expect(r.scores).toHaveLength(1);
    expect(r.scores[0].agreement).toBe(want.agreement);
    expect(r.scores[0].meanKL).toBeCloseTo(want.meanKL, 10);
    expect(r.tensorsAfter).toBe(r.tensorsBefore);
  });

  it("relays the worker's error in words and ends the worker", async () => {
    const made: LocalEvalWorker[] = [];
    const bad = images.subarray(0, 100);
    await expect(startEval({ models: [a], images: bad, labels, eval: EVAL }, { factory: localEvalFactory(made) }).done).rejects.toThrow(/not a whole number of 8x8x3 images/);
    await expect(startEval({ models: [a], images, eval: EVAL }, { factory: localEvalFactory(made) }).done).rejects.toThrow(/need the original model/);
    expect(made.every((w) => w.terminated)).toBe(true);
  });

  it('cancel terminates the worker and rejects with EvalCancelled; no answer arrives after it', async () => {
    const made: LocalEvalWorker[] = [];
    let progress = 0;
    const task = startEval({ models: [a, b], images, labels, eval: EVAL }, { factory: localEvalFactory(made), onProgress: () => progress++ });
    task.cancel();
    await expect(task.done).rejects.toBeInstanceOf(EvalCancelled);
    expect(made[0].terminated).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(progress).toBe(0);
    task.cancel();
  });

  it('a worker that cannot start, or fails, rejects in words', async () => {
    await expect(
      startEval({ models: [a], images, labels, eval: EVAL }, { factory: () => { throw new Error('blocked by CSP'); } }).done,
    ).rejects.toThrow('could not start the evaluation worker: blocked by CSP');
    const made: LocalEvalWorker[] = [];
    const task = startEval({ models: [a], images, labels, eval: EVAL }, { factory: localEvalFactory(made) });
    made[0].onerror?.({ message: 'out of memory' } as ErrorEvent);
    await expect(task.done).rejects.toThrow('the evaluation worker failed: out of memory');
    expect(made[0].terminated).toBe(true);
  });

  it('sends a view into a larger buffer as its own bytes, and the weights as transferred copies', () => {
    const big = new Uint8Array(images.length + 200);
    const view = big.subarray(100, 100 + images.length);
    view.set(images);
    const { job, transfer } = toEvalJob({ models: [a], images: view, labels, eval: EVAL });
    expect(job.images.buffer.byteLength).toBe(images.length);
    expect(job.images).toEqual(images);
    expect(job.labels).toBe(labels);
    expect(transfer.length).toBeGreaterThan(0);
    expect(transfer).not.toContain(a.weights[0].values.buffer);
  });
});
