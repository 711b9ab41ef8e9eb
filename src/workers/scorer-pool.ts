/**
 * The search worker's scorer pool in the browser: nested dedicated workers (scorer.worker.ts) beside
 * the search worker's own scorer, for the episodes that do not depend on each other (the warm-up,
 * random search). Never for a latency search (the session does not ask): its timings need the
 * device to itself.
 *
 * Size: the reported cores less one for the page, at least 2 where there are 2 (during a search
 * the page only redraws its charts once per episode, so a 2-core laptop scores on both), at most
 * 4 (each scorer holds its own copy of the model and the data; a phone's memory is the limit).
 */
import { localSlot, SlotPool, type ScorerPool } from '../core/search/pool';
import { RemoteScorer, scorerSpec, type FromScorer, type ScorerPort } from '../core/search/remote-scorer';
import type { EpisodeScorer } from '../core/search/scorer';

export const MAX_SCORERS = 4;

/** Scorers for `cores` logical cores (navigator.hardwareConcurrency): 1 means no pool. */
export function browserPoolSize(cores: number | undefined): number {
  const n = Math.floor(cores ?? 1) || 1;
  if (n < 2) return 1;
  return Math.min(Math.max(n - 1, 2), MAX_SCORERS);
}

/** A dedicated worker as a scorer port. */
export function workerPort(worker: Worker): ScorerPort {
  return {
    post: (msg) => worker.postMessage(msg),
    onMessage: (listener) => worker.addEventListener('message', (e: MessageEvent<FromScorer>) => listener(e.data)),
    onFailure: (listener) => {
      worker.addEventListener('error', (e) => {
        e.preventDefault();
        listener(e.message || 'the scorer worker failed');
      });
      worker.addEventListener('messageerror', () => listener('a message from the scorer worker could not be read'));
    },
    terminate: () => worker.terminate(),
  };
}

/**
 * A pool of `size` scorers: `scorer` (the search worker's own) and `size - 1` workers made by
 * `spawn`, each with the same model, data and options on `backend`. Null for 1, or when none could
 * start (the search then scores alone); workers that failed to start are left out.
 */
export async function workerPool(scorer: EpisodeScorer, backend: string, size: number, spawn: () => Worker): Promise<ScorerPool | null> {
  if (size < 2) return null;
  const spec = scorerSpec(scorer, backend);
  const started = await Promise.allSettled(
    Array.from({ length: size - 1 }, () => {
      let port: ScorerPort;
      try {
        port = workerPort(spawn());
      } catch (e) {
        return Promise.reject(e);
      }
      return RemoteScorer.open(port, spec);
    }),
  );
  const remotes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  return remotes.length ? new SlotPool(remotes, localSlot(scorer)) : null;
}
