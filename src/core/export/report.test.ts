import { describe, expect, it } from 'vitest';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../../testing/fixtures';
import { analyzeModel } from '../model/analyze';
import { loadModel } from '../model/load';
import { uniformPolicy } from '../prune/policy';
import { pruneModel } from '../prune/prune';
import { pruneReport } from './report';

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
  });
});
