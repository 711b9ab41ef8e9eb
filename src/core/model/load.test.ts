import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asFiles, exportModel, memoryFile, mobilenetV2Like, sequentialCnn, type ExportedFiles } from '../../testing/fixtures';
import { analyzeModel } from './analyze';
import { ModelError } from './errors';
import { loadModel } from './load';
import { instantiate } from './tfjs-model';
import type { LoadedModel } from './types';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** Output of a tfjs model on a fixed input, to prove a loaded model is the same network. */
async function outputOf(model: tf.LayersModel, shape: number[]): Promise<Float32Array> {
  const x = tf.tidy(() => tf.randomUniform([1, ...shape], -1, 1, 'float32', 7));
  const y = model.predict(x) as tf.Tensor;
  const data = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return data;
}

async function expectSameNetwork(original: tf.LayersModel, loaded: LoadedModel, shape: number[], tol = 1e-5) {
  const m = await instantiate(loaded);
  const [a, b] = [await outputOf(original, shape), await outputOf(m, shape)];
  m.dispose();
  expect(b.length).toBe(a.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThanOrEqual(tol));
}

async function refusal(files: Parameters<typeof loadModel>[0]): Promise<ModelError> {
  try {
    await loadModel(files);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    return e as ModelError;
  }
  throw new Error('expected the loader to refuse');
}

describe('loading what real exports contain', () => {
  it('finds model.json by content among other JSON files and keeps metadata.json as a sidecar', async () => {
    const e = await exportModel(sequentialCnn());
    const files = [memoryFile('export/metadata.json', { labels: ['a', 'b', 'c'] }), ...asFiles(e, 'export/')];
    const m = await loadModel(files);
    expect(m.source).toBe('export/model.json');
    expect(m.sidecars['metadata.json']).toEqual({ labels: ['a', 'b', 'c'] });
  });

  it('reads several groups and shards, with ./ prefixes, names without .bin, and a shuffled manifest', async () => {
    const original = mobilenetV2Like();
    const e = await exportModel(original);
    const all = new Uint8Array(e.shards['weights.bin']);
    const weights = e.modelJson.weightsManifest[0].weights;
    // Split into two groups (weights order reversed within each) and the second group into two shards.
    const half = Math.floor(weights.length / 2);
    const bytesOf = (w: tf.io.WeightsManifestEntry) => 4 * w.shape.reduce((a, b) => a * b, 1);
    let offset = 0;
    const slices = weights.map((w) => {
      const s = all.slice(offset, offset + bytesOf(w));
      offset += bytesOf(w);
      return { w, s };
    });
    const groups = [slices.slice(0, half).reverse(), slices.slice(half).reverse()];
    const concat = (parts: Uint8Array[]) => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) (out.set(p, o), (o += p.length));
      return out;
    };
    const g1 = concat(groups[0].map((x) => x.s));
    const g2 = concat(groups[1].map((x) => x.s));
    const cut = Math.floor(g2.length / 2);
    const json = clone(e.modelJson);
    json.weightsManifest = [
      { paths: ['./group1-shard1of1.bin'], weights: groups[0].map((x) => x.w) },
      { paths: ['group2-shard1of2', 'group2-shard2of2'], weights: groups[1].map((x) => x.w) },
    ];
    const files = [
      memoryFile('model.json', json),
      memoryFile('group1-shard1of1.bin', g1.buffer),
      memoryFile('group2-shard1of2', g2.slice(0, cut).buffer),
      memoryFile('group2-shard2of2', g2.slice(cut).buffer),
    ];
    const loaded = await loadModel(files);
    await expectSameNetwork(original, loaded, [8, 8, 3]);
  });

  it('dequantizes uint8, uint16 and float16 weights', async () => {
    const original = sequentialCnn();
    const e = await exportModel(original);
    const floats = new Float32Array(e.shards['weights.bin']);
    const kinds = ['uint8', 'uint16', 'float16'] as const;
    const json = clone(e.modelJson);
    const parts: Uint8Array[] = [];
    let at = 0;
    json.weightsManifest[0].weights.forEach((w, i) => {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const v = floats.subarray(at, at + n);
      at += n;
      const kind = kinds[i % 3];
      if (kind === 'float16') {
        w.quantization = { dtype: 'float16' };
        parts.push(new Uint8Array(toFloat16(v).buffer));
        return;
      }
      const min = Math.min(...v);
      const max = Math.max(...v);
      const levels = kind === 'uint8' ? 255 : 65535;
      const scale = max > min ? (max - min) / levels : 1;
      w.quantization = { dtype: kind, min, scale };
      const q = kind === 'uint8' ? new Uint8Array(n) : new Uint16Array(n);
      v.forEach((x, j) => (q[j] = Math.round((x - min) / scale)));
      parts.push(new Uint8Array(q.buffer));
    });
    const data = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) (data.set(p, o), (o += p.length));
    const loaded = await loadModel([memoryFile('model.json', json), memoryFile('weights.bin', data.buffer)]);
    expect(new Set(loaded.weights.map((w) => w.storedAs))).toEqual(new Set(kinds));
    expect(loaded.weights.every((w) => w.values instanceof Float32Array)).toBe(true);
    expect(loaded.notes.join(' ')).toMatch(/dequantized/);
    await expectSameNetwork(original, loaded, [8, 8, 3], 2e-2);
  });

  it('reads a Sequential stored as a bare layer list', async () => {
    const original = sequentialCnn();
    const e = await exportModel(original);
    const json = clone(e.modelJson);
    // tfjs writes the model config itself as modelTopology; old Keras wrote a bare layer list.
    const topo = json.modelTopology as { config: { layers: unknown[] } };
    json.modelTopology = { class_name: 'Sequential', config: topo.config.layers } as never;
    const loaded = await loadModel([memoryFile('model.json', json), memoryFile('weights.bin', e.shards['weights.bin'])]);
    expect(loaded.notes.join(' ')).toMatch(/bare layer list/);
    await expectSameNetwork(original, loaded, [8, 8, 3]);
  });

  it('normalizes a Keras 3 functional export (batch_shape, DTypePolicy, module/registered_name, {args} nodes)', async () => {
    const original = mobilenetV2Like();
    const e = await exportModel(original);
    const keras3 = toKeras3(clone(e.modelJson));
    const loaded = await loadModel([memoryFile('model.json', keras3), memoryFile('weights.bin', e.shards['weights.bin'])]);
    expect(loaded.notes.join(' ')).toMatch(/batch_shape/);
    expect(loaded.notes.join(' ')).toMatch(/DTypePolicy/);
    expect(loaded.notes.join(' ')).toMatch(/\{args\}/);
    const a = analyzeModel(loaded);
    expect(a.groups.find((g) => g.id === 'stem')!.producers).toEqual(['stem', 'project']);
    await expectSameNetwork(original, loaded, [8, 8, 3]);
  });
});

describe('camelCase config keys (tfjs-layers accepts them)', () => {
  it('loads a hand-patched export with batchInputShape, className and kernelSize as the snake_case one, and says so', async () => {
    const net = mobilenetV2Like();
    const e = await exportModel(net);
    const plain = await loadModel(asFiles(e));
    const patched = { ...e, modelJson: clone(e.modelJson) };
    const camel = (o: Record<string, unknown>, from: string, to: string) => {
      o[to] = o[from];
      delete o[from];
    };
    const layers = (patched.modelJson.modelTopology as { config: { layers: Record<string, unknown>[] } }).config.layers;
    for (const l of layers) {
      const cfg = l.config as Record<string, unknown>;
      if (l.class_name === 'InputLayer') camel(cfg, 'batch_input_shape', 'batchInputShape');
      if ('kernel_size' in cfg) camel(cfg, 'kernel_size', 'kernelSize');
      if ('use_bias' in cfg) camel(cfg, 'use_bias', 'useBias');
      camel(l, 'class_name', 'className');
      camel(l, 'inbound_nodes', 'inboundNodes');
    }
    // tfjs itself loads the patched file.
    const stock = await tf.models.modelFromJSON({ modelTopology: patched.modelJson.modelTopology } as tf.io.ModelJSON);
    stock.dispose();
    const m = await loadModel(asFiles(patched));
    expect(m.notes.join(' ')).toMatch(/camelCase keys/);
    expect(m.topology.model_config).toEqual(plain.topology.model_config);
    const [a, b] = [analyzeModel(m), analyzeModel(plain)];
    expect(a.cost).toEqual(b.cost);
    expect(a.groups).toEqual(b.groups);
    await expectSameNetwork(net, m, [8, 8, 3]);
    net.dispose();
  });

  it('keeps the snake_case key where a config gives both', async () => {
    const e = await exportModel(sequentialCnn());
    const layers = (e.modelJson.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers;
    const conv = layers.find((l) => l.config.name === 'conv1')!;
    conv.config.kernelSize = [5, 5];
    const m = await loadModel(asFiles(e));
    expect(analyzeModel(m).cost.layers.find((l) => l.layer === 'conv1')!.macs).toBe(3 * 3 * 3 * 4 * 64);
  });
});

describe('refusals that help', () => {
  const good = async () => exportModel(sequentialCnn());

  it('refuses a GraphModel, with or without the format field', async () => {
    const graph = { format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] };
    const e1 = await refusal([memoryFile('model.json', graph)]);
    expect(e1.message).toMatch(/GraphModel/);
    expect(e1.fix).toMatch(/tfjs_layers_model/);
    const old = { modelTopology: { node: [{ name: 'x', op: 'Placeholder' }], versions: {} }, weightsManifest: [] };
    expect((await refusal([memoryFile('m/model.json', old)])).message).toMatch(/^m\/model\.json: .*GraphModel/);
  });

  it('names a missing weight file', async () => {
    const e = await good();
    const err = await refusal([memoryFile('model.json', e.modelJson)]);
    expect(err.file).toBe('weights.bin');
    expect(err.message).toMatch(/not among the files/);
  });

  it('names the shard and both byte counts when a shard has the wrong size', async () => {
    const e = await good();
    const cut = e.shards['weights.bin'].slice(0, 100);
    const err = await refusal([memoryFile('model.json', e.modelJson), memoryFile('weights.bin', cut)]);
    const need = e.shards['weights.bin'].byteLength;
    expect(err.message).toContain(`weights.bin: has 100 bytes but the weightsManifest of model.json needs ${need}`);
  });

  it('names a weight that matches no layer', async () => {
    const e = await good();
    const json = clone(e.modelJson);
    json.weightsManifest[0].weights[0].name = 'conv1_1/kernel';
    const err = await refusal([memoryFile('model.json', json), memoryFile('weights.bin', e.shards['weights.bin'])]);
    expect(err.message).toMatch(/weight 'conv1_1\/kernel'.*matches no layer/);
  });

  it('names the class of an unknown custom layer', async () => {
    const e = await good();
    const json = clone(e.modelJson);
    const layers = (json.modelTopology as { config: { layers: { class_name: string }[] } }).config.layers;
    layers[2].class_name = 'MyFancyNorm';
    const err = await refusal([memoryFile('model.json', json), memoryFile('weights.bin', e.shards['weights.bin'])]);
    expect(err.message).toMatch(/class 'MyFancyNorm'/);
  });

  it('says where JSON is invalid', async () => {
    const err = await refusal([memoryFile('model.json', '{\n  "modelTopology": {,\n}'), memoryFile('weights.bin', new ArrayBuffer(4))]);
    expect(err.message).toMatch(/^model\.json: is not valid JSON at line 2, column \d+/);
  });

  it('says when no model.json is there', async () => {
    const err = await refusal([memoryFile('metadata.json', { labels: [] }), memoryFile('weights.bin', new ArrayBuffer(4))]);
    expect(err.message).toMatch(/no modelTopology/);
    const none = await refusal([memoryFile('photo.png', new ArrayBuffer(4))]);
    expect(none.message).toMatch(/photo\.png: contains no model\.json/);
  });

  it('names a layer weight the manifest lacks', async () => {
    const e = await good();
    const json = clone(e.modelJson);
    const w = json.weightsManifest[0].weights;
    const dropped = w.findIndex((x) => x.name === 'fc2/bias');
    const bytes = new Uint8Array(e.shards['weights.bin']);
    const before = w.slice(0, dropped).reduce((s, x) => s + 4 * x.shape.reduce((a, b) => a * b, 1), 0);
    const data = new Uint8Array([...bytes.slice(0, before), ...bytes.slice(before + 12)]);
    w.splice(dropped, 1);
    // Refused by the loader itself, before the shards are read or anything is built.
    const err = await refusal([memoryFile('model.json', json), memoryFile('weights.bin', data.buffer)]);
    expect(err.message).toMatch(/^model\.json: layer 'fc2' \(Dense\) needs the weight 'fc2\/bias'/);
  });
});

function toFloat16(v: Float32Array): Uint16Array {
  const out = new Uint16Array(v.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  v.forEach((x, i) => {
    f[0] = x;
    const bits = u[0];
    const sign = (bits >>> 16) & 0x8000;
    const exp = ((bits >>> 23) & 0xff) - 127 + 15;
    const mant = (bits >>> 13) & 0x3ff;
    out[i] = exp <= 0 ? sign : exp >= 31 ? sign | 0x7c00 : sign | (exp << 10) | mant;
  });
  return out;
}

/** Rewrites a Keras 2 functional model.json the way Keras 3 writes it. */
function toKeras3(json: ExportedFiles['modelJson']): ExportedFiles['modelJson'] {
  const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
  const topo = json.modelTopology as { config: { layers: Record<string, any>[]; input_layers: unknown; output_layers: unknown } };
  json.modelTopology = { keras_version: '3.8.0', backend: 'tensorflow', model_config: { ...topo, class_name: 'Functional' } };
  const cfg = topo.config;
  for (const layer of cfg.layers) {
    layer.module = 'keras.layers';
    layer.registered_name = null;
    if (layer.class_name === 'InputLayer') {
      layer.config.batch_shape = layer.config.batch_input_shape;
      delete layer.config.batch_input_shape;
    } else {
      layer.config.dtype = policy;
    }
    layer.inbound_nodes = (layer.inbound_nodes as [string, number, number][][]).map((node) => {
      const tensors = node.map(([name, n, t]) => ({ class_name: '__keras_tensor__', config: { shape: [null], dtype: 'float32', keras_history: [name, n, t] } }));
      return { args: tensors.length === 1 ? tensors : [tensors], kwargs: {} };
    });
  }
  cfg.input_layers = (cfg.input_layers as unknown[])[0];
  cfg.output_layers = (cfg.output_layers as unknown[])[0];
  return json;
}
