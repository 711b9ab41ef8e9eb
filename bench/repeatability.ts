/**
 * Repeatability of the latency harness. The same two models (the original and every prunable
 * group at half its channels) are measured 10 times, rebuilt before each measurement as every
 * search episode builds its model, with several warm-up/run counts. Reported per count:
 *   - the coefficient of variation (sd / mean) of the original's median: how far one absolute
 *     figure can be trusted on this device;
 *   - the CoV of the pruned/original ratio when the two are timed interleaved (A B A B ...) in the
 *     same measurement: what the search's per-episode ratio is;
 *   - the CoV of that ratio when the original was timed once, in the first repeat (how a search
 *     that times the original only at its start would see it).
 * Plans are interleaved within each repeat, so a device that slows down over the minute affects
 * every plan alike.
 *
 * No Node imports: the bench page in Chromium (bench/browser/latency.ts) runs the same code.
 */
import { burnIn } from '../src/core/measure/burn-in';
import { measureInterleaved, type LatencyOptions } from '../src/core/measure/latency';
import type { ModelAnalysis } from '../src/core/model/analyze';
import { instantiate } from '../src/core/model/tfjs-model';
import type { LoadedModel } from '../src/core/model/types';
import { pruneModel } from '../src/core/prune/prune';

/** From fewer runs than an episode uses to many more than it can afford. */
export const REPEAT_PLANS: Required<Pick<LatencyOptions, 'warmup' | 'runs'>>[] = [
  { warmup: 3, runs: 5 },
  { warmup: 3, runs: 15 },
  { warmup: 5, runs: 30 },
  { warmup: 10, runs: 100 },
];
export const REPEATS = 10;

export interface Variation {
  mean: number;
  /** Sample sd / mean. */
  cov: number;
  /** The largest distance of one value from the mean, relative to the mean. */
  worst: number;
}

export interface RepeatRow {
  model: string;
  where: string;
  warmup: number;
  runs: number;
  repeats: number;
  /** The original's median in each repeat, ms. */
  medians: number[];
  original: Variation;
  /** pruned / original, both timed interleaved in the same measurement. */
  paired: Variation;
  /** pruned (this repeat) / original (first repeat). */
  unpaired: Variation;
  /** Wall time of one measurement of the two models (warm-up + runs, builds excluded), ms. */
  costMs: number;
}

export function variation(xs: readonly number[]): Variation {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, cov: mean > 0 ? sd / mean : 0, worst: mean > 0 ? Math.max(...xs.map((x) => Math.abs(x - mean))) / mean : 0 };
}

/** The original with every prunable group at half width: the pruned model the ratios are taken of. */
export function halfWidth(model: LoadedModel, analysis: ModelAnalysis): LoadedModel {
  const keep = Object.fromEntries(analysis.groups.filter((g) => g.prunable).map((g) => [g.id, Math.max(1, Math.round(g.channels / 2))]));
  return pruneModel(model, analysis, keep, { roundTo: 1 }).model;
}

export async function repeatability(
  model: LoadedModel,
  analysis: ModelAnalysis,
  o: { name: string; where: string; plans?: typeof REPEAT_PLANS; repeats?: number },
): Promise<RepeatRow[]> {
  const plans = o.plans ?? REPEAT_PLANS;
  const repeats = o.repeats ?? REPEATS;
  const pruned = halfWidth(model, analysis);
  const warm = [await instantiate(model), await instantiate(pruned)];
  await burnIn(warm, analysis.graph.inputSize);
  warm.forEach((n) => n.dispose());
  const a = plans.map(() => [] as number[]);
  const b = plans.map(() => [] as number[]);
  const cost = plans.map(() => 0);
  for (let r = 0; r < repeats; r++) {
    for (let k = 0; k < plans.length; k++) {
      const i = (k + r) % plans.length;
      const nets = [await instantiate(model), await instantiate(pruned)];
      try {
        const t0 = performance.now();
        const [sa, sb] = await measureInterleaved(nets, plans[i], analysis.graph.inputSize);
        cost[i] += performance.now() - t0;
        a[i].push(sa.medianMs);
        b[i].push(sb.medianMs);
      } finally {
        nets.forEach((n) => n.dispose());
      }
    }
  }
  return plans.map((p, i) => ({
    model: o.name,
    where: o.where,
    ...p,
    repeats,
    medians: a[i],
    original: variation(a[i]),
    paired: variation(b[i].map((x, r) => x / a[i][r])),
    unpaired: variation(b[i].map((x) => x / a[i][0])),
    costMs: cost[i] / repeats,
  }));
}

/** One log line: the CoV of the paired ratio and of the absolute median, per run count. */
export function repeatText(rows: RepeatRow[]): string {
  return rows.map((r) => `${r.runs} runs: paired ${(r.paired.cov * 100).toFixed(1)}% / absolute ${(r.original.cov * 100).toFixed(1)}%`).join(', ');
}
