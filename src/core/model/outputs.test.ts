import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asFiles, everyLayerOutputNet, exportModel, multiOutputNet } from '../../testing/fixtures';
import { uniformPolicy } from '../prune/policy';
import { pruneModel } from '../prune/prune';
import { analyzeModel } from './analyze';
import { ModelError } from './errors';
import { loadModel } from './load';
import { keepOutputs, modelOutputNames, outputFreeze } from './outputs';
import { instantiate } from './tfjs-model';

async function outputsOf(model: tf.LayersModel, seed = 3): Promise<Float32Array[]> {
  const x = tf.randomUniform([2, 8, 8, 3], -1, 1, 'float32', seed);
  const ys = ([] as tf.Tensor[]).concat(model.predict(x) as tf.Tensor | tf.Tensor[]);
  const data = await Promise.all(ys.map((y) => y.data() as Promise<Float32Array>));
  tf.dispose([x, ...ys]);
  return data;
}

describe('a visualisation export (every layer is an output)', () => {
  it('has nothing prunable, and says that the outputs are why', async () => {
    const model = await loadModel(asFiles(await exportModel(everyLayerOutputNet())));
    const a = analyzeModel(model);
    expect(a.groups.some((g) => g.prunable)).toBe(false);
    expect(modelOutputNames(model)).toEqual(['c1', 'r1', 'c2', 'bn', 'gap', 'logits']);
    const why = outputFreeze(model, a)!;
    expect(why.nothing).toBe(true);
    expect(why.message).toMatch(/every channel group is frozen because it reaches one of the model's 6 outputs \('c1', 'r1', 'c2', 'bn', 'gap', 'logits'\), so nothing can be pruned/);
  });

  it('keepOutputs: keeps the named output, drops the others, and the model prunes and runs with the same output', async () => {
    const net = everyLayerOutputNet();
    const model = await loadModel(asFiles(await exportModel(net)));
    const kept = keepOutputs(model, ['logits']);
    expect(modelOutputNames(kept)).toEqual(['logits']);
    expect(kept.notes.at(-1)).toBe("kept the output 'logits' of 6; dropped 'c1', 'r1', 'c2', 'bn', 'gap'");
    const a = analyzeModel(kept);
    expect(a.groups.filter((g) => g.prunable).map((g) => g.id)).toEqual(['c1', 'c2']);
    expect(outputFreeze(kept, a)).toBeUndefined();
    const small = await instantiate(kept);
    expect(small.countParams()).toBe(net.countParams());
    expect(a.cost.totalParams).toBe(net.countParams());
    const [full, one] = [await outputsOf(net), await outputsOf(small)];
    expect(one).toHaveLength(1);
    one[0].forEach((v, i) => expect(v).toBeCloseTo(full[5][i], 6));
    small.dispose();
    const pruned = pruneModel(kept, a, uniformPolicy(a.groups, 0.5), { roundTo: 1 });
    expect(pruned.cost.totalMacs).toBeLessThan(a.cost.totalMacs);
    const p = await instantiate(pruned.model);
    expect(p.countParams()).toBe(pruned.cost.totalParams);
    expect((await outputsOf(p))[0]).toHaveLength(6);
    p.dispose();
    net.dispose();
  });

  it('keepOutputs: keeping two outputs keeps both, in the model order, and frees what only the others froze', async () => {
    const model = await loadModel(asFiles(await exportModel(everyLayerOutputNet())));
    const kept = keepOutputs(model, ['logits', 'r1']);
    expect(modelOutputNames(kept)).toEqual(['r1', 'logits']);
    const a = analyzeModel(kept);
    // c1's channels reach the output r1: still frozen, and said so; c2 is free now.
    expect(a.groups.filter((g) => g.prunable).map((g) => g.id)).toEqual(['c2']);
    expect(outputFreeze(kept, a)?.message).toMatch(/frozen only because/);
  });

  it('refuses an output name the model does not have, listing the ones it has', async () => {
    const model = await loadModel(asFiles(await exportModel(everyLayerOutputNet())));
    expect(() => keepOutputs(model, ['logit'])).toThrow(ModelError);
    expect(() => keepOutputs(model, ['logit'])).toThrow(/has no output named 'logit'; its outputs are 'c1', 'r1', 'c2', 'bn', 'gap', 'logits'/);
    expect(() => keepOutputs(model, [' '])).toThrow(/no output was named/);
    expect(keepOutputs(model, ['c1', 'r1', 'c2', 'bn', 'gap', 'logits'])).toBe(model);
  });
});

describe('keepOutputs on a two-head model', () => {
  it('drops the other head with its weights; the trunk stays prunable', async () => {
    const net = multiOutputNet();
    const model = await loadModel(asFiles(await exportModel(net)));
    const kept = keepOutputs(model, ['classes']);
    expect(kept.weights.map((w) => w.name)).toEqual(model.weights.map((w) => w.name).filter((n) => !n.startsWith('mask/')));
    expect(kept.bytesOnDisk).toBe(model.bytesOnDisk - 4 * (8 * 2 + 2));
    const a = analyzeModel(kept);
    expect(a.graph.layers.map((l) => l.id)).toEqual(['image', 'trunk', 'gap', 'classes']);
    expect(a.groups.find((g) => g.id === 'trunk')!.prunable).toBe(true);
    const m = await instantiate(kept);
    const [full, one] = [await outputsOf(net), await outputsOf(m)];
    one[0].forEach((v, i) => expect(v).toBeCloseTo(full[0][i], 6));
    m.dispose();
    net.dispose();
  });

  it('counts the layers only the dropped outputs needed', async () => {
    const input = tf.input({ shape: [8, 8, 3], name: 'image' });
    const trunk = tf.layers.conv2d({ filters: 8, kernelSize: 3, name: 'trunk' }).apply(input) as tf.SymbolicTensor;
    const cls = tf.layers.dense({ units: 3, name: 'classes' }).apply(tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(trunk) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const m1 = tf.layers.conv2d({ filters: 4, kernelSize: 1, name: 'm1' }).apply(trunk) as tf.SymbolicTensor;
    const mask = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: 'mask' }).apply(tf.layers.reLU({ name: 'm1_relu' }).apply(m1) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = await loadModel(asFiles(await exportModel(tf.model({ inputs: input, outputs: [cls, mask] }))));
    const kept = keepOutputs(model, ['classes']);
    expect(kept.notes.at(-1)).toBe("kept the output 'classes' of 2; dropped 'mask' and 2 layers only they needed");
    expect(kept.weights.map((w) => w.name)).toEqual(['trunk/kernel', 'trunk/bias', 'classes/kernel', 'classes/bias']);
  });

  it('drops an input that no kept output reads, and says so', async () => {
    const a = tf.input({ shape: [4], name: 'a' });
    const b = tf.input({ shape: [5], name: 'b' });
    const ya = tf.layers.dense({ units: 3, name: 'ya' }).apply(a) as tf.SymbolicTensor;
    const yb = tf.layers.dense({ units: 2, name: 'yb' }).apply(b) as tf.SymbolicTensor;
    const model = await loadModel(asFiles(await exportModel(tf.model({ inputs: [a, b], outputs: [ya, yb] }))));
    const kept = keepOutputs(model, ['yb']);
    expect(kept.notes.at(-1)).toBe("kept the output 'yb' of 2; dropped 'ya', and the input 'a' no kept output reads");
    const m = await instantiate(kept);
    expect(m.inputs.map((i) => i.shape)).toEqual([[null, 5]]);
    m.dispose();
  });
});
