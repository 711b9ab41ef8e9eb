/**
 * MACs and parameters per layer, for the original model or for any choice of kept channels per
 * group: a tensor's channel count follows from its layout, so pruning never needs new shapes.
 */
import type { ModelGraph } from './graph';
import type { ChannelLayout, GroupAnalysis } from './groups';
import type { Shape } from './layers';

export interface LayerCost {
  layer: string;
  className: string;
  macs: number;
  /** Counted once per Keras layer: a shared layer's later calls show 0. */
  params: number;
  outputShape: Shape;
  /** The group this layer's output channels belong to. */
  group?: string;
}

export interface ModelCost {
  layers: LayerCost[];
  totalMacs: number;
  totalParams: number;
}

/** Kept channels per group id; groups not listed keep all their channels. */
export type KeepMap = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

function keptOf(keep: KeepMap | undefined, group: string, all: number): number {
  if (!keep) return all;
  // Group ids come from layer names in the file: a layer may be called `constructor`.
  const v = keep instanceof Map ? keep.get(group) : Object.hasOwn(keep, group) ? (keep as Record<string, number>)[group] : undefined;
  return v ?? all;
}

export function channelsOf(layout: ChannelLayout, keep?: KeepMap): number {
  return layout.spatial * layout.segments.reduce((s, seg) => s + keptOf(keep, seg.group, seg.channels), 0);
}

function withChannels(shape: Shape, layout: ChannelLayout | undefined, keep?: KeepMap): Shape {
  if (!layout || !keep) return shape;
  return [...shape.slice(0, -1), channelsOf(layout, keep)];
}

export function computeCost(graph: ModelGraph, groups: GroupAnalysis, keep?: KeepMap): ModelCost {
  const shapeOf = (t: string) => withChannels(graph.tensors.get(t)!.shape, groups.layouts.get(t), keep);
  let totalMacs = 0;
  let totalParams = 0;
  const layers = graph.layers.map((l): LayerCost => {
    const ins = l.inputs.length ? l.inputs.map(shapeOf) : l.inputShapes;
    const out = shapeOf(l.output);
    const h = l.handler;
    const macs = h ? h.macs(l.config, ins, out) : 0;
    const params = l.call > 0 ? 0 : h ? h.params(l.config, ins, out) : l.storedParams;
    totalMacs += macs;
    totalParams += params;
    const layout = groups.layouts.get(l.output);
    const group = groups.producedBy.get(l.id) ?? (layout?.segments.length === 1 ? layout.segments[0].group : undefined);
    return { layer: l.id, className: l.className, macs, params, outputShape: out, group };
  });
  return { layers, totalMacs, totalParams };
}
