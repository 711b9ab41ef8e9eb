/** Core layers: the model input, Dense, the views (Flatten, Reshape, Permute, RepeatVector), dropout and noise, Rescaling. */
import type { DenseLayerConfig, DropoutLayerConfig, PermuteLayerConfig, RepeatVectorLayerConfig, ReshapeLayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/layers/core_serialization';
import type { InputLayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/input_config';
import { freezeHandler, last, noWeights, num, passHandler, prod, useBias, zero, type LayerConfig, type LayerHandler } from './handler';

/** Keras's Rescaling (tfjs-layers has no keras_format type for it). */
export type RescalingConfig = LayerConfig & { scale?: number; offset?: number };
/** GaussianNoise / GaussianDropout / AlphaDropout (no keras_format type either). */
export type NoiseConfig = LayerConfig & { stddev?: number; rate?: number };

export const inputLayer: LayerHandler<InputLayerConfig> = {
  flow: 'input',
  outputShape: (_c, [x]) => x,
  weights: noWeights,
  params: zero,
  macs: zero,
  timed: false,
};

export const dense: LayerHandler<DenseLayerConfig> = {
  flow: 'produce',
  outputShape: (cfg, [x]) => [...x.slice(0, -1), num(cfg.units, 0)],
  weights: (cfg) => (useBias(cfg) ? ['kernel', 'bias'] : ['kernel']),
  weightShapes: (_cfg, [x], y) => ({ kernel: [last(x), last(y)], bias: [last(y)] }),
  params: (cfg, [x], y) => last(x) * last(y) + (useBias(cfg) ? last(y) : 0),
  macs: (_cfg, [x], y) => last(x) * last(y) * prod(y.slice(1, -1)),
  axes: { kernel: [{ axis: 0, role: 'in' }, { axis: 1, role: 'out' }], bias: [{ axis: 0, role: 'out' }] },
  widthKey: 'units',
  timed: true,
  refit: () => 'dense',
};

export const flatten: LayerHandler<LayerConfig> = {
  flow: 'flatten',
  outputShape: (_c, [x]) => [x[0], prod(x.slice(1))],
  weights: noWeights,
  params: zero,
  macs: zero,
  timed: false,
};

export const reshape = freezeHandler<ReshapeLayerConfig>('Reshape', {
  outputShape: (cfg, [x]) => {
    const target = (cfg.target_shape as number[]).slice();
    const known = prod(target.filter((d) => d !== -1));
    return [x[0], ...target.map((d) => (d === -1 ? prod(x.slice(1)) / known : d))];
  },
  timed: false,
});

export const permute = freezeHandler<PermuteLayerConfig>('Permute', {
  outputShape: (cfg, [x]) => [x[0], ...(cfg.dims as number[]).map((d) => x[d])],
});

export const repeatVector = freezeHandler<RepeatVectorLayerConfig>('RepeatVector', {
  outputShape: (cfg, [x]) => [x[0], num(cfg.n, 1), last(x)],
});

/** Dropout and noise layers: identity at inference, so never timed. */
export const dropout = passHandler<DropoutLayerConfig>({ timed: false });
export const noise = passHandler<NoiseConfig>({ timed: false });

export const rescaling = passHandler<RescalingConfig>();
