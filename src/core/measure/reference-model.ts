/**
 * The reference model every device is timed on: a small MobileNet-like network at 32x32, built in
 * code with fixed weights (no file to fetch), so its latency means the same thing on a phone, a
 * laptop, a page and a worker. Re-timed now and then, it tells how far the device drifted
 * (heat, battery saving, a busy neighbour): DriftMonitor in latency.ts.
 *
 * Layers: Conv 3x3/2 (32) BN ReLU6, then four depthwise-separable blocks (64, 128/2, 128, 256/2),
 * global average pooling and Dense(10): about 3 M MACs, 70 k parameters. Big enough that a run
 * lasts a few milliseconds on a laptop's WASM (workers' timers tick in 0.1 ms steps without
 * cross-origin isolation), small enough to re-time often on a phone.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../random';

export const REFERENCE_MODEL = {
  name: 'reference MobileNet-like',
  inputShape: [32, 32, 3] as const,
  seed: 2018,
  /** What the device card says it is. */
  description: 'a fixed MobileNet-like net (32×32×3 input, 4 separable blocks, 3 M MACs), batch 1',
};

function block(x: tf.SymbolicTensor, name: string, filters: number, strides: number): tf.SymbolicTensor {
  x = tf.layers.depthwiseConv2d({ name: `${name}_dw`, kernelSize: 3, strides, padding: 'same', useBias: false, depthwiseInitializer: 'zeros' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: `${name}_dw_bn` }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: `${name}_dw_relu`, maxValue: 6 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ name: `${name}_pw`, filters, kernelSize: 1, useBias: false, kernelInitializer: 'zeros' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: `${name}_pw_bn` }).apply(x) as tf.SymbolicTensor;
  return tf.layers.reLU({ name: `${name}_pw_relu`, maxValue: 6 }).apply(x) as tf.SymbolicTensor;
}

/**
 * Builds the reference model on the current backend, weights drawn from a fixed seed (uniform in
 * [-0.5, 0.5]; BN variances in [0.5, 1.5]). The caller disposes it.
 */
export function buildReferenceModel(): tf.LayersModel {
  const input = tf.input({ shape: [...REFERENCE_MODEL.inputShape], name: 'reference_input' });
  let x = tf.layers.conv2d({ name: 'stem', filters: 32, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: 'zeros' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'stem_relu', maxValue: 6 }).apply(x) as tf.SymbolicTensor;
  x = block(x, 'block1', 64, 1);
  x = block(x, 'block2', 128, 2);
  x = block(x, 'block3', 128, 1);
  x = block(x, 'block4', 256, 2);
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ name: 'logits', units: 10, activation: 'softmax', kernelInitializer: 'zeros' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: 'reference_mobilenet_like' });
  const rand = mulberry32(REFERENCE_MODEL.seed);
  for (const layer of model.layers) {
    const current = layer.getWeights();
    if (!current.length) continue;
    const seeded = current.map((w, i) => {
      const positive = /variance$/.test(layer.weights[i].originalName);
      return tf.tensor(Float32Array.from({ length: w.size }, () => (positive ? 0.5 + rand() : rand() - 0.5)), w.shape);
    });
    layer.setWeights(seeded);
    tf.dispose(seeded);
  }
  return model;
}
