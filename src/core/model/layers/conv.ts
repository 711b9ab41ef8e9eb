/** Convolutions: Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D. */
import type { ConvLayerConfig, SeparableConvLayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/layers/convolutional_serialization';
import type { DepthwiseConv2DLayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/layers/convolutional_depthwise_serialization';
import { last, num, pair, prod, spatialOut, tuple, useBias, windowOut, type LayerHandler, type Shape } from './handler';

/** Keras's Conv1D/Conv2D also have `groups`, which tfjs does not. */
export type Conv2DConfig = ConvLayerConfig & { groups?: number };
/** Keras's Conv2DTranspose also has `output_padding`. */
export type Conv2DTransposeConfig = ConvLayerConfig & { output_padding?: number | [number, number] | null };

/**
 * Conv1D and Conv2D: one handler per spatial rank. Keras stores the kernel as [...window, in / groups, out]
 * (Conv1D [k, in, out], Conv2D [kh, kw, in, out]), so the channel axes are the last two.
 */
function convNd(dims: 1 | 2): LayerHandler<Conv2DConfig> {
  const window = (cfg: Conv2DConfig) => tuple(cfg.kernel_size, dims, 1);
  return {
    flow: 'produce',
    outputShape: (cfg, [x]) => [x[0], ...windowOut(cfg, x, dims), num(cfg.filters, 0)],
    weights: (cfg) => (useBias(cfg) ? ['kernel', 'bias'] : ['kernel']),
    weightShapes: (cfg, [x], y) => ({ kernel: [...window(cfg), last(x) / num(cfg.groups, 1), last(y)], bias: [last(y)] }),
    params: (cfg, [x], y) => (prod(window(cfg)) * last(x) * last(y)) / num(cfg.groups, 1) + (useBias(cfg) ? last(y) : 0),
    macs: (cfg, [x], y) => (prod(window(cfg)) * last(x) * last(y) * prod(y.slice(1, -1))) / num(cfg.groups, 1),
    freezeReason: (cfg) => (num(cfg.groups, 1) > 1 ? 'grouped convolution (groups > 1)' : undefined),
    axes: { kernel: [{ axis: dims, role: 'in' }, { axis: dims + 1, role: 'out' }], bias: [{ axis: 0, role: 'out' }] },
    widthKey: 'filters',
    timed: true,
    // The refit's im2col reads a 1-D window as a 1 x k one.
    refit: (cfg) => (Number(cfg.groups ?? 1) > 1 ? undefined : 'conv'),
  };
}

export const conv2d = convNd(2);
export const conv1d = convNd(1);

function transposeLength(size: number | null, k: number, s: number, padding: unknown, outPad: number | undefined): number | null {
  if (size === null) return null;
  if (outPad !== undefined) return (size - 1) * s + k - (padding === 'same' ? 2 * Math.floor(k / 2) : 0) + outPad;
  return padding === 'same' ? size * s : size * s + Math.max(k - s, 0);
}

export const conv2dTranspose: LayerHandler<Conv2DTransposeConfig> = {
  flow: 'produce',
  outputShape: (cfg, [x]) => {
    const [kh, kw] = pair(cfg.kernel_size, 1);
    const [sh, sw] = pair(cfg.strides, 1);
    const op = Array.isArray(cfg.output_padding) ? pair(cfg.output_padding, 0) : undefined;
    return [x[0], transposeLength(x[1], kh, sh, cfg.padding, op?.[0]), transposeLength(x[2], kw, sw, cfg.padding, op?.[1]), num(cfg.filters, 0)];
  },
  weights: conv2d.weights,
  weightShapes: (cfg, [x], y) => ({ kernel: [...pair(cfg.kernel_size, 1), last(y), last(x)], bias: [last(y)] }),
  params: conv2d.params,
  // Every input pixel scatters a kh*kw*Cout patch.
  macs: (cfg, [x], y) => {
    const [kh, kw] = pair(cfg.kernel_size, 1);
    return kh * kw * last(x) * last(y) * prod(x.slice(1, -1));
  },
  // Keras stores the transposed kernel as [kh, kw, out, in].
  axes: { kernel: [{ axis: 3, role: 'in' }, { axis: 2, role: 'out' }], bias: [{ axis: 0, role: 'out' }] },
  widthKey: 'filters',
  timed: true,
};

const depthwiseFreeze = (cfg: { depth_multiplier?: unknown }) =>
  num(cfg.depth_multiplier, 1) !== 1 ? 'depthwise convolution with depth_multiplier > 1' : undefined;

export const depthwiseConv2d: LayerHandler<DepthwiseConv2DLayerConfig> = {
  flow: 'pass',
  outputShape: (cfg, [x]) => [x[0], ...spatialOut(cfg, x), last(x) * num(cfg.depth_multiplier, 1)],
  weights: (cfg) => (useBias(cfg) ? ['depthwise_kernel', 'bias'] : ['depthwise_kernel']),
  weightShapes: (cfg, [x], y) => ({ depthwise_kernel: [...pair(cfg.kernel_size, 1), last(x), num(cfg.depth_multiplier, 1)], bias: [last(y)] }),
  params: (cfg, _x, y) => {
    const [kh, kw] = pair(cfg.kernel_size, 1);
    return kh * kw * last(y) + (useBias(cfg) ? last(y) : 0);
  },
  macs: (cfg, _x, y) => {
    const [kh, kw] = pair(cfg.kernel_size, 1);
    return kh * kw * last(y) * prod(y.slice(1, -1));
  },
  freezeReason: depthwiseFreeze,
  // [kh, kw, in, multiplier]; with multiplier 1 the bias follows the input channels.
  axes: { depthwise_kernel: [{ axis: 2, role: 'in' }], bias: [{ axis: 0, role: 'in' }] },
  timed: true,
};

export const separableConv2d: LayerHandler<SeparableConvLayerConfig> = {
  flow: 'produce',
  slicesInput: true,
  outputShape: (cfg, [x]: Shape[]) => [x[0], ...spatialOut(cfg, x), num(cfg.filters, 0)],
  weights: (cfg) => (useBias(cfg) ? ['depthwise_kernel', 'pointwise_kernel', 'bias'] : ['depthwise_kernel', 'pointwise_kernel']),
  weightShapes: (cfg, [x], y) => ({
    depthwise_kernel: [...pair(cfg.kernel_size, 1), last(x), num(cfg.depth_multiplier, 1)],
    pointwise_kernel: [1, 1, last(x) * num(cfg.depth_multiplier, 1), last(y)],
    bias: [last(y)],
  }),
  params: (cfg, [x], y) => {
    const [kh, kw] = pair(cfg.kernel_size, 1);
    const mid = last(x) * num(cfg.depth_multiplier, 1);
    return kh * kw * mid + mid * last(y) + (useBias(cfg) ? last(y) : 0);
  },
  macs: (cfg, [x], y) => {
    const [kh, kw] = pair(cfg.kernel_size, 1);
    const mid = last(x) * num(cfg.depth_multiplier, 1);
    return (kh * kw * mid + mid * last(y)) * prod(y.slice(1, -1));
  },
  freezeReason: depthwiseFreeze,
  // depthwise [kh, kw, in, multiplier] then pointwise [1, 1, in * multiplier, out]: channels are ranked by the pointwise half.
  axes: {
    depthwise_kernel: [{ axis: 2, role: 'in', ranks: false }],
    pointwise_kernel: [{ axis: 2, role: 'in' }, { axis: 3, role: 'out' }],
    bias: [{ axis: 0, role: 'out' }],
  },
  widthKey: 'filters',
  timed: true,
};
