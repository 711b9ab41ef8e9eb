/**
 * One handler per Keras layer class: how its channels flow (for the groups), its output shape,
 * its weights, its parameters and its MACs. Adding a layer type means adding one entry here.
 *
 * Shapes include the batch dimension (null) and are channels-last.
 * MACs: conv Cin*Cout*kh*kw*Hout*Wout/groups; dense in*out per position (biases are not counted as
 * MACs, they are counted as parameters); BN, activations, pooling and merges count 0 MACs.
 */
export type Shape = (number | null)[];
type Config = Record<string, unknown>;

/**
 * - produce: consumes its input channels through weights and makes a new channel space (Conv2D, Dense)
 * - pass: output channel c is input channel c (BN, activations, pooling, depthwise with multiplier 1)
 * - merge: element-wise across inputs, which must therefore keep the same channels (Add)
 * - concat: output channels are the inputs' channels one after another
 * - flatten: output feature (h*W + w)*C + c comes from channel c
 * - freeze: channel identity is lost (Reshape, Embedding, recurrent, unknown): groups it touches cannot be pruned
 */
export type ChannelFlow = 'input' | 'produce' | 'pass' | 'merge' | 'concat' | 'flatten' | 'freeze';

export interface LayerHandler {
  flow: ChannelFlow;
  outputShape(cfg: Config, inputs: Shape[]): Shape;
  /** Short weight names (`kernel`, `bias`, ...) in the order Keras saves them. */
  weights(cfg: Config, inputs: Shape[]): string[];
  params(cfg: Config, inputs: Shape[], output: Shape): number;
  macs(cfg: Config, inputs: Shape[], output: Shape): number;
  /** A reason this layer stops channel pruning through it even though its flow would allow it. */
  freezeReason?(cfg: Config, inputs: Shape[]): string | undefined;
  /** For produce layers: also passes its input channels through weights that must be sliced (SeparableConv2D's depthwise half). */
  slicesInput?: boolean;
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
const pair = (v: unknown, fallback: number): [number, number] =>
  Array.isArray(v) ? [num(v[0], fallback), num(v[1] ?? v[0], fallback)] : [num(v, fallback), num(v, fallback)];
const prod = (xs: readonly (number | null)[]): number => xs.reduce<number>((a, b) => a * (b ?? 1), 1);
const last = (s: Shape): number => s[s.length - 1] ?? 0;
const useBias = (cfg: Config) => cfg.use_bias !== false;

function convLength(size: number | null, kernel: number, stride: number, padding: unknown, dilation: number): number | null {
  if (size === null) return null;
  const k = (kernel - 1) * dilation + 1;
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - k) / stride) + 1;
}

function spatialOut(cfg: Config, input: Shape, kernelKey = 'kernel_size', defaultStride?: unknown): [number | null, number | null] {
  const [kh, kw] = pair(cfg[kernelKey], 1);
  const [sh, sw] = pair(cfg.strides ?? defaultStride ?? 1, 1);
  const [dh, dw] = pair(cfg.dilation_rate, 1);
  return [convLength(input[1], kh, sh, cfg.padding, dh), convLength(input[2], kw, sw, cfg.padding, dw)];
}

const zero = () => 0;
const noWeights = () => [];
const sameShape = (_: Config, inputs: Shape[]) => [...inputs[0]];

const passHandler = (extra: Partial<LayerHandler> = {}): LayerHandler => ({
  flow: 'pass',
  outputShape: sameShape,
  weights: noWeights,
  params: zero,
  macs: zero,
  ...extra,
});

const freezeHandler = (reason: string, extra: Partial<LayerHandler> = {}): LayerHandler => ({
  flow: 'freeze',
  outputShape: sameShape,
  weights: noWeights,
  params: zero,
  macs: zero,
  freezeReason: () => reason,
  ...extra,
});

const conv2d: LayerHandler = {
  flow: 'produce',
  outputShape: (cfg, [x]) => [x[0], ...spatialOut(cfg, x), num(cfg.filters, 0)],
  weights: (cfg) => (useBias(cfg) ? ['kernel', 'bias'] : ['kernel']),
  params: (cfg, [x], y) => {
    const [kh, kw] = pair(cfg.kernel_size, 1);
    const groups = num(cfg.groups, 1);
    return (kh * kw * last(x) * last(y)) / groups + (useBias(cfg) ? last(y) : 0);
  },
  macs: (cfg, [x], y) => {
    const [kh, kw] = pair(cfg.kernel_size, 1);
    return (kh * kw * last(x) * last(y) * prod(y.slice(1, -1))) / num(cfg.groups, 1);
  },
  freezeReason: (cfg) => (num(cfg.groups, 1) > 1 ? 'grouped convolution (groups > 1)' : undefined),
};

function transposeLength(size: number | null, k: number, s: number, padding: unknown, outPad: number | undefined): number | null {
  if (size === null) return null;
  if (outPad !== undefined) return (size - 1) * s + k - (padding === 'same' ? 2 * Math.floor(k / 2) : 0) + outPad;
  return padding === 'same' ? size * s : size * s + Math.max(k - s, 0);
}

const conv2dTranspose: LayerHandler = {
  ...conv2d,
  outputShape: (cfg, [x]) => {
    const [kh, kw] = pair(cfg.kernel_size, 1);
    const [sh, sw] = pair(cfg.strides, 1);
    const op = Array.isArray(cfg.output_padding) ? pair(cfg.output_padding, 0) : undefined;
    return [x[0], transposeLength(x[1], kh, sh, cfg.padding, op?.[0]), transposeLength(x[2], kw, sw, cfg.padding, op?.[1]), num(cfg.filters, 0)];
  },
  // Every input pixel scatters a kh*kw*Cout patch.
  macs: (cfg, [x], y) => {
    const [kh, kw] = pair(cfg.kernel_size, 1);
    return kh * kw * last(x) * last(y) * prod(x.slice(1, -1));
  },
  freezeReason: undefined,
};

const depthwiseConv2d: LayerHandler = {
  flow: 'pass',
  outputShape: (cfg, [x]) => [x[0], ...spatialOut(cfg, x), last(x) * num(cfg.depth_multiplier, 1)],
  weights: (cfg) => (useBias(cfg) ? ['depthwise_kernel', 'bias'] : ['depthwise_kernel']),
  params: (cfg, _x, y) => {
    const [kh, kw] = pair(cfg.kernel_size, 1);
    return kh * kw * last(y) + (useBias(cfg) ? last(y) : 0);
  },
  macs: (cfg, _x, y) => {
    const [kh, kw] = pair(cfg.kernel_size, 1);
    return kh * kw * last(y) * prod(y.slice(1, -1));
  },
  freezeReason: (cfg) => (num(cfg.depth_multiplier, 1) !== 1 ? 'depthwise convolution with depth_multiplier > 1' : undefined),
};

const separableConv2d: LayerHandler = {
  flow: 'produce',
  slicesInput: true,
  outputShape: conv2d.outputShape,
  weights: (cfg) => (useBias(cfg) ? ['depthwise_kernel', 'pointwise_kernel', 'bias'] : ['depthwise_kernel', 'pointwise_kernel']),
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
  freezeReason: depthwiseConv2d.freezeReason,
};

const dense: LayerHandler = {
  flow: 'produce',
  outputShape: (cfg, [x]) => [...x.slice(0, -1), num(cfg.units, 0)],
  weights: (cfg) => (useBias(cfg) ? ['kernel', 'bias'] : ['kernel']),
  params: (cfg, [x], y) => last(x) * last(y) + (useBias(cfg) ? last(y) : 0),
  macs: (_cfg, [x], y) => last(x) * last(y) * prod(y.slice(1, -1)),
};

const batchNorm = passHandler({
  weights: (cfg) => [...(cfg.scale !== false ? ['gamma'] : []), ...(cfg.center !== false ? ['beta'] : []), 'moving_mean', 'moving_variance'],
  params: (cfg, [x]) => last(x) * ((cfg.scale !== false ? 1 : 0) + (cfg.center !== false ? 1 : 0) + 2),
  freezeReason: (cfg, [x]) => {
    const axis = num(cfg.axis, -1);
    return axis === -1 || axis === x.length - 1 ? undefined : 'BatchNormalization over a non-channel axis';
  },
});

const prelu = passHandler({
  weights: () => ['alpha'],
  params: (cfg, [x]) => (Array.isArray(cfg.shared_axes) ? last(x) : prod(x.slice(1))),
  freezeReason: (cfg, [x]) => {
    // alpha is per channel only when every spatial axis is shared; otherwise it is per position too.
    const shared = Array.isArray(cfg.shared_axes) ? (cfg.shared_axes as number[]) : [];
    return x.length > 2 && shared.length < x.length - 2 ? 'PReLU with a per-position alpha (shared_axes not set)' : undefined;
  },
});

function pool2d(cfg: Config, [x]: Shape[]): Shape {
  const [h, w] = spatialOut({ ...cfg, kernel_size: cfg.pool_size ?? [2, 2], dilation_rate: 1 }, x, 'kernel_size', cfg.pool_size ?? [2, 2]);
  return [x[0], h, w, last(x)];
}

function padAmounts(v: unknown, fallback: number): [[number, number], [number, number]] {
  if (Array.isArray(v) && Array.isArray(v[0])) {
    const [a, b] = v as number[][];
    return [pair(a, fallback), pair(b, fallback)];
  }
  const [h, w] = pair(v, fallback);
  return [[h, h], [w, w]];
}

const addDims = (a: number | null, d: number) => (a === null ? null : a + d);

const globalPool = passHandler({
  outputShape: (cfg, [x]) => (cfg.keepdims ? [x[0], ...x.slice(1, -1).map(() => 1), last(x)] : [x[0], last(x)]),
});

const merge: LayerHandler = { flow: 'merge', outputShape: sameShape, weights: noWeights, params: zero, macs: zero };

function activationFreeze(cfg: Config): string | undefined {
  const a = cfg.activation;
  return a === 'softmax' || a === 'logSoftmax' || a === 'log_softmax' ? 'softmax across channels' : undefined;
}

export const LAYER_HANDLERS: Record<string, LayerHandler> = {
  InputLayer: { flow: 'input', outputShape: (_c, [x]) => x, weights: noWeights, params: zero, macs: zero },
  Conv2D: conv2d,
  Conv2DTranspose: conv2dTranspose,
  SeparableConv2D: separableConv2d,
  DepthwiseConv2D: depthwiseConv2d,
  Dense: dense,
  BatchNormalization: batchNorm,
  Activation: passHandler({ freezeReason: activationFreeze }),
  ReLU: passHandler(),
  LeakyReLU: passHandler(),
  ELU: passHandler(),
  ThresholdedReLU: passHandler(),
  PReLU: prelu,
  Softmax: freezeHandler('softmax across channels'),
  Dropout: passHandler(),
  SpatialDropout1D: passHandler(),
  GaussianNoise: passHandler(),
  GaussianDropout: passHandler(),
  AlphaDropout: passHandler(),
  Rescaling: passHandler(),
  MaxPooling2D: passHandler({ outputShape: pool2d }),
  AveragePooling2D: passHandler({ outputShape: pool2d }),
  GlobalAveragePooling2D: globalPool,
  GlobalMaxPooling2D: globalPool,
  ZeroPadding2D: passHandler({
    outputShape: (cfg, [x]) => {
      const [[t, b], [l, r]] = padAmounts(cfg.padding, 1);
      return [x[0], addDims(x[1], t + b), addDims(x[2], l + r), last(x)];
    },
  }),
  Cropping2D: passHandler({
    outputShape: (cfg, [x]) => {
      const [[t, b], [l, r]] = padAmounts(cfg.cropping, 0);
      return [x[0], addDims(x[1], -t - b), addDims(x[2], -l - r), last(x)];
    },
  }),
  UpSampling2D: passHandler({
    outputShape: (cfg, [x]) => {
      const [sh, sw] = pair(cfg.size, 2);
      return [x[0], x[1] === null ? null : x[1] * sh, x[2] === null ? null : x[2] * sw, last(x)];
    },
  }),
  Add: merge,
  Multiply: merge,
  Average: merge,
  Maximum: merge,
  Minimum: merge,
  Subtract: merge,
  Concatenate: {
    flow: 'concat',
    outputShape: (cfg, inputs) => {
      const rank = inputs[0].length;
      const axis = (num(cfg.axis, -1) + rank) % rank;
      const out = [...inputs[0]];
      out[axis] = inputs.reduce<number | null>((s, x) => (s === null || x[axis] === null ? null : s + (x[axis] as number)), 0);
      return out;
    },
    weights: noWeights,
    params: zero,
    macs: zero,
    freezeReason: (cfg, inputs) => {
      const rank = inputs[0].length;
      return (num(cfg.axis, -1) + rank) % rank === rank - 1 ? undefined : 'Concatenate along a non-channel axis';
    },
  },
  Flatten: { flow: 'flatten', outputShape: (_c, [x]) => [x[0], prod(x.slice(1))], weights: noWeights, params: zero, macs: zero },
  Reshape: freezeHandler('Reshape', {
    outputShape: (cfg, [x]) => {
      const target = (cfg.target_shape as number[]).slice();
      const known = prod(target.filter((d) => d !== -1));
      return [x[0], ...target.map((d) => (d === -1 ? prod(x.slice(1)) / known : d))];
    },
  }),
  Permute: freezeHandler('Permute', {
    outputShape: (cfg, [x]) => [x[0], ...(cfg.dims as number[]).map((d) => x[d])],
  }),
  RepeatVector: freezeHandler('RepeatVector', { outputShape: (cfg, [x]) => [x[0], num(cfg.n, 1), last(x)] }),
  Embedding: freezeHandler('Embedding', {
    outputShape: (cfg, [x]) => [...x, num(cfg.output_dim, 0)],
    weights: () => ['embeddings'],
    params: (cfg) => num(cfg.input_dim, 0) * num(cfg.output_dim, 0),
  }),
  LayerNormalization: freezeHandler('LayerNormalization normalizes across channels', {
    weights: () => ['gamma', 'beta'],
    params: (_c, [x]) => 2 * last(x),
  }),
  ...Object.fromEntries(
    (['LSTM', 'GRU', 'SimpleRNN'] as const).map((cls) => {
      const gates = { LSTM: 4, GRU: 3, SimpleRNN: 1 }[cls];
      const h: LayerHandler = freezeHandler(`recurrent layer (${cls})`, {
        outputShape: (cfg, [x]) => (cfg.return_sequences ? [x[0], x[1], num(cfg.units, 0)] : [x[0], num(cfg.units, 0)]),
        weights: () => ['kernel', 'recurrent_kernel', 'bias'],
        params: (cfg, [x]) => {
          const u = num(cfg.units, 0);
          return gates * (last(x) * u + u * u + u);
        },
        macs: (cfg, [x]) => {
          const u = num(cfg.units, 0);
          return gates * (last(x) + u) * u * (x[1] ?? 1);
        },
      });
      return [cls, h];
    }),
  ),
};
