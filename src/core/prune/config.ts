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
