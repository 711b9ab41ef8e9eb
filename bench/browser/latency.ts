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
import { wasmPaths } from '../../src/app/lib/wasm-paths';

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
    const stats = await measureInterleaved(nets, options, loaded[0].inputSize);
    return { backend: info, stats: stats.map(({ flags: _flags, ...s }) => s) };
  } finally {
    nets.forEach((n) => n.dispose());
  }
}

const api = { latency, probeWebGpu, userAgent: () => navigator.userAgent };
(globalThis as unknown as { amcBench: typeof api }).amcBench = api;
document.getElementById('status')!.textContent = 'ready';
