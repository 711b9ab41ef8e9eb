/**
 * The AMC environment: one step per prunable channel group, in network order.
 *
 * The agent sees the paper's 11 features (t, n, c, h, w, stride, k, MACs[t], reduced, rest,
 * a[t-1]) and answers with a preserve ratio. Under the resource-constrained protocol the action
 * wall caps that ratio so that, even if every later group went down to `lbound`, the episode still
 * meets the target. The wall works on the exact rounded channel counts the pruner will use, so the
 * target is met with no overshoot from rounding to multiples of 8.
 *
 * Departures from the official code, and why:
 * - a step is a coupled group (a conv's filters with its BN, depthwise and every consumer, and all
 *   branches of a residual stream), not a layer, so residual and concat models prune correctly;
 * - `rest` counts the MACs of layers that only later groups touch, so layers shared by two groups
 *   (a conv is the consumer of one and the producer of the next) are not counted twice.
 */
import { computeCost, type KeepMap } from '../model/cost';
import type { ModelAnalysis } from '../model/analyze';
import type { ChannelGroup } from '../model/groups';
import { roundChannels } from '../prune/policy';
import type { EnvConfig, ResourceKind } from './config';

export const STATE_FEATURES = ['t', 'n', 'c', 'h', 'w', 'stride', 'k', 'macs', 'reduced', 'rest', 'previous action'] as const;
export const STATE_SIZE = STATE_FEATURES.length;

export class SearchError extends Error {
  constructor(
    message: string,
    /** True when the refusal rests on a measurement the device may have skewed (latency under load): measuring again may lift it. */
    readonly measureAgain = false,
  ) {
    super(message);
    this.name = 'SearchError';
  }
}

/** A resource the wall can limit: any function of the kept channels that grows with them. */
export interface Resource {
  kind: ResourceKind;
  /** The resource of the model pruned to `keep` (groups not listed keep everything). */
  of(keep: KeepMap): number;
  /** A measured value for `keep`, for resources that learn from measurements (latency). */
  observe?(keep: KeepMap, measured: number): void;
  /** What `observe` learned, for a saved search, and its restore. */
  save?(): unknown;
  load?(state: unknown): void;
  /** For a measured resource: signs that the device was loaded while it was measured (a poor fit, drift), or undefined. */
  loadSigns?(): string | undefined;
}

/**
 * Over this, a latency floor (as a fraction of the original) is suspect next to the MACs floor:
 * the smallest model predicted at more than twice its MACs share and 25 points above it.
 */
const BUSY_FLOOR = { ratio: 2, points: 0.25 };

export function costResource(analysis: ModelAnalysis, kind: ResourceKind): Resource {
  if (kind === 'latency') throw new Error('latency needs a measured table: pass latencyResource(...) to the env.');
  const { graph, groupAnalysis } = analysis;
  return {
    kind,
    of: (keep) => {
      const c = computeCost(graph, groupAnalysis, keep);
      return kind === 'macs' ? c.totalMacs : c.totalParams;
    },
  };
}

/** One step of an episode: a prunable group and what the state says about it. */
export interface StepInfo {
  group: ChannelGroup;
  /** Raw (unscaled) static features: t, n, c, h, w, stride, k, MACs touched by this group. */
  raw: number[];
  /** Kept counts this step can choose from, ascending (already rounded). */
  choices: number[];
}

export interface StepResult {
  /** The state for the next step, or null when the episode is over. */
  next: Float32Array | null;
  kept: number;
  /** The real preserve ratio kept/channels, after the wall and rounding. */
  ratio: number;
  /** True when the wall lowered the agent's choice. */
  walled: boolean;
}

function firstOf(v: unknown, fallback: number): number {
  if (Array.isArray(v)) return typeof v[0] === 'number' ? v[0] : fallback;
  return typeof v === 'number' ? v : fallback;
}

/** Every kept count the rounding rule can give for a group, from lbound up. */
export function channelChoices(channels: number, lbound: number, roundTo: number): number[] {
  const out = new Set<number>();
  const from = Math.max(1, Math.floor(lbound * channels));
  for (let k = from; k <= channels; k++) {
    const d = roundChannels(k, channels, roundTo);
    if (d >= roundChannels(lbound * channels, channels, roundTo)) out.add(d);
  }
  return [...out].sort((a, b) => a - b);
}

export class PruningEnv {
  readonly steps: StepInfo[];
  /** Updated by `recalibrate` when the resource learns from measurements (latency). */
  originalResource: number;
  readonly originalMacs: number;
  budget: number;
  /** The resource with every group at its smallest choice: the least any episode can reach. */
  floor: number;

  private readonly scaledStatic: number[][];
  private readonly touchedMacs: number[];
  private readonly restMacs: number[];
  private keep = new Map<string, number>();
  private t = 0;
  private previous = 1;

  constructor(
    readonly analysis: ModelAnalysis,
    readonly config: EnvConfig,
    readonly resource: Resource = costResource(analysis, config.resource),
  ) {
    const { graph, groupAnalysis, cost } = analysis;
    const order = new Map(graph.layers.map((l, i) => [l.id, i]));
    const position = (g: ChannelGroup) => Math.min(...g.producers.map((p) => order.get(p) ?? Infinity));
    const prunable = analysis.groups.filter((g) => g.prunable).sort((a, b) => position(a) - position(b));
    if (!prunable.length) throw new SearchError('the model has no prunable channel group, so there is nothing to search. Frozen groups are listed in the Groups panel (or `amc inspect`).');

    const macsByLayer = new Map(cost.layers.map((l) => [l.layer, l.macs]));
    const touched = prunable.map((g) => new Set([...g.producers, ...g.passThrough.map((m) => m.layer), ...g.consumers.map((m) => m.layer)]));
    const sumMacs = (ids: Iterable<string>) => {
      let s = 0;
      for (const id of ids) s += macsByLayer.get(id) ?? 0;
      return s;
    };
    this.touchedMacs = touched.map(sumMacs);
    this.restMacs = prunable.map((_, t) => {
      const earlier = new Set<string>();
      for (let i = 0; i <= t; i++) for (const id of touched[i]) earlier.add(id);
      const later = new Set<string>();
      for (let i = t + 1; i < prunable.length; i++) for (const id of touched[i]) if (!earlier.has(id)) later.add(id);
      return sumMacs(later);
    });

    this.steps = prunable.map((group, t) => {
      const producer = graph.byId.get(group.producers[0])!;
      const input = producer.inputShapes[0] ?? graph.tensors.get(producer.inputs[0])?.shape ?? [];
      const rank = input.length;
      // A 1-D input ([N, L, C]: Conv1D) is 1 x L.
      const h = rank >= 4 ? (input[1] ?? 1) : 1;
      const w = rank >= 4 ? (input[2] ?? 1) : rank === 3 ? (input[1] ?? 1) : 1;
      const c = input[rank - 1] ?? 1;
      const cfg = producer.config;
      const raw = [t, group.channels, c, h, w, firstOf(cfg.strides, 1), firstOf(cfg.kernel_size, 1), this.touchedMacs[t]];
      return { group, raw, choices: channelChoices(group.channels, config.lbound, config.roundTo) };
    });

    const columns = this.steps[0].raw.length;
    const lo = Array.from({ length: columns }, (_, j) => Math.min(...this.steps.map((s) => s.raw[j])));
    const hi = Array.from({ length: columns }, (_, j) => Math.max(...this.steps.map((s) => s.raw[j])));
    this.scaledStatic = this.steps.map((s) => s.raw.map((v, j) => (hi[j] > lo[j] ? (v - lo[j]) / (hi[j] - lo[j]) : 0)));

    this.originalMacs = cost.totalMacs;
    this.originalResource = this.resource.of(new Map());
    this.budget = config.target * this.originalResource;
    this.floor = this.resource.of(new Map(this.steps.map((s) => [s.group.id, s.choices[0]])));
    if (config.protocol === 'constrained' && this.floor > this.budget) {
      const pct = (x: number) => `${((100 * x) / this.originalResource).toFixed(1)}%`;
      if (this.resource.kind === 'latency') throw this.latencyRefusal(pct);
      throw new SearchError(
        `a ${config.resource} target of ${pct(this.budget)} cannot be met: with every prunable group at the smallest width (lbound ${config.lbound}) the model still has ${pct(this.floor)} of its ${config.resource}, ` +
          `because frozen layers (the input, the outputs) cannot shrink${config.roundTo > 1 ? ` and kept channels are rounded up to multiples of ${config.roundTo}` : ''}. Choose a target of at least ${pct(this.floor)}, or lower lbound.`,
      );
    }
  }

  /**
   * A latency floor is a measurement, not a property of the model: timed while the device is busy
   * (other tabs or apps, heat, battery saving), every layer looks slower by a fixed amount and the
   * smallest model looks far less small than it is. So a latency target over the floor is never
   * called impossible: the refusal says what was measured, what the MACs say, whether the device
   * looked busy, and asks to measure again before choosing another target.
   */
  private latencyRefusal(pct: (x: number) => string): SearchError {
    const smallest = new Map(this.steps.map((s) => [s.group.id, s.choices[0]]));
    const macsShare = this.macsOf(smallest) / Math.max(this.originalMacs, 1);
    const floorShare = this.floor / this.originalResource;
    const signs: string[] = [];
    if (floorShare > BUSY_FLOOR.ratio * macsShare && floorShare - macsShare > BUSY_FLOOR.points) {
      signs.push(`the smallest model is predicted at ${pct(this.floor)} of the original's latency while its MACs fall to ${(100 * macsShare).toFixed(1)}%`);
    }
    const reported = this.resource.loadSigns?.();
    if (reported) signs.push(reported);
    const reachableInMacs = macsShare <= this.config.target;
    const measured =
      `a latency target of ${pct(this.budget)} was not reached in this measurement: the latency table timed on this device predicts ${pct(this.floor)} for the smallest model ` +
      `(every prunable group at lbound ${this.config.lbound}), whose MACs are ${(100 * macsShare).toFixed(1)}% of the original's.`;
    const advice = signs.length
      ? ` The device looked busy while it was timed (${signs.join('; ')}), and load makes a reachable target look impossible. Close other apps and tabs, let the device settle, and measure again; choose a target of at least ${pct(this.floor)} only if a quiet measurement says the same.`
      : reachableInMacs
        ? ` Timings vary with load: measure again with the device quiet; if it says the same, the fixed per-layer costs of this backend keep the latency up, so choose a target of at least ${pct(this.floor)}.`
        : ` Frozen layers (the input, the outputs) keep ${(100 * macsShare).toFixed(1)}% of the MACs whatever is pruned; choose a target of at least ${pct(this.floor)}, or lower lbound (timings vary with load: measuring again may lower it).`;
    return new SearchError(measured + advice, true);
  }

  /**
   * For a measured resource (latency): the unpruned model's measured value, which the target is a
   * fraction of. Without it the budget is a fraction of the *predicted* original, and a fit that
   * is off for the whole model (it is fitted on pruned ones) moves every wall: a 50% target
   * measured 38-45% on plain-cnn in Node.
   */
  private measuredOriginal?: number;

  /** Holds the budget to `target` x the measured original from now on (predictions still rank policies against it). */
  anchor(measuredOriginal: number): void {
    this.measuredOriginal = measuredOriginal;
    this.recalibrate();
  }

  /** Re-reads the original's resource, the budget and the floor after the resource was refitted. */
  recalibrate(): void {
    this.originalResource = this.measuredOriginal ?? this.resource.of(new Map());
    this.budget = this.config.target * this.originalResource;
    this.floor = this.resource.of(new Map(this.steps.map((s) => [s.group.id, s.choices[0]])));
  }

  /** MACs and params of the model pruned to `keep`. */
  costOf(keep: KeepMap): { macs: number; params: number } {
    const c = computeCost(this.analysis.graph, this.analysis.groupAnalysis, keep);
    return { macs: c.totalMacs, params: c.totalParams };
  }

  private macsOf(keep: KeepMap): number {
    return computeCost(this.analysis.graph, this.analysis.groupAnalysis, keep).totalMacs;
  }

  get length(): number {
    return this.steps.length;
  }

  get done(): boolean {
    return this.t >= this.steps.length;
  }

  /** Kept channels per group id chosen so far. */
  get policy(): Map<string, number> {
    return new Map(this.keep);
  }

  reset(): Float32Array {
    this.keep = new Map();
    this.t = 0;
    this.previous = 1;
    return this.state();
  }

  private state(): Float32Array {
    const t = this.t;
    const reduced = this.originalMacs - this.macsOf(this.keep);
    const s = new Float32Array(STATE_SIZE);
    s.set(this.scaledStatic[t]);
    s[8] = reduced / this.originalMacs;
    s[9] = this.restMacs[t] / this.originalMacs;
    s[10] = this.previous;
    return s;
  }

  /** The largest kept count for step t that still lets the episode meet the budget. */
  private wall(t: number): number {
    const { choices, group } = this.steps[t];
    const trial = new Map(this.keep);
    for (let i = t + 1; i < this.steps.length; i++) trial.set(this.steps[i].group.id, this.steps[i].choices[0]);
    const fits = (d: number) => {
      trial.set(group.id, d);
      return this.resource.of(trial) <= this.budget;
    };
    if (fits(choices[choices.length - 1])) return choices[choices.length - 1];
    let lo = 0;
    let hi = choices.length - 1;
    // choices[lo] fits (guaranteed by the previous step's wall), choices[hi] does not.
    if (!fits(choices[0])) return choices[0];
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (fits(choices[mid])) lo = mid;
      else hi = mid;
    }
    return choices[lo];
  }

  /** Applies the action (a preserve ratio) to the current group. */
  step(action: number): StepResult {
    if (this.done) throw new Error('step() after the episode ended: call reset().');
    const { group, choices } = this.steps[this.t];
    const a = Math.min(1, Math.max(this.config.lbound, Number.isFinite(action) ? action : 1));
    const wanted = Math.max(choices[0], roundChannels(a * group.channels, group.channels, this.config.roundTo));
    let kept = wanted;
    if (this.config.protocol === 'constrained') kept = Math.min(wanted, this.wall(this.t));
    this.keep.set(group.id, kept);
    this.previous = kept / group.channels;
    this.t++;
    return { next: this.done ? null : this.state(), kept, ratio: kept / group.channels, walled: kept < wanted };
  }
}
