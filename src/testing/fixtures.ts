/**
 * Fixture models the tests build with tfjs, one per topology, written out as the files an export
 * would contain (model.json + weights.bin) so every test goes through the real loader.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelFile } from '../core/model/files';
import { mulberry32, Rng } from '../core/random';

export interface ExportedFiles {
  modelJson: Record<string, unknown> & { weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  shards: Record<string, ArrayBuffer>;
}

/**
 * Replaces every weight with seeded values (uniform in [-0.5, 0.5], variances in [0.5, 1.5]) so a
 * fixture is the same network on every run and tests never depend on tfjs's unseeded init.
 */
export function seedWeights(model: tf.LayersModel, seed = 1): void {
  const rand = mulberry32(seed);
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (!weights.length) continue;
    const seeded = weights.map((w, i) => {
      const positive = /variance$/.test(layer.weights[i].originalName);
      return tf.tensor(Float32Array.from({ length: w.size }, () => (positive ? 0.5 + rand() : rand() - 0.5)), w.shape);
    });
    layer.setWeights(seeded);
    tf.dispose(seeded);
  }
}

/** Saves a tfjs model (weights seeded first) as an export would: model.json + one weights.bin. */
export async function exportModel(model: tf.LayersModel, seed = 1): Promise<ExportedFiles> {
  seedWeights(model, seed);
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = saved!;
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
      convertedBy: null,
      modelTopology: a.modelTopology as Record<string, unknown>,
      weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs! }],
    },
    shards: { 'weights.bin': a.weightData as ArrayBuffer },
  };
}

export function memoryFile(path: string, data: ArrayBuffer | string | object): ModelFile {
  const bytes =
    data instanceof ArrayBuffer ? data : (new TextEncoder().encode(typeof data === 'string' ? data : JSON.stringify(data)).buffer as ArrayBuffer);
  return { path, size: bytes.byteLength, read: async () => bytes };
}

/** The files of an export, as a drop of a folder would give them. */
export function asFiles(e: ExportedFiles, dir = ''): ModelFile[] {
  return [memoryFile(`${dir}model.json`, e.modelJson), ...Object.entries(e.shards).map(([name, data]) => memoryFile(dir + name, data))];
}

const conv = (filters: number, name: string, extra: Partial<Parameters<typeof tf.layers.conv2d>[0]> = {}) =>
  tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', name, ...extra });

/** Conv(4) BN ReLU MaxPool Conv(6, valid) Flatten Dense(5) Dense(3): the Plain-CNN case. */
export function sequentialCnn(): tf.Sequential {
  return tf.sequential({
    name: 'seq_cnn',
    layers: [
      conv(4, 'conv1', { inputShape: [8, 8, 3] }),
      tf.layers.batchNormalization({ name: 'bn1' }),
      tf.layers.reLU({ name: 'relu1' }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      conv(6, 'conv2', { padding: 'valid' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 5, activation: 'relu', name: 'fc1' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'fc2' }),
    ],
  });
}

/** MobileNet-v1 block: Conv(8, s2) BN ReLU6 | DW BN ReLU | PW(16) BN ReLU | GAP Dense(4). */
export function mobilenetV1Like(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'image' });
  let x = conv(8, 'stem', { strides: 2, useBias: false }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 6, name: 'stem_relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'dw1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'dw1_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'dw1_relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false, name: 'pw1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'pw1_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'pw1_relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, activation: 'softmax', name: 'logits' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'mobilenet_v1_like' });
}

/** MobileNet-v2 inverted residual: stem(8) BN, expand(16) DW project(8) BN, Add, head(12) GAP Dense(4). */
export function mobilenetV2Like(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'image' });
  let x = conv(8, 'stem').apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as tf.SymbolicTensor;
  let b = tf.layers.conv2d({ filters: 16, kernelSize: 1, name: 'expand', activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  b = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'dw' }).apply(b) as tf.SymbolicTensor;
  b = tf.layers.conv2d({ filters: 8, kernelSize: 1, name: 'project' }).apply(b) as tf.SymbolicTensor;
  b = tf.layers.batchNormalization({ name: 'project_bn' }).apply(b) as tf.SymbolicTensor;
  x = tf.layers.add({ name: 'residual' }).apply([x, b]) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 12, kernelSize: 1, name: 'head', activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, name: 'logits' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'mobilenet_v2_like' });
}

/** Two branches (4 and 6 filters) concatenated, then a 1x1 conv reads both. */
export function concatNet(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'image' });
  const a = conv(4, 'branch_a', { activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  const b = conv(6, 'branch_b', { activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  let x = tf.layers.concatenate({ name: 'concat' }).apply([a, b]) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'concat_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 5, kernelSize: 1, name: 'fuse' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, name: 'logits' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'concat_net' });
}

/** Conv(8) SeparableConv2D(12) BN GAP Dense(3): the Xception case. */
export function separableNet(): tf.Sequential {
  return tf.sequential({
    name: 'separable_net',
    layers: [
      conv(8, 'stem', { inputShape: [8, 8, 3], activation: 'relu' }),
      tf.layers.separableConv2d({ filters: 12, kernelSize: 3, padding: 'same', name: 'sep' }),
      tf.layers.batchNormalization({ name: 'sep_bn' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: 3, name: 'logits' }),
    ],
  });
}

/** Teachable Machine's shape: Sequential > [Sequential > functional base, Sequential > Dense Dense]. */
export function teachableMachineLike(): tf.Sequential {
  const input = tf.input({ shape: [8, 8, 3], name: 'input_1' });
  let x = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: 'Conv1_pad' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, name: 'Conv1', useBias: false }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'bn_Conv1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 6, name: 'Conv1_relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 16, kernelSize: 1, name: 'Conv_1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d_1' }).apply(x) as tf.SymbolicTensor;
  const base = tf.model({ inputs: input, outputs: x, name: 'model1' });
  const truncated = tf.sequential({ name: 'sequential_1', layers: [base] });
  const head = tf.sequential({
    name: 'sequential_3',
    layers: [
      tf.layers.dense({ units: 10, inputShape: [16], name: 'dense_Dense1', activation: 'relu' }),
      tf.layers.dense({ units: 3, name: 'dense_Dense2', activation: 'softmax' }),
    ],
  });
  return tf.sequential({ name: 'sequential_4', layers: [truncated, head] });
}

/** One trunk, two heads: a class vector and a per-pixel map. */
export function multiOutputNet(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'image' });
  const trunk = conv(8, 'trunk', { activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(trunk) as tf.SymbolicTensor;
  const cls = tf.layers.dense({ units: 3, name: 'classes' }).apply(pooled) as tf.SymbolicTensor;
  const seg = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'mask' }).apply(trunk) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [cls, seg], name: 'two_heads' });
}

/** A decoder-like net: Conv PReLU(per channel) Conv2DTranspose(stride 2) Conv: the upsampling case. */
export function transposeNet(): tf.Sequential {
  return tf.sequential({
    name: 'transpose_net',
    layers: [
      conv(8, 'enc', { inputShape: [6, 6, 2] }),
      tf.layers.prelu({ sharedAxes: [1, 2], name: 'enc_prelu', alphaInitializer: 'randomUniform' }),
      tf.layers.conv2dTranspose({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', name: 'up' }),
      tf.layers.upSampling2d({ size: [1, 1], name: 'resize' }),
      tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'out' }),
    ],
  });
}

/**
 * A 1-D sensor classifier: Conv1D(8, same) MaxPool1D | Conv1D(12, same, dilation 2) BN AvgPool1D(stride 1) |
 * Conv1D(16, stride 2, valid) | GlobalAvgPool1D and GlobalMaxPool1D concatenated | Dense(3).
 */
export function conv1dNet(): tf.LayersModel {
  const input = tf.input({ shape: [30, 3], name: 'signal' });
  let x = tf.layers.conv1d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.maxPooling1d({ poolSize: 2, name: 'pool1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv1d({ filters: 12, kernelSize: 3, padding: 'same', dilationRate: 2, name: 'c2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'c2_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.averagePooling1d({ poolSize: 2, strides: 1, name: 'pool2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv1d({ filters: 16, kernelSize: 3, strides: 2, activation: 'relu', name: 'c3' }).apply(x) as tf.SymbolicTensor;
  const avg = tf.layers.globalAveragePooling1d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const max = tf.layers.globalMaxPooling1d({ name: 'gmp' }).apply(x) as tf.SymbolicTensor;
  const both = tf.layers.concatenate({ name: 'pooled' }).apply([avg, max]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'logits' }).apply(both) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'conv1d_net' });
}

/**
 * A visualisation export: every intermediate layer is also a model output
 * (Conv(6) ReLU Conv(8) BN GAP Dense(3), outputs c1, r1, c2, bn, gap, logits): no group is prunable as it is.
 */
export function everyLayerOutputNet(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'image' });
  const c1 = conv(6, 'c1').apply(input) as tf.SymbolicTensor;
  const r1 = tf.layers.reLU({ name: 'r1' }).apply(c1) as tf.SymbolicTensor;
  const c2 = conv(8, 'c2').apply(r1) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(c2) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(bn) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: 3, name: 'logits' }).apply(gap) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [c1, r1, c2, bn, gap, logits], name: 'every_layer_out' });
}

/** Every topology fixture, by name, for tests that must hold on all of them. */
export const TOPOLOGY_FIXTURES = {
  sequentialCnn: { build: sequentialCnn, input: [8, 8, 3] },
  mobilenetV1Like: { build: mobilenetV1Like, input: [8, 8, 3] },
  mobilenetV2Like: { build: mobilenetV2Like, input: [8, 8, 3] },
  concatNet: { build: concatNet, input: [8, 8, 3] },
  separableNet: { build: separableNet, input: [8, 8, 3] },
  teachableMachineLike: { build: teachableMachineLike, input: [8, 8, 3] },
  multiOutputNet: { build: multiOutputNet, input: [8, 8, 3] },
  transposeNet: { build: transposeNet, input: [6, 6, 2] },
  conv1dNet: { build: conv1dNet, input: [30, 3] },
} as const;

/** `n` seeded random RGB images of `size` x `size` with labels in [0, classes): scoring data for search tests. */
export function randomImages(n: number, size: number, classes: number, seed = 5): { images: Uint8Array; labels: Int32Array } {
  const rng = new Rng(seed);
  return {
    images: new Uint8Array(n * size * size * 3).map(() => Math.floor(rng.next() * 256)),
    labels: Int32Array.from({ length: n }, () => rng.int(classes)),
  };
}
