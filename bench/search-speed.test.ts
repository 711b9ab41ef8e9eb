/**
 * The search-speed bench's shared code on a small scale: timeEpisodes runs a demo model's random
 * search with warm-up episodes left out of the timing and nothing leaked, and the section renders
 * what a run wrote. Timings themselves are never asserted (BENCHMARKS.md has them).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/measure/backends';
import { loadModel } from '../src/core/model/load';
import { filesFromPath } from '../src/core/model/node-files';
import { imagesPerEpisode, searchSpeedSection, type SearchSpeedResult } from './search-speed-section';
import { timeEpisodes, type SpeedRun } from './search-speed/episodes';

describe('search speed bench', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('times only the episodes after the warm-up, split by phase, and leaks no tensor', async () => {
    const model = await loadModel(filesFromPath('models/mobilenet-like/model.json'));
    const run = await timeEpisodes(model, { model: 'mobilenet-like', evaluator: 'bn', rewardImages: 40, calibration: 16, warmup: 1, episodes: 2, seed: 1, data: 'demo' }, 'Node WASM');
    expect(run.episodes).toBe(2);
    expect(run.perEpisodeMs).toHaveLength(2);
    expect(run.evaluator).toBe('bn');
    expect(run.phases.batchNorm).toBeGreaterThan(0);
    expect(run.phases.evaluate).toBeGreaterThan(0);
    expect(run.episodesPerSecond).toBeCloseTo(2 / (run.totalMs / 1000), 6);
    expect(run.tensors[1]).toBe(run.tensors[0]);
    expect(run.macsRatio).toBeLessThanOrEqual(0.55);
    expect(run.inputSize).toBe(32);
    expect(run.originalMacs).toBeGreaterThan(0);
  });

  it('scores a model by agreement with the original on unlabeled images resized to its input', async () => {
    const model = await loadModel(filesFromPath('models/plain-cnn/model.json'));
    const run = await timeEpisodes(model, { model: 'plain-cnn', evaluator: 'slice', rewardImages: 20, calibration: 0, warmup: 0, episodes: 1, seed: 1, data: 'fidelity' }, 'Node WASM');
    expect(run.calibration).toBe(0);
    expect(run.phases.refit).toBeUndefined();
    expect(run.tensors[1]).toBe(run.tensors[0]);
  });

  it('counts the images an episode runs through a network', () => {
    expect(imagesPerEpisode({ evaluator: 'slice', rewardImages: 500, calibration: 0 })).toBe(500);
    expect(imagesPerEpisode({ evaluator: 'bn', rewardImages: 500, calibration: 256 })).toBe(756);
    expect(imagesPerEpisode({ evaluator: 'refit+bn', rewardImages: 500, calibration: 64 })).toBe(628);
  });

  it('renders the tables and the verdict from a result', () => {
    const run = (where: string, episodesPerSecond: number): SpeedRun => ({
      model: 'plain-cnn', where, asked: 'bn', evaluator: 'bn', rewardImages: 500, calibration: 256, inputSize: 32, originalMacs: 40e6, warmup: 2, episodes: 12, setupMs: 1, warmupMs: 1,
      totalMs: (12 / episodesPerSecond) * 1000, episodesPerSecond, phases: { prune: 10, batchNorm: 300, evaluate: 400, agent: 2 }, perEpisodeMs: [], macsRatio: 0.49, tensors: [0, 0],
    });
    const snap = { uptime: '', load: [1, 1, 1], top: [] };
    const r: SearchSpeedResult = {
      date: '2026-11-30T12:00:00Z', command: 'npx tsx bench/search-speed.ts', seconds: 600,
      plan: { episodes: 12, warmup: 2, rewardImages: 500, calibration: { slice: 0, bn: 256, refit: 64, 'refit+bn': 64 }, tmEpisodes: 6, tmImages: 64, cores: 4 },
      node: { version: 'v20', backend: 'wasm' }, defaults: { 'plain-cnn': 'bn' },
      demo: [run('Node WASM', 1.5), run('Chromium WASM', 2.5)],
      tm: { runs: [], skipped: 'absent' }, before: snap, after: snap,
    };
    const md = searchSpeedSection(r);
    // 756 images x 49% x 40 MMACs = 14.8 GMACs an episode.
    expect(md).toContain('| plain-cnn | bn **(default)** | 256 | 756 | 14.8 | 1.50 | 2.50 | 1.67 |');
    expect(md).toContain('so 2 episodes/s needs 29.6 GMAC/s');
    expect(md).toContain('Node WASM 1.50 (75% of it), Chromium WASM 2.50 (reached)');
    expect(md).toContain('_The 224x224 model: absent._');
    expect(searchSpeedSection(undefined)).toContain('Not run');
  });
});
