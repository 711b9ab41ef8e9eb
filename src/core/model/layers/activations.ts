/** Activations: the Activation layer and the advanced activations. */
import type { ActivationLayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/layers/core_serialization';
import type {
  ELULayerConfig,
  LeakyReLULayerConfig,
  PReLULayerConfig,
  ReLULayerConfig,
  SoftmaxLayerConfig,
  ThresholdedReLULayerConfig,
} from '@tensorflow/tfjs-layers/dist/keras_format/layers/advanced_activation_serialization';
import { freezeHandler, last, passHandler, prod, type LayerHandler } from './handler';

export const activation = passHandler<ActivationLayerConfig>({
  freezeReason: (cfg) => {
    const a = cfg.activation as string;
    return a === 'softmax' || a === 'logSoftmax' || a === 'log_softmax' ? 'softmax across channels' : undefined;
  },
});

export const relu = passHandler<ReLULayerConfig>();
export const leakyRelu = passHandler<LeakyReLULayerConfig>();
export const elu = passHandler<ELULayerConfig>();
export const thresholdedRelu = passHandler<ThresholdedReLULayerConfig>();

export const prelu: LayerHandler<PReLULayerConfig> = passHandler<PReLULayerConfig>({
  weights: () => ['alpha'],
  weightShapes: (cfg, [x]) => {
    const shared = Array.isArray(cfg.shared_axes) ? (cfg.shared_axes as number[]) : [];
    return { alpha: x.slice(1).map((d, i) => (shared.includes(i + 1) ? 1 : d)) };
  },
  params: (cfg, [x]) => (Array.isArray(cfg.shared_axes) ? last(x) : prod(x.slice(1))),
  freezeReason: (cfg, [x]) => {
    // alpha is per channel only when every spatial axis is shared; otherwise it is per position too.
    const shared = Array.isArray(cfg.shared_axes) ? (cfg.shared_axes as number[]) : [];
    return x.length > 2 && shared.length < x.length - 2 ? 'PReLU with a per-position alpha (shared_axes not set)' : undefined;
  },
  // alpha is [1, 1, C] with shared spatial axes: its last axis follows the channels (rebuild skips broadcast axes).
  axes: { alpha: [{ axis: -1, role: 'in' }] },
});

export const softmax = freezeHandler<SoftmaxLayerConfig>('softmax across channels');
