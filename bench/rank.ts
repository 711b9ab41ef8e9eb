/**
 * Rank correlation with the interval its sample size allows: Spearman's rho (Pearson on average
 * ranks, ties shared) and Kendall's tau-b, each with a 95% interval. Rho's interval comes from
 * Fisher's z with the Bonett-Wright standard error sqrt((1 + rho^2 / 2) / (n - 3)); tau's from its
 * large-sample standard error under independence, sqrt(2 (2n + 5) / (9 n (n - 1))), which is
 * conservative away from zero.
 */
import { ranks } from '../src/app/lib/search-math';

export { ranks };

export interface Correlation {
  value: number;
  low: number;
  high: number;
  n: number;
}

export function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa && sbb ? sab / Math.sqrt(saa * sbb) : 0;
}

export function spearman(a: readonly number[], b: readonly number[]): Correlation {
  const n = a.length;
  const value = pearson(ranks(a), ranks(b));
  if (n < 4) return { value, low: -1, high: 1, n };
  const z = Math.atanh(Math.max(-0.999999, Math.min(0.999999, value)));
  const se = Math.sqrt((1 + value ** 2 / 2) / (n - 3));
  return { value, low: Math.tanh(z - 1.96 * se), high: Math.tanh(z + 1.96 * se), n };
}

/** Kendall's tau-b (ties in either variable corrected for). */
export function kendall(a: readonly number[], b: readonly number[]): Correlation {
  const n = a.length;
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const da = Math.sign(a[i] - a[j]);
      const db = Math.sign(b[i] - b[j]);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  const value = denom ? (concordant - discordant) / denom : 0;
  if (n < 2) return { value, low: -1, high: 1, n };
  const se = Math.sqrt((2 * (2 * n + 5)) / (9 * n * (n - 1)));
  return { value, low: Math.max(-1, value - 1.96 * se), high: Math.min(1, value + 1.96 * se), n };
}

export function correlations(a: readonly number[], b: readonly number[]): { spearman: Correlation; kendall: Correlation } {
  return { spearman: spearman(a, b), kendall: kendall(a, b) };
}

/**
 * Spearman's rho between a and b with c held fixed (partial correlation of the ranks): how well `a`
 * orders policies *of the same size* (c = their MACs) the way `b` does, which is what a search
 * that keeps every episode at its target asks of its evaluator. Interval as for rho, with n - 1.
 */
export function partialSpearman(a: readonly number[], b: readonly number[], c: readonly number[]): Correlation {
  const [ra, rb, rc] = [ranks(a), ranks(b), ranks(c)];
  const ab = pearson(ra, rb);
  const ac = pearson(ra, rc);
  const bc = pearson(rb, rc);
  const denom = Math.sqrt((1 - ac ** 2) * (1 - bc ** 2));
  const value = denom > 1e-12 ? (ab - ac * bc) / denom : 0;
  const n = a.length;
  if (n < 5) return { value, low: -1, high: 1, n };
  const z = Math.atanh(Math.max(-0.999999, Math.min(0.999999, value)));
  const se = Math.sqrt((1 + value ** 2 / 2) / (n - 4));
  return { value, low: Math.tanh(z - 1.96 * se), high: Math.tanh(z + 1.96 * se), n };
}
