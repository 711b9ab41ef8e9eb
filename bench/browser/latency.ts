/**
 * The bench's page in Chromium: times models with the project's own harness (measureInterleaved,
 * the same code the Node bench and the search use) on a backend of this browser. Driven by
 * bench/browser.ts through `window.amcBench`.
 */
import { initBackend, probeWebGpu, type BackendName } from '../../src/core/measure/backends';
import { measureInterleaved, type LatencyOptions } from '../../src/core/measure/latency';
import { analyzeModel } from '../../src/core/model/analyze';
import { filesFromUrl } from '../../src/core/model/files';
import { loadModel } from '../../src/core/model/load';
import { instantiate } from '../../src/core/model/tfjs-model';
import { wasmPaths } from '../../src/workers/wasm-paths';
import { memoryBench } from '../memory';
import { repeatability } from '../repeatability';
import { burnIn } from '../../src/core/measure/burn-in';
import { deviceSearch, type DeviceSearchPlan } from './device-search';

async function latency(urls: string[], options: LatencyOptions, backend: BackendName) {
  const info = await initBackend(backend, wasmPaths);
  if (info.name !== backend) throw new Error(`${backend} did not start here: ${info.reason}`);
  const loaded = [];
  for (const url of urls) {
    const model = await loadModel(await filesFromUrl(url));
    loaded.push({ model, inputSize: analyzeModel(model).graph.inputSize });
  }
  const nets = await Promise.all(loaded.map((l) => instantiate(l.model)));
  try {
    await burnIn(nets, loaded[0].inputSize);
    const stats = await measureInterleaved(nets, options, loaded[0].inputSize);
    return { backend: info, stats: stats.map(({ flags: _flags, ...s }) => s) };
  } finally {
    nets.forEach((n) => n.dispose());
  }
}

/** The harness's repeatability on WASM in this browser (bench/repeatability.ts). */
async function repeat(url: string, name: string) {
  const info = await initBackend('wasm', wasmPaths);
  if (info.name !== 'wasm') throw new Error(`wasm did not start here: ${info.reason}`);
  const model = await loadModel(await filesFromUrl(url));
  return repeatability(model, analyzeModel(model), { name, where: 'Chromium WASM' });
}

/** The memory bench's long search on `backend` in this page (bench/memory.ts). */
async function memory(backend: BackendName, plan: { episodes: number; warmup: number; at: number[]; latency: LatencyOptions }) {
  const info = await initBackend(backend, wasmPaths);
  if (info.name !== backend) throw new Error(`${backend} did not start here: ${info.reason}`);
  const heap = () => {
    const m = (performance as { memory?: { usedJSHeapSize: number } }).memory;
    return m ? { heapUsedMB: m.usedJSHeapSize / 2 ** 20 } : {};
  };
  return memoryBench(plan.episodes, plan.warmup, plan.at, (line) => console.log(`[bench] ${line}`), { heap, latency: plan.latency });
}

const api = {
  latency,
  memory,
  repeat,
  deviceSearch: (url: string, name: string, plan: DeviceSearchPlan) => deviceSearch(url, name, plan, (line) => console.log(`[bench] ${line}`)),
  probeWebGpu,
  userAgent: () => navigator.userAgent,
};
(globalThis as unknown as { amcBench: typeof api }).amcBench = api;
document.getElementById('status')!.textContent = 'ready';
