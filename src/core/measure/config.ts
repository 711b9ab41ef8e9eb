/**
 * Every timing preset of the measure step, in one place, with where it comes from. A preset is
 * warm-up runs (untimed) and timed runs; the median of the timed runs is what a figure reports.
 * The search's own presets (each episode's timing, the latency table, drift, the CLI's final
 * comparison) are in core/search/config.ts and are built from these.
 *
 * The noise figures are the repeatability bench's (bench/repeatability.ts, Node WASM on a 2-core
 * machine: the CoV of the paired ratio over 10 measurements): 5 runs 6-19%, 15 runs 3.5-5.5%,
 * 30 runs 2.1-4.6%, 100 runs 1.8-3.8%.
 */

/** Warm-up and timed runs of one timing; `batch` images per run (default 1). */
export interface TimingPreset {
  warmup: number;
  runs: number;
}

/** measureLatency and measureInterleaved when given no options: 5 warm-up, 30 timed runs of batch 1. */
export const LATENCY_DEFAULTS = Object.freeze({ warmup: 5, runs: 30, batch: 1 } as const);

/**
 * The burn-in before anything is timed on a fresh backend (burn-in.ts): at least 1.5 s, at most
 * 15 s, steady when 4 bursts in a row agree within 5%. A burst is BURN_IN_BURST interleaved rounds
 * of every model.
 */
export const BURN_IN = Object.freeze({ minMs: 1500, maxMs: 15_000, tolerance: 0.05, window: 4 });
export const BURN_IN_BURST: Readonly<TimingPreset> = Object.freeze({ warmup: 0, runs: 5 });

/** Each layer of a latency table (latency-table.ts): short, there are many layers to time. */
export const LAYER_TIMING: Readonly<TimingPreset> = Object.freeze({ warmup: 3, runs: 10 });

/** The reference model's drift check (DriftMonitor): 15 runs, about 4-5% noise, cheap enough to repeat. */
export const DRIFT_TIMING: Readonly<TimingPreset> = Object.freeze({ warmup: 3, runs: 15 });

/** The device panel's reference timing (the latency worker's drift card). */
export const REFERENCE_TIMING = Object.freeze({ warmup: 3, runs: 20 } as const);

/** The prune panel's comparison of original and pruned: 5 + 30 runs, within a 3 s budget for all models together. */
export const COMPARE_TIMING = Object.freeze({ warmup: 5, runs: 30, budgetMs: 3000 } as const);

/** The timing worker's probe: one untimed round (compiles) and one timed round per model, which sizes the plan of the real runs. */
export const PROBE_TIMING: Readonly<TimingPreset> = Object.freeze({ warmup: 1, runs: 1 });
