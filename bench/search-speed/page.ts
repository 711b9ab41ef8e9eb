/**
 * The search-speed bench's page in Chromium: runs bench/search-speed/episodes.ts (the same code as
 * the Node half) on the WASM backend of this page. Driven by bench/search-speed.ts through
 * `window.amcSearchSpeed`; one page per threads mode, since tfjs reads its threads flag once, when
 * the backend starts.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/measure/backends';
import { filesFromUrl } from '../../src/core/model/files';
import { loadModel } from '../../src/core/model/load';
import type { LoadedModel } from '../../src/core/model/types';
import { deviceFlags } from '../../src/workers/device-flags';
import { wasmPaths } from '../../src/workers/wasm-paths';
import { timeEpisodes, type SpeedPlan } from './episodes';

const models = new Map<string, Promise<LoadedModel>>();

const api = {
  /**
   * Starts WASM. `threads: false` sets tfjs' WASM_HAS_MULTITHREAD_SUPPORT to false first (the plain
   * SIMD build, one thread); `true` leaves it to tfjs, as the app does: the threaded build wherever
   * the page is cross-origin isolated, with a pool of half the cores the page reports.
   */
  async start(threads: boolean) {
    // The flag exists once the backend's package is loaded; initBackend loads it too (no-op then).
    await import('@tensorflow/tfjs-backend-wasm');
    if (!threads) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const info = await initBackend('wasm', wasmPaths);
    if (info.name !== 'wasm') throw new Error(`WASM did not start here: ${info.reason}`);
    return { backend: info.name, flags: await deviceFlags(), userAgent: navigator.userAgent };
  },
  async run(url: string, plan: SpeedPlan, where: string) {
    if (!models.has(url)) models.set(url, filesFromUrl(url).then(loadModel));
    return timeEpisodes(await models.get(url)!, plan, where, (line) => console.log(`[bench] ${line}`));
  },
};
(globalThis as unknown as { amcSearchSpeed: typeof api }).amcSearchSpeed = api;
document.getElementById('status')!.textContent = 'ready';
