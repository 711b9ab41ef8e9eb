/**
 * What a layer handler is, and the helpers the families share. A handler holds every fact about
 * one Keras class that the engine needs: how its channels flow (groups), its output shape, its
 * weights and which axis of each holds channels (slicing, ranking), its parameters and MACs (cost),
 * why it may stop pruning, the config key that sets its width, whether it is timed (latency table)
 * and how it is refitted (least squares).
 *
 * Shapes include the batch dimension (null) and are channels-last.
 * MACs: conv Cin*Cout*kh*kw*Hout*Wout/groups; dense in*out per position (biases are not counted as
 * MACs, they are counted as parameters); BN, activations, pooling and merges count 0 MACs.
 *
 * Configs are typed the way tfjs-layers' keras_format/ types them (snake_case, as model.json holds
 * them), widened by the Keras keys tfjs does not know. They come from user files: handlers still
 * read numbers through `num`/`pair`, never trusting the types.
 */
import type { LayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/topology_config';

export type Shape = (number | null)[];
export type { LayerConfig };
/** A config as the graph holds it: any Keras layer's, untyped. */
export type AnyLayerConfig = Record<string, unknown>;

/**
 * - input: a model input (its channels are the data's own)
 * - produce: consumes its input channels through weights and makes a new channel space (Conv2D, Dense)
 * - pass: output channel c is input channel c (BN, activations, pooling, depthwise with multiplier 1)
 * - merge: element-wise across inputs, which must therefore keep the same channels (Add)
 * - concat: output channels are the inputs' channels one after another
 * - flatten: output feature (h*W + w)*C + c comes from channel c
 * - freeze: channel identity is lost (Reshape, Embedding, recurrent, unknown): groups it touches cannot be pruned
 */
export type ChannelFlow = 'input' | 'produce' | 'pass' | 'merge' | 'concat' | 'flatten' | 'freeze';

/** `in` axes follow the layer's input channels (times the Flatten factor for Dense rows), `out` axes its output channels. */
export type ChannelRole = 'in' | 'out';
export interface WeightAxis {
  axis: number;
  role: ChannelRole;
  /** false: sliced, but not read to rank channels (SeparableConv2D's depthwise half only passes them through). */
  ranks?: false;
}

/** How the refit solves a consumer: `conv` through im2col of its kernel window, `dense` one position (or the flat vector) at a time. */
export type RefitKind = 'conv' | 'dense';

export interface LayerHandler<C = AnyLayerConfig> {
  flow: ChannelFlow;
  outputShape(cfg: C, inputs: Shape[]): Shape;
  /** Short weight names (`kernel`, `bias`, ...) in the order Keras saves them. */
  weights(cfg: C, inputs: Shape[]): string[];
  params(cfg: C, inputs: Shape[], output: Shape): number;
  /**
   * The shape of each weight tfjs creates for this config on these inputs, by short name: what the
   * loader checks the weightsManifest against before anything is built (a config that does not
   * match its weights is refused, naming both). Absent for classes whose weights are not checked.
   */
  weightShapes?(cfg: C, inputs: Shape[], output: Shape): Record<string, Shape>;
  macs(cfg: C, inputs: Shape[], output: Shape): number;
  /** A reason this layer stops channel pruning through it even though its flow would allow it. */
  freezeReason?(cfg: C, inputs: Shape[]): string | undefined;
  /** For produce layers: also passes its input channels through weights that must be sliced (SeparableConv2D's depthwise half). */
  slicesInput?: boolean;
  /**
   * Which axis of each weight holds input or output channels: what slicing (rebuild) and ranking
   * (importance) read. Names every weight `weights` can return (layers.test.ts checks it against
   * the weights tfjs creates). Pass-through layers have only `in` axes: their output channels are
   * their input channels. Absent for layers that are never pruned through (frozen).
   */
  axes?: Readonly<Record<string, readonly WeightAxis[]>>;
  /** The config key that sets the output channel count (what rebuild rewrites, what the latency probe sets); other layers' outputs follow their input. */
  widthKey?: 'filters' | 'units';
  /** false for layers that move no data worth timing (views, and no-ops at inference): the latency table leaves them out. */
  timed: boolean;
  /** How a consumer of a pruned group is refitted, or undefined when it is left sliced. */
  refit?(cfg: C): RefitKind | undefined;
}

export const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
export const pair = (v: unknown, fallback: number): [number, number] =>
  Array.isArray(v) ? [num(v[0], fallback), num(v[1] ?? v[0], fallback)] : [num(v, fallback), num(v, fallback)];
/** `dims` sizes from a number or a list (Keras writes Conv1D's kernel_size as [3], tfjs as 3 or [3]). */
export const tuple = (v: unknown, dims: number, fallback: number): number[] =>
  Array.from({ length: dims }, (_, i) => (Array.isArray(v) ? num(v[i] ?? v[0], fallback) : num(v, fallback)));
export const prod = (xs: readonly (number | null)[]): number => xs.reduce<number>((a, b) => a * (b ?? 1), 1);
export const last = (s: Shape): number => s[s.length - 1] ?? 0;
export const useBias = (cfg: { use_bias?: unknown }) => cfg.use_bias !== false;

function convLength(size: number | null, kernel: number, stride: number, padding: unknown, dilation: number): number | null {
  if (size === null) return null;
  const k = (kernel - 1) * dilation + 1;
  // 'causal' (Conv1D) pads (k - 1) * dilation on the left: the length is the input's, like 'same'.
  return padding === 'same' || padding === 'causal' ? Math.ceil(size / stride) : Math.floor((size - k) / stride) + 1;
}

/** Output sizes of a sliding window over the `dims` spatial axes of `input` (convolutions, pooling; 1-D or 2-D). */
export function windowOut(cfg: AnyLayerConfig, input: Shape, dims: number, kernelKey = 'kernel_size', defaultStride?: unknown): (number | null)[] {
  const k = tuple(cfg[kernelKey], dims, 1);
  const s = tuple(cfg.strides ?? defaultStride ?? 1, dims, 1);
  const d = tuple(cfg.dilation_rate, dims, 1);
  return k.map((_, i) => convLength(input[i + 1], k[i], s[i], cfg.padding, d[i]));
}

/** Output height and width of a sliding window over `input` (2-D convolutions, pooling). */
export function spatialOut(cfg: AnyLayerConfig, input: Shape, kernelKey = 'kernel_size', defaultStride?: unknown): [number | null, number | null] {
  const [h, w] = windowOut(cfg, input, 2, kernelKey, defaultStride);
  return [h, w];
}

export const zero = () => 0;
export const noWeights = () => [];
export const sameShape = (_: unknown, inputs: Shape[]) => [...inputs[0]];

/** Output channel c is input channel c; no weights, no MACs, timed unless `extra` says otherwise. */
export const passHandler = <C = AnyLayerConfig>(extra: Partial<LayerHandler<C>> = {}): LayerHandler<C> => ({
  flow: 'pass',
  outputShape: sameShape,
  weights: noWeights,
  params: zero,
  macs: zero,
  timed: true,
  ...extra,
});

/** Channel identity is lost: every group the layer touches is frozen with `reason`. */
export const freezeHandler = <C = AnyLayerConfig>(reason: string, extra: Partial<LayerHandler<C>> = {}): LayerHandler<C> => ({
  flow: 'freeze',
  outputShape: sameShape,
  weights: noWeights,
  params: zero,
  macs: zero,
  freezeReason: () => reason,
  timed: true,
  ...extra,
});

/** A per-channel vector (BatchNormalization's statistics, a depthwise bias): its one axis follows the input channels. */
export const channelVector: readonly WeightAxis[] = [{ axis: 0, role: 'in' }];
