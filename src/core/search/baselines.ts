/**
 * The baselines an AMC result is judged against (random search is `AmcSearch` with
 * `agent: 'random'`: same wall, scorer and budget). Uniform: every prunable group at one preserve
 * ratio, the largest one whose rounded channel counts meet the target.
 */
import type { KeepMap } from '../model/cost';
import { roundChannels } from '../prune/policy';
import type { SearchConfig } from './config';
import type { PruningEnv } from './env';
import type { EpisodeRecord } from './search';

/** The widest uniform policy within the budget, before it is scored (bestUniform). */
export interface UniformPolicy {
  ratio: number;
  keep: Map<string, number>;
  resource: number;
  resourceRatio: number;
}

export function uniformKeep(env: PruningEnv, ratio: number): Map<string, number> {
  return new Map(env.steps.map((s) => [s.group.id, roundChannels(ratio * s.group.channels, s.group.channels, env.config.roundTo)]));
}

/** The widest uniform policy within the env's budget (bisection on the ratio; the resource grows with it). */
export function bestUniform(env: PruningEnv): UniformPolicy {
  const fits = (keep: KeepMap) => env.resource.of(keep) <= env.budget;
  let lo = 0;
  let hi = 1;
  if (fits(uniformKeep(env, 1))) lo = 1;
  else {
    for (let i = 0; i < 30; i++) {
      const mid = (lo + hi) / 2;
      if (fits(uniformKeep(env, mid))) lo = mid;
      else hi = mid;
    }
  }
  const keep = uniformKeep(env, Math.max(lo, 1e-6));
  const resource = env.resource.of(keep);
  return { ratio: lo, keep, resource, resourceRatio: resource / env.originalResource };
}

/**
 * The uniform baseline: every group at the widest ratio that meets the target, scored like an
 * episode (SearchSession.uniformBaseline). What the worker posts and saves, and the CLI reports.
 */
export type UniformBaseline = Pick<EpisodeRecord, 'keep' | 'resource' | 'resourceRatio' | 'predictedRatio' | 'macs' | 'params' | 'score' | 'reward'> & {
  /** The one preserve ratio every group keeps. */
  ratio: number;
};

/** The random-search baseline's config: the agent's, with random actions throughout and its own seed. */
export function randomConfig(config: SearchConfig): SearchConfig {
  return { ...config, agent: 'random', seed: config.seed + 1 };
}
