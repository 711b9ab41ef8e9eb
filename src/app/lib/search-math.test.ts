import { describe, expect, it } from 'vitest';
import { defaultWarmup, formatDuration, nearest, paddedExtent, paretoFront, recentMean, ticks, timeLeft, ranks, spearman, macsLatencyAgreement } from './search-math';

describe('defaultWarmup', () => {
  it("is the paper's 100 for long budgets and a third of short ones", () => {
    expect(defaultWarmup(800)).toBe(100);
    expect(defaultWarmup(300)).toBe(100);
    expect(defaultWarmup(299)).toBe(99);
    expect(defaultWarmup(30)).toBe(10);
    expect(defaultWarmup(6)).toBe(2);
    expect(defaultWarmup(2)).toBe(1);
    expect(defaultWarmup(1)).toBe(0);
  });
});

describe('paretoFront', () => {
  it('keeps the points no other point beats, sorted by cost', () => {
    const pts = [
      { x: 0.5, y: 0.8 }, // 0: front
      { x: 0.4, y: 0.7 }, // 1: front
      { x: 0.45, y: 0.6 }, // 2: beaten by 1
      { x: 0.5, y: 0.75 }, // 3: beaten by 0 (same cost, lower accuracy)
      { x: 0.3, y: 0.2 }, // 4: front (cheapest)
      { x: 0.6, y: 0.8 }, // 5: beaten by 0 (costlier, same accuracy)
      { x: 0.7, y: 0.9 }, // 6: front
    ];
    expect(paretoFront(pts)).toEqual([4, 1, 0, 6]);
  });

  it('keeps the first of equal points and skips non-finite ones', () => {
    expect(paretoFront([{ x: 0.5, y: 0.5 }, { x: 0.5, y: 0.5 }, { x: NaN, y: 1 }, { x: 0.1, y: Infinity }])).toEqual([0]);
    expect(paretoFront([])).toEqual([]);
  });

  it('matches a brute-force definition on random points', () => {
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 20; trial++) {
      const pts = Array.from({ length: 60 }, () => ({ x: Math.round(rand() * 20) / 20, y: Math.round(rand() * 20) / 20 }));
      const dominated = (i: number) =>
        pts.some((q, j) => j !== i && q.x <= pts[i].x && q.y >= pts[i].y && (q.x < pts[i].x || q.y > pts[i].y || j < i));
      const brute = pts.map((_, i) => i).filter((i) => !dominated(i));
      expect(new Set(paretoFront(pts))).toEqual(new Set(brute));
    }
  });
});

describe('time left', () => {
  it('averages the recent episodes of each search times what remains', () => {
    expect(recentMean([1, 2, 3, 100], 3)).toBe(35);
    expect(recentMean([])).toBe(0);
    expect(timeLeft([{ durations: [1000, 1000, 2000, 2000], remaining: 10 }], 2)).toBe(20_000);
    expect(timeLeft([{ durations: [1000], remaining: 5 }, { durations: [500], remaining: 4 }])).toBe(7000);
  });

  it('is unknown until each search with episodes left has timed one, and 0 when done', () => {
    expect(timeLeft([{ durations: [], remaining: 3 }])).toBeUndefined();
    expect(timeLeft([{ durations: [100], remaining: 3 }, { durations: [], remaining: 3 }])).toBeUndefined();
    expect(timeLeft([{ durations: [100], remaining: 0 }, { durations: [], remaining: 0 }])).toBe(0);
  });

  it('formats durations for people', () => {
    expect(formatDuration(400)).toBe('0 s');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(200_000)).toBe('3 min 20 s');
    expect(formatDuration(180_000)).toBe('3 min');
    expect(formatDuration(3_900_000)).toBe('1 h 5 min');
  });
});

describe('chart helpers', () => {
  it('pads extents and gives a flat set a span', () => {
    expect(paddedExtent([0, 10], 0.1)).toEqual([-1, 11]);
    const [lo, hi] = paddedExtent([0.5, 0.5]);
    expect(lo).toBeLessThan(0.5);
    expect(hi).toBeGreaterThan(0.5);
    expect(paddedExtent([], 0.1, [2, 3])).toEqual([2, 3]);
    expect(paddedExtent([NaN, 1, 3], 0)).toEqual([1, 3]);
  });

  it('makes round ticks inside the range', () => {
    expect(ticks(0, 1, 4)).toEqual([0, 0.5, 1]);
    expect(ticks(-0.93, -0.81, 4)).toEqual([-0.9, -0.85]);
    expect(ticks(0, 300, 4)).toEqual([0, 100, 200, 300]);
    expect(ticks(1, 1)).toEqual([]);
  });

  it('finds the nearest point within a radius', () => {
    const pts = [
      { x: 10, y: 10 },
      { x: 20, y: 10 },
    ];
    expect(nearest(pts, 18, 11, 5)).toBe(1);
    expect(nearest(pts, 15, 40, 5)).toBe(-1);
  });
});

describe('MACs against measured latency', () => {
  it('ranks with ties sharing their mean rank', () => {
    expect(ranks([3, 1, 2])).toEqual([3, 1, 2]);
    expect(ranks([1, 2, 2, 5])).toEqual([1, 2.5, 2.5, 4]);
    expect(ranks([])).toEqual([]);
  });

  it('gives Spearman correlations of 1, -1, and nothing for too few or constant points', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 35, 80])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2], [1, 2])).toBeUndefined();
    expect(spearman([1, 2, 3], [5, 5, 5])).toBeUndefined();
  });

  it('finds where MACs and latency disagree, and the pair where MACs mislead most', () => {
    const agree = macsLatencyAgreement([
      { macs: 0.3, latency: 0.5 },
      { macs: 0.4, latency: 0.6 },
      { macs: 0.5, latency: 0.7 },
    ]);
    expect(agree).toMatchObject({ points: 3, discordant: 0, worst: null });
    expect(agree.spearman).toBeCloseTo(1, 12);

    const r = macsLatencyAgreement([
      { macs: 0.3, latency: 0.8 }, // fewest MACs, but the slowest
      { macs: 0.4, latency: 0.5 },
      { macs: 0.5, latency: 0.6 },
      { macs: NaN, latency: 0.1 }, // not measured: left out
    ]);
    expect(r.points).toBe(3);
    // Pairs (0,1) and (0,2) are ordered the opposite way; (1,2) agrees.
    expect(r.discordant).toBeCloseTo(2 / 3, 12);
    expect(r.worst).toEqual({ fewer: 0, more: 1 });
  });
});
