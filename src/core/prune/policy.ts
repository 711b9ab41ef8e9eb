/**
 * A policy says how many channels each prunable group keeps: `{ "<group id>": keptChannels }`.
 * Counts are rounded up to a multiple of `roundTo` (8 by default, as AMC does; 1 turns it off),
 * never below 1 and never above the group's channels. Frozen groups keep everything.
 */
import type { ChannelGroup } from '../model/groups';
import { DEFAULT_ROUND_TO } from './config';

export type Policy = Record<string, number>;

export interface PolicyOptions {
  /** Kept counts are rounded up to a multiple of this (then down if that exceeds the group). */
  roundTo?: number;
}

export { DEFAULT_ROUND_TO };

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** AMC's rounding: d = max(round(c*a), 1), up to a multiple of `roundTo`, down again if that exceeds c. */
export function roundChannels(wanted: number, channels: number, roundTo = DEFAULT_ROUND_TO): number {
  let d = Math.max(Math.round(wanted), 1);
  if (roundTo > 1) {
    const up = Math.ceil(d / roundTo) * roundTo;
    d = up <= channels ? up : Math.floor(Math.min(d, channels) / roundTo) * roundTo || d;
  }
  return Math.min(Math.max(d, 1), channels);
}

/**
 * Resolves a policy into a kept count for every group. Values in (0, 1) are ratios, whole numbers
 * are counts. Unknown ids, frozen groups asked to shrink, and impossible values are refused.
 */
export function resolvePolicy(groups: readonly ChannelGroup[], policy: Policy, options: PolicyOptions = {}): Map<string, number> {
  const roundTo = options.roundTo ?? DEFAULT_ROUND_TO;
  const byId = new Map(groups.map((g) => [g.id, g]));
  const problems: string[] = [];
  for (const [id, v] of Object.entries(policy)) {
    const g = byId.get(id);
    if (!g) problems.push(`'${id}' is not a group of this model`);
    else if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) problems.push(`'${id}': ${JSON.stringify(v)} is not a positive number`);
    else if (v >= 1 && !Number.isInteger(v)) problems.push(`'${id}': ${v} is neither a ratio in (0, 1) nor a whole count`);
    else if (v > g.channels) problems.push(`'${id}': ${v} channels asked, the group has ${g.channels}`);
    else if (!g.prunable && v < g.channels) problems.push(`'${id}' is frozen (${g.frozenReason}) and keeps all ${g.channels} channels`);
  }
  if (problems.length) {
    const prunable = groups.filter((g) => g.prunable).map((g) => g.id);
    throw new PolicyError(`policy refused: ${problems.join('; ')}. Prunable groups: ${prunable.join(', ') || 'none'}.`);
  }
  const keep = new Map<string, number>();
  for (const g of groups) {
    // A group named like an Object.prototype member (`constructor`) must not read the prototype's.
    const v = Object.hasOwn(policy, g.id) ? policy[g.id] : undefined;
    if (!g.prunable || v === undefined) keep.set(g.id, g.channels);
    else keep.set(g.id, roundChannels(v < 1 ? v * g.channels : v, g.channels, roundTo));
  }
  return keep;
}

/** Every prunable group at the same preserve ratio. */
export function uniformPolicy(groups: readonly ChannelGroup[], ratio: number): Policy {
  if (!(ratio > 0 && ratio <= 1)) throw new PolicyError(`uniform ratio must be in (0, 1], got ${ratio}.`);
  return Object.fromEntries(groups.filter((g) => g.prunable).map((g) => [g.id, ratio === 1 ? g.channels : ratio]));
}
