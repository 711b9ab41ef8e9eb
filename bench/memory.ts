/**
 * Memory over a long search: tfjs tensors and bytes (tf.memory()) after 1, 100 and 300 episodes
 * of a DDPG search (the paper's hyperparameters: 100 warm-up episodes, then an update per step)
 * with the refit, on a small fixture model in Node (WASM). Flat counts mean nothing leaks per
 * episode: pruned models, refit features, agent updates and replay sampling all dispose.
 *
 * No Node imports: the bench page runs the same search in Chromium on WebGPU (SwiftShader here),
 * where the GPU bytes tfjs holds are counted too. Every episode's model is timed beside the
 * original (the scorer's latency option), so GPU pipelines for new shapes are made every episode.
 */
import * as tf from '@tensorflow/tfjs';
import type { LatencyOptions } from '../src/core/measure/latency';
import { analyzeModel } from '../src/core/model/analyze';
import { loadModel } from '../src/core/model/load';
import { Rng } from '../src/core/random';
import { searchConfig } from '../src/core/search/config';
import { PruningEnv } from '../src/core/search/env';
import { EpisodeScorer } from '../src/core/search/scorer';
import { AmcSearch } from '../src/core/search/search';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../src/testing/fixtures';

export interface MemoryPoint {
  episode: number;
  phase: string;
  numTensors: number;
  numBytes: number;
  numDataBuffers: number;
  /** JS heap in use, MB (Node: process.memoryUsage; Chromium: performance.memory), when known. */
  heapUsedMB?: number;
  /** Whether a full garbage collection ran just before the heap was read (Node with --expose-gc): then it is the live heap, not live + garbage. */
  heapAfterGc?: boolean;
  rssMB?: number;
  /** WebGPU: bytes of GPU buffers tfjs holds for tensors, and all it has allocated (pooled free ones too). */
  gpuBytes?: number;
  gpuAllocatedBytes?: number;
}

export interface MemoryOptions {
  /** JS heap figures, where the platform has them. */
  heap?: () => { heapUsedMB?: number; rssMB?: number; heapAfterGc?: boolean };
  /** Time every episode's model beside the original (tiny counts: it is the allocation that matters). */
  latency?: LatencyOptions;
}

/** tf.memory() as the WebGPU backend reports it. */
interface GpuMemory {
  numBytesInGPU?: number;
  numBytesAllocatedInGPU?: number;
}

export interface MemoryResult {
  fixture: string;
  groups: number;
  episodes: number;
  warmup: number;
  images: number;
  calibration: number;
  backend: string;
  /** tf.memory() before the search existed (the model's scorer and data only). */
  before: { numTensors: number; numBytes: number };
  points: MemoryPoint[];
  /** Largest and smallest tensor count seen after any episode from the first learning one on. */
  learningRange: { min: number; max: number };
  /** WebGPU: the same for the GPU bytes tensors hold. */
  gpuLearningRange?: { min: number; max: number };
  seconds: number;
}

export async function memoryBench(episodes: number, warmup: number, checkpoints: number[], log: (s: string) => void, o: MemoryOptions = {}): Promise<MemoryResult> {
  const t0 = performance.now();
  const fixture = 'mobilenetV2Like';
  const model = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES[fixture].build(), 3)));
  const analysis = analyzeModel(model);
  const rng = new Rng(2);
  const n = 40;
  const px = 8 * 8 * 3;
  const images = new Uint8Array(n * px).map(() => Math.floor(rng.next() * 256));
  const labels = Array.from({ length: n }, () => rng.int(4));
  const calibration = images.slice(0, 16 * px);
  const config = searchConfig({ episodes, seed: 3, env: { target: 0.5, roundTo: 1 }, ddpg: { warmupEpisodes: warmup } });
  const scorer = await EpisodeScorer.create(model, analysis, { images, labels, eval: { imageSize: 8, batchSize: 20 }, calibration }, { seed: 3, roundTo: 1, latency: o.latency });
  const env = new PruningEnv(analysis, config.env);
  const m0 = tf.memory();
  const search = new AmcSearch(env, scorer, config);
  const points: MemoryPoint[] = [];
  let min = Infinity;
  let max = 0;
  let gpuMin = Infinity;
  let gpuMax = -Infinity;
  while (!search.done) {
    const e = await search.runEpisode();
    const m = tf.memory();
    if (e.phase === 'learning') {
      min = Math.min(min, m.numTensors);
      max = Math.max(max, m.numTensors);
      const gpu = (m as GpuMemory).numBytesInGPU;
      if (gpu !== undefined) {
        gpuMin = Math.min(gpuMin, gpu);
        gpuMax = Math.max(gpuMax, gpu);
      }
    }
    if (checkpoints.includes(search.episode)) {
      const g = m as GpuMemory;
      const point: MemoryPoint = { episode: search.episode, phase: e.phase, numTensors: m.numTensors, numBytes: m.numBytes, numDataBuffers: m.numDataBuffers, ...o.heap?.() };
      if (g.numBytesInGPU !== undefined) Object.assign(point, { gpuBytes: g.numBytesInGPU, gpuAllocatedBytes: g.numBytesAllocatedInGPU });
      points.push(point);
      log(
        `after episode ${search.episode} (${e.phase}): ${m.numTensors} tensors, ${m.numBytes} bytes` +
          (point.gpuBytes !== undefined ? `, GPU ${point.gpuBytes} bytes (${point.gpuAllocatedBytes} allocated)` : '') +
          (point.heapUsedMB !== undefined ? `, heap ${point.heapUsedMB.toFixed(0)} MB` : ''),
      );
    }
  }
  search.dispose();
  scorer.dispose();
  return {
    fixture,
    groups: env.length,
    episodes,
    warmup,
    images: n,
    calibration: 16,
    backend: tf.getBackend(),
    before: { numTensors: m0.numTensors, numBytes: m0.numBytes },
    points,
    learningRange: { min: Number.isFinite(min) ? min : 0, max },
    ...(Number.isFinite(gpuMin) ? { gpuLearningRange: { min: gpuMin, max: gpuMax } } : {}),
    seconds: (performance.now() - t0) / 1000,
  };
}
