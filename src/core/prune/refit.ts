/**
 * AMC's reconstruction: after channels are removed, refit each consumer of a pruned group so that
 * its outputs from the kept inputs match the original model's outputs, by least squares without
 * intercept, on features sampled at random positions (10 per image) of calibration images.
 * 1x1 convs and Dense directly, k x k convs (and 1-D ones, as 1 x k) through im2col of the sampled positions. Solved in
 * float64 (normal equations + small ridge, Cholesky) on the CPU; the matrix products run as tfjs
 * products on WASM (least-squares.ts). A refit that makes a layer's error or the model's output
 * error worse than plain slicing is dropped.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelAnalysis } from '../model/analyze';
import { flattenModel } from '../model/flatten';
import type { GraphLayer } from '../model/graph';
import { layerHandler, type RefitKind } from '../model/layers';
import { instantiate } from '../model/tfjs-model';
import type { LoadedModel, WeightArray } from '../model/types';
import { REFIT_DEFAULTS } from './config';
import { leastSquares, products, type ProductsMode } from './least-squares';
import { keptIndices } from './masks';
import { analyzePruned, type PruneResult } from './prune';
import { mulberry32 } from '../random';

export interface RefitOptions {
  /** Random spatial positions sampled per image (default REFIT_DEFAULTS.samplesPerImage: AMC's 10). */
  samplesPerImage?: number;
  seed?: number;
  /** Ridge added to the normal equations, relative to their mean diagonal (default REFIT_DEFAULTS.ridge). */
  ridge?: number;
  /** Layers with more im2col features than this are left sliced (the solve grows with its cube; default REFIT_DEFAULTS.maxFeatures). */
  maxFeatures?: number;
  /**
   * The original model's tensors on this same calibration input, filled on first use: a search
   * refits hundreds of policies of one model on one calibration batch, and the original's
   * features never change.
   */
  originalFeatures?: FeatureCache;
  /** Where the matrix products run (least-squares.ts; default `auto`: tfjs on WASM for the large ones). */
  products?: ProductsMode;
}

export type FeatureCache = Map<string, { values: Float32Array; shape: number[] }>;

export interface RefitLayerReport {
  layer: string;
  samples: number;
  features: number;
  /** Mean squared error of the layer's outputs against the original, sliced vs refitted. */
  errorSliced: number;
  errorRefit: number;
  applied: boolean;
  skipped?: string;
}

export interface RefitReport {
  layers: RefitLayerReport[];
  /** Mean squared error of the model outputs against the original on the calibration images. */
  outputErrorSliced: number;
  outputErrorRefit: number;
  applied: boolean;
}

/** How the registry says a consumer is refitted (Conv1D/Conv2D through im2col unless grouped, Dense per position), or undefined: left sliced. */
const refitKind = (layer: GraphLayer): RefitKind | undefined => layerHandler(layer.className)?.refit?.(layer.config);


/** Values of the given tensors of a model on `input`, as typed arrays with shapes. */
async function features(model: LoadedModel, analysis: ModelAnalysis, tensors: string[], input: tf.Tensor | tf.Tensor[]) {
  const flat = flattenModel(model, analysis, tensors);
  const m = await instantiate(flat);
  let outs: tf.Tensor[] = [];
  try {
    outs = ([] as tf.Tensor[]).concat(m.predict(input) as tf.Tensor | tf.Tensor[]);
    const result = await Promise.all(outs.map(async (t) => ({ values: (await t.data()) as Float32Array, shape: t.shape })));
    return new Map(tensors.map((t, i) => [t, result[i]]));
  } finally {
    tf.dispose(outs);
    m.dispose();
  }
}

interface Geometry {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padTop: number;
  padLeft: number;
  H: number;
  W: number;
  Ho: number;
  Wo: number;
}

/**
 * The window a consumer reads, as a 2-D one: a rank-3 input ([N, L, C], Conv1D or a Dense per
 * position) is a 1 x L image, its kernel 1 x k. Dense reads one position at a time.
 */
function geometry(layer: GraphLayer, kind: RefitKind): Geometry {
  const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [Number(v ?? 1), Number(v ?? 1)]);
  const first = (v: unknown): number => Number((Array.isArray(v) ? v[0] : v) ?? 1);
  const x = layer.inputShapes[0];
  const y = layer.outputShape;
  const oneD = x.length === 3;
  const [H, W] = (oneD ? [1, x[1]] : x.length === 4 ? [x[1], x[2]] : [1, 1]) as number[];
  if (kind === 'dense') return { kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 0, padLeft: 0, H, W, Ho: H, Wo: W };
  const c = layer.config;
  const [kh, kw] = oneD ? [1, first(c.kernel_size)] : pair(c.kernel_size);
  const [sh, sw] = oneD ? [1, first(c.strides)] : pair(c.strides);
  const [dh, dw] = oneD ? [1, first(c.dilation_rate)] : pair(c.dilation_rate);
  const [Ho, Wo] = (oneD ? [1, y[1]] : [y[1], y[2]]) as number[];
  const same = c.padding === 'same';
  const padTop = same ? Math.floor(Math.max((Ho - 1) * sh + (kh - 1) * dh + 1 - H, 0) / 2) : 0;
  // 'causal' (Conv1D) pads only on the left, by the whole dilated window.
  const padLeft = c.padding === 'causal' ? (kw - 1) * dw : same ? Math.floor(Math.max((Wo - 1) * sw + (kw - 1) * dw + 1 - W, 0) / 2) : 0;
  return { kh, kw, sh, sw, dh, dw, padTop, padLeft, H, W, Ho, Wo };
}

/** im2col rows at the sampled output positions, over the given input channels. */
function patches(f: { values: Float32Array; shape: number[] }, g: Geometry, channels: readonly number[], positions: [number, number, number][]): Float32Array {
  const C = f.shape[f.shape.length - 1];
  const width = g.kh * g.kw * channels.length;
  const out = new Float32Array(positions.length * width);
  positions.forEach(([n, oh, ow], r) => {
    let col = r * width;
    for (let i = 0; i < g.kh; i++) {
      const ih = oh * g.sh - g.padTop + i * g.dh;
      for (let j = 0; j < g.kw; j++) {
        const iw = ow * g.sw - g.padLeft + j * g.dw;
        const inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
        const base = ((n * g.H + ih) * g.W + iw) * C;
        for (const c of channels) out[col++] = inside ? f.values[base + c] : 0;
      }
    }
  });
  return out;
}

/** Columns `cols` of a row-major [rows x width] matrix. */
function keptColumns(W: Float32Array, rows: number, width: number, cols: readonly number[]): Float32Array {
  const out = new Float32Array(rows * cols.length);
  for (let r = 0; r < rows; r++) cols.forEach((c, j) => (out[r * cols.length + j] = W[r * width + c]));
  return out;
}

const mse = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / Math.max(a.length, 1);
};

/** `features` of the original model, through the cache. */
async function originalFeatures(model: LoadedModel, analysis: ModelAnalysis, tensors: string[], input: tf.Tensor | tf.Tensor[], cache: FeatureCache): Promise<FeatureCache> {
  const missing = [...new Set(tensors)].filter((t) => !cache.has(t));
  if (missing.length) for (const [t, v] of await features(model, analysis, missing, input)) cache.set(t, v);
  return new Map(tensors.map((t) => [t, cache.get(t)!]));
}

async function outputError(fa: FeatureCache, b: LoadedModel, bAnalysis: ModelAnalysis, input: tf.Tensor | tf.Tensor[]): Promise<number> {
  const fb = await features(b, bAnalysis, bAnalysis.graph.outputs, input);
  let s = 0;
  let n = 0;
  for (const [t, v] of fa) {
    const w = fb.get(t)!;
    s += mse(v.values, w.values) * v.values.length;
    n += v.values.length;
  }
  return s / Math.max(n, 1);
}

/**
 * Refits the consumers of the pruned groups in `result` on `calibration` (a batch of model inputs).
 * Returns the refitted model, or the sliced one when the refit does not lower the output error.
 */
export async function refitPruned(
  original: LoadedModel,
  analysis: ModelAnalysis,
  result: PruneResult,
  calibration: tf.Tensor | tf.Tensor[],
  options: RefitOptions = {},
): Promise<{ model: LoadedModel; report: RefitReport }> {
  const samplesPerImage = options.samplesPerImage ?? REFIT_DEFAULTS.samplesPerImage;
  const maxFeatures = options.maxFeatures ?? REFIT_DEFAULTS.maxFeatures;
  const rand = mulberry32(options.seed ?? 0);
  const pruned = result.model;
  const prunedAnalysis = analyzePruned(result, analysis);
  const consumers = new Set(analysis.groups.filter((g) => result.kept.has(g.id)).flatMap((g) => g.consumers.map((m) => m.layer)));
  const targets = analysis.graph.layers.filter((l) => consumers.has(l.id) && l.call === 0);
  const inputsOf = [...new Set(targets.map((l) => l.inputs[0]))];
  // Kept inputs are read from the original network (AMC's choice): every consumer is fitted to the
  // same targets its refitted producers approximate, so the fits compose.
  const cache = options.originalFeatures ?? new Map();
  // The outputs come in the same pass as the consumers' inputs: a second pass of the original
  // took as long as the first (1.5 s of a first refit of the 224x224 MobileNetV2 on 64 images).
  const fOrig = await originalFeatures(original, analysis, [...inputsOf, ...analysis.graph.outputs], calibration, cache);
  const mode = options.products ?? 'auto';
  const N = (Array.isArray(calibration) ? calibration[0] : calibration).shape[0];

  const replaced = new Map<string, WeightArray>();
  const layers: RefitLayerReport[] = [];
  for (const layer of targets) {
    const base = { layer: layer.id, samples: 0, features: 0, errorSliced: 0, errorRefit: 0, applied: false };
    const rank = layer.inputShapes[0].length;
    const kind = refitKind(layer);
    if (!kind || rank < 2 || rank > 4) {
      layers.push({ ...base, skipped: `${layer.className} on a rank-${rank} input is not refitted` });
      continue;
    }
    const layouts = analysis.groupAnalysis.layouts;
    const inKept = keptIndices({ ...layouts.get(layer.inputs[0])!, spatial: 1 }, result.kept);
    const outKept = keptIndices(layouts.get(layer.output)!, result.kept);
    const g = geometry(layer, kind);
    const fo = fOrig.get(layer.inputs[0])!;
    // Dense after Flatten reads a flat vector: treat it as one 1x1 position with all features.
    const flat = kind === 'dense' && fo.shape.length === 2;
    const allIn = flat ? [...Array(fo.shape[1]).keys()] : [...Array(fo.shape[fo.shape.length - 1]).keys()];
    const inSel = flat ? keptIndices(layouts.get(layer.inputs[0])!, result.kept) : inKept;
    const features = g.kh * g.kw * inSel.length;
    if (features > maxFeatures) {
      layers.push({ ...base, features, skipped: `${features} features is over the limit of ${maxFeatures}` });
      continue;
    }
    const positions: [number, number, number][] = [];
    for (let n = 0; n < N; n++) {
      const k = flat || g.Ho * g.Wo === 1 ? 1 : samplesPerImage;
      for (let s = 0; s < k; s++) positions.push([n, Math.floor(rand() * g.Ho), Math.floor(rand() * g.Wo)]);
    }
    const geo = flat ? { ...g, H: 1, W: 1, Ho: 1, Wo: 1 } : g;
    const Xfull = patches(fo, geo, allIn, positions);
    const Xs = patches(fo, geo, inSel, positions);
    const kernelName = `${layer.name}/kernel`;
    const Wsliced = pruned.byName.get(kernelName)!;
    const outAll = layer.outputShape[layer.outputShape.length - 1] as number;
    const rows = positions.length;
    const outputs = outKept.length;
    const featuresAll = g.kh * g.kw * allIn.length;
    const Wkept = keptColumns(original.byName.get(kernelName)!.values as Float32Array, featuresAll, outAll, outKept);
    const [Y] = products(mode, Xfull, [Wkept], rows, featuresAll, outputs);
    const Wnew = Float32Array.from(leastSquares(Xs, Y, rows, features, outputs, options.ridge, mode));
    // The refit is checked with the float32 weights it would be applied with.
    const [slicedOut, refitOut] = products(mode, Xs, [Wsliced.values as Float32Array, Wnew], rows, features, outputs);
    const errorSliced = mse(slicedOut, Y);
    const errorRefit = mse(refitOut, Y);
    const applied = errorRefit < errorSliced;
    if (applied) replaced.set(kernelName, { ...Wsliced, values: Wnew });
    layers.push({ ...base, samples: rows, features, errorSliced, errorRefit, applied });
  }
  const weights = pruned.weights.map((w) => replaced.get(w.name) ?? w);
  const refitted: LoadedModel = { ...pruned, weights, byName: new Map(weights.map((w) => [w.name, w])) };
  const target: FeatureCache = new Map(analysis.graph.outputs.map((t) => [t, fOrig.get(t)!]));
  const outputErrorSliced = await outputError(target, pruned, prunedAnalysis, calibration);
  const outputErrorRefit = replaced.size ? await outputError(target, refitted, prunedAnalysis, calibration) : outputErrorSliced;
  const applied = replaced.size > 0 && outputErrorRefit <= outputErrorSliced;
  return { model: applied ? refitted : pruned, report: { layers, outputErrorSliced, outputErrorRefit: applied ? outputErrorRefit : outputErrorSliced, applied } };
}
