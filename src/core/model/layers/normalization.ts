/** Normalization: BatchNormalization (per channel, prunable), LayerNormalization (across channels, frozen). */
import type { BatchNormalizationLayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/layers/normalization_serialization';
import { channelVector, freezeHandler, last, num, passHandler, type LayerConfig, type Shape } from './handler';

/** Keras's LayerNormalization (tfjs-layers has no keras_format type for it). */
export type LayerNormalizationConfig = LayerConfig & { axis?: number | number[]; epsilon?: number; center?: boolean; scale?: boolean };

export const batchNormalization = passHandler<BatchNormalizationLayerConfig>({
  weights: (cfg) => [...(cfg.scale !== false ? ['gamma'] : []), ...(cfg.center !== false ? ['beta'] : []), 'moving_mean', 'moving_variance'],
  weightShapes: (cfg, [x]) => {
    const axis = num(cfg.axis, -1);
    const c = [x[axis < 0 ? axis + x.length : axis] ?? null];
    return { gamma: c, beta: c, moving_mean: c, moving_variance: c };
  },
  params: (cfg, [x]) => last(x) * ((cfg.scale !== false ? 1 : 0) + (cfg.center !== false ? 1 : 0) + 2),
  freezeReason: (cfg, [x]) => {
    const axis = num(cfg.axis, -1);
    return axis === -1 || axis === x.length - 1 ? undefined : 'BatchNormalization over a non-channel axis';
  },
  axes: { gamma: channelVector, beta: channelVector, moving_mean: channelVector, moving_variance: channelVector },
});

export const layerNormalization = freezeHandler<LayerNormalizationConfig>('LayerNormalization normalizes across channels', {
  weights: () => ['gamma', 'beta'],
  weightShapes: (cfg, [x]): Record<string, Shape> => (cfg.axis === undefined || cfg.axis === -1 ? { gamma: [last(x)], beta: [last(x)] } : {}),
  params: (_c, [x]) => 2 * last(x),
});
