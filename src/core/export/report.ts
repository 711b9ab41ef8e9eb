/**
 * report.json: what was done to a model and what it cost, in the shape DESIGN.md fixes.
 * Measurements (accuracy, latency) join it as those steps land.
 */
import type { ModelAnalysis } from '../model/analyze';
import type { LoadedModel } from '../model/types';
import type { PruneOptions, PruneResult } from '../prune/prune';

export interface ModelFigures {
  macs: number;
  params: number;
  bytes: number;
}

export interface PruneReport {
  tool: 'AMC Playground';
  createdAt: string;
  source: string;
  inputSize: number;
  original: ModelFigures;
  pruned: ModelFigures;
  ratios: { macs: number; params: number; bytes: number };
  /** Kept channels per group id (the policy contract), every prunable group listed. */
  policy: Record<string, number>;
  /** Channels per prunable group before pruning. */
  channels: Record<string, number>;
  options: PruneOptions & { refit: boolean };
}

export function pruneReport(original: LoadedModel, analysis: ModelAnalysis, result: PruneResult, options: PruneOptions & { refit?: boolean }): PruneReport {
  const prunable = analysis.groups.filter((g) => g.prunable);
  const o: ModelFigures = { macs: analysis.cost.totalMacs, params: analysis.cost.totalParams, bytes: original.bytesOnDisk };
  const p: ModelFigures = { macs: result.cost.totalMacs, params: result.cost.totalParams, bytes: result.model.bytesOnDisk };
  return {
    tool: 'AMC Playground',
    createdAt: new Date().toISOString(),
    source: original.source,
    inputSize: analysis.graph.inputSize,
    original: o,
    pruned: p,
    ratios: { macs: p.macs / o.macs, params: p.params / o.params, bytes: p.bytes / o.bytes },
    policy: Object.fromEntries(prunable.map((g) => [g.id, result.keep.get(g.id)!])),
    channels: Object.fromEntries(prunable.map((g) => [g.id, g.channels])),
    options: { ...options, refit: options.refit ?? false },
  };
}
