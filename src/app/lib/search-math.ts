/**
 * The search panel's arithmetic, kept pure so it is tested in Node: the warm-up for a budget (from
 * the search's config), the Pareto front of cost against accuracy, the time left, axis ranges and ticks.
 */

/** The warm-up for a budget: the search's rule (core/search/config.ts), which the CLI uses too. */
export { defaultWarmup } from '../../core/search/config';

export interface XY {
  x: number;
  y: number;
}

/**
 * Indices of the points no other point beats: none has a cost (x) as low and an accuracy (y) as
 * high with one of the two strictly better. Sorted by cost, ascending (accuracy ascends with it).
 * Points with a non-finite coordinate are left out.
 */
export function paretoFront(points: readonly XY[]): number[] {
  const order = points
    .map((p, i) => i)
    .filter((i) => Number.isFinite(points[i].x) && Number.isFinite(points[i].y))
    .sort((a, b) => points[a].x - points[b].x || points[b].y - points[a].y || a - b);
  const front: number[] = [];
  let bestY = -Infinity;
  for (const i of order) {
    if (points[i].y > bestY) {
      front.push(i);
      bestY = points[i].y;
    }
  }
  return front;
}

/** Mean of the last `window` values (0 when there are none). */
export function recentMean(values: readonly number[], window = 10): number {
  const tail = values.slice(-window);
  return tail.length ? tail.reduce((s, v) => s + v, 0) / tail.length : 0;
}

/**
 * Milliseconds left: each search's remaining episodes times the mean time of its last `window`
 * episodes. Undefined until an episode of each search that still has some to run was timed.
 */
export function timeLeft(parts: readonly { durations: readonly number[]; remaining: number }[], window = 10): number | undefined {
  let ms = 0;
  for (const p of parts) {
    if (p.remaining <= 0) continue;
    if (!p.durations.length) return undefined;
    ms += recentMean(p.durations, window) * p.remaining;
  }
  return ms;
}

/** "45 s", "3 min 20 s", "1 h 5 min". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** [min, max] of the finite values, widened by `pad` of the span (a flat set gets a span of its own). */
export function paddedExtent(values: Iterable<number>, pad = 0.06, fallback: [number, number] = [0, 1]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return fallback;
  const span = hi - lo || Math.max(Math.abs(hi) * 0.1, 0.01);
  return [lo - span * pad, hi + span * pad];
}

/** About `count` round tick values inside [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function ticks(lo: number, hi: number, count = 4): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
}

/** The point of `points` nearest to (x, y) within `radius` (same units), or -1; on a tie the earliest (the search's best is the earliest of equal rewards). */
export function nearest(points: readonly XY[], x: number, y: number, radius: number): number {
  let best = -1;
  let bestD = radius * radius * (1 + 1e-9);
  points.forEach((p, i) => {
    const d = (p.x - x) ** 2 + (p.y - y) ** 2;
    if (d < bestD) {
      best = i;
      bestD = d;
    }
  });
  return best;
}

/** Ranks of `values` from 1 (smallest); tied values share the mean of their ranks. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]] = r;
    i = j + 1;
  }
  return out;
}

/** Spearman's rank correlation; undefined with fewer than 3 points or when either side is constant. */
export function spearman(xs: readonly number[], ys: readonly number[]): number | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 3) return undefined;
  const rx = ranks(xs.slice(0, n));
  const ry = ranks(ys.slice(0, n));
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) ** 2;
    syy += (ry[i] - mean) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : undefined;
}

export interface CostPoint {
  /** MACs as a fraction of the original's. */
  macs: number;
  /** Measured latency as a fraction of the original's. */
  latency: number;
}

export interface MacsLatencyAgreement {
  points: number;
  /** Rank correlation of MACs and measured latency over the points. */
  spearman: number | undefined;
  /** Fraction of pairs that MACs and latency order the opposite way (ties excluded). */
  discordant: number;
  /**
   * The pair where MACs mislead most: `fewer` has fewer MACs than `more` yet is slower, by the
   * largest latency gap. Indices into the points; null when MACs order every pair as latency does.
   */
  worst: { fewer: number; more: number } | null;
}

/** Where MACs and measured latency disagree, over the episodes of a latency search. */
export function macsLatencyAgreement(points: readonly CostPoint[]): MacsLatencyAgreement {
  const ok = points.map((p, i) => i).filter((i) => Number.isFinite(points[i].macs) && Number.isFinite(points[i].latency));
  let pairs = 0;
  let discordant = 0;
  let worst: { fewer: number; more: number } | null = null;
  let worstGap = 0;
  for (let a = 0; a < ok.length; a++) {
    for (let b = a + 1; b < ok.length; b++) {
      const p = points[ok[a]];
      const q = points[ok[b]];
      const dm = q.macs - p.macs;
      const dl = q.latency - p.latency;
      if (dm === 0 || dl === 0) continue;
      pairs++;
      if (Math.sign(dm) === Math.sign(dl)) continue;
      discordant++;
      const gap = Math.abs(dl);
      if (gap > worstGap) {
        worstGap = gap;
        worst = dm > 0 ? { fewer: ok[a], more: ok[b] } : { fewer: ok[b], more: ok[a] };
      }
    }
  }
  return {
    points: ok.length,
    spearman: spearman(
      ok.map((i) => points[i].macs),
      ok.map((i) => points[i].latency),
    ),
    discordant: pairs ? discordant / pairs : 0,
    worst,
  };
}
