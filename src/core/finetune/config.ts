/**
 * Every number the recovery fine-tune uses, in one place, with where it comes from.
 *
 * The pruned model (the student) is trained to match the original (the teacher): knowledge
 * distillation (Hinton et al., 2015), the loss AMC's peers use to recover pruned nets without a
 * labeled data set. With labels, cross-entropy joins it. ../shared/AMC-REFERENCE.md section 8.
 */

export interface AugmentConfig {
  /** Random translation, as a fraction of the image side (0.125: up to 4 px of a 32 px image), edges repeated. 0: off. */
  shift: number;
  /** Random horizontal flip. Only where a flipped image is still of the same class (not for arrows, digits, text). */
  flip: boolean;
}

export interface FinetuneConfig {
  /** Planned epochs: the length of the learning-rate schedule. Early stopping may end sooner. */
  epochs: number;
  /** Images per step (the demo models were trained with 32); when not given, `batchSizeFor` the model's input size. */
  batchSize: number;
  /** Peak Adam learning rate. Half the demo models' training peak: the student starts close to a good solution. */
  learningRate: number;
  /** Linear warm-up over this fraction of all steps (at least one step): Adam's first moments are noisy. */
  warmupFraction: number;
  /** Cosine decay from the peak down to this fraction of it at the last step. */
  finalLrFraction: number;
  /** Softening temperature T of teacher and student outputs; the distillation term is scaled by T^2 so its gradients keep their size (Hinton et al.). */
  temperature: number;
  /** With labels: loss = w * distillation + (1 - w) * cross-entropy. Without labels the loss is distillation alone. */
  distillWeight: number;
  augment: AugmentConfig;
  /** Fraction of the images held out (never trained on) to pick the best epoch and stop early; within [heldOutMin, heldOutMax] and never more than half. */
  heldOutFraction: number;
  /** Bounds on the held-out slice: fewer than `heldOutMin` cannot rank epochs; more than `heldOutMax` only costs time. */
  heldOutMin: number;
  heldOutMax: number;
  /** Stop after this many epochs without a better held-out score. */
  patience: number;
  /** Seeds the held-out split, the batch order and the augmentation of every epoch. */
  seed: number;
}

export const FINETUNE_DEFAULTS: Readonly<FinetuneConfig> = Object.freeze({
  epochs: 5,
  batchSize: 32,
  learningRate: 1e-3,
  warmupFraction: 0.05,
  finalLrFraction: 0.02,
  temperature: 4,
  distillWeight: 0.7,
  // Off by default: for a user's unlabeled images nothing tells which changes keep the class.
  augment: Object.freeze({ shift: 0, flip: false }),
  heldOutFraction: 0.1,
  heldOutMin: 32,
  heldOutMax: 1000,
  patience: 3,
  seed: 1,
});

/** The demo dataset's shapes and textures keep their class under small shifts and mirroring. */
export const DEMO_AUGMENT: Readonly<AugmentConfig> = Object.freeze({ shift: 0.125, flip: true });

export type FinetuneOverrides = Partial<Omit<FinetuneConfig, 'augment'>> & { augment?: Partial<AugmentConfig> };

export function finetuneConfig(overrides: FinetuneOverrides = {}): FinetuneConfig {
  const c: FinetuneConfig = { ...FINETUNE_DEFAULTS, ...overrides, augment: { ...FINETUNE_DEFAULTS.augment, ...overrides.augment } };
  const bad = (what: string) => {
    throw new RangeError(`fine-tune: ${what}.`);
  };
  if (!(Number.isInteger(c.epochs) && c.epochs >= 1 && c.epochs <= 1000)) bad(`epochs must be a whole number from 1 to 1000, got ${c.epochs}`);
  if (!(Number.isInteger(c.batchSize) && c.batchSize >= 1 && c.batchSize <= 1024)) bad(`batch size must be a whole number from 1 to 1024, got ${c.batchSize}`);
  if (!(c.learningRate > 0 && c.learningRate < 1)) bad(`learning rate must be in (0, 1), got ${c.learningRate}`);
  if (!(c.temperature >= 1 && c.temperature <= 20)) bad(`temperature must be in [1, 20], got ${c.temperature}`);
  if (!(c.distillWeight >= 0 && c.distillWeight <= 1)) bad(`distillation weight must be in [0, 1], got ${c.distillWeight}`);
  if (!(c.augment.shift >= 0 && c.augment.shift <= 0.5)) bad(`augmentation shift must be in [0, 0.5], got ${c.augment.shift}`);
  if (!(c.heldOutFraction > 0 && c.heldOutFraction < 0.5)) bad(`held-out fraction must be in (0, 0.5), got ${c.heldOutFraction}`);
  if (!(Number.isInteger(c.seed) && c.seed >= 0)) bad(`seed must be a whole number, got ${c.seed}`);
  if (!(Number.isInteger(c.patience) && c.patience >= 1)) bad(`patience must be a whole number of epochs, 1 or more, got ${c.patience}`);
  if (!(Number.isInteger(c.heldOutMin) && c.heldOutMin >= 1 && Number.isInteger(c.heldOutMax) && c.heldOutMax >= c.heldOutMin)) bad(`held-out bounds must be whole numbers with 1 <= min <= max, got ${c.heldOutMin}..${c.heldOutMax}`);
  if (!(c.warmupFraction >= 0 && c.warmupFraction < 1)) bad(`warm-up fraction must be in [0, 1), got ${c.warmupFraction}`);
  if (!(c.finalLrFraction >= 0 && c.finalLrFraction <= 1)) bad(`final learning-rate fraction must be in [0, 1], got ${c.finalLrFraction}`);
  return c;
}

/**
 * Images per step for a model that takes `height` x `width` inputs when none is asked for: 32 up to
 * 64x64 inputs, fewer as the images grow, never under 8 (BatchNorm's batch statistics get noisy).
 * Why: activations kept for the backward pass grow with batch x pixels; at 224x224 a batch of 32 of
 * a Teachable Machine MobileNetV2 took the WASM heap past 4 GB and aborted, and a phone has less.
 */
export function batchSizeFor(height: number, width: number): number {
  const pixels = height * width;
  return Math.max(8, Math.min(FINETUNE_DEFAULTS.batchSize, Math.floor((FINETUNE_DEFAULTS.batchSize * 64 * 64) / pixels)));
}

/** Learning rate at `step` (0-based) of `total`: linear warm-up, then cosine decay to `finalLrFraction` of the peak. */
export function learningRateAt(c: FinetuneConfig, step: number, total: number): number {
  const warmupSteps = Math.max(1, Math.round(c.warmupFraction * total));
  const warm = Math.min(1, (step + 1) / warmupSteps);
  // Over total - 1 intervals, so the last step runs at exactly finalLrFraction of the peak.
  const last = Math.max(1, total - 1);
  const cos = 0.5 * (1 + Math.cos((Math.PI * Math.min(step, last)) / last));
  return c.learningRate * warm * (c.finalLrFraction + (1 - c.finalLrFraction) * cos);
}
