/**
 * Every number the AMC search uses, in one place, with where it comes from.
 * Defaults are the official AMC code's (mit-han-lab/amc: amc_search.py, lib/agent.py) unless a
 * line says otherwise; ../shared/AMC-REFERENCE.md sections 1-5 list them.
 */

import { DRIFT_TIMING, LAYER_TIMING, type TimingPreset } from '../measure/config';
import { DEFAULT_ROUND_TO, REFIT_DEFAULTS, type Evaluator } from '../prune/config';

/** What the target limits. Latency is measured on this device (see latency-resource.ts). */
export type ResourceKind = 'macs' | 'params' | 'latency';

/**
 * Resource-constrained: reward -error, with the action wall keeping the episode under the target.
 * Accuracy-guaranteed: no wall; reward -error * log(resource), which trades accuracy for size.
 */
export type Protocol = 'constrained' | 'accuracy-guaranteed';

export interface DdpgConfig {
  /** Hidden widths of actor and critic (paper: 300-300; the official code defaults to 400-300 but the paper's runs use 300). */
  hidden1: number;
  hidden2: number;
  /** Adam learning rates. */
  actorLr: number;
  criticLr: number;
  /** Soft target update after every gradient step: target <- (1 - tau) target + tau online. */
  tau: number;
  /** 1.0: every step of an episode carries the episode's reward; the return is not discounted. */
  discount: number;
  batchSize: number;
  /** Replay capacity, in episodes (official: 100 x steps per episode transitions). */
  replayEpisodes: number;
  /** Episodes of uniform random actions before any update. */
  warmupEpisodes: number;
  /** Exploration: a ~ TruncatedNormal(mu(s), sigma, [lbound, 1]), sigma = initSigma * sigmaDecay^(episode - warmup). */
  initSigma: number;
  sigmaDecay: number;
  /** Moving average of the batch-mean reward, subtracted from rewards (variance reduction). */
  baselineAlpha: number;
}

export const DDPG_DEFAULTS: Readonly<DdpgConfig> = Object.freeze({
  hidden1: 300,
  hidden2: 300,
  actorLr: 1e-4,
  criticLr: 1e-3,
  tau: 0.01,
  discount: 1,
  batchSize: 64,
  replayEpisodes: 100,
  warmupEpisodes: 100,
  initSigma: 0.5,
  sigmaDecay: 0.95,
  baselineAlpha: 0.5,
});

export interface EnvConfig {
  protocol: Protocol;
  resource: ResourceKind;
  /** Target as a fraction of the original model's resource (constrained protocol). */
  target: number;
  /** Smallest preserve ratio an action may ask for. */
  lbound: number;
  /** Kept channels are rounded up to a multiple of this (AMC: 8; 1 turns rounding off). */
  roundTo: number;
}

export const ENV_DEFAULTS: Readonly<EnvConfig> = Object.freeze({
  protocol: 'constrained',
  resource: 'macs',
  target: 0.5,
  lbound: 0.2,
  roundTo: DEFAULT_ROUND_TO,
});

export interface SearchConfig {
  env: EnvConfig;
  ddpg: DdpgConfig;
  /** Episodes in all, warm-up included. The official runs use 800; the noise is negligible after
   *  about 200 learning episodes, so 300 is the default here (the note measures the difference). */
  episodes: number;
  seed: number;
  /** 'ddpg' is AMC; 'random' keeps the warm-up's uniform random actions for the whole budget (the random-search baseline). */
  agent: 'ddpg' | 'random';
  /**
   * How each episode's pruned model is made ready to score (core/prune/config.ts). Absent in
   * searches saved before evaluators existed: they ran `refit` with calibration images, else `slice`.
   */
  evaluator?: Evaluator;
}

export const SEARCH_DEFAULTS: Readonly<SearchConfig> = Object.freeze({
  env: ENV_DEFAULTS,
  ddpg: DDPG_DEFAULTS,
  episodes: 300,
  seed: 1,
  agent: 'ddpg',
});

export function searchConfig(overrides: { env?: Partial<EnvConfig>; ddpg?: Partial<DdpgConfig> } & Partial<Omit<SearchConfig, 'env' | 'ddpg'>> = {}): SearchConfig {
  return {
    ...SEARCH_DEFAULTS,
    ...overrides,
    env: { ...ENV_DEFAULTS, ...overrides.env },
    ddpg: { ...DDPG_DEFAULTS, ...overrides.ddpg },
  };
}

/**
 * The warm-up for a budget when none is given: a third of the episodes, at most the paper's 100,
 * at least 1 (none for a 1-episode budget). The default budget (300) gets 100. The CLI, the page
 * and the worker all use it.
 */
export function defaultWarmup(budget: number): number {
  if (budget <= 1) return 0;
  return Math.min(DDPG_DEFAULTS.warmupEpisodes, Math.max(1, Math.floor(budget / 3)));
}

/** The episode budget a search may ask for (the page's field and the CLI's --episodes). */
export const EPISODE_BUDGET: Readonly<{ min: number; max: number }> = Object.freeze({ min: 1, max: 2000 });

/**
 * How episodes are scored, the same in the CLI (`amc search`), the search worker and the page: the
 * reward on `rewardImages` images (clipped to the data there is), each pruned model made ready by
 * `evaluator` (core/prune/config.ts) on calibration images from the training data, as many as
 * calibrationImages() says for that evaluator. `refitImages` is the refit's share (the CLI's
 * --no-refit and the page's unticked box score policies sliced).
 */
export interface ScoringDefaults {
  rewardImages: number;
  refitImages: number;
  evaluator: EvaluatorChoice;
}

/** An evaluator, or `auto`: autoEvaluator() picks one for the model and its calibration images. */
export type EvaluatorChoice = Evaluator | 'auto';

/**
 * 1000 reward images: with the cheaper BatchNorm evaluator an episode can afford them (the official
 * code uses 3000). A top-1 of 80% measured on n images has a standard error of 1.8 points at 500
 * and 1.3 at 1000, while the policies one MACs target allows differ by a few points: the reward on
 * 500 images ranked near-equal policies by noise. Each image is one forward pass of the pruned
 * model, so the episode's evaluation costs about twice 500's (BENCHMARKS.md section 3).
 */
export const SCORING_DEFAULTS: Readonly<ScoringDefaults> = Object.freeze({
  rewardImages: 1000,
  refitImages: REFIT_DEFAULTS.images,
  evaluator: 'auto',
});

/**
 * What `auto` runs. BatchNorm statistics recomputed (`bn`) where the model has BatchNorm and the
 * calibration images are of its own kind (the user's images, or demo:train for a demo model):
 * in the evaluator study (BENCHMARKS.md section 8; bench/evaluators.ts) it ordered policies of
 * one size as a short fine-tune orders them at least as well as the refit on every demo model,
 * for less time per episode, as EagleEye found on ImageNet. The refit otherwise: BatchNorm
 * statistics from images unlike the model's data make it worse (on the Teachable Machine export
 * with the demo's images standing in, agreement fell from 50% to 16% at width 0.7, while the
 * refit lifted narrow policies from 0-1% to 41-46%), and a model without BatchNorm has none to fix.
 */
export function autoEvaluator(hasBatchNorm: boolean, calibrationOfItsKind: boolean): Evaluator {
  return hasBatchNorm && calibrationOfItsKind ? 'bn' : 'refit';
}

export function resolveEvaluator(choice: EvaluatorChoice, hasBatchNorm: boolean, calibrationOfItsKind: boolean): Evaluator {
  return choice === 'auto' ? autoEvaluator(hasBatchNorm, calibrationOfItsKind) : choice;
}

/**
 * Calibration images an evaluator is given by default: the refit's 64 (REFIT_DEFAULTS.images; its
 * solve grows with them), 256 for BatchNorm statistics alone (the count the evaluator study and
 * EagleEye's measurements used; 128 ranked 12 policies with rho 0.99 against 512 on the demo
 * models, 256 with 1.00, at twice 128's cost), none for slicing.
 */
export function calibrationImages(evaluator: Evaluator): number {
  if (evaluator === 'slice') return 0;
  return evaluator === 'bn' ? BATCHNORM_IMAGES : SCORING_DEFAULTS.refitImages;
}
export const BATCHNORM_IMAGES = 256;

/**
 * A change of a model's latency beyond this (25%) during a latency search says the device's load
 * changed (latency-resource.ts: originalLatencySpread; the app's drift of its reference model).
 */
export const LOAD_CHANGE = 0.25;

/** Timing presets of a search (the measure step's are in core/measure/config.ts). */
export const SEARCH_TIMING: Readonly<{
  episode: Readonly<TimingPreset>;
  tableWarm: Readonly<TimingPreset>;
  tableLayer: Readonly<TimingPreset>;
  tableEndToEnd: Readonly<TimingPreset>;
  drift: Readonly<TimingPreset>;
  driftEvery: number;
  final: Readonly<TimingPreset>;
}> = Object.freeze({
  /**
   * Each latency episode's paired timing: its pruned model and the original, interleaved, 5
   * warm-up and 30 timed runs each. At 30 the noise (2.1-4.6%) is under half the 10% a latency
   * target is held to, for about 0.15-0.25 s an episode on the demo models.
   */
  episode: Object.freeze({ warmup: 5, runs: 30 }),
  /** The latency table: before it, the whole model is run this often untimed (V8 and the backend warm up)... */
  tableWarm: Object.freeze({ warmup: 0, runs: 200 }),
  /** ...then each layer is timed... */
  tableLayer: LAYER_TIMING,
  /** ...then uniformly pruned copies of the model, end to end and interleaved, to fit the table to. */
  tableEndToEnd: Object.freeze({ warmup: 5, runs: 20 }),
  /** The worker re-times the reference model every `driftEvery` agent episodes (and at the start), this long. */
  drift: DRIFT_TIMING,
  driftEvery: 10,
  /** `amc search`'s final comparison of original, best and uniform: paired-ratio CoV under 4% on the demo models. */
  final: Object.freeze({ warmup: 10, runs: 100 }),
});
