import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  asFiles,
  concatNet,
  conv1dNet,
  exportModel,
  mobilenetV1Like,
  mobilenetV2Like,
  multiOutputNet,
  separableNet,
  sequentialCnn,
  teachableMachineLike,
} from '../../testing/fixtures';
import { analyzeModel } from './analyze';
import { computeCost } from './cost';
import type { ChannelGroup } from './groups';
import { loadModel } from './load';
import { tfjsOutputShape } from './tfjs-shape';

async function analyze(model: tf.LayersModel, inputSize?: number) {
  const loaded = await loadModel(asFiles(await exportModel(model)));
  const a = analyzeModel(loaded, { inputSize });
  return { loaded, a, tfParams: model.countParams() };
}

const group = (groups: ChannelGroup[], id: string) => {
  const g = groups.find((x) => x.id === id);
  if (!g) throw new Error(`no group ${id}; have ${groups.map((x) => x.id).join(', ')}`);
  return g;
};
const layersOf = (members: { layer: string }[]) => members.map((m) => m.layer);
const macsOf = (a: ReturnType<typeof analyzeModel>, layer: string) => a.cost.layers.find((l) => l.layer === layer)!.macs;

describe('Sequential CNN with BN, Flatten and Dense', () => {
  it('groups channels across BN/pool and maps Flatten positions into the Dense rows', async () => {
    const { a } = await analyze(sequentialCnn());
    expect(a.groups.map((g) => [g.id, g.channels, g.prunable])).toEqual([
      ['conv1_input', 3, false],
      ['conv1', 4, true],
      ['conv2', 6, true],
      ['fc1', 5, true],
      ['fc2', 3, false],
    ]);
    const c1 = group(a.groups, 'conv1');
    expect(c1.producers).toEqual(['conv1']);
    expect(layersOf(c1.passThrough)).toEqual(['bn1', 'relu1', 'pool1']);
    expect(c1.consumers).toEqual([{ layer: 'conv2', offset: 0, spatial: 1 }]);
    // conv2 output is 2x2x6: after Flatten each channel feeds 4 rows of fc1.
    expect(group(a.groups, 'conv2').consumers).toEqual([{ layer: 'fc1', offset: 0, spatial: 4 }]);
    expect(group(a.groups, 'fc2').frozenReason).toContain("reaches model output 'fc2'");
    expect(group(a.groups, 'conv1_input').frozenReason).toContain('model input');
  });

  it('counts MACs and params by hand', async () => {
    const { a, tfParams } = await analyze(sequentialCnn());
    // conv1: 3*3*3*4 * 8*8 ; conv2 (valid, on 4x4): 3*3*4*6 * 2*2 ; fc1: 24*5 ; fc2: 5*3 (biases are params, not MACs)
    expect(macsOf(a, 'conv1')).toBe(6912);
    expect(macsOf(a, 'conv2')).toBe(864);
    expect(macsOf(a, 'fc1')).toBe(120);
    expect(macsOf(a, 'fc2')).toBe(15);
    expect(a.cost.totalMacs).toBe(6912 + 864 + 120 + 15);
    expect(a.cost.totalParams).toBe(112 + 16 + 222 + 125 + 18);
    expect(a.cost.totalParams).toBe(tfParams);
  });

  it('recomputes cost for kept channels through Flatten', async () => {
    const { a } = await analyze(sequentialCnn());
    const pruned = computeCost(a.graph, a.groupAnalysis, { conv1: 2, conv2: 3 });
    const m = (l: string) => pruned.layers.find((x) => x.layer === l)!.macs;
    expect(m('conv1')).toBe(3 * 3 * 3 * 2 * 64);
    expect(m('conv2')).toBe(3 * 3 * 2 * 3 * 4);
    expect(m('fc1')).toBe(12 * 5);
    expect(pruned.layers.find((x) => x.layer === 'flatten')!.outputShape).toEqual([null, 12]);
  });
});

describe('MobileNet-v1-like (depthwise)', () => {
  it('keeps the depthwise conv inside its producer group', async () => {
    const { a, tfParams } = await analyze(mobilenetV1Like());
    const stem = group(a.groups, 'stem');
    expect(stem.prunable).toBe(true);
    expect(layersOf(stem.passThrough)).toEqual(['stem_bn', 'stem_relu', 'dw1', 'dw1_bn', 'dw1_relu']);
    expect(layersOf(stem.consumers)).toEqual(['pw1']);
    expect(layersOf(group(a.groups, 'pw1').passThrough)).toEqual(['pw1_bn', 'pw1_relu', 'gap']);
    expect(group(a.groups, 'pw1').consumers).toEqual([{ layer: 'logits', offset: 0, spatial: 1 }]);
    // stem: 3*3*3*8 * 4*4 ; dw: 3*3*8 * 4*4 ; pw: 8*16 * 4*4 ; logits 16*4
    expect(macsOf(a, 'stem')).toBe(3456);
    expect(macsOf(a, 'dw1')).toBe(1152);
    expect(macsOf(a, 'pw1')).toBe(2048);
    expect(macsOf(a, 'logits')).toBe(64);
    expect(a.cost.totalParams).toBe(tfParams);
  });
});

describe('MobileNet-v2-like (residual Add)', () => {
  it('unites the stem and the projection that are added together', async () => {
    const { a, tfParams } = await analyze(mobilenetV2Like());
    const stream = group(a.groups, 'stem');
    expect(stream.producers).toEqual(['stem', 'project']);
    expect(layersOf(stream.passThrough)).toEqual(['stem_bn', 'project_bn', 'residual']);
    expect(layersOf(stream.consumers).sort()).toEqual(['expand', 'head']);
    expect(a.groups.find((g) => g.id === 'project')).toBeUndefined();
    expect(layersOf(group(a.groups, 'expand').passThrough)).toEqual(['dw']);
    expect(a.cost.totalParams).toBe(tfParams);
  });
});

describe('Concatenate', () => {
  it('gives each branch its own group with its offset in the consumer', async () => {
    const { a, tfParams } = await analyze(concatNet());
    expect(group(a.groups, 'branch_a').consumers).toEqual([{ layer: 'fuse', offset: 0, spatial: 1 }]);
    expect(group(a.groups, 'branch_b').consumers).toEqual([{ layer: 'fuse', offset: 4, spatial: 1 }]);
    expect(group(a.groups, 'branch_b').passThrough).toContainEqual({ layer: 'concat_bn', offset: 4, spatial: 1 });
    expect(macsOf(a, 'fuse')).toBe(10 * 5 * 64);
    const pruned = computeCost(a.graph, a.groupAnalysis, { branch_a: 2, branch_b: 3 });
    expect(pruned.layers.find((l) => l.layer === 'fuse')!.macs).toBe(5 * 5 * 64);
    expect(a.cost.totalParams).toBe(tfParams);
  });
});

describe('SeparableConv2D', () => {
  it('slices the depthwise half with its input group and produces a new group', async () => {
    const { a, tfParams } = await analyze(separableNet());
    const stem = group(a.groups, 'stem');
    expect(layersOf(stem.passThrough)).toEqual(['sep']);
    expect(layersOf(stem.consumers)).toEqual(['sep']);
    expect(group(a.groups, 'sep').prunable).toBe(true);
    // depthwise 3*3*8*64 + pointwise 8*12*64
    expect(macsOf(a, 'sep')).toBe(4608 + 6144);
    expect(a.cost.totalParams).toBe(tfParams);
  });
});

describe('nested Teachable-Machine-like model', () => {
  it('flattens Sequential > Sequential > functional and links the head to the base', async () => {
    const { a, tfParams } = await analyze(teachableMachineLike());
    expect(a.graph.layers.map((l) => l.id)).toEqual([
      'input_1',
      'Conv1_pad',
      'Conv1',
      'bn_Conv1',
      'Conv1_relu',
      'Conv_1',
      'global_average_pooling2d_1',
      'dense_Dense1',
      'dense_Dense2',
    ]);
    expect(group(a.groups, 'Conv_1').consumers).toEqual([{ layer: 'dense_Dense1', offset: 0, spatial: 1 }]);
    expect(group(a.groups, 'dense_Dense1').prunable).toBe(true);
    expect(group(a.groups, 'dense_Dense2').prunable).toBe(false);
    expect(a.graph.layers.find((l) => l.id === 'Conv1')!.path).toEqual(['sequential_4', 'sequential_1', 'model1']);
    // Conv1: pad 8->9, valid stride 2 -> 4x4: 3*3*3*8*16
    expect(macsOf(a, 'Conv1')).toBe(3456);
    expect(a.cost.totalParams).toBe(tfParams);
  });
});

describe('multi-output', () => {
  it('freezes the heads and keeps the shared trunk prunable', async () => {
    const { a } = await analyze(multiOutputNet());
    expect(a.graph.outputs).toHaveLength(2);
    const trunk = group(a.groups, 'trunk');
    expect(trunk.prunable).toBe(true);
    expect(layersOf(trunk.consumers).sort()).toEqual(['classes', 'mask']);
    expect(group(a.groups, 'classes').prunable).toBe(false);
    expect(group(a.groups, 'mask').prunable).toBe(false);
  });
});

describe('dynamic input size', () => {
  it('uses 224 by default, the given size otherwise, and says so', async () => {
    const input = tf.input({ shape: [null, null, 3], name: 'img' });
    const y = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c' }).apply(input) as tf.SymbolicTensor;
    const out = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'o' }).apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const def = await analyze(model);
    expect(macsOf(def.a, 'c')).toBe(3 * 3 * 3 * 4 * 224 * 224);
    expect(def.a.graph.assumptions.join(' ')).toMatch(/dynamic height: assumed 224/);
    const small = await analyze(model, 32);
    expect(macsOf(small.a, 'c')).toBe(3 * 3 * 3 * 4 * 32 * 32);
  });
});

describe('1-D model (Conv1D, pooling 1D, global pooling 1D)', () => {
  it('prunes Conv1D as the 1-D case of Conv2D, with every shape, MAC and parameter right', async () => {
    const net = conv1dNet();
    const { a, tfParams } = await analyze(net);
    // Every shape is the one tfjs computes for that layer.
    for (const layer of net.layers) {
      const ours = a.graph.layers.find((l) => l.id === layer.name)!;
      expect(ours.outputShape, layer.name).toEqual(layer.outputShape);
    }
    expect(a.graph.tensors.get(a.graph.outputs[0])!.shape).toEqual([null, 3]);
    expect(a.groups.map((g) => [g.id, g.channels, g.prunable])).toEqual([
      ['signal', 3, false],
      ['c1', 8, true],
      ['c2', 12, true],
      ['c3', 16, true],
      ['logits', 3, false],
    ]);
    expect(layersOf(group(a.groups, 'c1').passThrough)).toEqual(['pool1']);
    expect(layersOf(group(a.groups, 'c2').passThrough)).toEqual(['c2_bn', 'pool2']);
    // Both global poolings feed the concatenation: c3's channels reach the Dense twice.
    expect(group(a.groups, 'c3').consumers).toEqual([
      { layer: 'logits', offset: 0, spatial: 1 },
      { layer: 'logits', offset: 16, spatial: 1 },
    ]);
    // c1: 3*3*8 * 30 ; c2 (15 long, same): 3*8*12 * 15 ; c3 (14 long, k3 s2 valid -> 6): 3*12*16 * 6 ; logits 32*3
    expect(macsOf(a, 'c1')).toBe(2160);
    expect(macsOf(a, 'c2')).toBe(4320);
    expect(macsOf(a, 'c3')).toBe(3456);
    expect(macsOf(a, 'logits')).toBe(96);
    expect(a.cost.totalParams).toBe(tfParams);
    const pruned = computeCost(a.graph, a.groupAnalysis, { c1: 4, c2: 6, c3: 8 });
    const m = (l: string) => pruned.layers.find((x) => x.layer === l)!.macs;
    expect(m('c2')).toBe(3 * 4 * 6 * 15);
    expect(m('logits')).toBe(16 * 3);
    expect(pruned.layers.find((x) => x.layer === 'pooled')!.outputShape).toEqual([null, 16]);
  });
});

describe('layers the pruner does not know', () => {
  it('get their output shape from tfjs-layers itself, never their input\'s (TimeDistributed, Dot)', async () => {
    const input = tf.input({ shape: [7, 3], name: 'seq' });
    let x = tf.layers.conv1d({ filters: 4, kernelSize: 3, name: 'c1' }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 6, name: 'inner' }), name: 'td' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.globalAveragePooling1d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
    const a = tf.layers.dense({ units: 5, name: 'a' }).apply(x) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 5, name: 'b' }).apply(x) as tf.SymbolicTensor;
    const dot = tf.layers.dot({ axes: 1, name: 'dot' }).apply([a, b]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, name: 'out' }).apply(dot) as tf.SymbolicTensor;
    const net = tf.model({ inputs: input, outputs: out });
    const { a: analysis, tfParams } = await analyze(net);
    for (const layer of net.layers) expect(analysis.graph.layers.find((l) => l.id === layer.name)!.outputShape, layer.name).toEqual(layer.outputShape);
    // a and b read the 6 channels TimeDistributed makes, not the 4 it was given.
    expect(macsOf(analysis, 'a')).toBe(6 * 5);
    expect(macsOf(analysis, 'out')).toBe(2);
    expect(analysis.cost.totalParams).toBe(tfParams);
    // c1 reaches a layer the pruner does not handle: frozen, with the layer named.
    expect(group(analysis.groups, 'c1').frozenReason).toMatch(/'td' of class TimeDistributed/);
  });

  it('refuse the model, naming the layer, when tfjs cannot give one shape', async () => {
    const input = tf.input({ shape: [5, 3], name: 'seq' });
    const [seq] = tf.layers.rnn({ cell: tf.layers.simpleRNNCell({ units: 4 }), returnState: true, returnSequences: true, name: 'rnn' }).apply(input) as tf.SymbolicTensor[];
    const out = tf.layers.globalAveragePooling1d({ name: 'gap' }).apply(seq) as tf.SymbolicTensor;
    const exported = await exportModel(tf.model({ inputs: input, outputs: out }));
    await expect(loadModel(asFiles(exported))).rejects.toThrow(/layer 'rnn' \(RNN\) is not one the pruner knows, and its output shape cannot be worked out: it has 2 outputs/);
  });

  it('tfjsOutputShape: a class tfjs does not register, and one whose config tfjs refuses, give a reason', () => {
    expect(tfjsOutputShape('NoSuchLayer', {}, [[null, 3]])).toMatch(/has no layer of this class/);
    expect(tfjsOutputShape('constructor', {}, [[null, 3]])).toMatch(/has no layer of this class/);
    expect(tfjsOutputShape('Masking', { name: 'm', mask_value: 0 }, [[null, 5, 3]])).toEqual([null, 5, 3]);
    expect(tfjsOutputShape('Dense', { name: 'd', units: 4 }, [[null, 5, 3]])).toEqual([null, 5, 4]);
  });
});
