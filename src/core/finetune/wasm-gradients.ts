/**
 * Lets the WASM backend train conv nets.
 *
 * tfjs-backend-wasm 4.22 ships the forward convolution kernels and Conv2DBackpropInput, but not
 * Conv2DBackpropFilter nor the two depthwise backprop kernels, so `fit` on a conv net fails there.
 * This module supplies them, written with forward ops only (pad, slice, transpose, conv2d,
 * depthwiseConv2d, multiply, sum), which the WASM backend has. It also replaces WASM's
 * Conv2DBackpropInput (a plain loop, ~10x slower than XNNPACK's forward convolution that does the
 * same work here); that also speeds up conv2dTranspose.
 *
 * Why kernels and not only `tf.registerGradient`: a Conv2D layer with a linear activation (every
 * conv followed by BatchNormalization) runs `tf.fused.conv2d`, whose gradient is a `customGrad`
 * closure that calls the `conv2DBackpropFilter` op directly; the gradient registry is never
 * consulted for it, so an override of the `FusedConv2D` gradient would not be used. Providing the
 * missing kernels covers every path (Conv2D, FusedConv2D, DepthwiseConv2dNative,
 * FusedDepthwiseConv2D) and, being registered for 'wasm' only, leaves the native kernels of the
 * CPU, WebGL and WebGPU backends untouched (a global gradient override would replace them too).
 *
 * WASM's MaxPoolGrad kernel is replaced too: in tfjs 4.22 it returns wrong gradients.
 *
 * The FusedBatchNorm gradient is also re-registered with broadcasting in place of WASM's slow
 * `tile` (same formulas; this one is global, which is harmless as the math is unchanged).
 *
 * The same functions are exported as `conv2dFilterGrad`, `conv2dInputGrad`, `depthwiseFilterGrad`,
 * `depthwiseInputGrad` for tests and for anyone who wants them as ops.
 */
import * as tf from '@tensorflow/tfjs';
import { installWasmMatMul } from '../measure/wasm-matmul';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Pair = number | [number, number];

function convInfo(
  xShape: number[],
  filterShape: number[],
  strides: Pair,
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  dilations: Pair = 1,
  depthwise = false,
): tf.backend_util.Conv2DInfo {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error('wasm-gradients: dilated convolutions are not supported in training.');
  }
  return info;
}

/** x padded as the forward conv pads it, and at least large enough for every tap. */
function padInput(x: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { top, left } = info.padInfo;
  const needH = (info.outHeight - 1) * info.strideHeight + info.filterHeight;
  const needW = (info.outWidth - 1) * info.strideWidth + info.filterWidth;
  const bottom = Math.max(0, needH - x.shape[1] - top);
  const right = Math.max(0, needW - x.shape[2] - left);
  if (top === 0 && left === 0 && bottom === 0 && right === 0) return x;
  return tf.pad(x, [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]);
}

/**
 * dL/dfilter of conv2d (NHWC) as one forward convolution: with the batch axis as channels,
 * dW[i, j, ci, co] = sum over n, h, w of xPadded[n, h*s + i, w*s + j, ci] * dy[n, h, w, co]
 * is conv2d(xPadded^T [Cin, H, W, N], dy^T [outH, outW, N, Cout], dilation s). On WASM this is
 * about 10x faster than one matMul per kernel tap (XNNPACK's convolution beats its transposed matMul).
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: Pair,
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(x.shape, filterShape, strides, pad, dimRoundingMode);
    const [kh, kw, cin] = filterShape;
    const needH = (info.outHeight - 1) * info.strideHeight + kh;
    const needW = (info.outWidth - 1) * info.strideWidth + kw;
    let xp = padInput(x, info);
    if (xp.shape[1] !== needH || xp.shape[2] !== needW) xp = xp.slice([0, 0, 0, 0], [xp.shape[0], needH, needW, cin]);
    const xt = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D;
    const ft = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const g = tf.conv2d(xt, ft, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth]);
    return tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/**
 * dL/dx of conv2d (NHWC), also the forward pass of conv2dTranspose: a stride-1 convolution of
 * the zero-dilated, padded dy with the spatially flipped filter, its in/out axes swapped.
 */
export function conv2dInputGrad(
  inputShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  strides: Pair,
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(inputShape, filter.shape, strides, pad, dimRoundingMode);
    const dyp = paddedForInputGrad(inputShape, dy, filter.shape, info);
    const w = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(dyp, w, 1, 'valid');
  });
}

/** dy with zeros between rows and columns (stride) and padded so a valid stride-1 correlation gives the input size. */
function paddedForInputGrad(
  inputShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filterShape: number[],
  info: tf.backend_util.Conv2DInfo,
): tf.Tensor4D {
  const [kh, kw] = filterShape;
  const [, h, w] = inputShape;
  const up = dilateSpatial(dy, info.strideHeight, info.strideWidth);
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = h + kh - 1 - up.shape[1] - top;
  const right = w + kw - 1 - up.shape[2] - left;
  return padOrCrop(up, top, bottom, left, right);
}

/**
 * dL/dfilter of depthwiseConv2d (NHWC, filter [kh, kw, C, multiplier]). With batch and channel
 * merged into one channel axis it is a single depthwise convolution of xPadded [1, H, W, N*C] with
 * dy [outH, outW, N*C, 1] (dilation = stride), summed over the batch; for multiplier > 1, one per
 * multiplier index.
 */
export function depthwiseFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: Pair,
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(x.shape, filterShape, strides, pad, dimRoundingMode, 1, true);
    const [kh, kw, c, m] = filterShape;
    const [n] = x.shape;
    const { outHeight: oh, outWidth: ow } = info;
    const needH = (oh - 1) * info.strideHeight + kh;
    const needW = (ow - 1) * info.strideWidth + kw;
    let xp = padInput(x, info);
    if (xp.shape[1] !== needH || xp.shape[2] !== needW) xp = xp.slice([0, 0, 0, 0], [n, needH, needW, c]);
    const xm = tf.transpose(xp, [1, 2, 0, 3]).reshape([1, needH, needW, n * c]) as tf.Tensor4D;
    const dy5 = dy.reshape([n, oh, ow, c, m]);
    const parts: tf.Tensor[] = [];
    for (let k = 0; k < m; k++) {
      const dk = m === 1 ? dy : dy5.slice([0, 0, 0, 0, k], [n, oh, ow, c, 1]).reshape([n, oh, ow, c]);
      const f = tf.transpose(dk, [1, 2, 0, 3]).reshape([oh, ow, n * c, 1]) as tf.Tensor4D;
      const g = tf.depthwiseConv2d(xm, f, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth]);
      parts.push(tf.sum(g.reshape([kh, kw, n, c]), 2));
    }
    return (m === 1 ? parts[0] : tf.stack(parts, 3)).reshape(filterShape) as tf.Tensor4D;
  });
}

/** Inserts stride-1 zeros between rows and columns: [N, H, W, C] -> [N, (H-1)*sh+1, (W-1)*sw+1, C]. */
function dilateSpatial(t: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  let out = t;
  const [n, h, w, c] = t.shape;
  if (sh > 1) {
    out = tf
      .pad(out.reshape([n, h, 1, w, c]), [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, 0],
      ])
      .reshape([n, h * sh, w, c])
      .slice([0, 0, 0, 0], [n, (h - 1) * sh + 1, w, c]) as tf.Tensor4D;
  }
  if (sw > 1) {
    const hh = out.shape[1];
    out = tf
      .pad(out.reshape([n, hh, w, 1, c]), [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ])
      .reshape([n, hh, w * sw, c])
      .slice([0, 0, 0, 0], [n, hh, (w - 1) * sw + 1, c]) as tf.Tensor4D;
  }
  return out;
}

/** Pads (or crops, for negative amounts) the spatial axes. */
function padOrCrop(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  let out = t;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = out.shape;
    const t0 = Math.max(0, -top);
    const l0 = Math.max(0, -left);
    out = out.slice([0, t0, l0, 0], [n, h - t0 - Math.max(0, -bottom), w - l0 - Math.max(0, -right), c]);
  }
  const p = [Math.max(0, top), Math.max(0, bottom), Math.max(0, left), Math.max(0, right)];
  if (p.every((v) => v === 0)) return out;
  return tf.pad(out, [
    [0, 0],
    [p[0], p[1]],
    [p[2], p[3]],
    [0, 0],
  ]);
}

/** dL/dx of depthwiseConv2d: a stride-1 depthwise correlation of the zero-dilated, padded dy with the flipped filter. */
export function depthwiseInputGrad(
  inputShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  strides: Pair,
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(inputShape, filter.shape, strides, pad, dimRoundingMode, 1, true);
    const [kh, kw, c, m] = filter.shape;
    const [n] = inputShape;
    const dyp = paddedForInputGrad(inputShape, dy, filter.shape, info);
    const flipped = tf.reverse(filter, [0, 1]) as tf.Tensor4D;
    if (m === 1) return tf.depthwiseConv2d(dyp, flipped, 1, 'valid');
    const [, hp, wp] = dyp.shape;
    const dy5 = dyp.reshape([n, hp, wp, c, m]);
    let sum: tf.Tensor4D | undefined;
    for (let k = 0; k < m; k++) {
      const part = tf.depthwiseConv2d(
        dy5.slice([0, 0, 0, 0, k], [n, hp, wp, c, 1]).reshape([n, hp, wp, c]) as tf.Tensor4D,
        flipped.slice([0, 0, 0, k], [kh, kw, c, 1]) as tf.Tensor4D,
        1,
        'valid',
      );
      sum = sum ? (tf.add(sum, part) as tf.Tensor4D) : part;
    }
    return sum!;
  });
}

/**
 * dL/dx of maxPool: each output's gradient goes to the first position (row-major) of its window
 * that holds the maximum, as TensorFlow does. WASM's own MaxPoolGrad kernel gives wrong values
 * in tfjs 4.22 (checked against the CPU backend), so it is replaced by this.
 */
export function maxPoolInputGrad(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  filterSize: Pair,
  strides: Pair,
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computePool2DInfo(x.shape, filterSize, strides, 1, pad as 'same' | 'valid' | number, dimRoundingMode);
    const [n, h, w, c] = x.shape;
    const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
    const { top, left } = info.padInfo;
    const needH = (oh - 1) * sh + kh;
    const needW = (ow - 1) * sw + kw;
    // Pad with the lowest float so padding never wins a window; crop what no window reads.
    const lowest = -3.4e38;
    let xp = x;
    const bottom = needH - h - top;
    const right = needW - w - left;
    if (top > 0 || left > 0 || bottom > 0 || right > 0) {
      xp = tf.pad(xp, [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]], lowest);
    }
    if (xp.shape[1] !== needH || xp.shape[2] !== needW) xp = xp.slice([0, 0, 0, 0], [n, needH, needW, c]);
    let remaining: tf.Tensor = tf.onesLike(dy);
    const parts: tf.Tensor4D[][] = [];
    for (let i = 0; i < kh; i++) {
      const row: tf.Tensor4D[] = [];
      for (let j = 0; j < kw; j++) {
        const tap = tf.stridedSlice(xp, [0, i, j, 0], [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, c], [1, sh, sw, 1]);
        const first = tf.mul(tf.cast(tf.equal(tap, y), 'float32'), remaining);
        remaining = tf.sub(remaining, first);
        row.push(tf.mul(dy, first) as tf.Tensor4D);
      }
      parts.push(row);
    }
    let sum: tf.Tensor4D;
    if (kh === sh && kw === sw) {
      // Windows tile the input: interleave the taps back into place.
      const rows = parts.map((row) => tf.stack(row, 3)); // [n, oh, ow, kw, c]
      sum = tf.stack(rows, 2).reshape([n, oh * kh, ow * kw, c]) as tf.Tensor4D;
    } else {
      sum = tf.zeros([n, needH, needW, c]);
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const up = dilateSpatial(parts[i][j], sh, sw);
          sum = tf.add(sum, padOrCrop(up, i, needH - i - up.shape[1], j, needW - j - up.shape[2])) as tf.Tensor4D;
        }
      }
    }
    // Back from padded coordinates to the input's.
    return padOrCrop(sum, -top, h - (needH - top), -left, w - (needW - left));
  });
}

type KernelInputs = tf.NamedTensorInfoMap;
interface RefCounted {
  incRef(dataId: tf.DataId): void;
}

/**
 * Runs `f` on tensors wrapping the kernel's inputs and returns a plain TensorInfo, as kernels do.
 * Wrapping a TensorInfo does not add a backend reference while disposing it drops one, so each
 * wrapper takes one first; the result keeps its data by one extra reference while its Tensor
 * object is disposed (the engine wraps the returned TensorInfo again).
 */
function viaOps(inputs: KernelInputs, backend: unknown, names: string[], f: (...ts: tf.Tensor[]) => tf.Tensor): tf.TensorInfo {
  const b = backend as RefCounted;
  const out = tf.tidy(() =>
    f(
      ...names.map((n) => {
        const info = inputs[n]!;
        b.incRef(info.dataId);
        return tf.engine().makeTensorFromTensorInfo(info);
      }),
    ),
  );
  b.incRef(out.dataId);
  const info = { dataId: out.dataId, shape: out.shape, dtype: out.dtype };
  out.dispose();
  return info;
}

/**
 * The FusedBatchNorm gradient of tfjs-core with `tile` replaced by broadcasting (WASM's Tile
 * kernel took a third of a MobileNet training step). Same formulas otherwise; registered only by
 * `installWasmGradients`, so other programs keep the stock one.
 */
function batchNormGradient(): tf.GradConfig {
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const g = dy as tf.Tensor;
      const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
      const [x, mean, variance, scale] = saved;
      const scaleValue = scale == null ? tf.scalar(1) : scale;
      const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
      const reduce = (t: tf.Tensor) => (mean.rank === 1 ? tf.sum(t, axes) : t).reshape(mean.shape);
      const xMinusMean = tf.sub(x, mean);
      const dyTimesScale = tf.mul(g, scaleValue);
      const rstd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
      const minusHalfRCube = tf.mul(tf.mul(tf.mul(rstd, rstd), rstd), tf.scalar(-0.5));
      return {
        x: () => tf.mul(g, tf.mul(rstd, scaleValue)).reshape(x.shape),
        mean: () => reduce(tf.mul(tf.neg(rstd), dyTimesScale)),
        variance: () => reduce(tf.mul(tf.mul(minusHalfRCube, xMinusMean), dyTimesScale)),
        scale: () => reduce(tf.mul(g, tf.mul(xMinusMean, rstd))),
        offset: () => reduce(g),
      };
    },
  };
}

let installed = false;

/**
 * Registers the missing backprop kernels for the 'wasm' backend. Idempotent. It does nothing until
 * @tensorflow/tfjs-backend-wasm has registered its own kernels (importing that module does): a
 * kernel registered earlier would be overwritten by WASM's own, its broken MaxPoolGrad among them.
 * `Distiller.create` calls it on the WASM backend, so training code need not.
 */
export function installWasmGradients(): void {
  if (installed || tf.getKernel('Conv2D', 'wasm') === undefined) return;
  installed = true;
  installWasmMatMul();
  const has = (name: string) => tf.getKernel(name, 'wasm') !== undefined;
  tf.registerGradient(batchNormGradient());
  if (!has('Conv2DBackpropFilter')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const a = attrs as unknown as { strides: Pair; pad: Pad; dataFormat?: string; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number] };
        if (a.dataFormat && a.dataFormat !== 'NHWC') throw new Error('wasm-gradients: only NHWC convolutions can be trained.');
        return viaOps(inputs, backend, ['x', 'dy'], (x, dy) => conv2dFilterGrad(x as tf.Tensor4D, dy as tf.Tensor4D, a.filterShape, a.strides, a.pad, a.dimRoundingMode));
      },
    });
  }
  // WASM's own Conv2DBackpropInput is a plain loop, ~10x slower than this forward convolution; it
  // is kept for what the replacement does not handle (NCHW) and its setup still runs.
  const native = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (native && !(native.kernelFunc as { replaced?: boolean }).replaced) {
    const kernelFunc: tf.KernelFunc = (args) => {
      const a = args.attrs as unknown as { strides: Pair; pad: Pad; dataFormat?: string; dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number] };
      if (a.dataFormat && a.dataFormat !== 'NHWC') return native.kernelFunc(args);
      return viaOps(args.inputs, args.backend, ['dy', 'filter'], (dy, filter) => conv2dInputGrad(a.inputShape, dy as tf.Tensor4D, filter as tf.Tensor4D, a.strides, a.pad, a.dimRoundingMode));
    };
    (kernelFunc as { replaced?: boolean }).replaced = true;
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', setupFunc: native.setupFunc, kernelFunc });
  }
  const nativeMaxPoolGrad = tf.getKernel('MaxPoolGrad', 'wasm');
  if (nativeMaxPoolGrad) tf.unregisterKernel('MaxPoolGrad', 'wasm');
  tf.registerKernel({
    kernelName: 'MaxPoolGrad',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const a = attrs as unknown as { filterSize: Pair; strides: Pair; pad: Pad; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
      return viaOps(inputs, backend, ['dy', 'input', 'output'], (dy, x, y) =>
        maxPoolInputGrad(dy as tf.Tensor4D, x as tf.Tensor4D, y as tf.Tensor4D, a.filterSize, a.strides, a.pad, a.dimRoundingMode),
      );
    },
  });
  if (!has('DepthwiseConv2dNativeBackpropFilter')) {
    tf.registerKernel({
      kernelName: 'DepthwiseConv2dNativeBackpropFilter',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const a = attrs as unknown as { strides: Pair; dilations: Pair; pad: Pad; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number] };
        return viaOps(inputs, backend, ['x', 'dy'], (x, dy) => depthwiseFilterGrad(x as tf.Tensor4D, dy as tf.Tensor4D, a.filterShape, a.strides, a.pad, a.dimRoundingMode));
      },
    });
  }
  if (!has('DepthwiseConv2dNativeBackpropInput')) {
    tf.registerKernel({
      kernelName: 'DepthwiseConv2dNativeBackpropInput',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const a = attrs as unknown as { strides: Pair; dilations: Pair; pad: Pad; dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number] };
        return viaOps(inputs, backend, ['dy', 'filter'], (dy, filter) => depthwiseInputGrad(a.inputShape, dy as tf.Tensor4D, filter as tf.Tensor4D, a.strides, a.pad, a.dimRoundingMode));
      },
    });
  }
}
