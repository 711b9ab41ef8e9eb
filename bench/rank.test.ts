import { describe, expect, it } from 'vitest';
import { kendall, partialSpearman, ranks, spearman } from './rank';

describe('rank correlation', () => {
  it('shares ranks between ties', () => {
    expect(ranks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });

  it('is 1 for any increasing relation and -1 for a decreasing one', () => {
    const a = [1, 2, 3, 4, 5, 6, 7, 8];
    expect(spearman(a, a.map((x) => x ** 3)).value).toBeCloseTo(1, 12);
    expect(kendall(a, a.map((x) => Math.exp(x))).value).toBeCloseTo(1, 12);
    expect(spearman(a, a.map((x) => -x)).value).toBeCloseTo(-1, 12);
    expect(kendall(a, a.map((x) => -x)).value).toBeCloseTo(-1, 12);
  });

  it('matches values worked by hand', () => {
    // Ranks of b: 2 1 4 3 5 -> d = (1,1,1,1,0): rho = 1 - 6*4/(5*24) = 0.8. Pairs: 8 concordant, 2 discordant -> tau 0.6.
    const a = [1, 2, 3, 4, 5];
    const b = [20, 10, 40, 30, 50];
    expect(spearman(a, b).value).toBeCloseTo(0.8, 12);
    expect(kendall(a, b).value).toBeCloseTo(0.6, 12);
  });

  it('gives an interval that holds the value and narrows with n', () => {
    const wide = spearman([1, 2, 3, 4, 5, 6], [1, 3, 2, 4, 6, 5]);
    const xs = Array.from({ length: 60 }, (_, i) => i);
    const narrow = spearman(xs, xs.map((x) => x + (x % 3) * 4));
    for (const c of [wide, narrow]) expect(c.low <= c.value && c.value <= c.high).toBe(true);
    expect(narrow.high - narrow.low).toBeLessThan(wide.high - wide.low);
  });

  it('partial rho removes what the control variable explains', () => {
    // truth = size + quality; the score sees quality only: alone it ranks weakly, with size held fixed it ranks well.
    const size = Array.from({ length: 40 }, (_, i) => i % 8);
    const quality = Array.from({ length: 40 }, (_, i) => Math.sin(i * 2.3));
    const truth = size.map((s, i) => s + 0.5 * quality[i]);
    expect(partialSpearman(quality, truth, size).value).toBeGreaterThan(spearman(quality, truth).value + 0.3);
    // A score that is the size itself tells nothing once size is held fixed.
    expect(Math.abs(partialSpearman(size.map((s, i) => s + i * 1e-9), truth, size).value)).toBeLessThan(0.2);
  });
});
