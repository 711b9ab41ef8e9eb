/**
 * The WASM binaries, emitted by Vite as assets and handed to setWasmPaths (ENVIRONMENT.md:
 * do not exclude the wasm package from optimizeDeps; import the .wasm files with ?url).
 * The workers and the page both initialize backends with them; the page imports them from here,
 * below it (the CLI, in Node, needs none: tfjs finds the binaries beside its package).
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { WasmPaths } from '../core/measure/backends';

export const wasmPaths: WasmPaths = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
};
