/**
 * The one registry of layer types: one handler per Keras class, holding every fact the engine
 * needs about it (see layers/handler.ts for what a handler says). Adding a layer type means adding
 * one entry here; the other tables are derived from this one:
 *   - slicing and ranking axes: prune/weight-axes.ts (SLICE_RULES, inputAxes, outputAxes)
 *   - which layers the latency table times, and the width key its probes set: measure/latency-table.ts
 *   - which consumers the least-squares refit solves, and how: prune/refit.ts
 * layers.test.ts walks every handler that has weights and checks them against the weights tfjs creates.
 * Families live in layers/ (conv, core, activations, normalization, spatial, merge, sequence).
 */
import { activation, elu, leakyRelu, prelu, relu, softmax, thresholdedRelu } from './layers/activations';
import { conv1d, conv2d, conv2dTranspose, depthwiseConv2d, separableConv2d } from './layers/conv';
import { dense, dropout, flatten, inputLayer, noise, permute, repeatVector, rescaling, reshape } from './layers/core';
import type { LayerHandler } from './layers/handler';
import { concatenate, elementwise } from './layers/merge';
import { batchNormalization, layerNormalization } from './layers/normalization';
import { embedding, recurrent } from './layers/sequence';
import { cropping2d, globalPooling, pooling1d, pooling2d, upSampling2d, zeroPadding2d } from './layers/spatial';

export type { AnyLayerConfig, ChannelFlow, ChannelRole, LayerHandler, RefitKind, Shape, WeightAxis } from './layers/handler';

export const LAYER_HANDLERS: Readonly<Record<string, LayerHandler>> = {
  InputLayer: inputLayer,
  Conv1D: conv1d,
  Conv2D: conv2d,
  Conv2DTranspose: conv2dTranspose,
  SeparableConv2D: separableConv2d,
  DepthwiseConv2D: depthwiseConv2d,
  Dense: dense,
  BatchNormalization: batchNormalization,
  Activation: activation,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  ELU: elu,
  ThresholdedReLU: thresholdedRelu,
  PReLU: prelu,
  Softmax: softmax,
  Dropout: dropout,
  SpatialDropout1D: dropout,
  GaussianNoise: noise,
  GaussianDropout: noise,
  AlphaDropout: noise,
  Rescaling: rescaling,
  MaxPooling2D: pooling2d,
  AveragePooling2D: pooling2d,
  MaxPooling1D: pooling1d,
  AveragePooling1D: pooling1d,
  GlobalAveragePooling2D: globalPooling,
  GlobalMaxPooling2D: globalPooling,
  GlobalAveragePooling1D: globalPooling,
  GlobalMaxPooling1D: globalPooling,
  ZeroPadding2D: zeroPadding2d,
  Cropping2D: cropping2d,
  UpSampling2D: upSampling2d,
  Add: elementwise,
  Multiply: elementwise,
  Average: elementwise,
  Maximum: elementwise,
  Minimum: elementwise,
  Subtract: elementwise,
  Concatenate: concatenate,
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  RepeatVector: repeatVector,
  Embedding: embedding,
  LayerNormalization: layerNormalization,
  LSTM: recurrent('LSTM'),
  GRU: recurrent('GRU'),
  SimpleRNN: recurrent('SimpleRNN'),
};

/** The handler of a Keras class, or undefined for one the pruner does not know. */
export function layerHandler(className: string): LayerHandler | undefined {
  return Object.hasOwn(LAYER_HANDLERS, className) ? LAYER_HANDLERS[className] : undefined;
}
