import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../random';
import { DDPG_DEFAULTS } from './config';
import { DdpgAgent } from './ddpg';
import { ReplayBuffer } from './replay';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const STATE = 3;
/** A one-step problem with a known optimum that depends on the state: a*(s) = 0.2 + 0.6 s0. */
const optimum = (s: Float32Array) => 0.2 + 0.6 * s[0];
const reward = (s: Float32Array, a: number) => -((a - optimum(s)) ** 2);

describe('DDPG agent', () => {
  it('learns the optimal action of a contextual continuous problem', async () => {
    // Smaller nets and a faster actor than AMC's so the test takes seconds; the update rule is the one AMC uses.
    const config = { ...DDPG_DEFAULTS, hidden1: 64, hidden2: 64, actorLr: 1e-3 };
    const rng = new Rng(5);
    const agent = new DdpgAgent(STATE, config, rng);
    const replay = new ReplayBuffer(2000, STATE);
    const randomState = () => new Float32Array([rng.next(), rng.next(), rng.next()]);
    const push = (s: Float32Array, a: number) => replay.push({ state: s, action: a, reward: reward(s, a), next: s, done: true });
    for (let i = 0; i < 200; i++) push(randomState(), rng.next());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1200; i++) {
      const s = randomState();
      push(s, rng.truncatedNormal(await agent.act(s), 0.3 * 0.998 ** i, 0, 1));
      await agent.update(replay.sample(64, rng));
    }
    expect(tf.memory().numTensors).toBe(before);
    let err = 0;
    for (let k = 0; k < 50; k++) {
      const s = randomState();
      err += Math.abs((await agent.act(s)) - optimum(s));
    }
    expect(err / 50).toBeLessThan(0.06);
    agent.dispose();
  }, 120_000);

  it('is deterministic for a seed, and a restored agent continues exactly', async () => {
    const make = () => new DdpgAgent(STATE, DDPG_DEFAULTS, new Rng(9));
    const batchRng = new Rng(1);
    const replay = new ReplayBuffer(100, STATE);
    for (let i = 0; i < 100; i++) {
      const s = new Float32Array([batchRng.next(), batchRng.next(), batchRng.next()]);
      replay.push({ state: s, action: batchRng.next(), reward: -batchRng.next(), next: s, done: i % 3 === 2 });
    }
    const batches = Array.from({ length: 4 }, () => replay.sample(64, batchRng));
    const probe = new Float32Array([0.3, 0.6, 0.9]);

    const a = make();
    const b = make();
    for (const batch of batches.slice(0, 2)) {
      await a.update(batch);
      await b.update(batch);
    }
    expect(await a.act(probe)).toBe(await b.act(probe));
    const saved = structuredClone(await a.snapshot());
    const c = make();
    c.restore(saved);
    for (const batch of batches.slice(2)) {
      await a.update(batch);
      await c.update(batch);
    }
    expect(await c.act(probe)).toBe(await a.act(probe));
    expect(await c.value(probe, 0.5)).toBe(await a.value(probe, 0.5));
    expect(c.movingAverage).toBe(a.movingAverage);
    [a, b, c].forEach((x) => x.dispose());
  });
});
