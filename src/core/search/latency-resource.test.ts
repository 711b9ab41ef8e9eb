import { describe, expect, it } from 'vitest';
import { LOAD_CHANGE } from './config';
import { originalLatencySpread } from './latency-resource';

describe("the original's latency over a search", () => {
  it('is steady within the load change allowed, and says busy beyond it either way', () => {
    expect(originalLatencySpread(4, [4.2, 3.9, undefined, 4.1])).toEqual({ min: 3.9 / 4, max: 4.2 / 4, busy: false });
    // plain-cnn's search while other processes started beside it: 3.45 ms at the start, then 7-56 ms.
    expect(originalLatencySpread(3.45, [3.3, 7.45, 55.9, 11.8])).toEqual({ min: 3.3 / 3.45, max: 55.9 / 3.45, busy: true });
    expect(originalLatencySpread(10, [10 / (1 + LOAD_CHANGE) - 0.1])!.busy).toBe(true);
    expect(originalLatencySpread(10, [10 * (1 + LOAD_CHANGE)])!.busy).toBe(false);
  });

  it('has nothing to say without timings', () => {
    expect(originalLatencySpread(4, [undefined])).toBeNull();
    expect(originalLatencySpread(0, [4])).toBeNull();
  });
});
