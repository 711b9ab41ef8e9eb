import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asFiles, exportModel, sequentialCnn } from '../../testing/fixtures';
import { nestedAutoencoder, transferNet } from '../../testing/mutations';
import { analyzeModel } from './analyze';
import { ModelError } from './errors';
import { knownLayerClass } from './keras-classes';
import { layerHandler } from './layers';
import { DEFAULT_MAX_MODEL_BYTES, loadModel } from './load';
import { disposeModel, instantiate } from './tfjs-model';
import { jsonDepth } from './validate-values';

const MiB = 1024 ** 2;

/** sequentialCnn with a 256x256 input: about 2.5 MiB of activations at once. */
async function widerCnn() {
  const e = await exportModel(sequentialCnn());
  const topology = e.modelJson.modelTopology as { config: { layers: { config: { batch_input_shape?: (number | null)[] } }[] } };
  topology.config.layers[0].config.batch_input_shape = [null, 256, 256, 3];
  // The Dense after Flatten reads 127*127*6 features: its kernel must match, so drop the head.
  topology.config.layers.splice(5);
  e.modelJson.weightsManifest[0].weights = e.modelJson.weightsManifest[0].weights.filter((w) => !/^fc/.test(w.name));
  const bytes = e.modelJson.weightsManifest[0].weights.reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  e.shards['weights.bin'] = e.shards['weights.bin'].slice(0, bytes);
  return e;
}

describe('the cost ceiling', () => {
  it('refuses a model over the limit before reading its weights, states the limit, and lets a caller raise it', async () => {
    const e = await widerCnn();
    const files = asFiles(e);
    let read = false;
    files[1] = { ...files[1], read: async () => ((read = true), e.shards['weights.bin']) };
    const err = await loadModel(files, undefined, { maxBytes: 1 * MiB }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).message).toMatch(/^model\.json: would need [\d.]+ MiB to run \(.*\), over the limit of 1\.00 MiB\. .*raise the limit/);
    expect((err as ModelError).message).not.toMatch(/\n/);
    expect(read, 'refused from model.json alone').toBe(false);

    const loaded = await loadModel(files, undefined, { maxBytes: 8 * MiB });
    expect(() => analyzeModel(loaded, { maxBytes: 1 * MiB })).toThrow(/over the limit of 1\.00 MiB/);
    expect(analyzeModel(loaded, { maxBytes: 8 * MiB }).graph.layers.length).toBeGreaterThan(0);
    expect(DEFAULT_MAX_MODEL_BYTES).toBe(2 * 1024 * MiB);
    await expect(loadModel(files)).resolves.toBeDefined();
  });

  it('counts the activations alive at once, not their sum', async () => {
    // conv1 (256x256x4) and bn1 and relu1 outputs are 1 MiB each: one is freed as the next is made.
    const loaded = await loadModel(asFiles(await widerCnn()), undefined, { maxBytes: 2.9 * MiB });
    expect(loaded.weights.length).toBeGreaterThan(0);
  });
});

describe('nested models, numbered as tfjs numbers their calls', () => {
  for (const [name, build, input] of [
    ['transfer learning: a base Model and a Sequential head called on it', transferNet, [6, 6, 3]],
    ['an autoencoder: encoder and decoder Models wired one into the other', nestedAutoencoder, [12]],
  ] as const) {
    it(`${name}: loads, and the analysis matches what tfjs builds`, async () => {
      const original = build();
      const e = await exportModel(original);
      // tfjs saves the calls of a nested model as node 1: node 0 is the model's own inner graph.
      const json = JSON.stringify(e.modelJson.modelTopology);
      expect(json).toMatch(/\["(base|encoder)",1,0/);
      const loaded = await loadModel(asFiles(e));
      const a = analyzeModel(loaded);
      const m = await instantiate(loaded);
      expect(a.cost.totalParams).toBe(m.countParams());
      expect(a.graph.outputs.map((t) => a.graph.tensors.get(t)!.shape)).toEqual(m.outputs.map((o) => o.shape));
      const x = tf.ones([1, ...input]);
      const [y0, y1] = [original.predict(x) as tf.Tensor, m.predict(x) as tf.Tensor];
      expect(Math.max(...(await tf.sub(y0, y1).abs().data()))).toBeLessThan(1e-5);
      tf.dispose([x, y0, y1]);
      disposeModel(m);
      original.dispose();
    });
  }
});

describe('names from the file never walk a prototype', () => {
  it('treats prototype member names as unknown classes and layer types', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(knownLayerClass(name), name).toBe(false);
      expect(layerHandler(name), name).toBeUndefined();
    }
    expect(knownLayerClass('Conv2D')).toBe(true);
  });

  it('measures JSON depth without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth(deep)).toBe(100_000);
    expect(jsonDepth(deep, 10)).toBe(11);
  });
});
