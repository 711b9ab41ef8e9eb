/**
 * How far a score measured on n images can be trusted: the rule the page uses to say when a
 * difference between two policies is within noise, and how many images it would take to tell.
 *
 * Kept simple on purpose. An accuracy (or agreement) p measured on n images moves in steps of 1/n,
 * and its standard error is sqrt(p(1-p)/n); a difference counts as outside noise when it exceeds
 * about two standard errors (~95%), and never when it is a single step. For a difference d to be
 * outside noise it takes n ≈ 4·p(1-p)/d² images (10,000 for 1 point at p = 50%, 400 for 5 points).
 */

/** Below this many reward images the page warns that the set is too small to separate policies. */
export const SMALL_REWARD_SET = 100;
/** Below this many calibration images a refit or BN statistics fit the few images more than the data. */
export const SMALL_CALIBRATION_SET = 16;

const clampP = (p: number) => (Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0.5);

/** The half-width (as a fraction, ~95%) of noise on a score p measured on n images: max(2·sqrt(p(1-p)/n), 1/n). */
export function noiseMargin(n: number, p = 0.5): number {
  if (!(n >= 1)) return 1;
  const q = clampP(p);
  return Math.max(2 * Math.sqrt((q * (1 - q)) / n), 1 / n);
}

/** Images it would take for a difference of `diff` (a fraction, e.g. 0.01 for 1 point) to be outside noise at score p. */
export function imagesToSeparate(diff: number, p = 0.5): number {
  const d = Math.abs(diff);
  if (!(d > 0)) return Infinity;
  const q = clampP(p);
  // At p near 0 or 1 the variance vanishes; one step (1/n) must still fit in the difference.
  return Math.max(Math.ceil((4 * q * (1 - q)) / (d * d)), Math.ceil(1 / d));
}

export interface Difference {
  /** a - b, as a fraction. */
  diff: number;
  /** The noise margin for n images, as a fraction. */
  margin: number;
  withinNoise: boolean;
  /** "3.2 points above uniform", "1.6 points below uniform", "the same as uniform", with "(within noise …)" when it is. */
  text: string;
}

/** Points with one decimal; "1 point" for exactly one. */
export function pointsText(fraction: number): string {
  const v = Math.abs(fraction * 100);
  const s = v.toFixed(1);
  return `${s} point${s === '1.0' ? '' : 's'}`;
}

/**
 * Compares two scores measured on the same n images: "1.6 points below uniform", and
 * "(within noise: ±4.5 points on 500 images)" when the difference is within what n allows.
 */
export function compareScores(a: number, b: number, n: number, what: string): Difference {
  const diff = a - b;
  const margin = noiseMargin(n, (a + b) / 2);
  const withinNoise = Math.abs(diff) <= margin + 1e-12;
  const size = Math.abs(diff) < 0.0005 ? `the same as ${what}` : `${pointsText(diff)} ${diff > 0 ? 'above' : 'below'} ${what}`;
  const noise = withinNoise ? ` (within noise: ±${(margin * 100).toFixed(1)} points on ${n.toLocaleString('en-US')} image${n === 1 ? '' : 's'})` : '';
  return { diff, margin, withinNoise, text: size + noise };
}

/** A warning, with its reason, when n reward images are too few to separate policies; null when they are enough. */
export function rewardSetWarning(n: number, p = 0.5, what = 'reward image'): string | null {
  if (!(n >= 1) || n >= SMALL_REWARD_SET) return null;
  const m = noiseMargin(n, p);
  const step = 100 / n;
  return (
    `Only ${n} ${what}${n === 1 ? '' : 's'}: a score on them moves in steps of ${step.toFixed(step < 10 ? 1 : 0)} points and differences under about ` +
    `${(m * 100).toFixed(0)} points are noise, so the search cannot tell close policies apart. ` +
    `For a 5-point difference to be outside noise it takes about ${imagesToSeparate(0.05, p).toLocaleString('en-US')} images, for 1 point about ${imagesToSeparate(0.01, p).toLocaleString('en-US')}.`
  );
}

/** A warning when the refit or BN calibration set is too small, or has to share the images that score policies. */
export function calibrationWarning(n: number, sharesRewardImages = false): string | null {
  if (n <= 0) return null;
  if (n < SMALL_CALIBRATION_SET) {
    return `Only ${n} calibration image${n === 1 ? '' : 's'}: the refit fits so few images that it tunes the pruned layers to them; ${SMALL_CALIBRATION_SET} or more (64 by default) are needed for it to generalize.`;
  }
  if (sharesRewardImages) {
    return `The calibration images are also reward images (too few images for separate sets): the refit is fitted on the images that score it, so scores read optimistic.`;
  }
  return null;
}
