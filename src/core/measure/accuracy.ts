/**
 * How good a model is: accuracy on labeled images, or fidelity to the original model on
 * unlabeled ones (top-1 agreement and the mean KL divergence of its output distribution).
 *
 * Images come as raw bytes (NHWC, RGB or gray, as the demo dataset and image decoders give them);
 * they are scaled per `scaling`, resized (bilinear) when the model takes another input size, and
 * turned to gray (or gray to RGB) when the model takes the other channel count. Batches
 * are built and freed one at a time: the tensor count is the same before and after every call.
 * A model's first output is the one scored; outputs that are not probabilities (logits) go
 * through a softmax before the KL divergence (top-k does not care).
 */
import * as tf from '@tensorflow/tfjs';
import { CHANNELS, IMAGE_SIZE, imagesToTensor, type Scaling } from '../data/procedural';
import type { ProgressFn } from '../model/types';

export interface EvalOptions {
  /** Images per predict call (default 100). */
  batchSize?: number;
  /** How bytes become inputs (default 'unit': [0, 1]). */
  scaling?: Scaling;
  /** Side of the square source images in `images` (default IMAGE_SIZE, the demo dataset's 32), or [height, width]. */
  imageSize?: number | [number, number];
  /** Channels of the source images: 3 RGB (default CHANNELS) or 1 gray. */
  channels?: 1 | 3;
  /** Evaluate only the first `limit` images. */
  limit?: number;
  onProgress?: ProgressFn;
  /** Awaited after every batch (a page passes a short timeout so it can repaint). */
  pause?: () => Promise<void>;
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

interface Layout {
  n: number;
  size: [number, number];
  channels: 1 | 3;
}

/** The source images' [height, width] and channels, defaults filled in. */
export function sourceLayout(opts: Pick<EvalOptions, 'imageSize' | 'channels'>): { size: [number, number]; channels: 1 | 3 } {
  const s = opts.imageSize ?? IMAGE_SIZE;
  return { size: typeof s === 'number' ? [s, s] : s, channels: opts.channels ?? (CHANNELS as 3) };
}

/** Bytes of one source image. */
export function bytesPerImage(opts: Pick<EvalOptions, 'imageSize' | 'channels'>): number {
  const { size, channels } = sourceLayout(opts);
  return size[0] * size[1] * channels;
}

function layoutOf(images: Uint8Array, opts: EvalOptions): Layout {
  const { size, channels } = sourceLayout(opts);
  const per = bytesPerImage(opts);
  if (images.length % per !== 0) {
    throw new RangeError(`images hold ${images.length} bytes, not a whole number of ${size[0]}x${size[1]}x${channels} images.`);
  }
  const all = images.length / per;
  return { n: Math.min(all, opts.limit ?? all), size, channels };
}

/** Input batch [start, end) for `model`: resized to its input size when that is fixed and different, channels matched. */
function inputBatch(model: tf.LayersModel, images: Uint8Array, start: number, end: number, layout: Layout, scaling: Scaling | undefined): tf.Tensor4D {
  return shapedBatch(model.inputs[0].shape, images, start, end, layout, scaling);
}

/** Every image of `images` as a model input of `inputShape` (e.g. refit calibration): scaled, channels converted, resized. */
export function inputTensor(inputShape: readonly (number | null)[], images: Uint8Array, opts: EvalOptions = {}): tf.Tensor4D {
  const layout = layoutOf(images, opts);
  return shapedBatch(inputShape, images, 0, layout.n, layout, opts.scaling);
}

function shapedBatch(shape: readonly (number | null)[], images: Uint8Array, start: number, end: number, layout: Layout, scaling: Scaling | undefined): tf.Tensor4D {
  return tf.tidy(() => {
    let x = imagesToTensor(images, start, end, scaling, layout.size, layout.channels);
    const h = shape[1];
    const w = shape[2];
    const c = shape[3];
    if (shape.length !== 4 || (c !== 1 && c !== 3)) {
      throw new Error(`the model takes inputs of shape [${shape.map((d) => d ?? '?').join(', ')}], not RGB or grayscale images.`);
    }
    if (c === 1 && layout.channels === 3) x = tf.image.rgbToGrayscale(x);
    else if (c === 3 && layout.channels === 1) x = tf.tile(x, [1, 1, 1, 3]);
    if (typeof h === 'number' && typeof w === 'number' && (h !== layout.size[0] || w !== layout.size[1])) return tf.image.resizeBilinear(x, [h, w]);
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
async function probabilities(model: tf.LayersModel, images: Uint8Array, start: number, end: number, layout: Layout, scaling: Scaling | undefined): Promise<{ p: Float32Array; c: number }> {
  const y = tf.tidy(() => predictBatch(model, inputBatch(model, images, start, end, layout, scaling)));
  const c = y.shape[1];
  try {
    return { p: asProbabilities((await y.data()) as Float32Array, c), c };
  } finally {
    y.dispose();
  }
}

async function forBatches(n: number, batchSize: number, opts: EvalOptions, what: string, run: (start: number, end: number) => Promise<void>): Promise<void> {
  opts.onProgress?.(0, what);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    await run(start, end);
    opts.onProgress?.(end / n, what);
    await opts.pause?.();
  }
}

/** Top-1 and top-5 accuracy of `model` on labeled images. */
export async function evaluateAccuracy(model: tf.LayersModel, images: Uint8Array, labels: Int32Array | number[], opts: EvalOptions = {}): Promise<AccuracyResult> {
  const layout = layoutOf(images, opts);
  const { n } = layout;
  if (labels.length < n) throw new RangeError(`${n} images but only ${labels.length} labels.`);
  const batchSize = opts.batchSize ?? 100;
  let hit1 = 0;
  let hit5 = 0;
  await forBatches(n, batchSize, opts, 'evaluating accuracy', async (start, end) => {
    const top = tf.tidy(() => {
      const y = predictBatch(model, inputBatch(model, images, start, end, layout, opts.scaling));
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
  const layout = layoutOf(images, opts);
  const { n } = layout;
  const batchSize = opts.batchSize ?? 100;
  let probs = new Float32Array(0);
  let numClasses = 0;
  await forBatches(n, batchSize, opts, 'running the original model', async (start, end) => {
    const { p, c } = await probabilities(original, images, start, end, layout, opts.scaling);
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
  const layout = layoutOf(images, opts);
  const n = Math.min(layout.n, ref.n);
  const c = ref.numClasses;
  const batchSize = opts.batchSize ?? 100;
  let agree = 0;
  let klSum = 0;
  await forBatches(n, batchSize, opts, 'evaluating fidelity', async (start, end) => {
    const { p: qd, c: qc } = await probabilities(candidate, images, start, end, layout, opts.scaling);
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
