/**
 * Which axis of each weight holds input or output channels, per layer class: the single table
 * that slicing (rebuild) and ranking (importance) both read. `in` axes follow the layer's input
 * channels (times the Flatten factor for Dense rows), `out` axes its output channels. Pass-through
 * layers have only `in` axes: their output channels are their input channels.
 */
export type ChannelRole = 'in' | 'out';
export interface WeightAxis {
  axis: number;
  role: ChannelRole;
}

export interface SliceRule {
  weights: Record<string, WeightAxis[]>;
  /** Config keys that hold the output channel count. */
  outputCountKey?: string;
}

const bnVector = [{ axis: 0, role: 'in' as const }];

export const SLICE_RULES: Record<string, SliceRule> = {
  Conv2D: {
    weights: { kernel: [{ axis: 2, role: 'in' }, { axis: 3, role: 'out' }], bias: [{ axis: 0, role: 'out' }] },
    outputCountKey: 'filters',
  },
  // Keras stores the transposed kernel as [kh, kw, out, in].
  Conv2DTranspose: {
    weights: { kernel: [{ axis: 3, role: 'in' }, { axis: 2, role: 'out' }], bias: [{ axis: 0, role: 'out' }] },
    outputCountKey: 'filters',
  },
  SeparableConv2D: {
    weights: {
      depthwise_kernel: [{ axis: 2, role: 'in' }],
      pointwise_kernel: [{ axis: 2, role: 'in' }, { axis: 3, role: 'out' }],
      bias: [{ axis: 0, role: 'out' }],
    },
    outputCountKey: 'filters',
  },
  Dense: {
    weights: { kernel: [{ axis: 0, role: 'in' }, { axis: 1, role: 'out' }], bias: [{ axis: 0, role: 'out' }] },
    outputCountKey: 'units',
  },
  DepthwiseConv2D: { weights: { depthwise_kernel: [{ axis: 2, role: 'in' }], bias: bnVector } },
  BatchNormalization: { weights: { gamma: bnVector, beta: bnVector, moving_mean: bnVector, moving_variance: bnVector } },
  PReLU: { weights: { alpha: [{ axis: -1, role: 'in' }] } },
};

/** The weights of a consumer that read its input channels (what AMC ranks channels by). */
export function inputAxes(className: string): { weight: string; axis: number }[] {
  const rule = SLICE_RULES[className];
  if (!rule) return [];
  return Object.entries(rule.weights).flatMap(([weight, axes]) =>
    axes.filter((a) => a.role === 'in' && (className !== 'SeparableConv2D' || weight === 'pointwise_kernel')).map((a) => ({ weight, axis: a.axis })),
  );
}

/** The weights of a producer that hold its output filters. */
export function outputAxes(className: string): { weight: string; axis: number }[] {
  const rule = SLICE_RULES[className];
  if (!rule) return [];
  return Object.entries(rule.weights).flatMap(([weight, axes]) =>
    axes.filter((a) => a.role === 'out' && weight !== 'bias').map((a) => ({ weight, axis: a.axis })),
  );
}
