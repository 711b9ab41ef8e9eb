import { describe, expect, it } from 'vitest';
import { Rng } from '../random';
import { ReplayBuffer } from './replay';

const state = (v: number) => new Float32Array([v, v + 0.5]);

describe('replay buffer', () => {
  it('overwrites the oldest transition when full', () => {
    const r = new ReplayBuffer(3, 2);
    for (let i = 0; i < 5; i++) r.push({ state: state(i), action: i / 10, reward: -i, next: state(i + 1), done: i % 2 === 1 });
    expect(r.size).toBe(3);
    const all = r.sample(10, new Rng(1));
    expect(all.size).toBe(3);
    expect([...all.rewards].sort()).toEqual([-2, -3, -4].sort());
    for (let j = 0; j < all.size; j++) {
      const i = -all.rewards[j];
      expect(all.actions[j]).toBeCloseTo(i / 10, 6);
      expect([...all.states.subarray(j * 2, j * 2 + 2)]).toEqual([i, i + 0.5]);
      expect([...all.nexts.subarray(j * 2, j * 2 + 2)]).toEqual([i + 1, i + 1.5]);
      expect(all.notDone[j]).toBe(i % 2 === 1 ? 0 : 1);
    }
  });

  it('samples distinct transitions, uniformly', () => {
    const r = new ReplayBuffer(100, 2);
    for (let i = 0; i < 100; i++) r.push({ state: state(i), action: 0, reward: i, next: state(i), done: false });
    const rng = new Rng(3);
    const counts = new Array(100).fill(0);
    for (let k = 0; k < 500; k++) {
      const b = r.sample(64, rng);
      expect(new Set(b.rewards).size).toBe(64);
      for (const x of b.rewards) counts[x]++;
    }
    // 320 draws per transition on average; uniform sampling keeps every count near it.
    expect(Math.min(...counts)).toBeGreaterThan(250);
    expect(Math.max(...counts)).toBeLessThan(390);
  });

  it('restores from a snapshot to the same contents and position', () => {
    const r = new ReplayBuffer(4, 2);
    for (let i = 0; i < 6; i++) r.push({ state: state(i), action: i, reward: i, next: state(i), done: false });
    const copy = ReplayBuffer.restore(structuredClone(r.snapshot()));
    r.push({ state: state(9), action: 9, reward: 9, next: state(9), done: true });
    copy.push({ state: state(9), action: 9, reward: 9, next: state(9), done: true });
    expect(copy.snapshot()).toEqual(r.snapshot());
  });
});
