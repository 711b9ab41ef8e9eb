/**
 * Policy in, smaller model out: resolve the kept counts, pick the channels, rebuild.
 * This is what every AMC episode does, so it works on plain arrays and never touches tfjs layers.
 */
import { analyzeModel, type ModelAnalysis } from '../model/analyze';
import { computeCost, type ModelCost } from '../model/cost';
import type { LoadedModel } from '../model/types';
import { channelImportance, selectChannels, type ImportanceCriterion } from './importance';
import { resolvePolicy, type Policy, type PolicyOptions } from './policy';
import { rebuildModel } from './rebuild';

export interface PruneOptions extends PolicyOptions {
  criterion?: ImportanceCriterion;
  /** Channel importance per group id, computed once by `groupImportance` (a search prunes the same model hundreds of times). */
  importance?: ReadonlyMap<string, Float64Array>;
}

export interface PruneResult {
  model: LoadedModel;
  /** Kept channel count per group id (every group, frozen ones at full width). */
  keep: Map<string, number>;
  /** Kept channel indices per pruned group, ascending. */
  kept: Map<string, number[]>;
  /** Cost of the pruned model, computed from the original graph and `keep`. */
  cost: ModelCost;
}

export function pruneModel(model: LoadedModel, analysis: ModelAnalysis, policy: Policy, options: PruneOptions = {}): PruneResult {
  const keep = resolvePolicy(analysis.groups, policy, options);
  const kept = new Map<string, number[]>();
  for (const g of analysis.groups) {
    const n = keep.get(g.id)!;
    if (n < g.channels) kept.set(g.id, selectChannels(options.importance?.get(g.id) ?? channelImportance(model, analysis, g, options.criterion), n));
  }
  return { model: rebuildModel(model, analysis, kept), keep, kept, cost: computeCost(analysis.graph, analysis.groupAnalysis, keep) };
}

/** Importance of every channel of every prunable group, for `PruneOptions.importance`. */
export function groupImportance(model: LoadedModel, analysis: ModelAnalysis, criterion?: ImportanceCriterion): Map<string, Float64Array> {
  return new Map(analysis.groups.filter((g) => g.prunable).map((g) => [g.id, channelImportance(model, analysis, g, criterion)]));
}

/**
 * Analysis of a pruned model at the same input size as its original. No cost ceiling: a pruned
 * model never needs more than its original, which passed the one its loader applied.
 */
export function analyzePruned(result: PruneResult, original: ModelAnalysis): ModelAnalysis {
  return analyzeModel(result.model, { inputSize: original.graph.inputSize, maxBytes: Infinity });
}
