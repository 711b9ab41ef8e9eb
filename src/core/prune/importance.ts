/**
 * Channel importance, and the choice of which channels a group keeps.
 * Default (AMC): the L1 norm of the consumers' weights over each input channel, summed over every
 * consumer of the group. Options: L2 of the same, or the norm of the producers' output filters.
 */
import type { ModelAnalysis } from '../model/analyze';
import type { ChannelGroup } from '../model/groups';
import type { LoadedModel } from '../model/types';
import { reduceToAxis } from './ndarray';
import { inputAxes, outputAxes } from './weight-axes';

export type ImportanceCriterion = 'l1' | 'l2' | 'producer-l1';
export const IMPORTANCE_CRITERIA: readonly ImportanceCriterion[] = ['l1', 'l2', 'producer-l1'];

function fromConsumers(model: LoadedModel, analysis: ModelAnalysis, group: ChannelGroup, kind: 'l1' | 'l2sq'): Float64Array | undefined {
  const score = new Float64Array(group.channels);
  let any = false;
  for (const member of group.consumers) {
    const layer = analysis.graph.byId.get(member.layer)!;
    for (const { weight, axis } of inputAxes(layer.className)) {
      const w = model.byName.get(`${layer.name}/${weight}`);
      if (!w) continue;
      const perIndex = reduceToAxis(w.values, w.shape, axis, kind);
      const total = perIndex.length / member.spatial;
      const perChannel = new Float64Array(group.channels);
      for (let p = 0; p < member.spatial; p++) for (let c = 0; c < group.channels; c++) perChannel[c] += perIndex[p * total + member.offset + c];
      // L2 is taken per consumer, then summed over consumers, like L1.
      for (let c = 0; c < group.channels; c++) score[c] += kind === 'l2sq' ? Math.sqrt(perChannel[c]) : perChannel[c];
      any = true;
    }
  }
  return any ? score : undefined;
}

function fromProducers(model: LoadedModel, analysis: ModelAnalysis, group: ChannelGroup): Float64Array {
  const score = new Float64Array(group.channels);
  for (const id of group.producers) {
    const layer = analysis.graph.byId.get(id)!;
    for (const { weight, axis } of outputAxes(layer.className)) {
      const w = model.byName.get(`${layer.name}/${weight}`);
      if (!w) continue;
      reduceToAxis(w.values, w.shape, axis, 'l1').forEach((v, c) => (score[c] += v));
    }
  }
  return score;
}

export function channelImportance(model: LoadedModel, analysis: ModelAnalysis, group: ChannelGroup, criterion: ImportanceCriterion = 'l1'): Float64Array {
  if (criterion === 'producer-l1') return fromProducers(model, analysis, group);
  return fromConsumers(model, analysis, group, criterion === 'l2' ? 'l2sq' : 'l1') ?? fromProducers(model, analysis, group);
}

/** The `count` most important channels, ascending by index; ties go to the lower index. */
export function selectChannels(importance: ArrayLike<number>, count: number): number[] {
  const order = Array.from({ length: importance.length }, (_, i) => i);
  order.sort((a, b) => importance[b] - importance[a] || a - b);
  return order.slice(0, count).sort((a, b) => a - b);
}
