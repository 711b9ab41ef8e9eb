/**
 * Coupled channel groups: the sets of channels that must be removed together.
 *
 * Every tensor's last axis is described as a layout: a list of segments, each a run of channels of
 * one channel space, times a spatial factor (after Flatten, feature (h*W + w)*C + c holds channel c).
 * Layers that produce channels open a new space; pass-through layers keep the layout; element-wise
 * merges (Add, Multiply, ...) unite the spaces of their inputs; Concatenate lays segments end to end.
 * United spaces are the groups. A group is frozen, with the reason kept, when it reaches a model
 * input or output, a layer that loses channel identity (Reshape, Embedding, recurrent), or a class
 * the handlers do not know.
 */
import type { ModelGraph, GraphLayer } from './graph';

/** A layer's place in a group: where the group's channels start in that layer's channel axis. */
export interface GroupMember {
  layer: string;
  /** Index of the group's first channel among the layer's input channels (before any Flatten factor). */
  offset: number;
  /** Positions per channel in the layer's input: H*W after a Flatten, otherwise 1. */
  spatial: number;
}

export interface ChannelGroup {
  /** Stable id: the first producing layer's id (or the input layer's for the model input). */
  id: string;
  channels: number;
  prunable: boolean;
  frozenReason?: string;
  /** Set when the group is frozen only because it reaches a model output (keeping fewer outputs would free it: outputs.ts). */
  outputOnly?: true;
  /** Layers whose output channels (filters, units) are this group. */
  producers: string[];
  /** Layers the channels pass through (BN, activations, depthwise, merges, pooling, ...). */
  passThrough: GroupMember[];
  /** Layers whose weights read this group as input channels. */
  consumers: GroupMember[];
}

export interface LayoutSegment {
  group: string;
  channels: number;
}

/** The last axis of a tensor, as segments of groups times a spatial factor. */
export interface ChannelLayout {
  segments: LayoutSegment[];
  spatial: number;
}

export interface GroupAnalysis {
  groups: ChannelGroup[];
  byId: Map<string, ChannelGroup>;
  /** Layout of every tensor, by tensor id. */
  layouts: Map<string, ChannelLayout>;
  /** The group each producing layer's output belongs to, by layer id. */
  producedBy: Map<string, string>;
}

interface Space {
  parent: number;
  channels: number;
  producers: string[];
  passThrough: GroupMember[];
  consumers: GroupMember[];
  frozen: string[];
  order: number;
}

interface RawLayout {
  segments: { space: number; channels: number }[];
  spatial: number;
}

class SpaceSet {
  spaces: Space[] = [];

  create(channels: number, order: number): number {
    this.spaces.push({ parent: this.spaces.length, channels, producers: [], passThrough: [], consumers: [], frozen: [], order });
    return this.spaces.length - 1;
  }

  find(i: number): number {
    while (this.spaces[i].parent !== i) {
      this.spaces[i].parent = this.spaces[this.spaces[i].parent].parent;
      i = this.spaces[i].parent;
    }
    return i;
  }

  get(i: number): Space {
    return this.spaces[this.find(i)];
  }

  union(a: number, b: number): void {
    const [ra, rb] = [this.find(a), this.find(b)];
    if (ra === rb) return;
    const [keep, drop] = this.spaces[ra].order <= this.spaces[rb].order ? [ra, rb] : [rb, ra];
    const k = this.spaces[keep];
    const d = this.spaces[drop];
    k.producers.push(...d.producers);
    k.passThrough.push(...d.passThrough);
    k.consumers.push(...d.consumers);
    k.frozen.push(...d.frozen);
    d.parent = keep;
  }

  freeze(layout: RawLayout, reason: string): void {
    for (const s of layout.segments) {
      const sp = this.get(s.space);
      if (!sp.frozen.includes(reason)) sp.frozen.push(reason);
    }
  }
}

const channelsOfRaw = (l: RawLayout) => l.segments.reduce((s, x) => s + x.channels, 0);

/** Adds `layer` as a member of every space in `layout`, with its offset. */
function addMembers(set: SpaceSet, layout: RawLayout, layer: string, role: 'passThrough' | 'consumers'): void {
  let offset = 0;
  for (const seg of layout.segments) {
    set.get(seg.space)[role].push({ layer, offset, spatial: layout.spatial });
    offset += seg.channels;
  }
}

function sameStructure(a: RawLayout, b: RawLayout): boolean {
  return a.spatial === b.spatial && a.segments.length === b.segments.length && a.segments.every((s, i) => s.channels === b.segments[i].channels);
}

const OUTPUT_REASON = 'reaches model output ';

export function analyzeGroups(graph: ModelGraph): GroupAnalysis {
  const set = new SpaceSet();
  const raw = new Map<string, RawLayout>();
  const producerSpace = new Map<string, number>(); // by Keras layer name: shared layers produce one space
  const order = new Map<string, number>(graph.layers.map((l, i) => [l.id, i]));
  const lastDim = (l: GraphLayer) => l.outputShape[l.outputShape.length - 1] ?? 0;

  const fresh = (layer: GraphLayer, frozen?: string): RawLayout => {
    const space = set.create(lastDim(layer), order.get(layer.id)!);
    if (frozen) set.get(space).frozen.push(frozen);
    return { segments: [{ space, channels: lastDim(layer) }], spatial: 1 };
  };

  for (const layer of graph.layers) {
    const ins = layer.inputs.map((t) => raw.get(t)!);
    const h = layer.handler;
    let out: RawLayout;
    if (!h) {
      const reason = `reaches layer '${layer.id}' of class ${layer.className}, which the pruner does not handle`;
      ins.forEach((l) => set.freeze(l, reason));
      out = fresh(layer, reason);
    } else {
      const reason = h.freezeReason?.(layer.config, layer.inputShapes);
      const why = reason && `reaches '${layer.id}': ${reason}`;
      switch (h.flow) {
        case 'input':
          out = fresh(layer, `model input '${layer.id}' (the data's own channels)`);
          break;
        case 'produce': {
          addMembers(set, ins[0], layer.id, 'consumers');
          if (h.slicesInput) addMembers(set, ins[0], layer.id, 'passThrough');
          const prior = producerSpace.get(layer.name);
          if (prior !== undefined) {
            out = { segments: [{ space: prior, channels: lastDim(layer) }], spatial: 1 };
          } else {
            out = fresh(layer);
            producerSpace.set(layer.name, out.segments[0].space);
            set.get(out.segments[0].space).producers.push(layer.id);
          }
          if (why) {
            set.freeze(ins[0], why);
            set.freeze(out, why);
          }
          break;
        }
        case 'pass':
          if (why) set.freeze(ins[0], why);
          if (channelsOfRaw(ins[0]) === lastDim(layer)) {
            addMembers(set, ins[0], layer.id, 'passThrough');
            out = ins[0];
          } else {
            out = fresh(layer, why);
            set.get(out.segments[0].space).producers.push(layer.id);
          }
          break;
        case 'merge': {
          if (ins.every((l) => sameStructure(l, ins[0]))) {
            for (const l of ins.slice(1)) l.segments.forEach((s, i) => set.union(ins[0].segments[i].space, s.space));
            addMembers(set, ins[0], layer.id, 'passThrough');
            out = ins[0];
          } else {
            const r = `reaches '${layer.id}' (${layer.className}) whose inputs have different channel layouts`;
            ins.forEach((l) => set.freeze(l, r));
            out = fresh(layer, r);
          }
          break;
        }
        case 'concat':
          if (why || ins.some((l) => l.spatial !== 1)) {
            const r = why ?? `reaches '${layer.id}': Concatenate of flattened tensors`;
            ins.forEach((l) => set.freeze(l, r));
            out = fresh(layer, r);
          } else {
            out = { segments: ins.flatMap((l) => l.segments), spatial: 1 };
            addMembers(set, out, layer.id, 'passThrough');
          }
          break;
        case 'flatten': {
          const x = layer.inputShapes[0];
          const positions = x.slice(1, -1).reduce<number>((a, b) => a * (b ?? 1), 1);
          addMembers(set, ins[0], layer.id, 'passThrough');
          out = { segments: ins[0].segments, spatial: ins[0].spatial * positions };
          break;
        }
        case 'freeze':
          ins.forEach((l) => set.freeze(l, why ?? `reaches '${layer.id}' (${layer.className})`));
          out = fresh(layer, why ?? `made by '${layer.id}' (${layer.className})`);
          set.get(out.segments[0].space).producers.push(layer.id);
          break;
      }
    }
    raw.set(layer.output, out);
  }
  for (const t of graph.outputs) set.freeze(raw.get(t)!, `${OUTPUT_REASON}'${graph.tensors.get(t)!.producer}'`);

  // Root spaces become groups, in network order.
  const roots = [...new Set(set.spaces.map((_, i) => set.find(i)))].sort((a, b) => set.spaces[a].order - set.spaces[b].order);
  const groupIdOf = new Map<number, string>();
  const groups: ChannelGroup[] = roots.map((r) => {
    const sp = set.spaces[r];
    const producers = [...new Set(sp.producers)].sort((a, b) => order.get(a)! - order.get(b)!);
    const id = producers[0] ?? graph.layers[sp.order].id;
    groupIdOf.set(r, id);
    const frozen = sp.frozen.length ? sp.frozen : sp.channels <= 1 ? ['has a single channel'] : producers.length === 0 ? ['no layer produces these channels'] : [];
    return {
      id,
      channels: sp.channels,
      prunable: frozen.length === 0,
      frozenReason: frozen.length ? frozen.join('; ') : undefined,
      ...(sp.frozen.length && sp.frozen.every((r) => r.startsWith(OUTPUT_REASON)) ? { outputOnly: true as const } : {}),
      producers,
      passThrough: dedupe(sp.passThrough),
      consumers: dedupe(sp.consumers),
    };
  });
  const layouts = new Map<string, ChannelLayout>();
  for (const [t, l] of raw) {
    layouts.set(t, { spatial: l.spatial, segments: l.segments.map((s) => ({ group: groupIdOf.get(set.find(s.space))!, channels: s.channels })) });
  }
  const producedBy = new Map<string, string>();
  for (const g of groups) for (const p of g.producers) producedBy.set(p, g.id);
  return { groups, byId: new Map(groups.map((g) => [g.id, g])), layouts, producedBy };
}

function dedupe(members: GroupMember[]): GroupMember[] {
  const seen = new Set<string>();
  return members.filter((m) => {
    const k = `${m.layer}@${m.offset}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
