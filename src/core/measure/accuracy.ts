/**
 * How good a model is: accuracy on labeled images, or fidelity to the original model on
 * unlabeled ones (top-1 agreement and the mean KL divergence of its output distribution).
 *
 * Images come as raw RGB bytes (NHWC, as the demo dataset and image decoders give them); they are
 * scaled per `scaling` and resized (bilinear) when the model takes another input size. Batches
 * are built and freed one at a time: the tensor count is the same before and after every call.
 * A model's first output is the one scored; outputs that are not probabilities (logits) go
 * through a softmax before the KL divergence (top-k does not care).
 */
import * as tf from '@tensorflow/tfjs';
import { imagesToTensor, type Scaling } from '../data/procedural';
import type { ProgressFn } from '../model/types';

export interface EvalOptions {
  /** Images per predict call (default 100). */
  batchSize?: number;
  /** How bytes become inputs (default 'unit': [0, 1]). */
  scaling?: Scaling;
  /** Side of the square source images in `images` (default 32). */
  imageSize?: number;
  /** Evaluate only the first `limit` images. */
  limit?: number;
  onProgress?: ProgressFn;
}

export interface AccuracyResult {
  top1: number;
  top5: number;
  n: number;
}

export interface FidelityResult {
  /** Fraction of images where the candidate's top-1 class equals the original's. */
  agreement: number;
  /** Mean over images of KL(original || candidate), in nats. */
  meanKL: number;
  n: number;
}

/** The original model's output distributions, computed once and reused for many candidates. */
export interface ReferenceOutputs {
  probs: Float32Array;
  numClasses: number;
  n: number;
}

const CHANNELS = 3;

function countOf(images: Uint8Array, opts: EvalOptions): { n: number; size: number } {
  const size = opts.imageSize ?? 32;
  const per = size * size * CHANNELS;
  if (images.length % per !== 0) throw new RangeError(`images hold ${images.length} bytes, not a whole number of ${size}x${size} RGB images.`);
  const all = images.length / per;
  return { n: Math.min(all, opts.limit ?? all), size };
}

/** Input batch [start, end) for `model`, resized to its input size when that is fixed and different. */
function inputBatch(model: tf.LayersModel, images: Uint8Array, start: number, end: number, size: number, scaling: Scaling | undefined): tf.Tensor4D {
  return tf.tidy(() => {
    const x = imagesToTensor(images, start, end, scaling, size);
    const shape = model.inputs[0].shape;
    const h = shape[1];
    const w = shape[2];
    if (shape.length !== 4 || shape[3] !== CHANNELS) {
      throw new Error(`the model takes inputs of shape [${shape.map((d) => d ?? '?').join(', ')}], not RGB images.`);
    }
    if (typeof h === 'number' && typeof w === 'number' && (h !== size || w !== size)) return tf.image.resizeBilinear(x, [h, w]);
    return x;
  });
}

/** The first output of `model` on a batch, as a 2-D tensor [batch, classes]. */
function predictBatch(model: tf.LayersModel, x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const out = model.predict(x);
    const y = Array.isArray(out) ? out[0] : out;
    if (y.rank !== 2) throw new Error(`the model's output has shape [${y.shape.join(', ')}]; classification needs [batch, classes].`);
    return y as tf.Tensor2D;
  });
}

/** Rows of `values` ([rows, c]) as distributions: kept if every row already is one, else softmaxed (logits). Read on the CPU: no sync GPU reads. */
function asProbabilities(values: Float32Array, c: number): Float32Array {
  const rows = values.length / c;
  let isProb = true;
  for (let r = 0; r < rows && isProb; r++) {
    let sum = 0;
    for (let j = 0; j < c; j++) {
      const v = values[r * c + j];
      if (!(v >= 0)) isProb = false;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) isProb = false;
  }
  if (isProb) return values;
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, values[r * c + j]);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += out[r * c + j] = Math.exp(values[r * c + j] - max);
    for (let j = 0; j < c; j++) out[r * c + j] /= sum;
  }
  return out;
}

/** The first output of `model` on images [start, end) as distributions, and its class count. */
async function probabilities(model: tf.LayersModel, images: Uint8Array, start: number, end: number, size: number, scaling: Scaling | undefined): Promise<{ p: Float32Array; c: number }> {
  const y = tf.tidy(() => predictBatch(model, inputBatch(model, images, start, end, size, scaling)));
  const c = y.shape[1];
  try {
    return { p: asProbabilities((await y.data()) as Float32Array, c), c };
  } finally {
    y.dispose();
  }
}

async function forBatches(n: number, batchSize: number, onProgress: ProgressFn | undefined, what: string, run: (start: number, end: number) => Promise<void>): Promise<void> {
  onProgress?.(0, what);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    await run(start, end);
    onProgress?.(end / n, what);
  }
}

/** Top-1 and top-5 accuracy of `model` on labeled images. */
export async function evaluateAccuracy(model: tf.LayersModel, images: Uint8Array, labels: Int32Array | number[], opts: EvalOptions = {}): Promise<AccuracyResult> {
  const { n, size } = countOf(images, opts);
  if (labels.length < n) throw new RangeError(`${n} images but only ${labels.length} labels.`);
  const batchSize = opts.batchSize ?? 100;
  let hit1 = 0;
  let hit5 = 0;
  await forBatches(n, batchSize, opts.onProgress, 'evaluating accuracy', async (start, end) => {
    const top = tf.tidy(() => {
      const y = predictBatch(model, inputBatch(model, images, start, end, size, opts.scaling));
      return tf.topk(y, Math.min(5, y.shape[1])).indices;
    });
    const k = top.shape[1]!;
    const idx = (await top.data()) as Int32Array;
    top.dispose();
    for (let r = 0; r < end - start; r++) {
      const label = labels[start + r];
      if (idx[r * k] === label) hit1++;
      for (let j = 0; j < k; j++) {
        if (idx[r * k + j] === label) {
          hit5++;
          break;
        }
      }
    }
  });
  return { top1: n ? hit1 / n : 0, top5: n ? hit5 / n : 0, n };
}

/** The original model's output distributions on `images`, for `evaluateFidelity`. */
export async function referenceOutputs(original: tf.LayersModel, images: Uint8Array, opts: EvalOptions = {}): Promise<ReferenceOutputs> {
  const { n, size } = countOf(images, opts);
  const batchSize = opts.batchSize ?? 100;
  let probs = new Float32Array(0);
  let numClasses = 0;
  await forBatches(n, batchSize, opts.onProgress, 'running the original model', async (start, end) => {
    const { p, c } = await probabilities(original, images, start, end, size, opts.scaling);
    if (!numClasses) {
      numClasses = c;
      probs = new Float32Array(n * numClasses);
    }
    probs.set(p, start * numClasses);
  });
  return { probs, numClasses, n };
}

const EPS = 1e-7;

/**
 * Fidelity of `candidate` to `original` on unlabeled images: top-1 agreement and mean
 * KL(original || candidate). `original` may be a model or its precomputed `referenceOutputs`.
 */
export async function evaluateFidelity(
  original: tf.LayersModel | ReferenceOutputs,
  candidate: tf.LayersModel,
  images: Uint8Array,
  opts: EvalOptions = {},
): Promise<FidelityResult> {
  const ref = 'probs' in original ? original : await referenceOutputs(original, images, { ...opts, onProgress: undefined });
  const n = Math.min(countOf(images, opts).n, ref.n);
  const { size } = countOf(images, opts);
  const c = ref.numClasses;
  const batchSize = opts.batchSize ?? 100;
  let agree = 0;
  let klSum = 0;
  await forBatches(n, batchSize, opts.onProgress, 'evaluating fidelity', async (start, end) => {
    const { p: qd, c: qc } = await probabilities(candidate, images, start, end, size, opts.scaling);
    if (qc !== c) throw new Error(`the candidate has ${qc} outputs per image, the original ${c}.`);
    for (let r = 0; r < end - start; r++) {
      const p0 = (start + r) * c;
      const q0 = r * c;
      let pArg = 0;
      let qArg = 0;
      let kl = 0;
      for (let j = 0; j < c; j++) {
        const p = ref.probs[p0 + j];
        const qq = qd[q0 + j];
        if (p > ref.probs[p0 + pArg]) pArg = j;
        if (qq > qd[q0 + qArg]) qArg = j;
        if (p > 0) kl += p * Math.log((p + EPS) / (qq + EPS));
      }
      if (pArg === qArg) agree++;
      klSum += Math.max(0, kl);
    }
  });
  return { agreement: n ? agree / n : 0, meanKL: n ? klSum / n : 0, n };
}
