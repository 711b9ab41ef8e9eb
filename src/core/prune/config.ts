/**
 * The numbers of the prune step, in one place, with where they come from: the rounding of kept
 * channel counts (policy.ts) and the least-squares refit (refit.ts). The search scores every
 * episode with the refit (core/search/config.ts: SCORING_DEFAULTS), and `amc prune --refit` uses
 * the same numbers.
 */

/** Kept channel counts are rounded up to a multiple of this (AMC: 8; 1 turns rounding off). */
export const DEFAULT_ROUND_TO = 8;

export const REFIT_DEFAULTS: Readonly<{ images: number; samplesPerImage: number; maxFeatures: number; ridge: number }> = Object.freeze({
  /**
   * Calibration images the refit samples features from (AMC's reconstruction). 64 images x
   * samplesPerImage positions is enough rows for a 3x3 conv over 64 channels (576 features);
   * without the refit, a pruned net's accuracy before fine-tuning is near chance and a search's
   * reward carries no signal.
   */
  images: 64,
  /** Random spatial positions sampled per image (AMC: 10, mit-han-lab/amc channel_pruner). */
  samplesPerImage: 10,
  /**
   * Layers with more im2col features than this are left sliced: the normal equations grow with
   * the square of it and the solve with its cube. 2304 = 3 x 3 x 256, a 3x3 conv over 256 channels.
   */
  maxFeatures: 2304,
  /** Ridge added to the normal equations, relative to their mean diagonal (keeps Cholesky stable). */
  ridge: 1e-6,
});

/**
 * How a pruned model is made ready to be scored without fine-tuning (the search's evaluator):
 * - `slice`: the kept channels as they are;
 * - `bn`: every BatchNorm's statistics recomputed on the calibration images (adaptive BN,
 *   EagleEye; batchnorm.ts); a model without BatchNorm is scored sliced;
 * - `refit`: AMC's least-squares reconstruction of each pruned layer's consumer (refit.ts);
 * - `refit+bn`: the refit, then the statistics recomputed on the refitted model.
 */
export type Evaluator = 'slice' | 'bn' | 'refit' | 'refit+bn';
export const EVALUATORS: readonly Evaluator[] = ['slice', 'bn', 'refit', 'refit+bn'];

export const usesRefit = (e: Evaluator): boolean => e === 'refit' || e === 'refit+bn';
export const usesBatchNorm = (e: Evaluator): boolean => e === 'bn' || e === 'refit+bn';
/** What an evaluator does on a model it cannot recalibrate (no BatchNorm): the rest of it. */
export const withoutBatchNorm = (e: Evaluator): Evaluator => (e === 'refit+bn' ? 'refit' : e === 'bn' ? 'slice' : e);

/** An evaluator in words, for logs and the page: "BatchNorm statistics recomputed on 256 demo:train images". */
export function evaluatorText(e: Evaluator, calibration: number, source: string): string {
  const on = `on ${calibration} ${source} images`;
  if (e === 'slice') return 'sliced (no refit, BatchNorm statistics as the original)';
  if (e === 'bn') return `BatchNorm statistics recomputed ${on}`;
  if (e === 'refit') return `refit ${on}`;
  return `refit, then BatchNorm statistics recomputed, ${on}`;
}
