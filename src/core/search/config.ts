/**
 * Every number the AMC search uses, in one place, with where it comes from.
 * Defaults are the official AMC code's (mit-han-lab/amc: amc_search.py, lib/agent.py) unless a
 * line says otherwise; ../shared/AMC-REFERENCE.md sections 1-5 list them.
 */

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
  roundTo: 8,
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
