/**
 * What the app's `import * as tf from '@tensorflow/tfjs'` resolves to in a build (vite.config.ts,
 * scripts/lean-tfjs.ts): the union package without the WebGL backend, which it would otherwise
 * import and register up front on the page and in every worker, and without tfjs-converter and
 * tfjs-data, which the app does not use (together about 100 KB gzipped of a first visit). The
 * other backends are imported when src/core/measure/backends.ts starts one (WASM, WebGPU, WebGL),
 * so a device on WASM never downloads the WebGL backend. The CPU backend stays registered up front,
 * as in the union: code that builds a model before a backend is chosen (the fine-tune worker loads
 * its two models first) runs on it. Node (the CLI, Vitest) and the dev server use the full package.
 */
import '@tensorflow/tfjs-core';
// The gradients (fine-tuning) and the chained ops (tensor.reshape(), ...) the union registers.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
export * from '@tensorflow/tfjs-backend-cpu';
