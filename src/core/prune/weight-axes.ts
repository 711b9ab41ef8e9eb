/**
 * Which axis of each weight holds input or output channels, per layer class: derived from the
 * layer registry (model/layers.ts, each handler's `axes` and `widthKey`), read by slicing (rebuild)
 * and ranking (importance). `in` axes follow the layer's input channels (times the Flatten factor
 * for Dense rows), `out` axes its output channels. Pass-through layers have only `in` axes: their
 * output channels are their input channels.
 */
import { LAYER_HANDLERS, type ChannelRole, type WeightAxis } from '../model/layers';

export type { ChannelRole, WeightAxis };

export interface SliceRule {
  weights: Readonly<Record<string, readonly WeightAxis[]>>;
  /** Config keys that hold the output channel count. */
  outputCountKey?: string;
}

export const SLICE_RULES: Readonly<Record<string, SliceRule>> = Object.fromEntries(
  Object.entries(LAYER_HANDLERS).flatMap(([className, h]) => (h.axes ? [[className, { weights: h.axes, outputCountKey: h.widthKey }]] : [])),
);

/** The weights of a consumer that read its input channels (what AMC ranks channels by). */
export function inputAxes(className: string): { weight: string; axis: number }[] {
  const rule = Object.hasOwn(SLICE_RULES, className) ? SLICE_RULES[className] : undefined;
  if (!rule) return [];
  return Object.entries(rule.weights).flatMap(([weight, axes]) =>
    axes.filter((a) => a.role === 'in' && a.ranks !== false).map((a) => ({ weight, axis: a.axis })),
  );
}

/** The weights of a producer that hold its output filters (the bias is no filter). */
export function outputAxes(className: string): { weight: string; axis: number }[] {
  const rule = Object.hasOwn(SLICE_RULES, className) ? SLICE_RULES[className] : undefined;
  if (!rule) return [];
  return Object.entries(rule.weights).flatMap(([weight, axes]) =>
    axes.filter((a) => a.role === 'out' && weight !== 'bias').map((a) => ({ weight, axis: a.axis })),
  );
}
