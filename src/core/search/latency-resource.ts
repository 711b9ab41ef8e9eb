/**
 * Latency as the search's resource: a per-layer table timed on this device, calibrated on whole
 * pruned models, predicts a policy's latency for the action wall. Episodes are then scored with
 * their measured end-to-end latency (EpisodeScorer's `latency` option), never the prediction.
 */
import type { ModelAnalysis } from '../model/analyze';
import type { LoadedModel } from '../model/types';
import { instantiate } from '../model/tfjs-model';
import { measureInterleaved, type LatencyOptions } from '../measure/latency';
import { buildLatencyTable, calibrate, predictLatency, tableSum, type LatencyTable } from '../measure/latency-table';
import { groupImportance, pruneModel } from '../prune/prune';
import type { Resource } from './env';

export function latencyResource(table: LatencyTable, analysis: ModelAnalysis): Resource {
  return { kind: 'latency', of: (keep) => predictLatency(table, analysis, keep) };
}

/** Uniform preserve ratios of the whole models the table is calibrated on. */
const CALIBRATION_RATIOS = [1, 0.8, 0.6, 0.45, 0.3];

export interface CalibrationPoint {
  ratio: number;
  sum: number;
  measuredMs: number;
  predictedMs: number;
}

/**
 * Builds the table, then measures uniformly pruned copies of the model end to end (interleaved)
 * and fits the table to them. Returns the table and each calibration model's prediction error.
 */
export async function deviceLatencyTable(
  model: LoadedModel,
  analysis: ModelAnalysis,
  options: { layer?: LatencyOptions; endToEnd?: LatencyOptions; roundTo?: number } = {},
  onProgress?: (fraction: number, what: string) => void,
): Promise<{ table: LatencyTable; points: CalibrationPoint[] }> {
  const raw = await buildLatencyTable(analysis, options.layer, (done, total) => onProgress?.(0.8 * (done / total), `timing layers (${done}/${total})`));
  onProgress?.(0.8, 'timing whole pruned models');
  const importance = groupImportance(model, analysis);
  const prunable = analysis.groups.filter((g) => g.prunable);
  const policies = CALIBRATION_RATIOS.map((r) => Object.fromEntries(prunable.map((g) => [g.id, r === 1 ? g.channels : r])));
  const results = policies.map((p) => pruneModel(model, analysis, p, { roundTo: options.roundTo, importance }));
  const nets = await Promise.all(results.map((r) => instantiate(r.model)));
  try {
    const stats = await measureInterleaved(nets, options.endToEnd ?? { warmup: 5, runs: 20 }, analysis.graph.inputSize);
    const pairs = results.map((r, i) => ({ sum: tableSum(raw, analysis, r.keep), measuredMs: stats[i].medianMs }));
    const table = calibrate(raw, pairs);
    onProgress?.(1, 'latency table ready');
    return {
      table,
      points: pairs.map((p, i) => ({ ratio: CALIBRATION_RATIOS[i], ...p, predictedMs: table.scale * p.sum + table.offset })),
    };
  } finally {
    nets.forEach((n) => n.dispose());
  }
}
