/** Spatial layers that keep channels: pooling (1-D and 2-D), global pooling, padding, cropping, upsampling. */
import type { Cropping2DLayerConfig, UpSampling2DLayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/layers/convolutional_serialization';
import type { ZeroPadding2DLayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/layers/padding_serialization';
import type { GlobalPooling2DLayerConfig, Pooling2DLayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/layers/pooling_serialization';
import { last, pair, passHandler, windowOut, type Shape } from './handler';

/** Keras's global pooling also has `keepdims`. */
export type GlobalPoolingConfig = GlobalPooling2DLayerConfig & { keepdims?: boolean };

/** Max and average pooling over `dims` spatial axes: the window is pool_size (default 2), the stride defaults to it. */
const pool = (dims: number) => (cfg: Pooling2DLayerConfig, [x]: Shape[]): Shape => {
  const size = cfg.pool_size ?? 2;
  return [x[0], ...windowOut({ ...cfg, kernel_size: size, dilation_rate: 1 }, x, dims, 'kernel_size', size), last(x)];
};

function padAmounts(v: unknown, fallback: number): [[number, number], [number, number]] {
  if (Array.isArray(v) && Array.isArray(v[0])) {
    const [a, b] = v as number[][];
    return [pair(a, fallback), pair(b, fallback)];
  }
  const [h, w] = pair(v, fallback);
  return [[h, h], [w, w]];
}

const addDims = (a: number | null, d: number) => (a === null ? null : a + d);

export const pooling2d = passHandler<Pooling2DLayerConfig>({ outputShape: pool(2) });
export const pooling1d = passHandler<Pooling2DLayerConfig>({ outputShape: pool(1) });

/** Global pooling over every spatial axis, 1-D or 2-D. */
export const globalPooling = passHandler<GlobalPoolingConfig>({
  outputShape: (cfg, [x]) => (cfg.keepdims ? [x[0], ...x.slice(1, -1).map(() => 1), last(x)] : [x[0], last(x)]),
});

export const zeroPadding2d = passHandler<ZeroPadding2DLayerConfig>({
  outputShape: (cfg, [x]) => {
    const [[t, b], [l, r]] = padAmounts(cfg.padding, 1);
    return [x[0], addDims(x[1], t + b), addDims(x[2], l + r), last(x)];
  },
});

export const cropping2d = passHandler<Cropping2DLayerConfig>({
  outputShape: (cfg, [x]) => {
    const [[t, b], [l, r]] = padAmounts(cfg.cropping, 0);
    return [x[0], addDims(x[1], -t - b), addDims(x[2], -l - r), last(x)];
  },
});

export const upSampling2d = passHandler<UpSampling2DLayerConfig>({
  outputShape: (cfg, [x]) => {
    const [sh, sw] = pair(cfg.size, 2);
    return [x[0], x[1] === null ? null : x[1] * sh, x[2] === null ? null : x[2] * sw, last(x)];
  },
});
