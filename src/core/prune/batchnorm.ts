/**
 * Adaptive BatchNorm (EagleEye, Li et al. ECCV 2020; ../shared/AMC-REFERENCE.md section 8): a
 * pruned network keeps the original's BatchNorm statistics, which no longer describe the
 * activations its narrower layers produce. Recomputing every BatchNormalization's moving mean and
 * variance on a few calibration images makes its accuracy before fine-tuning track its accuracy
 * after fine-tuning far better than slicing alone.
 *
 * Exact, in one pass: the network runs layer by layer on the whole calibration batch, and each
 * BatchNormalization gets the mean and (population) variance of its own input over every image and
 * position *before* it runs, so every later layer already sees the recalibrated ones. No momentum.
 * The statistics are written into the model's weights, so a model exported from it carries them.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelAnalysis } from '../model/analyze';
import { flattenModel } from '../model/flatten';
import type { GraphLayer } from '../model/graph';
import { instantiate } from '../model/tfjs-model';
import type { LoadedModel, WeightArray } from '../model/types';

export interface BatchNormReport {
  /** BatchNormalization layers whose statistics were recomputed. */
  layers: number;
  /** Why nothing was recomputed, when nothing was (no BatchNorm, several inputs...). */
  skipped?: string;
}

const isBatchNorm = (l: GraphLayer) => l.className === 'BatchNormalization';

/** Why a model's BatchNorm statistics cannot be recomputed here, or undefined when they can. */
export function batchNormUnsupported(analysis: ModelAnalysis): string | undefined {
  const { graph } = analysis;
  const bns = graph.layers.filter(isBatchNorm);
  if (!bns.length) return 'the model has no BatchNormalization layer';
  if (graph.inputs.length !== 1) return 'the model has several inputs';
  const shared = bns.find((l) => l.call > 0);
  if (shared) return `BatchNormalization '${shared.name}' is called more than once (its statistics would have to serve every call)`;
  return undefined;
}

/**
 * The model with every BatchNormalization's moving mean and variance recomputed on `calibration`
 * (a batch laid out as the model's input). `analysis` is the analysis of `model` itself (for a
 * pruned model: analyzePruned). Returns the model unchanged, with the reason, when it cannot.
 */
export async function recalibrateBatchNorm(
  model: LoadedModel,
  analysis: ModelAnalysis,
  calibration: tf.Tensor,
): Promise<{ model: LoadedModel; report: BatchNormReport }> {
  const skipped = batchNormUnsupported(analysis);
  if (skipped) return { model, report: { layers: 0, skipped } };
  const { graph } = analysis;
  const bns = graph.layers.filter(isBatchNorm);
  // Only what some BatchNorm depends on is built and run.
  const net = await instantiate(flattenModel(model, analysis, bns.map((l) => l.output)));
  const stats = new Map<string, { mean: Float32Array; variance: Float32Array }>();
  const live = new Map<string, tf.Tensor>([[graph.inputs[0], calibration]]);
  try {
    const inFlat = new Set(net.layers.map((l) => l.name));
    const order = graph.layers.filter((l) => l.className !== 'InputLayer' && inFlat.has(l.id));
    // How many layers still read each tensor, so each is freed after its last reader.
    const readers = new Map<string, number>();
    for (const l of order) for (const t of l.inputs) readers.set(t, (readers.get(t) ?? 0) + 1);
    for (const layer of topological(order, graph.inputs[0])) {
      const tfLayer = net.getLayer(layer.id);
      const inputs = layer.inputs.map((t) => live.get(t)!);
      if (isBatchNorm(layer)) {
        const [mean, variance] = channelMoments(inputs[0]);
        // By position: tfjs makes variable names unique per process (`bn/moving_mean_1`).
        // (the last two: a frozen layer lists gamma and beta there too).
        const [movingMean, movingVariance] = tfLayer.nonTrainableWeights.slice(-2);
        movingMean.write(mean);
        movingVariance.write(variance);
        stats.set(layer.id, { mean: (await mean.data()) as Float32Array, variance: (await variance.data()) as Float32Array });
        tf.dispose([mean, variance]);
      }
      live.set(layer.output, tf.tidy(() => tfLayer.apply(inputs.length === 1 ? inputs[0] : inputs) as tf.Tensor));
      for (const t of layer.inputs) {
        const left = readers.get(t)! - 1;
        readers.set(t, left);
        if (left === 0 && t !== graph.inputs[0]) {
          live.get(t)!.dispose();
          live.delete(t);
        }
      }
    }
  } finally {
    for (const [t, x] of live) if (t !== graph.inputs[0]) x.dispose();
    net.dispose();
  }
  return { model: withStatistics(model, bns, stats), report: { layers: stats.size } };
}

/**
 * Mean and population variance of every channel (the last axis) over all other axes, two-pass.
 * As products with a column of 1/M rather than tf.moments: WASM reduces over leading axes by
 * transposing the whole activation first, which made tf.moments 5x slower on a 256-image batch.
 */
function channelMoments(x: tf.Tensor): [tf.Tensor1D, tf.Tensor1D] {
  return tf.tidy(() => {
    const channels = x.shape[x.rank - 1];
    const rows = x.reshape([-1, channels]) as tf.Tensor2D;
    const average = tf.fill([rows.shape[0], 1], 1 / rows.shape[0]) as tf.Tensor2D;
    const mean = tf.matMul(rows, average, true, false).reshape([channels]);
    const variance = tf.matMul(tf.square(tf.sub(rows, mean)) as tf.Tensor2D, average, true, false).reshape([channels]);
    return [mean as tf.Tensor1D, variance as tf.Tensor1D];
  });
}

/** `layers` in an order where every layer comes after the producers of its inputs. */
function topological(layers: GraphLayer[], input: string): GraphLayer[] {
  const ready = new Set([input]);
  const left = [...layers];
  const out: GraphLayer[] = [];
  while (left.length) {
    const i = left.findIndex((l) => l.inputs.every((t) => ready.has(t)));
    // The graph was validated when the model was analyzed; a layer that never becomes ready is a bug.
    if (i < 0) throw new Error(`recalibrateBatchNorm: '${left[0].id}' waits on a tensor nothing computes`);
    const [l] = left.splice(i, 1);
    out.push(l);
    ready.add(l.output);
  }
  return out;
}

function withStatistics(model: LoadedModel, bns: GraphLayer[], stats: Map<string, { mean: Float32Array; variance: Float32Array }>): LoadedModel {
  const replaced = new Map<string, Float32Array>();
  for (const l of bns) {
    const s = stats.get(l.id);
    if (!s) continue;
    for (const w of l.weights) {
      if (w.endsWith('/moving_mean')) replaced.set(w, s.mean);
      else if (w.endsWith('/moving_variance')) replaced.set(w, s.variance);
    }
  }
  const weights: WeightArray[] = model.weights.map((w) => {
    const values = replaced.get(w.name);
    return values ? { ...w, values, dtype: 'float32' } : w;
  });
  return { ...model, weights, byName: new Map(weights.map((w) => [w.name, w])) };
}
