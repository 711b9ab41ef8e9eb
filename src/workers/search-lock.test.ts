import { describe, expect, it } from 'vitest';
import { FakeLocks } from '../testing/fake-locks';
import { lockedSearchIds, searchLockName, tryLockSearch, withSearchLock } from './search-lock';

describe('one tab per saved search (Web Locks)', () => {
  it('grants the lock of a search to one holder at a time, until it lets go', async () => {
    const locks = new FakeLocks();
    const a = await tryLockSearch('s1', locks);
    expect(a).toBeTypeOf('function');
    expect(await tryLockSearch('s1', locks)).toBeNull();
    // Another search is another lock.
    const other = await tryLockSearch('s2', locks);
    expect(other).toBeTypeOf('function');
    expect(await lockedSearchIds(locks)).toEqual(new Set(['s1', 's2']));
    a!();
    await new Promise((r) => setTimeout(r, 0));
    expect(await lockedSearchIds(locks)).toEqual(new Set(['s2']));
    const b = await tryLockSearch('s1', locks);
    expect(b).toBeTypeOf('function');
    b!();
    other!();
  });

  it('waits a moment for a lock being let go, and says "locked" when another holder keeps it', async () => {
    const locks = new FakeLocks();
    const held = await tryLockSearch('s1', locks);
    setTimeout(() => held!(), 50);
    const r = await withSearchLock('s1', async () => 42, 1000, locks);
    expect(r).toEqual({ locked: false, value: 42 });

    const kept = await tryLockSearch('s1', locks);
    let ran = false;
    const t0 = Date.now();
    const refused = await withSearchLock(
      's1',
      async () => {
        ran = true;
      },
      100,
      locks,
    );
    expect(refused).toEqual({ locked: true });
    expect(ran).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    kept!();
  });

  it('passes on the error of the work done under the lock, and lets go of it', async () => {
    const locks = new FakeLocks();
    await expect(withSearchLock('s1', async () => Promise.reject(new Error('disk gone')), 100, locks)).rejects.toThrow('disk gone');
    expect(await lockedSearchIds(locks)).toEqual(new Set());
  });

  it('without Web Locks (Node, old browsers) grants at once and knows of no lock', async () => {
    expect(globalThis.navigator?.locks).toBeUndefined();
    const release = await tryLockSearch('s1');
    expect(release).toBeTypeOf('function');
    expect(await withSearchLock('s1', async () => 'ok')).toEqual({ locked: false, value: 'ok' });
    expect(await lockedSearchIds()).toEqual(new Set());
    expect(searchLockName('abc')).toBe('amc-search:abc');
  });
});
