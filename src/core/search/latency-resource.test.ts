import { describe, expect, it } from 'vitest';
import { LOAD_CHANGE } from './config';
import { BUSY_SHARE, originalLatencySpread } from './latency-resource';

describe("the original's latency over a search", () => {
  it('is steady within the load change allowed, and says busy when a stretch of timings leaves it either way', () => {
    expect(originalLatencySpread(4, [4.2, 3.9, undefined, 4.1])).toEqual({ startMs: 4, min: 3.9 / 4, max: 4.2 / 4, offShare: 0, busy: false });
    // plain-cnn's search while other processes started beside it: 3.45 ms at the start, then 7-56 ms.
    expect(originalLatencySpread(3.45, [3.3, 7.45, 55.9, 11.8])).toEqual({ startMs: 3.45, min: 3.3 / 3.45, max: 55.9 / 3.45, offShare: 0.75, busy: true });
    expect(originalLatencySpread(10, [10 / (1 + LOAD_CHANGE) - 0.1])!.busy).toBe(true);
    expect(originalLatencySpread(10, [10 * (1 + LOAD_CHANGE)])!.busy).toBe(false);
    // A lone spike among steady timings disturbs one episode, not the search.
    const steady = Array.from({ length: 40 }, () => 10);
    expect(originalLatencySpread(10, [...steady, 16])).toMatchObject({ max: 1.6, busy: false });
    const stretch = Math.ceil(40 * BUSY_SHARE) + 1;
    expect(originalLatencySpread(10, [...steady, ...Array(stretch).fill(16)])!.busy).toBe(true);
  });

  it('has nothing to say without timings', () => {
    expect(originalLatencySpread(4, [undefined])).toBeNull();
    expect(originalLatencySpread(0, [4])).toBeNull();
  });
});
