/**
 * The evaluation worker: accuracy or fidelity of models on the Data panel's images, off the page's
 * main thread (scoring 2,000 images there blocked the page for seconds). A thin binding of
 * EvalHost (eval-host.ts) to the worker's messages, on its own tfjs backend: the page's choice.
 *
 * Made by the page with
 *   new Worker(new URL('../workers/eval.worker.ts', import.meta.url), { type: 'module' })
 */
import { initBackend } from '../core/measure/backends';
import { wasmPaths } from './wasm-paths';
import { EvalHost } from './eval-host';
import type { FromEvalWorker, ToEvalWorker } from './eval-messages';

const scope = self as unknown as {
  postMessage(msg: FromEvalWorker): void;
  onmessage: ((e: MessageEvent<ToEvalWorker>) => void) | null;
};

const host = new EvalHost({
  post: (msg) => scope.postMessage(msg),
  initBackend: (preferred) => initBackend(preferred, wasmPaths),
});

scope.onmessage = (e) => {
  void host.handle(e.data);
};
