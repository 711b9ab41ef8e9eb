/**
 * A pool of scorers for independent episodes (the warm-up and random search: AmcSearch.runEpisodes):
 * the search's own scorer plus scorers in other threads (Node worker_threads, Web Workers; see
 * remote-scorer.ts), each scoring the policies it is handed, the scores returned in the order asked.
 * A latency search never gets one: its timings need the device to itself.
 *
 * The local scorer runs on the thread that also dispatches, and a scoring call there rarely yields
 * to the event loop: a remote scorer's answer waits until the local call ends. So remote scorers
 * are given a second policy ahead (depth 2), are served before the local one, and, before the local
 * scorer takes its next policy, the thread turns its event loop once (a macrotask), so answers
 * that came in meanwhile hand the remotes their next policies first. Without that turn, measured
 * on mobilenet-like, the local scorer took 4 policies of every 6 while the thread sat idle.
 */
import type { Score } from './search';

/** Scores several policies at once. */
export interface ScorerPool {
  /** Scorers working at once, the local one included. */
  readonly size: number;
  /** The scores of `policies`, in their order. */
  scoreMany(policies: readonly ReadonlyMap<string, number>[]): Promise<Score[]>;
  /** Ends the remote scorers (their threads or workers); the local scorer stays its owner's. */
  dispose(): void;
}

/** One scorer of a pool. */
export interface PoolSlot {
  score(keep: ReadonlyMap<string, number>): Promise<Score>;
  /** Policies it may hold at once (see the file's comment). */
  readonly depth: number;
  dispose?(): void;
}

/** A remote scorer that is gone (its thread crashed or ended): its policies go to the others. */
export class ScorerLost extends Error {}

/**
 * Episodes a pooled batch holds per scorer: enough that the scorers finishing early do not wait
 * long for the slowest at the end of a batch, few enough that pause and stop (taken between
 * batches) still answer within a few episodes' time.
 */
export const EPISODES_PER_SCORER = 3;

/** Pooled scorers the device's cores allow: all of them, at most `cap` (Node: os.availableParallelism()). */
export function poolSize(cores: number, cap = 8): number {
  return Math.max(1, Math.min(Math.floor(cores) || 1, cap));
}

export class SlotPool implements ScorerPool {
  private readonly slots: PoolSlot[];

  /** `remotes` are served first, `local` (the search's own scorer) last. */
  constructor(
    remotes: PoolSlot[],
    private readonly local: PoolSlot,
  ) {
    this.slots = [...remotes, local];
  }

  get size(): number {
    return this.slots.length;
  }

  scoreMany(policies: readonly ReadonlyMap<string, number>[]): Promise<Score[]> {
    const results: Score[] = new Array(policies.length);
    const queue = policies.map((_, i) => i);
    const busy = new Map<PoolSlot, number>();
    let done = 0;
    let inFlight = 0;
    let failure: { error: unknown } | null = null;
    return new Promise<Score[]>((resolve, reject) => {
      // A failed batch settles only once nothing of it runs: the caller may dispose a scorer next.
      const settle = () => {
        if (failure && inFlight === 0) reject(failure.error);
        else if (!failure && done === policies.length) resolve(results);
      };
      const pump = () => {
        for (const slot of [...this.slots]) {
          while (!failure && queue.length && (busy.get(slot) ?? 0) < slot.depth && this.slots.includes(slot)) {
            const i = queue.shift()!;
            busy.set(slot, (busy.get(slot) ?? 0) + 1);
            inFlight++;
            slot.score(policies[i]).then(
              (s) => {
                results[i] = s;
                done++;
                finished(slot);
              },
              (e: unknown) => {
                if (e instanceof ScorerLost && slot !== this.local) {
                  this.drop(slot);
                  queue.unshift(i);
                } else failure ??= { error: e };
                finished(slot);
              },
            );
          }
        }
      };
      const finished = (slot: PoolSlot) => {
        busy.set(slot, busy.get(slot)! - 1);
        inFlight--;
        if (slot !== this.local || failure || !queue.length) {
          pump();
          settle();
          return;
        }
        // The local scorer is free: the remotes' answers that came in meanwhile go first.
        inFlight++;
        void nextMacrotask().then(() => {
          inFlight--;
          pump();
          settle();
        });
      };
      pump();
      settle();
    });
  }

  /** A lost remote leaves the pool for good (the local scorer always stays). */
  private drop(slot: PoolSlot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    try {
      slot.dispose?.();
    } catch {
      // Already gone.
    }
  }

  dispose(): void {
    for (const slot of this.slots.splice(0)) {
      if (slot === this.local) continue;
      try {
        slot.dispose?.();
      } catch {
        // Already gone.
      }
    }
    this.slots.push(this.local);
  }
}

/** One turn of the event loop: messages from other threads that are waiting are handled first. */
function nextMacrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  return new Promise((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** The search's own scorer as a pool slot. */
export function localSlot(scorer: { score(keep: ReadonlyMap<string, number>): Promise<Score> }): PoolSlot {
  return { depth: 1, score: (keep) => scorer.score(keep) };
}
