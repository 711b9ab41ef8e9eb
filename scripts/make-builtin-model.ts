/**
 * Writes models/builtin: a small MobileNet-like LayersModel (32x32 RGB, 10 classes) with seeded,
 * untrained weights. It is what the app opens on until the trained demo models exist, and it is
 * a real tfjs export: model.json + one weights.bin, read through the same loader as any drop.
 *
 *   npm run -s make:builtin
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../src/core/random';

const SEED = 2018;
const OUT = join(process.cwd(), 'models', 'builtin');


function build(): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3], name: 'image' });
  let x = tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'stem' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 6, name: 'stem_relu' }).apply(x) as tf.SymbolicTensor;
  const blocks: [number, number][] = [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
  ];
  blocks.forEach(([filters, stride], i) => {
    const n = `block${i + 1}`;
    x = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, name: `${n}_dw` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: `${n}_dw_bn` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ maxValue: 6, name: `${n}_dw_relu` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.conv2d({ filters, kernelSize: 1, useBias: false, name: `${n}_pw` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: `${n}_pw_bn` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ maxValue: 6, name: `${n}_pw_relu` }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10, activation: 'softmax', name: 'classes' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'builtin_mobilenet' });
}

/** He-uniform kernels and unit BN statistics from a fixed seed, so the file is reproducible. */
function seedWeights(model: tf.LayersModel): void {
  const rand = mulberry32(SEED);
  for (const layer of model.layers) {
    const values = layer.getWeights().map((w, i) => {
      const name = layer.weights[i].originalName;
      const size = w.size;
      let data: Float32Array;
      if (/kernel$/.test(name)) {
        const fanIn = w.shape.slice(0, -1).reduce((a, b) => a * b, 1) / (name.endsWith('depthwise_kernel') ? w.shape[2] : 1);
        const limit = Math.sqrt(6 / fanIn);
        data = Float32Array.from({ length: size }, () => (rand() * 2 - 1) * limit);
      } else if (/(gamma|moving_variance)$/.test(name)) {
        data = Float32Array.from({ length: size }, () => 0.5 + rand());
      } else {
        data = Float32Array.from({ length: size }, () => (rand() - 0.5) * 0.1);
      }
      return tf.tensor(data, w.shape);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

async function main() {
  const model = build();
  seedWeights(model);
  mkdirSync(OUT, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const modelJson = {
        format: 'layers-model',
        generatedBy: 'AMC Playground scripts/make-builtin-model.ts',
        convertedBy: null,
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      writeFileSync(join(OUT, 'model.json'), JSON.stringify(modelJson));
      writeFileSync(join(OUT, 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  console.error(`wrote ${OUT}: ${model.countParams()} params`);
}

main();
