/** Merges: the element-wise ones (Add, Multiply, ...) and Concatenate. */
import type { ConcatenateLayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/layers/merge_serialization';
import { noWeights, num, sameShape, zero, type LayerConfig, type LayerHandler } from './handler';

/** Element-wise across inputs; merges are left to the latency table's end-to-end fit (it times single-input layers only). */
export const elementwise: LayerHandler<LayerConfig> = { flow: 'merge', outputShape: sameShape, weights: noWeights, params: zero, macs: zero, timed: true };

const channelAxis = (cfg: ConcatenateLayerConfig, rank: number) => (num(cfg.axis, -1) + rank) % rank;

export const concatenate: LayerHandler<ConcatenateLayerConfig> = {
  flow: 'concat',
  outputShape: (cfg, inputs) => {
    const rank = inputs[0].length;
    const axis = channelAxis(cfg, rank);
    const out = [...inputs[0]];
    out[axis] = inputs.reduce<number | null>((s, x) => (s === null || x[axis] === null ? null : s + (x[axis] as number)), 0);
    return out;
  },
  weights: noWeights,
  params: zero,
  macs: zero,
  freezeReason: (cfg, inputs) => {
    const rank = inputs[0].length;
    return channelAxis(cfg, rank) === rank - 1 ? undefined : 'Concatenate along a non-channel axis';
  },
  timed: true,
};
