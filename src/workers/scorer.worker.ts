/**
 * A scorer of the search worker's pool (scorer-pool.ts): the remote-scorer server
 * (core/search/remote-scorer.ts) bound to this worker's messages. It loads the model and the
 * scoring data once, on the search's backend, and scores each policy it is sent.
 *
 * On WASM it runs one thread: the pool already spreads episodes over the cores, and every scorer
 * taking tfjs's default share (half the cores) would oversubscribe them.
 *
 * Made by the search worker with
 *   new Worker(new URL('./scorer.worker.ts', import.meta.url), { type: 'module' })
 */
import { initBackend, type BackendName } from '../core/measure/backends';
import { serveScorer, type FromScorer, type ToScorer } from '../core/search/remote-scorer';
import { wasmPaths } from './wasm-paths';

const scope = self as unknown as {
  postMessage(msg: FromScorer): void;
  onmessage: ((e: MessageEvent<ToScorer>) => void) | null;
};

const serve = serveScorer(
  (msg) => scope.postMessage(msg),
  async (name) => {
    if (name === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      try {
        wasm.setThreadsCount(1);
      } catch {
        // Set once only; the count in place is kept.
      }
    }
    const info = await initBackend(name as BackendName, wasmPaths);
    if (info.name !== name) throw new Error(`the ${name} backend failed in a scorer worker (${info.reason})`);
  },
);

scope.onmessage = (e) => void serve(e.data);
