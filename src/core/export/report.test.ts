import { describe, expect, it } from 'vitest';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../../testing/fixtures';
import { analyzeModel } from '../model/analyze';
import { loadModel } from '../model/load';
import { uniformPolicy } from '../prune/policy';
import { pruneModel } from '../prune/prune';
import { searchConfig } from '../search/config';
import type { EpisodeRecord } from '../search/search';
import { pruneReport, searchReport } from './report';

async function pruned(name: keyof typeof TOPOLOGY_FIXTURES, ratio: number, roundTo = 1) {
  const model = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES[name].build())));
  const analysis = analyzeModel(model);
  const result = pruneModel(model, analysis, uniformPolicy(analysis.groups, ratio), { roundTo });
  return { model, analysis, result };
}

describe('pruneReport', () => {
  it('gives original and pruned MACs, params and bytes, their ratios, and the policy of every prunable group', async () => {
    const { model, analysis, result } = await pruned('mobilenetV2Like', 0.5);
    const r = pruneReport(model, analysis, result, { roundTo: 1, criterion: 'l1', refit: true });
    expect(r.tool).toBe('AMC Playground');
    expect(r.source).toBe(model.source);
    expect(r.inputSize).toBe(analysis.graph.inputSize);
    expect(r.original).toEqual({ macs: analysis.cost.totalMacs, params: analysis.cost.totalParams, bytes: model.bytesOnDisk });
    expect(r.pruned).toEqual({ macs: result.cost.totalMacs, params: result.cost.totalParams, bytes: result.model.bytesOnDisk });
    expect(r.pruned.macs).toBeLessThan(r.original.macs);
    expect(r.pruned.bytes).toBeLessThan(r.original.bytes);
    expect(r.ratios.macs).toBeCloseTo(r.pruned.macs / r.original.macs, 12);
    expect(r.ratios.params).toBeCloseTo(r.pruned.params / r.original.params, 12);
    expect(r.ratios.bytes).toBeCloseTo(r.pruned.bytes / r.original.bytes, 12);
    const prunable = analysis.groups.filter((g) => g.prunable);
    const frozen = analysis.groups.filter((g) => !g.prunable);
    expect(frozen.length).toBeGreaterThan(0);
    // The policy contract: { "<group id>": keptChannels } for exactly the prunable groups.
    expect(Object.keys(r.policy)).toEqual(prunable.map((g) => g.id));
    for (const g of prunable) {
      expect(r.policy[g.id]).toBe(result.keep.get(g.id));
      expect(r.policy[g.id]).toBe(Math.max(1, Math.round(0.5 * g.channels)));
      expect(r.channels[g.id]).toBe(g.channels);
    }
    for (const g of frozen) expect(r.policy[g.id]).toBeUndefined();
    expect(r.options).toEqual({ roundTo: 1, criterion: 'l1', refit: true });
    expect(Date.parse(r.createdAt)).not.toBeNaN();
    // It is written as report.json: nothing is lost on the way.
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('says refit false unless told, and a policy that keeps everything has MACs and params ratios of 1', async () => {
    const { model, analysis, result } = await pruned('sequentialCnn', 1);
    const r = pruneReport(model, analysis, result, { roundTo: 1 });
    expect(r.options.refit).toBe(false);
    expect(r.ratios.macs).toBe(1);
    expect(r.ratios.params).toBe(1);
    // Bytes are model.json and weights as they would be written: model.json is written anew, so not exactly the original's.
    expect(r.pruned.bytes).toBe(result.model.bytesOnDisk);
    expect(r.ratios.bytes).toBe(r.pruned.bytes / r.original.bytes);
    expect(r.policy).toEqual(r.channels);
    // The model's name joins its source when the page knows it.
    expect(r.name).toBeUndefined();
    expect(pruneReport(model, analysis, result, { roundTo: 1 }, 'khmer-digits')).toMatchObject({ name: 'khmer-digits', source: model.source });
  });
});

function episode(i: number, reward: number, resourceRatio: number, top1?: number): EpisodeRecord {
  return {
    episode: i,
    phase: i < 2 ? 'warm-up' : 'learning',
    keep: { a: 8 + i },
    ratios: [0.5],
    resource: 100 * resourceRatio,
    resourceRatio,
    predictedRatio: resourceRatio * 0.98,
    macs: 100 * resourceRatio,
    params: 10 + i,
    score: top1 === undefined ? { error: 0.5, agreement: 0.5, latencyMs: 2 } : { error: 1 - top1, top1, latencyMs: 2 },
    reward,
    sigma: 0.5,
    timings: { score: 10, agent: 2 },
  };
}

describe('searchReport', () => {
  const config = searchConfig({ episodes: 4, env: { protocol: 'constrained', resource: 'latency', target: 0.5 } });
  const log = [episode(0, -0.5, 0.45, 0.5), episode(1, -0.2, 0.6, 0.8), episode(2, -0.3, 0.5, 0.7), episode(3, -0.3, 0.49, 0.7)];
  const uniform = { ratio: 0.7, keep: { a: 6 }, resource: 48, resourceRatio: 0.48, macs: 48, params: 5, score: { error: 0.4, top1: 0.6 }, reward: -0.4 };
  const table = { layers: [{}, {}, {}], scale: 1.1, offset: 0.2, overheadMs: 0.1, backend: 'wasm', seconds: 3, calibrationError: 0.05 };

  it('lists every episode and picks the best as the page does (a latency target met as measured)', () => {
    const r = searchReport({ config, data: 'demo:val', backend: { name: 'webgpu', reason: '', adapter: { vendor: 'v', architecture: 'a', device: 'd', description: 'x', isFallbackAdapter: false } }, seconds: 12, log, uniform, randomLog: [episode(0, -0.6, 0.5)], latency: { saved: { table: table as never, points: [] }, originalMs: 4, reused: true } });
    // Episode 1 has the highest reward but measured 60% of the original's latency against a 50% target.
    expect(r.best?.episode).toBe(2);
    expect(r.episodes).toBe(4);
    expect(r.log?.map((e) => e.episode)).toEqual([0, 1, 2, 3]);
    expect(r.log?.[2]).toMatchObject({ phase: 'learning', reward: -0.3, accuracy: 0.7, resourceRatio: 0.5, latencyMs: 2, macs: 50, params: 12, keep: { a: 10 }, ms: { score: 10, agent: 2 } });
    expect(r.log?.[2].error).toBeCloseTo(0.3, 12);
    expect(r.log?.[2].predictedRatio).toBeCloseTo(0.49, 12);
    expect(r.backend).toBe('webgpu');
    expect(r.adapter?.vendor).toBe('v');
    expect(r.uniform).toEqual(uniform);
    // Unlabeled data: accuracy is the agreement with the original.
    expect(r.random).toMatchObject({ episodes: 1, best: { episode: 0, accuracy: 0.5 } });
    expect(r.random?.log).toHaveLength(1);
    // The table's layers are counted, not listed.
    expect(r.latency).toMatchObject({ originalMs: 4, reused: true, table: { layers: 3, backend: 'wasm', scale: 1.1 }, calibration: [] });
    // It is written as JSON: nothing is lost on the way.
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('takes the best it is given, names the backend, and leaves the log out when asked', () => {
    const r = searchReport({ config: searchConfig({ episodes: 4 }), data: 'demo:val', rewardImages: 50, calibration: 0, backend: 'wasm', seconds: 1, log, best: log[3], uniform: null, withLog: false, picked: { which: 'amc', episode: 3, label: 'episode 4' } });
    expect(r.best?.episode).toBe(3);
    expect(r.backend).toBe('wasm');
    expect(r.adapter).toBeUndefined();
    expect(r.log).toBeUndefined();
    expect(r.random).toBeUndefined();
    expect(r.latency).toBeUndefined();
    expect(r).toMatchObject({ rewardImages: 50, calibration: 0, episodes: 4, picked: { which: 'amc', episode: 3 } });
    expect(r.scorers).toBeUndefined();
    expect(searchReport({ config: searchConfig({ episodes: 4 }), data: '', backend: 'wasm', seconds: 1, scorers: 3, log, uniform: null }).scorers).toBe(3);
    // Without a latency target the best is the highest reward.
    expect(searchReport({ config: searchConfig({ episodes: 4 }), data: '', backend: undefined, seconds: 0, log, uniform: null }).best?.episode).toBe(1);
    expect(searchReport({ config, data: '', backend: undefined, seconds: 0, log: [], uniform: null }).best).toBeNull();
  });
});
