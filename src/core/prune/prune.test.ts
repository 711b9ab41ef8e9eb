import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../../testing/fixtures';
import { analyzeModel, type ModelAnalysis } from '../model/analyze';
import { loadModel } from '../model/load';
import { instantiate } from '../model/tfjs-model';
import type { ChannelGroup } from '../model/groups';
import type { LoadedModel } from '../model/types';
import { PolicyError, resolvePolicy, roundChannels, uniformPolicy } from './policy';
import { analyzePruned, pruneModel } from './prune';
import { inputAxes } from './weight-axes';

async function outputs(model: Pick<LoadedModel, 'topology' | 'weights'>, input: readonly number[]): Promise<Float32Array[]> {
  const m = await instantiate(model);
  const x = tf.randomUniform([2, ...input], -1, 1, 'float32', 11);
  const ys = ([] as tf.Tensor[]).concat(m.predict(x) as tf.Tensor | tf.Tensor[]);
  const data = await Promise.all(ys.map((y) => y.data() as Promise<Float32Array>));
  tf.dispose([x, ...ys]);
  m.dispose();
  return data;
}

/**
 * The reference for exactness: the original model with the consumer weights of every removed
 * channel set to zero. Written from the group members' offsets, independently of the rebuild.
 */
function zeroRemovedInputs(model: LoadedModel, analysis: ModelAnalysis, kept: Map<string, number[]>): LoadedModel {
  const weights = model.weights.map((w) => ({ ...w, values: (w.values as Float32Array).slice() }));
  const byName = new Map(weights.map((w) => [w.name, w]));
  for (const g of analysis.groups) {
    const keep = kept.get(g.id);
    if (!keep) continue;
    const removed = [...Array(g.channels).keys()].filter((c) => !keep.includes(c));
    for (const m of g.consumers) {
      const layer = analysis.graph.byId.get(m.layer)!;
      for (const { weight, axis } of inputAxes(layer.className)) {
        const w = byName.get(`${layer.name}/${weight}`)!;
        const outer = w.shape.slice(0, axis).reduce((a, b) => a * b, 1);
        const inner = w.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
        const n = w.shape[axis];
        const total = n / m.spatial;
        for (let o = 0; o < outer; o++)
          for (let p = 0; p < m.spatial; p++)
            for (const c of removed) w.values.fill(0, (o * n + p * total + m.offset + c) * inner, (o * n + p * total + m.offset + c + 1) * inner);
      }
    }
  }
  return { ...model, weights, byName };
}

describe('structural pruning is exact on every topology', () => {
  for (const [name, fixture] of Object.entries(TOPOLOGY_FIXTURES)) {
    it(`${name}: pruned outputs equal the original with removed channels' consumer weights zeroed`, async () => {
      const original = await loadModel(asFiles(await exportModel(fixture.build())));
      const analysis = analyzeModel(original);
      const result = pruneModel(original, analysis, uniformPolicy(analysis.groups, 0.5), { roundTo: 1 });
      expect(result.kept.size).toBeGreaterThan(0);
      const [pruned, reference] = [await outputs(result.model, fixture.input), await outputs(zeroRemovedInputs(original, analysis, result.kept), fixture.input)];
      expect(pruned.length).toBe(reference.length);
      pruned.forEach((y, i) => {
        expect(y.length).toBe(reference[i].length);
        y.forEach((v, j) => expect(Math.abs(v - reference[i][j])).toBeLessThanOrEqual(1e-5));
      });
      // The rebuilt model is physically smaller and its own analysis agrees with the predicted cost.
      const after = analyzePruned(result, analysis);
      expect(after.cost.totalMacs).toBe(result.cost.totalMacs);
      expect(after.cost.totalParams).toBe(result.cost.totalParams);
      expect(result.cost.totalMacs).toBeLessThan(analysis.cost.totalMacs);
      const m = await instantiate(result.model);
      expect(m.countParams()).toBe(result.cost.totalParams);
      m.dispose();
    });
  }
});

describe('policy', () => {
  it('rounds like AMC: up to a multiple of 8, down when that exceeds the group, never 0', () => {
    expect(roundChannels(0.5 * 64, 64)).toBe(32);
    expect(roundChannels(0.3 * 64, 64)).toBe(24);
    expect(roundChannels(0.2 * 12, 12)).toBe(8);
    expect(roundChannels(0.9 * 12, 12)).toBe(8);
    expect(roundChannels(0.01 * 4, 4)).toBe(1);
    expect(roundChannels(3, 5, 1)).toBe(3);
  });

  it('refuses unknown groups, frozen groups and impossible values, naming them', async () => {
    const original = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.sequentialCnn.build())));
    const { groups } = analyzeModel(original);
    expect(() => resolvePolicy(groups, { nope: 2 })).toThrow(/'nope' is not a group/);
    expect(() => resolvePolicy(groups, { fc2: 1 })).toThrow(/'fc2' is frozen/);
    expect(() => resolvePolicy(groups, { conv1: 9 })).toThrow(/9 channels asked, the group has 4/);
    expect(() => resolvePolicy(groups, { conv1: -1 })).toThrow(PolicyError);
    expect(() => resolvePolicy(groups, { conv1: 2.5 })).toThrow(/neither a ratio/);
    const keep = resolvePolicy(groups, { conv1: 0.5, conv2: 3 }, { roundTo: 1 });
    expect(keep.get('conv1')).toBe(2);
    expect(keep.get('conv2')).toBe(3);
    expect(keep.get('fc2')).toBe(3);
  });

  it('reads a group named like an Object.prototype member as its own entry (constructor, toString)', () => {
    const group = (id: string): ChannelGroup => ({ id, channels: 8, prunable: true, producers: [id], passThrough: [], consumers: [] });
    const groups = [group('constructor'), group('toString'), group('conv1')];
    const keep = resolvePolicy(groups, { conv1: 0.5 }, { roundTo: 1 });
    expect(Object.fromEntries(keep)).toEqual({ constructor: 8, toString: 8, conv1: 4 });
    expect(resolvePolicy(groups, { constructor: 2 }, { roundTo: 1 }).get('constructor')).toBe(2);
  });
});
