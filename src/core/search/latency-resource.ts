/**
 * Latency as the search's resource: a per-layer table timed on this device, calibrated on whole
 * pruned models, predicts a policy's latency for the action wall. Episodes are then scored with
 * their measured end-to-end latency (EpisodeScorer's `latency` option), never the prediction.
 */
import type { ModelAnalysis } from '../model/analyze';
import type { KeepMap } from '../model/cost';
import type { LoadedModel } from '../model/types';
import { disposeModel, instantiate } from '../model/tfjs-model';
import { measureInterleaved, measureLatency, type LatencyOptions } from '../measure/latency';
import { buildLatencyTable, calibrate, predictLatency, tableSum, type LatencyTable } from '../measure/latency-table';
import { groupImportance, pruneModel } from '../prune/prune';
import { Rng } from '../random';
import { LOAD_CHANGE, SEARCH_TIMING } from './config';
import type { Resource } from './env';

/**
 * Predicted latency for the wall, refitted after every episode on that episode's measured latency:
 * the episodes crowd around the target, so the fit becomes most accurate exactly where the wall
 * draws its line. Saved with the search (`save`/`load`) so a resumed search draws the same walls.
 */
export class MeasuredLatency implements Resource {
  readonly kind = 'latency' as const;
  private pairs: { sum: number; measuredMs: number }[];
  table: LatencyTable;

  constructor(
    table: LatencyTable,
    private readonly analysis: ModelAnalysis,
    calibration: { sum: number; measuredMs: number }[] = [],
  ) {
    this.pairs = calibration.map(({ sum, measuredMs }) => ({ sum, measuredMs }));
    this.table = this.pairs.length ? calibrate(table, this.pairs) : table;
  }

  of(keep: KeepMap): number {
    return predictLatency(this.table, this.analysis, keep);
  }

  /** A table whose fit misses the whole models it was calibrated or checked on by this much was timed under changing load. */
  static readonly POOR_FIT = 0.25;

  loadSigns(): string | undefined {
    const misses = [this.table.calibrationError, this.table.heldOutError].filter((e): e is number => e !== undefined && e > MeasuredLatency.POOR_FIT);
    if (!misses.length) return undefined;
    return `the table's fit missed the whole models it was checked on by ${(100 * Math.max(...misses)).toFixed(0)}%, a sign that the timings changed while it was measured`;
  }

  observe(keep: KeepMap, measuredMs: number): void {
    this.pairs.push({ sum: tableSum(this.table, this.analysis, keep), measuredMs });
    this.table = calibrate(this.table, this.pairs);
  }

  /** Which table the pairs' sums belong to: measurements made against another table (another backend, a re-timed table) do not apply. */
  private get tableKey(): string {
    return `${this.table.backend}:${this.table.layers.reduce((s, l) => s + l.ms.reduce((a, b) => a + b, 0), 0).toPrecision(12)}`;
  }

  save(): unknown {
    return { table: this.tableKey, pairs: this.pairs.map((p) => ({ ...p })) };
  }

  load(state: unknown): void {
    const s = state as { table?: string; pairs?: { sum: number; measuredMs: number }[] } | null;
    const pairs = s?.pairs;
    if (!Array.isArray(pairs) || s?.table !== this.tableKey) return;
    this.pairs = pairs.map((p) => ({ ...p }));
    this.table = calibrate(this.table, this.pairs);
  }
}

/** The latency Resource for a table from `deviceLatencyTable` (pass its fitted points to keep refining the same fit). */
export function latencyResource(table: LatencyTable, analysis: ModelAnalysis, points: CalibrationPoint[] = []): MeasuredLatency {
  return new MeasuredLatency(table, analysis, points.filter((p) => p.ratio !== null));
}

/** Uniform preserve ratios of the whole models the table is calibrated on. */
const CALIBRATION_RATIOS = [1, 0.8, 0.6, 0.45, 0.3];
/** Random policies measured to report the predictor's error on policies it was not fitted on. */
const HELD_OUT = 4;

/**
 * A latency search's per-layer latency table, measured on this device before the first episode,
 * with the end-to-end calibration points. Saved once with the search: a resumed search uses the
 * same table (the same action wall), not a re-measured one.
 */
export interface SavedLatency {
  table: LatencyTable;
  points: CalibrationPoint[];
}

export interface CalibrationPoint {
  /** Uniform preserve ratio, or null for a held-out random policy (not used in the fit). */
  ratio: number | null;
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
  options: { layer?: LatencyOptions; endToEnd?: LatencyOptions; roundTo?: number; seed?: number } = {},
  onProgress?: (fraction: number, what: string) => void,
): Promise<SavedLatency> {
  // Timings taken while V8 and the backend are still cold run slow: warm up on the whole model first.
  const warm = await instantiate(model);
  try {
    await measureLatency(warm, SEARCH_TIMING.tableWarm, analysis.graph.inputSize);
  } finally {
    disposeModel(warm);
  }
  const raw = await buildLatencyTable(analysis, options.layer ?? SEARCH_TIMING.tableLayer, (done, total) => onProgress?.(0.8 * (done / total), `timing layers (${done}/${total})`));
  onProgress?.(0.8, 'timing whole pruned models');
  const importance = groupImportance(model, analysis);
  const prunable = analysis.groups.filter((g) => g.prunable);
  const uniform = CALIBRATION_RATIOS.map((r) => Object.fromEntries(prunable.map((g) => [g.id, r === 1 ? g.channels : r])));
  // Held-out check: random per-group ratios (seeded), measured like the others but not fitted on.
  const rng = new Rng(options.seed ?? 1);
  const heldOut = Array.from({ length: HELD_OUT }, () => Object.fromEntries(prunable.map((g) => [g.id, rng.uniform(0.25, 1)])));
  const results = [...uniform, ...heldOut].map((p) => pruneModel(model, analysis, p, { roundTo: options.roundTo, importance }));
  const nets = await Promise.all(results.map((r) => instantiate(r.model)));
  try {
    const stats = await measureInterleaved(nets, options.endToEnd ?? SEARCH_TIMING.tableEndToEnd, analysis.graph.inputSize);
    const pairs = results.map((r, i) => ({ sum: tableSum(raw, analysis, r.keep), measuredMs: stats[i].medianMs }));
    const table = calibrate(raw, pairs.slice(0, uniform.length));
    const points = pairs.map((p, i) => ({ ratio: i < uniform.length ? CALIBRATION_RATIOS[i] : null, ...p, predictedMs: table.scale * p.sum + table.offset }));
    const held = points.filter((p) => p.ratio === null);
    table.heldOutError = held.length ? held.reduce((s, p) => s + Math.abs(p.predictedMs - p.measuredMs) / p.measuredMs, 0) / held.length : undefined;
    onProgress?.(1, 'latency table ready');
    return { table, points };
  } finally {
    nets.forEach((n) => disposeModel(n));
  }
}

/**
 * How far the device's speed moved during a latency search: the original model's latency in each
 * episode's paired timing (and any later timing), as a multiple of its latency at the start, and
 * the share of those timings more than LOAD_CHANGE away from it. Busy when that share passes
 * BUSY_SHARE: a lone spike disturbs one episode, a busy stretch disturbs the search. Ratios measured
 * on a busy device are not to be trusted: measured here with four other processes on two cores,
 * plain-cnn's original went from 3.45 ms at the start to 7-56 ms in the episodes and 11.8 ms at the
 * end (3.4x), while its uniform policy went from about 1.75 to 2.19 ms (1.25x): a short run is less
 * often interrupted, so pruned models looked far faster than they are.
 */
export function originalLatencySpread(startMs: number, laterMs: readonly (number | undefined)[]): { startMs: number; min: number; max: number; offShare: number; busy: boolean } | null {
  const ratios = laterMs.filter((ms): ms is number => typeof ms === 'number' && ms > 0).map((ms) => ms / startMs);
  if (!(startMs > 0) || !ratios.length) return null;
  const offShare = ratios.filter((r) => r > 1 + LOAD_CHANGE || r < 1 / (1 + LOAD_CHANGE)).length / ratios.length;
  return { startMs, min: Math.min(...ratios), max: Math.max(...ratios), offShare, busy: offShare > BUSY_SHARE };
}

/** More than this share (10%) of a search's timings off by LOAD_CHANGE: the device was busy, not merely spiking. */
export const BUSY_SHARE = 0.1;
