/**
 * The timing worker: latency of the reference model and of original vs pruned models, on any
 * backend, off the page's main thread (a timing loop there would freeze the page for as long as
 * it runs). A thin binding of LatencyHost (latency-host.ts) to the worker's messages.
 *
 * Made by the page with
 *   new Worker(new URL('../workers/latency.worker.ts', import.meta.url), { type: 'module' })
 */
import { initBackend } from '../core/measure/backends';
import { wasmPaths } from './wasm-paths';
import { deviceFlags } from './device-flags';
import { LatencyHost } from './latency-host';
import type { FromLatencyWorker, ToLatencyWorker } from './latency-messages';

const scope = self as unknown as {
  postMessage(msg: FromLatencyWorker): void;
  onmessage: ((e: MessageEvent<ToLatencyWorker>) => void) | null;
};

const host = new LatencyHost({
  post: (msg) => scope.postMessage(msg),
  initBackend: (preferred) => initBackend(preferred, wasmPaths),
  deviceFlags,
});

scope.onmessage = (e) => {
  void host.handle(e.data);
};
