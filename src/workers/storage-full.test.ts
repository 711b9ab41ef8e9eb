import { describe, expect, it } from 'vitest';
import { approxBytes, formatBytes, guardQuota, isQuotaError, StorageFullError, storageFullMessage } from './storage-full';

const quota = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

describe('a full storage quota, told with what to delete', () => {
  it('recognizes the quota error, and nothing else', () => {
    expect(isQuotaError(quota())).toBe(true);
    expect(isQuotaError(new DOMException('Quota exceeded while committing', 'UnknownError'))).toBe(true);
    expect(isQuotaError(new DOMException('Transaction aborted', 'AbortError'))).toBe(false);
    expect(isQuotaError(new DOMException('could not be cloned', 'DataCloneError'))).toBe(false);
    expect(isQuotaError(new Error('quota'))).toBe(false);
    expect(isQuotaError(null)).toBe(false);
  });

  it('sizes stored values by their buffers and strings', () => {
    const progress = { weights: new Float32Array(1000), replay: [new ArrayBuffer(500), new Uint8Array(new ArrayBuffer(2000), 0, 100)], name: 'x'.repeat(50) };
    const n = approxBytes(progress);
    expect(n).toBeGreaterThanOrEqual(4000 + 500 + 100 + 50);
    expect(n).toBeLessThan(4000 + 500 + 100 + 50 + 100);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(approxBytes(cyclic)).toBeLessThan(50);
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(12.3 * 1024 * 1024)).toBe('12.3 MB');
  });

  it('says nothing saved is lost and lists what to delete, biggest first', () => {
    const m = storageFullMessage(
      [
        { what: 'saved search "small" (3 of 10 episodes)', bytes: 2048 },
        { what: 'the saved fine-tune of "pruned" (2 of 5 epochs)', bytes: 30 * 1024 * 1024 },
        { what: 'saved search "big" (40 of 300 episodes)', bytes: 12 * 1024 * 1024 },
      ],
      { usage: 49 * 1024 * 1024, quota: 50 * 1024 * 1024 },
    );
    expect(m).not.toContain('\n');
    expect(m).toContain('full (49.0 MB of the 50.0 MB it may use)');
    expect(m).toContain('everything saved before is intact');
    const order = ['fine-tune', '"big"', '"small"'].map((s) => m.indexOf(s));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(m).toContain('"big" (40 of 300 episodes), 12.0 MB');
    expect(storageFullMessage([])).toMatch(/Free some disk space/);
    expect(storageFullMessage([], { usage: 1e6, quota: 1e10 })).toMatch(/^this browser's storage for this site is full, so/);
    const many = storageFullMessage(Array.from({ length: 9 }, (_, i) => ({ what: `s${i}`, bytes: 1000 + i })));
    expect(many).toContain('and 3 more');
  });

  it('turns a refused write into a StorageFullError and lets other errors through as they are', async () => {
    await expect(guardQuota(async () => 'written')).resolves.toBe('written');
    const other = new DOMException('bad', 'DataCloneError');
    await expect(guardQuota(async () => Promise.reject(other))).rejects.toBe(other);
    // In Node there is no IndexedDB to list: the refusal still says what happened.
    const e = await guardQuota(async () => Promise.reject(quota())).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StorageFullError);
    expect((e as Error).message).toMatch(/^this browser's storage for this site is full, so this was not written; everything saved before is intact/);
  });
});
