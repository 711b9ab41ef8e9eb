/**
 * The AMC search in a Web Worker, so the page's main thread does only the UI. A thin binding of
 * SearchHost (search-host.ts) to the worker's messages: its own tfjs backend (WASM with the
 * binaries Vite emits; single-threaded, see ENVIRONMENT.md), progress saved to IndexedDB from here,
 * a watch on the GPU device so that losing it falls back to WASM (backend-watch.ts), and the saved
 * search's Web Lock, held while this worker runs it (search-lock.ts: one tab per saved search),
 * and nested scorer workers for the episodes that do not depend on each other (scorer-pool.ts).
 *
 * Made by the page with
 *   new Worker(new URL('../workers/search.worker.ts', import.meta.url), { type: 'module' })
 */
import { errLine } from '../core/errors';
import { initBackend } from '../core/measure/backends';
import { wasmPaths } from './wasm-paths';
import { SearchHost } from './search-host';
import { watchBackend } from './backend-watch';
import { idbSearchStore } from './search-store';
import { tryLockSearch } from './search-lock';
import { browserPoolSize, workerPool } from './scorer-pool';
import type { FromWorker, ToWorker } from './search-messages';

const scope = self as unknown as {
  postMessage(msg: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};

const host: SearchHost = new SearchHost({
  post: (msg, transfer) => scope.postMessage(msg, transfer ?? []),
  store: idbSearchStore,
  lock: (id) => tryLockSearch(id),
  initBackend: async (preferred) => {
    const info = await initBackend(preferred === 'webgl' ? undefined : preferred, wasmPaths);
    // A GPU device lost between episodes: WASM takes over before the next one.
    watchBackend(info, (reason) => host.backendLost(reason, info.name));
    return info;
  },
  // Nested scorer workers for independent episodes; a pool that cannot start leaves the search scoring alone.
  scorerPool: async (scorer, backend) => {
    try {
      return await workerPool(scorer, backend, browserPoolSize(navigator.hardwareConcurrency), () => new Worker(new URL('./scorer.worker.ts', import.meta.url), { type: 'module', name: 'amc-scorer' }));
    } catch (e) {
      console.warn(`the scorer pool could not start (${errLine(e)}): episodes are scored one at a time`);
      return null;
    }
  },
});

scope.onmessage = (e) => {
  host.handle(e.data).catch((err: unknown) => {
    host.releaseLock();
    scope.postMessage({ type: 'error', message: errLine(err), fatal: true });
  });
};
