/**
 * Makes tfjs-backend-wasm's threaded variant work in a minified build.
 *
 * Why it breaks (ENVIRONMENT.md: "ReferenceError: e is not defined" in the pthread workers): to
 * start its pthread workers, backend_wasm.js hands Emscripten the threaded module's factory as
 * source text, `new Blob(['var WasmBackendModuleThreadedSimd = ' + wasmFactoryThreadedSimd.toString()])`,
 * and each pthread worker importScripts() that blob. toString() gives the function alone, without
 * the closure it was written in (its `_scriptDir`, and after minification every renamed outer
 * variable, such as `e`), so the copy run in the worker refers to names that do not exist there.
 *
 * The fix: the pthread workers load the untouched Emscripten script itself,
 * wasm-out/tfjs-backend-wasm-threaded-simd.js (self-contained: it defines the global
 * WasmBackendModuleThreadedSimd with its closure), emitted by Vite as a static asset (`?url`, never
 * minified nor rewritten) and named by URL instead of the blob. That also keeps `blob:` out of
 * script-src (the pthread workers themselves are still blob: workers: worker-src needs blob:).
 * The page's and the workers' own copy of the factory (which runs where its closure exists) is
 * unchanged. The build fails if the line to replace is not found (another tfjs version), rather
 * than silently shipping threads that cannot start.
 *
 * Second, the pthread pool: Emscripten starts 8 pthread workers for every threaded instance
 * (PTHREAD_POOL_SIZE=8, compiled into the script), and this app has up to four (the page, the
 * search, latency and fine-tune workers): 32 workers, each instantiating the module, on a phone.
 * tfjs' threadpool only ever uses half the logical cores (backend.cc: cores / 2, at most 8), so the
 * pool is started at that size instead, which is never fewer than the threadpool needs (it would
 * otherwise have to start workers while the main thread waits for them).
 */
import type { Plugin } from 'vite';

const TARGET = /@tensorflow[\\/]tfjs-backend-wasm[\\/]dist[\\/]backend_wasm\.js$/;
const THREADED = /@tensorflow[\\/]tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;
const POOL = /var pthreadPoolSize\s*=\s*8\s*;/;
const POOL_AT_RUNTIME =
  'var pthreadPoolSize=Math.min(8,Math.max(1,Math.floor(((typeof navigator!=="undefined"&&navigator.hardwareConcurrency)||2)/2)));';
const BLOB = /factoryConfig\.mainScriptUrlOrBlob\s*=\s*new Blob\(\[[^\]]*?wasmFactoryThreadedSimd\.toString\(\)\s*\][^;]*;/;

export function wasmThreadsScript(): Plugin {
  let replaced = false;
  return {
    name: 'amc-wasm-threads-script',
    apply: 'build',
    enforce: 'pre',
    transform(code, id) {
      if (THREADED.test(id)) {
        if (!POOL.test(code)) this.error(`amc-wasm-threads-script: the pthread pool size was not found in ${id} (tfjs-backend-wasm changed?)`);
        return { code: code.replace(POOL, POOL_AT_RUNTIME), map: null };
      }
      if (!TARGET.test(id.split('?')[0])) return null;
      if (!BLOB.test(code)) this.error(`amc-wasm-threads-script: the pthread main-script blob was not found in ${id} (tfjs-backend-wasm changed?)`);
      replaced = true;
      const out =
        `import __amcThreadedSimdJs from '../wasm-out/tfjs-backend-wasm-threaded-simd.js?url';\n` +
        code.replace(BLOB, 'factoryConfig.mainScriptUrlOrBlob = new URL(__amcThreadedSimdJs, self.location.href).href;');
      return { code: out, map: null };
    },
    buildEnd() {
      // Only a build that bundles the WASM backend needs it (every build of this app does).
      if (!replaced) this.warn('amc-wasm-threads-script: backend_wasm.js was not transformed; WASM threads will fail in this build');
    },
  };
}
