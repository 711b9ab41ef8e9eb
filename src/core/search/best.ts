/** Which episode of a search is its result. Apart from search.ts so the page can use it without the agent's code. */
import type { EnvConfig } from './config';
import type { EpisodeRecord, Score } from './search';

/** Top-1 accuracy when the data has labels, else top-1 agreement with the original model. */
export function accuracyOf(s: Score): number | undefined {
  return s.top1 ?? s.agreement;
}

/**
 * How far above a constrained latency target an episode's *measured* latency may land and still
 * count as meeting it: the wall holds the table's prediction to the target, and the measurement
 * then lands a little either side. 5% is about twice the CoV of the paired per-episode ratio
 * (bench/repeatability.ts).
 */
export const MEASURED_SLACK = 0.05;

/**
 * The best episode: the highest reward, the earliest on ties. Under a constrained latency target,
 * only among the episodes whose measured latency met it (within MEASURED_SLACK), when any did:
 * the model a user downloads must be as fast as they asked on their device, not just predicted so.
 */
export function bestOf(log: readonly EpisodeRecord[], env?: Pick<EnvConfig, 'protocol' | 'resource' | 'target'>): EpisodeRecord | undefined {
  const measuredCap = env && env.protocol === 'constrained' && env.resource === 'latency' ? env.target * (1 + MEASURED_SLACK) : Infinity;
  const meets = log.filter((e) => e.resourceRatio <= measuredCap);
  let best: EpisodeRecord | undefined;
  for (const e of meets.length ? meets : log) if (!best || e.reward > best.reward) best = e;
  return best;
}
