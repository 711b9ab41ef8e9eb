/**
 * The evaluation worker in process, for tests in Node (no Web Workers there): an EvalHost on the
 * tfjs backend already set, behind the Worker methods the page's client uses. Messages cross as
 * structured clones, asynchronously, as postMessage delivers them; after terminate() nothing more
 * is delivered (the host's loop cannot be stopped in process, but its answers are dropped).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../core/measure/backends';
import { EvalHost } from '../workers/eval-host';
import type { FromEvalWorker, ToEvalWorker } from '../workers/eval-messages';

export interface LocalEvalWorker {
  onmessage: ((e: MessageEvent<FromEvalWorker>) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
  terminated: boolean;
  posted: ToEvalWorker[];
  postMessage(msg: ToEvalWorker): void;
  terminate(): void;
}

export function localEvalWorker(): LocalEvalWorker {
  const w: LocalEvalWorker = {
    onmessage: null,
    onerror: null,
    terminated: false,
    posted: [],
    postMessage(msg) {
      if (w.terminated) return;
      const copy = structuredClone(msg);
      w.posted.push(copy);
      setTimeout(() => void host.handle(copy), 0);
    },
    terminate() {
      w.terminated = true;
    },
  };
  const host = new EvalHost({
    post: (m) => {
      const copy = structuredClone(m);
      setTimeout(() => {
        if (!w.terminated) w.onmessage?.({ data: copy } as MessageEvent<FromEvalWorker>);
      }, 0);
    },
    initBackend: async () => ({ name: tf.getBackend() as BackendName, reason: 'in process (test)' }),
  });
  return w;
}

/** localEvalWorker as the client's factory takes it, each worker made kept in `made`. */
export function localEvalFactory(made: LocalEvalWorker[] = []): () => Worker {
  return () => {
    const w = localEvalWorker();
    made.push(w);
    return w as unknown as Worker;
  };
}
