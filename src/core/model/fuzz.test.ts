/**
 * The fuzz suite: generated mutations of the fixture models (src/testing/mutations.ts), each run
 * through load -> analyze -> prune -> export in Node. Every case must end either as a clear
 * refusal (a ModelError: one line, the file first, no stack) or as a model stock
 * `tf.loadLayersModel` loads and runs, both the file as given and the pruned export; the tensor
 * count returns to where it started after every case. Counts per class are printed at the end.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { exportFiles } from '../export/files';
import { uniformPolicy } from '../prune/policy';
import { pruneModel } from '../prune/prune';
import { asFiles, exportModel, mobilenetV2Like, multiOutputNet, sequentialCnn, teachableMachineLike, type ExportedFiles } from '../../testing/fixtures';
import { mutationsOf, nestedAutoencoder, nestedNodeCases, transferNet, type FuzzCase } from '../../testing/mutations';
import { analyzeModel } from './analyze';
import { ModelError } from './errors';
import type { ModelFile } from './files';
import { loadModel } from './load';
import { disposeModel, instantiate } from './tfjs-model';

type Outcome = 'refused' | 'loaded';
const counts = new Map<string, { cases: number; refused: number; loaded: number; handled: number }>();

function record(cls: string, outcome: Outcome): void {
  const c = counts.get(cls) ?? { cases: 0, refused: 0, loaded: 0, handled: 0 };
  c.cases++;
  c[outcome]++;
  c.handled++;
  counts.set(cls, c);
}

/** What stock tfjs makes of model.json and its shards as given (weights read by tfjs itself). */
async function stockLoad(files: ModelFile[]): Promise<tf.LayersModel> {
  const json = JSON.parse(new TextDecoder().decode(await files[0].read()));
  const shards = new Map(await Promise.all(files.slice(1).map(async (f) => [f.path, await f.read()] as const)));
  const groups = json.weightsManifest as { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  const buffers = groups.flatMap((g) => g.paths.map((p) => new Uint8Array(shards.get(p.replace(/^\.\//, ''))!)));
  const data = new Uint8Array(buffers.reduce((n, b) => n + b.length, 0));
  buffers.reduce((o, b) => (data.set(b, o), o + b.length), 0);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: groups.flatMap((g) => g.weights), weightData: data.buffer }));
}

/** Runs a model on zeros and checks every output is there with the shape tfjs says. */
function runs(model: tf.LayersModel): void {
  const xs = model.inputs.map((t) => tf.zeros(t.shape.map((d) => d ?? 1)));
  const ys = ([] as tf.Tensor[]).concat(model.predict(xs.length === 1 ? xs[0] : xs) as tf.Tensor | tf.Tensor[]);
  expect(ys.map((y) => y.shape.slice(1))).toEqual(model.outputs.map((o) => o.shape.slice(1)));
  tf.dispose([...xs, ...ys]);
}

async function runCase(c: FuzzCase): Promise<Outcome> {
  let loaded;
  try {
    loaded = await loadModel(c.files);
    const analysis = analyzeModel(loaded, { inputSize: 8 });
    const pruned = pruneModel(loaded, analysis, uniformPolicy(analysis.groups, 0.5));
    const out = exportFiles(pruned.model);
    // What the project accepted, stock tfjs must load and run: the file as given, and the pruned export.
    const original = await stockLoad(c.files);
    runs(original);
    disposeModel(original);
    const exported = await stockLoad([
      { path: 'model.json', size: 0, read: async () => new TextEncoder().encode(out.modelJson).buffer as ArrayBuffer },
      { path: 'model.weights.bin', size: 0, read: async () => out.weights },
    ]);
    runs(exported);
    disposeModel(exported);
    const ours = await instantiate(loaded);
    disposeModel(ours);
  } catch (err) {
    if (loaded) throw new Error(`${c.name}: accepted by the loader, then failed: ${String((err as Error)?.stack ?? err)}`);
    if (!(err instanceof ModelError)) throw new Error(`${c.name}: not a ModelError: ${String((err as Error)?.stack ?? err)}`);
    const m = err.message;
    expect(m, `${c.name}: one line`).not.toMatch(/[\n\r]/);
    expect(m, `${c.name}: no stack, no control characters`).not.toMatch(/\s+at \S+ \(|[\u0000-\u001f]/);
    expect(m.startsWith(`${err.file}: `), `${c.name}: names the file first: ${m}`).toBe(true);
    expect(err.problem.length, `${c.name}: states a problem`).toBeGreaterThan(10);
    expect(err.fix.length, `${c.name}: states a fix`).toBeGreaterThan(10);
    expect(m.length, `${c.name}: short enough to read: ${m}`).toBeLessThan(600);
    if (c.message) expect(m, c.name).toMatch(c.message);
    return 'refused';
  }
  return 'loaded';
}

const FIXTURES: Record<string, () => tf.LayersModel> = {
  sequentialCnn,
  mobilenetV2Like,
  teachableMachineLike,
  multiOutputNet,
  transferNet,
};

describe('fuzz: mutated fixture models end as a clear refusal or a model tfjs loads', async () => {
  const exports: Record<string, ExportedFiles> = {};
  for (const [name, build] of Object.entries(FIXTURES)) {
    const m = build();
    exports[name] = await exportModel(m);
    m.dispose();
  }
  const autoencoder = nestedAutoencoder();
  const aeExport = await exportModel(autoencoder);
  autoencoder.dispose();

  const all: FuzzCase[] = [
    ...Object.entries(exports).flatMap(([name, e]) => mutationsOf(name, e)),
    ...nestedNodeCases('transferNet', exports.transferNet),
    ...nestedNodeCases('nestedAutoencoder', aeExport),
  ];

  for (const [name, e] of Object.entries(exports)) {
    it(`${name}: the unmutated fixture loads (the baseline every mutation starts from)`, async () => {
      expect(await runCase({ cls: 'baseline', name, files: asFiles(e) })).toBe('loaded');
    });
  }

  const byClass = new Map<string, FuzzCase[]>();
  for (const c of all) byClass.set(c.cls, [...(byClass.get(c.cls) ?? []), c]);
  for (const [cls, list] of byClass) {
    it(`${cls}: ${list.length} cases, each refused clearly or loaded by tfjs, no tensor left behind`, async () => {
      for (const c of list) {
        const start = tf.memory().numTensors;
        const outcome = await runCase(c);
        if (c.expect) expect(outcome, `${c.name}: expected ${c.expect}`).toBe(c.expect);
        expect(tf.memory().numTensors, `${c.name}: tensors left behind`).toBe(start);
        record(cls, outcome);
      }
    });
  }

  it('covers every class the issue lists', () => {
    const required = [
      'graph cycle',
      'self-loop',
      'dangling input',
      'bad node index',
      'duplicate names',
      'huge shapes',
      'huge layer sizes',
      'bad sizes and strides',
      'config/weight mismatch',
      'dtype mismatch',
      'missing quantization fields',
      'NaN weights',
      'bad names',
      'prototype class names',
      'null/string shapes',
      'null weight names and paths',
      'malformed inbound nodes',
      'very deep nesting',
      'nested-model node rule',
      'configs only tfjs knows to refuse',
    ];
    expect([...byClass.keys()]).toEqual(expect.arrayContaining(required));
  });

  afterAll(() => {
    const rows = [...counts].map(([cls, c]) => `  ${cls.padEnd(30)} ${String(c.cases).padStart(4)} cases  ${String(c.handled).padStart(4)} handled  ${String(c.refused).padStart(4)} refused  ${String(c.loaded).padStart(4)} loaded`);
    const total = [...counts.values()].reduce((t, c) => ({ cases: t.cases + c.cases, refused: t.refused + c.refused, loaded: t.loaded + c.loaded }), { cases: 0, refused: 0, loaded: 0 });
    console.log(`fuzz counts per class:\n${rows.join('\n')}\n  ${'total'.padEnd(30)} ${String(total.cases).padStart(4)} cases, ${total.refused} refused, ${total.loaded} loaded`);
  });
});

describe('a load tfjs fails to build leaves nothing behind', () => {
  it('disposes the variables and decoded weights of every failed build, and says so in one line', async () => {
    const e = await exportModel(sequentialCnn());
    const loaded = await loadModel(asFiles(e));
    // A config tfjs cannot build from these weights (the loader's checks bypassed on purpose).
    const broken = { ...loaded, topology: JSON.parse(JSON.stringify(loaded.topology)) };
    (broken.topology.model_config!.config.layers as { config: Record<string, unknown> }[])[0].config.filters = 5;
    const start = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) {
      const err = await instantiate(broken).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(err).toBeInstanceOf(ModelError);
      expect((err as ModelError).message).toMatch(/^model\.json: describes a model TensorFlow\.js cannot build \(.*Shape mismatch/);
      expect(tf.memory().numTensors).toBe(start);
    }
    // And a good build after them still works, keeping its own weights.
    const m = await instantiate(loaded);
    expect(tf.memory().numTensors).toBeGreaterThan(start);
    m.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('keeps every tensor of builds started together', async () => {
    const e = await exportModel(mobilenetV2Like());
    const loaded = await loadModel(asFiles(e));
    const start = tf.memory().numTensors;
    const models = await Promise.all([instantiate(loaded), instantiate(loaded), instantiate(loaded)]);
    for (const m of models) runs(m);
    models.forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBe(start);
  });

  it('disposeModel releases the weights of nested models that tfjs dispose() keeps', async () => {
    const m0 = teachableMachineLike();
    const loaded = await loadModel(asFiles(await exportModel(m0)));
    m0.dispose();
    const start = tf.memory().numTensors;
    const a = await instantiate(loaded);
    a.dispose();
    expect(tf.memory().numTensors, 'tfjs dispose() alone keeps the nested weights').toBeGreaterThan(start);
    const leftover = tf.memory().numTensors;
    const b = await instantiate(loaded);
    disposeModel(b);
    expect(tf.memory().numTensors).toBe(leftover);
  });
});
