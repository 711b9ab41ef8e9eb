/**
 * The agent's replay buffer: a ring of (state, action, reward, next state, done) in flat typed
 * arrays, so that saving it (IndexedDB, structured clone) is a copy of five arrays.
 */
import type { Rng } from '../random';

export interface Transition {
  state: Float32Array;
  action: number;
  reward: number;
  next: Float32Array;
  done: boolean;
}

export interface Batch {
  states: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nexts: Float32Array;
  /** 1 where the episode continues after this step, 0 at its last step. */
  notDone: Float32Array;
  size: number;
}

export interface ReplaySnapshot {
  capacity: number;
  stateSize: number;
  size: number;
  head: number;
  states: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nexts: Float32Array;
  notDone: Float32Array;
}

export class ReplayBuffer {
  private states: Float32Array;
  private actions: Float32Array;
  private rewards: Float32Array;
  private nexts: Float32Array;
  private notDone: Float32Array;
  /** Stored transitions (at most capacity). */
  size = 0;
  /** Where the next transition goes. */
  private head = 0;

  constructor(
    readonly capacity: number,
    readonly stateSize: number,
  ) {
    this.states = new Float32Array(capacity * stateSize);
    this.nexts = new Float32Array(capacity * stateSize);
    this.actions = new Float32Array(capacity);
    this.rewards = new Float32Array(capacity);
    this.notDone = new Float32Array(capacity);
  }

  push(t: Transition): void {
    const i = this.head;
    this.states.set(t.state, i * this.stateSize);
    this.nexts.set(t.next, i * this.stateSize);
    this.actions[i] = t.action;
    this.rewards[i] = t.reward;
    this.notDone[i] = t.done ? 0 : 1;
    this.head = (i + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** `count` distinct transitions drawn uniformly (all of them when fewer are stored). */
  sample(count: number, rng: Rng): Batch {
    const n = Math.min(count, this.size);
    const picked = new Set<number>();
    while (picked.size < n) picked.add(rng.int(this.size));
    const s = this.stateSize;
    const batch: Batch = {
      states: new Float32Array(n * s),
      actions: new Float32Array(n),
      rewards: new Float32Array(n),
      nexts: new Float32Array(n * s),
      notDone: new Float32Array(n),
      size: n,
    };
    let j = 0;
    for (const i of picked) {
      batch.states.set(this.states.subarray(i * s, (i + 1) * s), j * s);
      batch.nexts.set(this.nexts.subarray(i * s, (i + 1) * s), j * s);
      batch.actions[j] = this.actions[i];
      batch.rewards[j] = this.rewards[i];
      batch.notDone[j] = this.notDone[i];
      j++;
    }
    return batch;
  }

  snapshot(): ReplaySnapshot {
    return {
      capacity: this.capacity,
      stateSize: this.stateSize,
      size: this.size,
      head: this.head,
      states: this.states.slice(),
      actions: this.actions.slice(),
      rewards: this.rewards.slice(),
      nexts: this.nexts.slice(),
      notDone: this.notDone.slice(),
    };
  }

  static restore(s: ReplaySnapshot): ReplayBuffer {
    const r = new ReplayBuffer(s.capacity, s.stateSize);
    r.states.set(s.states);
    r.nexts.set(s.nexts);
    r.actions.set(s.actions);
    r.rewards.set(s.rewards);
    r.notDone.set(s.notDone);
    r.size = s.size;
    r.head = s.head;
    return r;
  }
}
