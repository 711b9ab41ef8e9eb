/**
 * The search-speed bench page alone (bench/search-speed/index.html), built with the app's own Vite
 * config (its lean tfjs, the threaded WASM fix of scripts/wasm-threads.ts, the CSP) into
 * bench/runs/search-speed-app: under bench/runs/, which git ignores, and apart from bench/.app,
 * which other benches build and serve.
 *
 *   npx vite build --config bench/search-speed/vite.config.ts
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeConfig } from 'vite';
import base from '../../vite.config.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const SEARCH_SPEED_APP = resolve(root, 'bench/runs/search-speed-app');

export default mergeConfig(base, {
  root,
  build: {
    outDir: SEARCH_SPEED_APP,
    emptyOutDir: true,
    rollupOptions: { input: { speed: resolve(root, 'bench/search-speed/index.html') } },
  },
});
