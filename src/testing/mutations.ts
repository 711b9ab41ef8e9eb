/**
 * Malformed and unusual variants of the fixture models, by class: what a hostile or unlucky user
 * drops on the app or passes to the CLI. Each case is the files of one export (model.json as
 * text, the weight shards) and, where the right outcome is certain, what it must end as.
 * The fuzz suite (src/core/model/fuzz.test.ts) runs each through load, analyze, prune and export.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelFile } from '../core/model/files';
import { memoryFile, type ExportedFiles } from './fixtures';

type Json = any;

export interface FuzzCase {
  /** The class of mutation (what the counts are reported by). */
  cls: string;
  /** Fixture and variant, for the failure message. */
  name: string;
  files: ModelFile[];
  /** The one right outcome, when there is one; absent: either a clear refusal or a model tfjs loads. */
  expect?: 'refused' | 'loaded';
  /** For refusals: the message must match (names the problem). */
  message?: RegExp;
}

interface Draft {
  json: Json;
  shards: Record<string, ArrayBuffer>;
  /** model.json as text, when the mutation is below the JSON level. */
  text?: string;
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function files(d: Draft): ModelFile[] {
  return [memoryFile('model.json', d.text ?? JSON.stringify(d.json)), ...Object.entries(d.shards).map(([n, b]) => memoryFile(n, b))];
}

const root = (json: Json): Json => json.modelTopology.model_config ?? json.modelTopology;
const isModel = (l: Json) => ['Model', 'Functional', 'Sequential'].includes(l.class_name);

/** Every layer entry, nested models included, with the model that holds it. */
function allLayers(json: Json): { layer: Json; parent: Json }[] {
  const out: { layer: Json; parent: Json }[] = [];
  const walk = (m: Json) => {
    for (const l of m.config.layers) {
      out.push({ layer: l, parent: m });
      if (isModel(l)) walk(l);
    }
  };
  walk(root(json));
  return out;
}

const nameOf = (l: Json): string => l.config?.name ?? l.name;
const firstOf = (json: Json, cls: string) => allLayers(json).find(({ layer }) => layer.class_name === cls)?.layer;
const weightsOf = (json: Json): Json[] => json.weightsManifest.flatMap((g: Json) => g.weights);

/** Byte offset of each manifest weight in its (single) shard, for edits of values. */
function offsets(json: Json): Map<string, number> {
  const out = new Map<string, number>();
  let o = 0;
  for (const w of weightsOf(json)) {
    out.set(w.name, o);
    o += 4 * w.shape.reduce((a: number, b: number) => a * b, 1);
  }
  return out;
}

/** Renames a layer everywhere: its entry, references to it and its weights. */
function rename(json: Json, from: string, to: string): void {
  const visit = (v: Json): Json => {
    if (Array.isArray(v)) {
      if (v.length >= 3 && v[0] === from && typeof v[1] === 'number') v[0] = to;
      v.forEach(visit);
    } else if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        if (k === 'name' && v[k] === from) v[k] = to;
        else visit(v[k]);
      }
    }
  };
  visit(json.modelTopology);
  for (const w of weightsOf(json)) if (w.name.startsWith(`${from}/`)) w.name = to + w.name.slice(from.length);
}

/** A functional fixture's inbound reference lists, by layer name. */
function functionalLayers(json: Json): Json[] {
  const r = root(json);
  return r.class_name === 'Sequential' ? [] : r.config.layers;
}

/** Builds one class of cases from a fixture export: `variants` edit a fresh copy each. */
function cases(
  fixture: string,
  e: ExportedFiles,
  cls: string,
  variants: Record<string, (d: Draft) => void | false>,
  expect?: FuzzCase['expect'],
  message?: RegExp,
): FuzzCase[] {
  const out: FuzzCase[] = [];
  for (const [variant, edit] of Object.entries(variants)) {
    const d: Draft = { json: clone(e.modelJson), shards: { ...e.shards } };
    if (edit(d) === false) continue; // not applicable to this fixture
    out.push({ cls, name: `${fixture}: ${variant}`, files: files(d), expect, message });
  }
  return out;
}

function setValue(d: Draft, weight: string, index: number, value: number): void {
  const at = offsets(d.json).get(weight)!;
  const copy = d.shards['weights.bin'].slice(0);
  new Float32Array(copy, at, 1 + index)[index] = value;
  d.shards['weights.bin'] = copy;
}

/** Rewrites the first weight as uint8 with a scale and min (as tensorflowjs_converter does), then lets `edit` damage it. */
function quantizeFirst(d: Draft, edit: (q: Json) => void): void {
  const ws = weightsOf(d.json);
  const w = ws[0];
  const n = w.shape.reduce((a: number, b: number) => a * b, 1);
  const src = new Float32Array(d.shards['weights.bin'], 0, n);
  const min = Math.min(...src);
  const scale = (Math.max(...src) - min) / 255 || 1;
  const q = new Uint8Array(n).map((_, i) => Math.round((src[i] - min) / scale));
  const rest = new Uint8Array(d.shards['weights.bin'], 4 * n);
  const out = new Uint8Array(n + rest.length);
  out.set(q, 0);
  out.set(rest, n);
  d.shards['weights.bin'] = out.buffer;
  w.quantization = { dtype: 'uint8', scale, min, original_dtype: 'float32' };
  edit(w.quantization);
}

/** Wraps the root model in `depth` Sequential models. */
function nestSequential(d: Draft, depth: number): void {
  let m = root(d.json);
  for (let i = 0; i < depth; i++) m = { class_name: 'Sequential', config: { name: `wrap_${i}`, layers: [m] } };
  d.json.modelTopology = { ...d.json.modelTopology, model_config: undefined, class_name: m.class_name, config: m.config };
  delete d.json.modelTopology.model_config;
}

/** Every class of mutation that applies to one fixture export. */
export function mutationsOf(fixture: string, e: ExportedFiles): FuzzCase[] {
  const first = (d: Draft) => allLayers(d.json).find(({ layer }) => !isModel(layer) && layer.class_name !== 'InputLayer')!.layer;
  const conv = (d: Draft) => firstOf(d.json, 'Conv2D');
  const dense = (d: Draft) => firstOf(d.json, 'Dense');
  const inputOf = (d: Draft) => allLayers(d.json).find(({ layer }) => layer.config.batch_input_shape)!.layer;
  const fn = (d: Draft) => functionalLayers(d.json);
  const refOf = (d: Draft, i = 2) => fn(d)[i]?.inbound_nodes?.[0]?.[0];
  const out: FuzzCase[] = [];

  out.push(
    ...cases(fixture, e, 'graph cycle', {
      'a layer reads a later one': (d) => {
        const ls = fn(d);
        if (ls.length < 4) return false;
        ls[1].inbound_nodes[0][0][0] = nameOf(ls[ls.length - 1]);
      },
      'two layers read each other': (d) => {
        const ls = fn(d);
        if (ls.length < 4) return false;
        ls[2].inbound_nodes[0][0][0] = nameOf(ls[3]);
        ls[3].inbound_nodes[0][0][0] = nameOf(ls[2]);
      },
    }, 'refused', /cycle|self-loop/),
    ...cases(fixture, e, 'self-loop', {
      'a layer reads itself': (d) => {
        const r = refOf(d);
        if (!r) return false;
        r[0] = nameOf(fn(d)[2]);
      },
    }, 'refused', /self-loop/),
    ...cases(fixture, e, 'dangling input', {
      'input from a missing layer': (d) => {
        const r = refOf(d);
        if (!r) return false;
        r[0] = 'ghost_layer';
      },
      'output from a missing layer': (d) => {
        if (!fn(d).length) return false;
        root(d.json).config.output_layers[0][0] = 'ghost_layer';
      },
    }, 'refused', /ghost_layer/),
    ...cases(fixture, e, 'bad node index', {
      'inbound node index 3': (d) => {
        const r = refOf(d);
        if (!r) return false;
        r[1] = 3;
      },
      'output node index 2': (d) => {
        if (!fn(d).length) return false;
        root(d.json).config.output_layers[0][1] = 2;
      },
      'output tensor index 4': (d) => {
        if (!fn(d).length) return false;
        root(d.json).config.output_layers[0][2] = 4;
      },
      'input node index 1': (d) => {
        if (!fn(d).length) return false;
        root(d.json).config.input_layers[0][1] = 1;
      },
      'node index -1': (d) => {
        const r = refOf(d);
        if (!r) return false;
        r[1] = -1;
      },
      'node index 1.5': (d) => {
        const r = refOf(d);
        if (!r) return false;
        r[1] = 1.5;
      },
    }, 'refused'),
    ...cases(fixture, e, 'duplicate names', {
      'two layers with one name': (d) => {
        const ls = allLayers(d.json).filter(({ layer }) => !isModel(layer) && layer.class_name !== 'InputLayer');
        const [a, b] = [ls[0], ls.find((x) => x.parent === ls[0].parent && x !== ls[0])];
        if (!b) return false;
        const name = nameOf(a.layer);
        b.layer.config.name = name;
        if (b.layer.name) b.layer.name = name;
      },
    }, 'refused', /two layers named/),
    ...cases(fixture, e, 'one name in two nested models', {
      'a head layer named like a base layer': (d) => {
        const nestedModels = allLayers(d.json).filter(({ layer }) => isModel(layer)).map(({ layer }) => layer);
        const [a, b] = nestedModels.map((m) => m.config.layers.find((l: Json) => weightsOf(d.json).some((w: Json) => w.name.startsWith(`${nameOf(l)}/`))));
        if (!a || !b || nestedModels.length < 2) return false;
        rename(d.json, nameOf(b), nameOf(a));
      },
    }),
    ...cases(fixture, e, 'huge shapes', {
      'input 20000x20000': (d) => {
        const s = inputOf(d).config.batch_input_shape;
        if (s.length !== 4) return false;
        s[1] = 20000;
        s[2] = 20000;
      },
      'input 1e9 x 1': (d) => {
        const s = inputOf(d).config.batch_input_shape;
        if (s.length !== 4) return false;
        s[1] = 1e9;
      },
      'input 2^53': (d) => {
        const s = inputOf(d).config.batch_input_shape;
        s[1] = 2 ** 53;
      },
    }, 'refused'),
    ...cases(fixture, e, 'huge layer sizes', {
      'Conv2D filters 1e8': (d) => {
        if (!conv(d)) return false;
        conv(d).config.filters = 1e8;
      },
      'Dense units 1e9': (d) => {
        if (!dense(d)) return false;
        dense(d).config.units = 1e9;
      },
      'Conv2D filters 1e8 in the config and in the manifest': (d) => {
        const c = conv(d);
        if (!c) return false;
        c.config.filters = 1e8;
        for (const w of weightsOf(d.json)) if (w.name.startsWith(`${nameOf(c)}/`)) w.shape[w.shape.length - 1] = 1e8;
      },
      'Conv2D kernel 3x1e9': (d) => {
        if (!conv(d)) return false;
        conv(d).config.kernel_size = [3, 1e9];
      },
    }, 'refused'),
    ...cases(fixture, e, 'bad sizes and strides', {
      'strides 0': (d) => {
        if (!conv(d)) return false;
        conv(d).config.strides = [0, 0];
      },
      'strides -1': (d) => {
        if (!conv(d)) return false;
        conv(d).config.strides = [-1, 1];
      },
      'kernel_size 0': (d) => {
        if (!conv(d)) return false;
        conv(d).config.kernel_size = 0;
      },
      'filters 1.5': (d) => {
        if (!conv(d)) return false;
        conv(d).config.filters = 1.5;
      },
      'filters "4"': (d) => {
        if (!conv(d)) return false;
        conv(d).config.filters = String(conv(d).config.filters);
      },
      'units -3': (d) => {
        if (!dense(d)) return false;
        dense(d).config.units = -3;
      },
      'dilation 0': (d) => {
        if (!conv(d)) return false;
        conv(d).config.dilation_rate = [0, 0];
      },
      'pool_size 0': (d) => {
        const p = firstOf(d.json, 'MaxPooling2D');
        if (!p) return false;
        p.config.pool_size = [0, 0];
      },
      'valid kernel larger than its input': (d) => {
        if (!conv(d)) return false;
        conv(d).config.kernel_size = [31, 31];
        conv(d).config.padding = 'valid';
      },
    }, 'refused'),
    ...cases(fixture, e, 'config/weight mismatch', {
      'filters + 1': (d) => {
        if (!conv(d)) return false;
        conv(d).config.filters += 1;
      },
      'units + 1': (d) => {
        if (!dense(d)) return false;
        dense(d).config.units += 1;
      },
      'kernel_size 5 on a 3x3 kernel': (d) => {
        if (!conv(d)) return false;
        conv(d).config.kernel_size = [5, 5];
      },
      'kernel_size 1x9 on a 3x3 kernel (same parameter count)': (d) => {
        const c = conv(d);
        if (!c || JSON.stringify(c.config.kernel_size) !== '[3,3]') return false;
        c.config.kernel_size = [1, 9];
      },
      'use_bias false with a bias stored': (d) => {
        if (!dense(d)) return false;
        dense(d).config.use_bias = false;
      },
      'manifest kernel shape transposed': (d) => {
        const k = weightsOf(d.json).find((w: Json) => w.name.endsWith('/kernel') && w.shape.length === 2);
        if (!k || k.shape[0] === k.shape[1]) return false;
        k.shape = [k.shape[1], k.shape[0]];
      },
      'manifest kernel shape doubled (the .bin is then short)': (d) => {
        const k = weightsOf(d.json).find((w: Json) => w.name.endsWith('/kernel'));
        k.shape[k.shape.length - 1] *= 2;
      },
    }, 'refused'),
    ...cases(fixture, e, 'dtype mismatch', {
      'kernel stored as int32': (d) => {
        weightsOf(d.json).find((w: Json) => w.name.endsWith('/kernel')).dtype = 'int32';
      },
      'kernel dtype float64': (d) => {
        weightsOf(d.json)[0].dtype = 'float64';
      },
      'kernel dtype string': (d) => {
        weightsOf(d.json)[0].dtype = 'string';
      },
      'kernel dtype null': (d) => {
        weightsOf(d.json)[0].dtype = null;
      },
      'layer dtype 123': (d) => {
        first(d).config.dtype = 123;
      },
    }, 'refused'),
    ...cases(fixture, e, 'missing quantization fields', {
      'uint8 without scale': (d) => quantizeFirst(d, (q) => delete q.scale),
      'uint8 without min': (d) => quantizeFirst(d, (q) => delete q.min),
      'uint8 without scale and min': (d) => quantizeFirst(d, (q) => (delete q.scale, delete q.min)),
      'uint8 with scale null': (d) => quantizeFirst(d, (q) => (q.scale = null)),
      'quantized to int4': (d) => quantizeFirst(d, (q) => (q.dtype = 'int4')),
      'quantization "yes"': (d) => quantizeFirst(d, () => (weightsOf(d.json)[0].quantization = 'yes')),
    }, 'refused'),
    ...cases(fixture, e, 'valid quantization', {
      'uint8 with scale and min': (d) => quantizeFirst(d, () => undefined),
    }, 'loaded'),
    ...cases(fixture, e, 'NaN weights', {
      'NaN in a kernel': (d) => setValue(d, weightsOf(d.json).find((w: Json) => w.name.endsWith('/kernel')).name, 0, NaN),
      'Infinity in a bias': (d) => {
        const b = weightsOf(d.json).find((w: Json) => w.name.endsWith('/bias'));
        if (!b) return false;
        setValue(d, b.name, 0, Infinity);
      },
    }, 'loaded'),
    ...cases(fixture, e, 'bad names', {
      'a space': (d) => rename(d.json, nameOf(first(d)), 'bad name'),
      'HTML and script': (d) => rename(d.json, nameOf(first(d)), '<img src=x onerror=alert(1)>'),
      'leading underscore': (d) => rename(d.json, nameOf(first(d)), '_conv'),
      'empty': (d) => rename(d.json, nameOf(first(d)), ''),
      'control characters': (d) => rename(d.json, nameOf(first(d)), 'a\u0007\u001b[31mb'),
      'a number': (d) => {
        first(d).config.name = 42;
      },
    }, 'refused'),
    ...cases(fixture, e, 'unusual valid names', {
      'dots and dashes': (d) => rename(d.json, nameOf(first(d)), 'block.1-a_v2'),
      'leading digit': (d) => rename(d.json, nameOf(first(d)), '1st_layer'),
    }, 'loaded'),
    // tfjs loads these in a Sequential model but not in a functional one (its loader keys a plain object by layer name).
    ...cases(fixture, e, 'prototype layer names', {
      'named constructor': (d) => rename(d.json, nameOf(first(d)), 'constructor'),
      'named toString': (d) => rename(d.json, nameOf(first(d)), 'toString'),
      'named valueOf': (d) => rename(d.json, nameOf(first(d)), 'valueOf'),
    }),
    ...cases(fixture, e, 'prototype class names', Object.fromEntries(
      ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'].map((c) => [c, (d: Draft) => void (first(d).class_name = c)]),
    ), 'refused', /class/),
    ...cases(fixture, e, 'unknown class', { 'a custom layer': (d) => void (first(d).class_name = 'MyCustomLayer') }, 'refused', /MyCustomLayer/),
    ...cases(fixture, e, 'null/string shapes', {
      'manifest shape null': (d) => void (weightsOf(d.json)[0].shape = null),
      'manifest shape "abc"': (d) => void (weightsOf(d.json)[0].shape = 'abc'),
      'manifest shape missing': (d) => void delete weightsOf(d.json)[0].shape,
      'manifest shape [3, -1]': (d) => void (weightsOf(d.json)[0].shape = [3, -1]),
      'manifest shape [2.5]': (d) => void (weightsOf(d.json)[0].shape = [2.5]),
      'input shape null': (d) => void (inputOf(d).config.batch_input_shape = null),
      'input shape "abc"': (d) => void (inputOf(d).config.batch_input_shape = 'abc'),
      'input shape with -8': (d) => void (inputOf(d).config.batch_input_shape[1] = -8),
      'input shape with "8"': (d) => void (inputOf(d).config.batch_input_shape[1] = '8'),
      'input shape []': (d) => void (inputOf(d).config.batch_input_shape = []),
    }, 'refused'),
    ...cases(fixture, e, 'null weight names and paths', {
      'weight name null': (d) => void (weightsOf(d.json)[0].name = null),
      'weight name 42': (d) => void (weightsOf(d.json)[0].name = 42),
      'weight entry null': (d) => void (d.json.weightsManifest[0].weights[0] = null),
      'path null': (d) => void (d.json.weightsManifest[0].paths = [null]),
      'paths a string': (d) => void (d.json.weightsManifest[0].paths = 'weights.bin'),
      'weightsManifest null': (d) => void (d.json.weightsManifest = null),
      'weightsManifest a string': (d) => void (d.json.weightsManifest = 'weights.bin'),
      'a weight listed twice': (d) => void d.json.weightsManifest[0].weights.push(d.json.weightsManifest[0].weights[0]),
    }, 'refused'),
    ...cases(fixture, e, 'malformed inbound nodes', {
      'inbound_nodes a string': (d) => {
        if (!fn(d)[2]) return false;
        fn(d)[2].inbound_nodes = 'image';
      },
      'inbound_nodes an object': (d) => {
        if (!fn(d)[2]) return false;
        fn(d)[2].inbound_nodes = { args: 'x' };
      },
      'a node that is a string': (d) => {
        if (!fn(d)[2]) return false;
        fn(d)[2].inbound_nodes = ['image'];
      },
      'a reference with one level missing': (d) => {
        if (!fn(d)[2]) return false;
        fn(d)[2].inbound_nodes = [fn(d)[2].inbound_nodes[0][0]];
      },
      'a reference of two items': (d) => {
        const r = refOf(d);
        if (!r) return false;
        r.splice(1);
      },
      'a reference to null': (d) => {
        const r = refOf(d);
        if (!r) return false;
        r[0] = null;
      },
      'inbound_nodes missing': (d) => {
        if (!fn(d)[2]) return false;
        delete fn(d)[2].inbound_nodes;
      },
      'an empty call': (d) => {
        if (!fn(d)[2]) return false;
        fn(d)[2].inbound_nodes = [[]];
      },
      'an InputLayer called on a layer': (d) => {
        const ls = fn(d);
        if (!ls.length) return false;
        ls[0].inbound_nodes = [[[nameOf(ls[1]), 0, 0, {}]]];
      },
      'input_layers a string': (d) => {
        if (!fn(d).length) return false;
        root(d.json).config.input_layers = 'image';
      },
      'output_layers empty': (d) => {
        if (!fn(d).length) return false;
        root(d.json).config.output_layers = [];
      },
    }, 'refused'),
    ...cases(fixture, e, 'missing keys', {
      'a layer without config': (d) => void delete first(d).config,
      'a layer without class_name': (d) => void delete first(d).class_name,
      'layers null': (d) => void (root(d.json).config.layers = null),
      'layers empty': (d) => void (root(d.json).config.layers = []),
      'a layer that is null': (d) => void (root(d.json).config.layers[1] = null),
      'modelTopology 42': (d) => void (d.json.modelTopology = 42),
      'model_config a Dense layer': (d) => void (d.json.modelTopology = { model_config: { class_name: 'Dense', config: { name: 'd', units: 3 } } }),
    }, 'refused'),
    ...cases(fixture, e, 'very deep nesting', {
      'JSON 100000 levels deep in a config': (d) => {
        d.text = JSON.stringify(d.json).replace('"trainable":true', `"trainable":${'['.repeat(100000)}${']'.repeat(100000)}`);
      },
      'JSON 500 levels deep': (d) => {
        d.text = JSON.stringify(d.json).replace('"trainable":true', `"trainable":${'{"a":'.repeat(500)}1${'}'.repeat(500)}`);
      },
      'models nested 40 deep': (d) => nestSequential(d, 40),
    }, 'refused'),
    ...cases(fixture, e, 'shallow nesting', {
      'models nested 3 deep': (d) => (root(d.json).config.output_layers?.length > 1 ? false : nestSequential(d, 3)),
    }, 'loaded'),
    ...cases(fixture, e, 'multi-output model in a Sequential', {
      'wrapped once': (d) => (root(d.json).config.output_layers?.length > 1 ? nestSequential(d, 1) : false),
    }, 'refused', /Sequential model holding/),
    ...cases(fixture, e, 'not a model.json', {
      'a PNG renamed': (d) => void (d.text = '\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR\u0000\u0000'),
      'cut short': (d) => void (d.text = JSON.stringify(d.json).slice(0, 200)),
      'empty': (d) => void (d.text = ''),
      'null': (d) => void (d.text = 'null'),
      'a list': (d) => void (d.text = '[]'),
    }, 'refused'),
    ...cases(fixture, e, 'configs only tfjs knows to refuse', {
      'padding "bogus"': (d) => {
        if (!conv(d)) return false;
        conv(d).config.padding = 'bogus';
      },
      'activation "bogus"': (d) => {
        if (!dense(d)) return false;
        dense(d).config.activation = 'bogus';
      },
      'BatchNormalization axis 7': (d) => {
        const bn = firstOf(d.json, 'BatchNormalization');
        if (!bn) return false;
        bn.config.axis = 7;
      },
      'kernel_initializer "bogus"': (d) => {
        if (!conv(d)) return false;
        conv(d).config.kernel_initializer = { class_name: 'Bogus', config: {} };
      },
    }, 'refused'),
    ...cases(fixture, e, 'disconnected graph', {
      'a layer reads an InputLayer the model does not list': (d) => {
        const ls = fn(d);
        if (!ls.length) return false;
        const input = clone(ls[0]);
        input.name = input.config.name = 'extra_input';
        ls.unshift(input);
        ls[3].inbound_nodes[0][0] = ['extra_input', 0, 0, {}];
      },
    }, 'refused', /disconnected/),
    ...cases(fixture, e, 'Keras 3 inbound nodes', {
      'an {args} call on a missing layer': (d) => {
        if (!fn(d)[2]) return false;
        fn(d)[2].inbound_nodes = [{ args: [{ class_name: '__keras_tensor__', config: { keras_history: ['ghost_layer', 0, 0] } }], kwargs: {} }];
      },
      'an {args} call with a null history': (d) => {
        if (!fn(d)[2]) return false;
        fn(d)[2].inbound_nodes = [{ args: [{ class_name: '__keras_tensor__', config: { keras_history: [null, 0, 0] } }], kwargs: {} }];
      },
      'an {args} call with no tensors': (d) => {
        if (!fn(d)[2]) return false;
        fn(d)[2].inbound_nodes = [{ args: [1, 'x'], kwargs: {} }];
      },
    }, 'refused'),
    ...cases(fixture, e, 'wrong shard size', {
      '.bin cut short': (d) => void (d.shards['weights.bin'] = d.shards['weights.bin'].slice(0, d.shards['weights.bin'].byteLength - 8)),
      '.bin with extra bytes': (d) => {
        const b = new Uint8Array(d.shards['weights.bin'].byteLength + 4);
        b.set(new Uint8Array(d.shards['weights.bin']));
        d.shards['weights.bin'] = b.buffer;
      },
    }, 'refused', /weights\.bin/),
  );
  return out;
}

/**
 * The transfer-learning pattern of the tfjs tutorials: a functional model whose base is a nested
 * Model and whose head is a nested Sequential called on the base's output. tfjs saves the calls of
 * a nested model as node 1 (node 0 is the model's own inner graph).
 */
export function transferNet(): tf.LayersModel {
  const inner = tf.input({ shape: [6, 6, 3], name: 'base_input' });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'base_conv' }).apply(inner) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'base_gap' }).apply(x) as tf.SymbolicTensor;
  const base = tf.model({ inputs: inner, outputs: x, name: 'base' });
  const head = tf.sequential({
    name: 'head',
    layers: [tf.layers.dense({ units: 6, inputShape: [8], activation: 'relu', name: 'head_dense' }), tf.layers.dense({ units: 3, name: 'head_out' })],
  });
  const input = tf.input({ shape: [6, 6, 3], name: 'image' });
  const y = head.apply(base.apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y, name: 'transfer' });
}

/** An autoencoder whose encoder and decoder are nested Models wired one into the other. */
export function nestedAutoencoder(): tf.LayersModel {
  const ei = tf.input({ shape: [12], name: 'enc_in' });
  const code = tf.layers.dense({ units: 4, activation: 'relu', name: 'enc_dense' }).apply(ei) as tf.SymbolicTensor;
  const encoder = tf.model({ inputs: ei, outputs: code, name: 'encoder' });
  const di = tf.input({ shape: [4], name: 'dec_in' });
  const rec = tf.layers.dense({ units: 12, name: 'dec_dense' }).apply(di) as tf.SymbolicTensor;
  const decoder = tf.model({ inputs: di, outputs: rec, name: 'decoder' });
  const input = tf.input({ shape: [12], name: 'x' });
  return tf.model({ inputs: input, outputs: decoder.apply(encoder.apply(input)) as tf.SymbolicTensor, name: 'autoencoder' });
}

/** The node numbering of nested models: tfjs's own numbering loads, node 0 (the inner graph) or a node never made is refused. */
export function nestedNodeCases(fixture: string, e: ExportedFiles): FuzzCase[] {
  const nested = (d: Draft) => functionalLayers(d.json).filter((l: Json) => isModel(l));
  return [
    ...cases(fixture, e, 'nested-model node rule', { 'as tfjs saves it (calls are node 1)': () => undefined }, 'loaded'),
    ...cases(fixture, e, 'nested-model node rule', {
      'output names node 0 of a nested model': (d) => void (root(d.json).config.output_layers[0][1] = 0),
      'a call reads node 0 of a nested model': (d) => {
        const consumer = functionalLayers(d.json).find((l: Json) => l.inbound_nodes?.[0]?.some((r: Json) => nested(d).some((n: Json) => nameOf(n) === r[0])));
        if (!consumer) return false;
        consumer.inbound_nodes[0][0][1] = 0;
      },
      'output names node 2 of a nested model called once': (d) => void (root(d.json).config.output_layers[0][1] = 2),
    }, 'refused', /node/),
  ];
}
