/**
 * `amc search`'s scorer pool in Node: `workers - 1` worker threads (scorer-thread.ts) beside the
 * search's own scorer, for the episodes that do not depend on each other (warm-up, random search).
 * The default size is the machine's cores (os.availableParallelism()); `--workers 1` scores on the
 * main thread alone.
 *
 * The CLI runs under tsx, and Node 20 does not pass tsx's loader to a worker thread started on a
 * .ts file: such a thread first registers tsx's loader (tsx/esm/api), then imports the entry.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { localSlot, poolSize, SlotPool, type ScorerPool } from '../core/search/pool';
import { RemoteScorer, scorerSpec, type FromScorer, type ScorerPort } from '../core/search/remote-scorer';
import type { EpisodeScorer } from '../core/search/scorer';

/** Scorers `amc search` runs at once unless --workers says: every core, at most 8. */
export function defaultWorkers(): number {
  return poolSize(availableParallelism());
}

const ENTRY = new URL('./scorer-thread.ts', import.meta.url);

/** A worker thread on `entry`, a .ts file loaded through tsx (or a .js file as it is). */
export function startThread(entry: URL): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry);
  // tsx's ESM entry (require.resolve would give its CommonJS one, which cannot register the ESM loader).
  const tsx = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true });
}

/**
 * The thread as a scorer port. The thread holds the process open only while it owes an answer: a
 * command that fails before it ends its pool still exits.
 */
function threadPort(worker: Worker): ScorerPort {
  let owed = 0;
  const owe = (n: number) => {
    owed += n;
    if (owed > 0) worker.ref();
    else worker.unref();
  };
  return {
    post: (msg) => {
      owe(1);
      worker.postMessage(msg);
    },
    onMessage: (listener) =>
      void worker.on('message', (msg: FromScorer) => {
        owe(-1);
        listener(msg);
      }),
    onFailure: (listener) => {
      worker.on('error', (e) => listener(e.message));
      worker.on('messageerror', (e) => listener(e.message));
      worker.on('exit', (code) => listener(`the scorer thread exited (code ${code})`));
    },
    terminate: () => void worker.terminate(),
  };
}

/**
 * A pool of `workers` scorers: `scorer` (the search's own) and `workers - 1` threads with the same
 * model, data and options on `backend`. Null for 1 (no pool).
 */
export async function threadPool(scorer: EpisodeScorer, backend: string, workers: number): Promise<ScorerPool | null> {
  if (workers < 2) return null;
  const spec = scorerSpec(scorer, backend);
  const started = await Promise.allSettled(Array.from({ length: workers - 1 }, () => RemoteScorer.open(threadPort(startThread(ENTRY)), spec)));
  const remotes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    remotes.forEach((r) => r.dispose());
    throw new Error(`a scorer thread could not start (${failed.reason instanceof Error ? failed.reason.message : String(failed.reason)}); --workers 1 scores on the main thread alone.`);
  }
  return new SlotPool(remotes, localSlot(scorer));
}
