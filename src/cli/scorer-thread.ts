/**
 * A Node worker thread that scores policies for `amc search`'s pool (scorer-threads.ts): the
 * remote-scorer server (core/search/remote-scorer.ts) bound to the thread's port, on WASM like the
 * search itself.
 */
import { parentPort } from 'node:worker_threads';
import { initBackend, type BackendName } from '../core/measure/backends';
import { serveScorer, type FromScorer, type ToScorer } from '../core/search/remote-scorer';

const port = parentPort!;
const serve = serveScorer(
  (msg: FromScorer) => port.postMessage(msg),
  async (name) => {
    const info = await initBackend(name as BackendName);
    if (info.name !== name) throw new Error(`the ${name} backend failed in a scorer thread (${info.reason})`);
  },
);
port.on('message', (msg: ToScorer) => void serve(msg));
