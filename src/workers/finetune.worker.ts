/**
 * The recovery fine-tune in a Web Worker, so the page's main thread does only the UI. A thin
 * binding of FinetuneHost (finetune-host.ts) to the worker's messages: its own tfjs backend
 * (the page's choice, else WASM with the backprop kernels it lacks), the run saved to IndexedDB
 * after every epoch.
 *
 * Made by the page with
 *   new Worker(new URL('../workers/finetune.worker.ts', import.meta.url), { type: 'module' })
 */
import { errLine } from '../core/errors';
import { initBackend } from '../core/measure/backends';
import { installWasmGradients } from '../core/finetune/wasm-gradients';
import { wasmPaths } from './wasm-paths';
import { FinetuneHost } from './finetune-host';
import { idbFinetuneStore } from './finetune-store';
import type { FromFinetune, ToFinetune } from './finetune-messages';

const scope = self as unknown as {
  postMessage(msg: FromFinetune, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToFinetune>) => void) | null;
};

const host = new FinetuneHost({
  post: (msg, transfer) => scope.postMessage(msg, transfer ?? []),
  store: idbFinetuneStore,
  initBackend: async (preferred) => {
    // Unless the page asks for one: a real WebGPU adapter first, else WASM, the fastest measured
    // without a GPU (core/finetune/kernels.ts measured it; it is the order initBackend tries).
    // A GPU backend that fails hands the run to WASM (finetune-host.ts).
    const info = await initBackend(preferred, wasmPaths);
    // WASM lacks Conv2DBackpropFilter and the depthwise backprops (Distiller.create installs them too).
    if (info.name === 'wasm') installWasmGradients();
    return preferred || info.name !== 'wasm' ? info : { ...info, reason: `auto: ${info.reason}; WASM is the fastest training backend measured without a GPU` };
  },
});

scope.onmessage = (e) => {
  host.handle(e.data).catch((err: unknown) => {
    scope.postMessage({ type: 'error', message: errLine(err), fatal: true });
  });
};
