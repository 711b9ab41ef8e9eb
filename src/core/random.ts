/**
 * The project's seeded random numbers: mulberry32, integer arithmetic only, so a seed gives the
 * same sequence in Node, pages and workers.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A mulberry32 stream whose position can be saved and restored, so a search that resumes after a
 * reload draws the same numbers it would have drawn without the interruption.
 */
export class Rng {
  state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller; one draw per call keeps the saved state simple). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Normal(mu, sigma) truncated to [lo, hi], by rejection (the official AMC code uses scipy's
   * truncnorm: the same distribution). When the interval lies far in a tail, rejection would
   * spin, so after 1000 misses the mean clamped into the interval is returned.
   */
  truncatedNormal(mu: number, sigma: number, lo: number, hi: number): number {
    if (sigma > 0) {
      for (let i = 0; i < 1000; i++) {
        const x = mu + sigma * this.normal();
        if (x >= lo && x <= hi) return x;
      }
    }
    return Math.min(hi, Math.max(lo, mu));
  }
}
