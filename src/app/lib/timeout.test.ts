import { describe, expect, it, vi } from 'vitest';
import { TimeoutError, withTimeout } from './timeout';

describe('withTimeout', () => {
  it('passes a result or an error that comes in time', async () => {
    await expect(withTimeout(Promise.resolve(3), 1000, () => new TimeoutError('late'))).resolves.toBe(3);
    await expect(withTimeout(Promise.reject(new Error('bad')), 1000, () => new TimeoutError('late'))).rejects.toThrow('bad');
  });

  it('reports when the limit passes and hands what the work makes later to `late`', async () => {
    vi.useFakeTimers();
    try {
      let finish!: (v: string) => void;
      const work = new Promise<string>((r) => (finish = r));
      const late = vi.fn();
      const p = withTimeout(work, 60_000, () => new TimeoutError('model.json took longer than 60 s'), late);
      const seen = expect(p).rejects.toThrow(/took longer than 60 s/);
      await vi.advanceTimersByTimeAsync(60_001);
      await seen;
      expect(late).not.toHaveBeenCalled();
      finish('the built model');
      await vi.advanceTimersByTimeAsync(0);
      expect(late).toHaveBeenCalledWith('the built model');
    } finally {
      vi.useRealTimers();
    }
  });
});
