import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asFiles, exportModel, memoryFile, mobilenetV1Like, mobilenetV2Like, sequentialCnn, transposeNet } from '../../testing/fixtures';
import { exportFiles, MODEL_FILE, WEIGHTS_FILE } from '../export/files';
import { analyzeModel, type ModelAnalysis } from '../model/analyze';
import { flattenModel } from '../model/flatten';
import { loadModel } from '../model/load';
import { instantiate } from '../model/tfjs-model';
import type { LoadedModel } from '../model/types';
import { batchNormUnsupported, recalibrateBatchNorm } from './batchnorm';
import { uniformPolicy } from './policy';
import { analyzePruned, pruneModel } from './prune';

async function prunedHalf(build: () => tf.LayersModel): Promise<{ model: LoadedModel; analysis: ModelAnalysis; original: ModelAnalysis }> {
  const loaded = await loadModel(asFiles(await exportModel(build(), 3)));
  const original = analyzeModel(loaded);
  const result = pruneModel(loaded, original, uniformPolicy(original.groups, 0.5), { roundTo: 1 });
  return { model: result.model, analysis: analyzePruned(result, original), original };
}

function calibrationBatch(shape: number[], n: number, seed: number): tf.Tensor4D {
  return tf.randomUniform([n, ...shape] as [number, number, number, number], 0, 1, 'float32', seed) as tf.Tensor4D;
}

/** Each BatchNorm's input in `model`, computed directly, and the statistics the model stores for it. */
async function statisticsOf(model: LoadedModel, analysis: ModelAnalysis, x: tf.Tensor) {
  const bns = analysis.graph.layers.filter((l) => l.className === 'BatchNormalization');
  const net = await instantiate(flattenModel(model, analysis, bns.map((l) => l.inputs[0])));
  const outs = ([] as tf.Tensor[]).concat(net.predict(x) as tf.Tensor | tf.Tensor[]);
  const rows = await Promise.all(
    bns.map(async (l, i) => {
      const m = tf.moments(outs[i], [0, 1, 2]);
      const row = {
        layer: l.name,
        direct: { mean: Array.from(await m.mean.data()), variance: Array.from(await m.variance.data()) },
        stored: {
          mean: Array.from(model.byName.get(`${l.name}/moving_mean`)!.values),
          variance: Array.from(model.byName.get(`${l.name}/moving_variance`)!.values),
        },
      };
      tf.dispose([m.mean, m.variance]);
      return row;
    }),
  );
  tf.dispose(outs);
  net.dispose();
  return rows;
}

function expectClose(a: number[], b: number[], tol: number) {
  expect(a.length).toBe(b.length);
  const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i]) / (1e-3 + Math.abs(b[i]))));
  expect(worst).toBeLessThan(tol);
}

describe('recalibrateBatchNorm', () => {
  for (const [name, build] of [
    ['a chain of BatchNorms (mobilenet-v1-like)', mobilenetV1Like],
    ['a BatchNorm before and inside a residual (mobilenet-v2-like)', mobilenetV2Like],
  ] as const) {
    it(`makes every statistic equal the one computed directly on the calibration batch: ${name}`, async () => {
      const { model, analysis, original } = await prunedHalf(build);
      const x = calibrationBatch(original.graph.tensors.get(original.graph.inputs[0])!.shape.slice(1) as number[], 24, 7);
      const before = await statisticsOf(model, analysis, x);
      // The sliced model keeps the original's statistics, which do not describe its activations.
      expect(before.some((r) => r.direct.mean.some((v, i) => Math.abs(v - r.stored.mean[i]) > 1e-3))).toBe(true);

      const { model: recalibrated, report } = await recalibrateBatchNorm(model, analysis, x);
      expect(report.layers).toBe(before.length);
      for (const r of await statisticsOf(recalibrated, analysis, x)) {
        expectClose(r.stored.mean, r.direct.mean, 1e-4);
        expectClose(r.stored.variance, r.direct.variance, 1e-4);
      }
      // Everything but the statistics is untouched.
      for (const w of model.weights) if (!/moving_(mean|variance)$/.test(w.name)) expect(recalibrated.byName.get(w.name)!.values).toBe(w.values);
      x.dispose();
    });
  }

  it('the exported model carries the recomputed statistics', async () => {
    const { model, analysis, original } = await prunedHalf(mobilenetV1Like);
    const x = calibrationBatch(original.graph.tensors.get(original.graph.inputs[0])!.shape.slice(1) as number[], 16, 2);
    const { model: recalibrated } = await recalibrateBatchNorm(model, analysis, x);
    const files = exportFiles(recalibrated);
    const reloaded = await loadModel([memoryFile(MODEL_FILE, files.modelJson), memoryFile(WEIGHTS_FILE, files.weights)]);
    for (const name of ['stem_bn/moving_mean', 'pw1_bn/moving_variance']) {
      expect(Array.from(reloaded.byName.get(name)!.values)).toEqual(Array.from(recalibrated.byName.get(name)!.values));
      expect(Array.from(reloaded.byName.get(name)!.values)).not.toEqual(Array.from(model.byName.get(name)!.values));
    }
    x.dispose();
  });

  it('leaves no tensor behind', async () => {
    const { model, analysis, original } = await prunedHalf(mobilenetV2Like);
    const x = calibrationBatch(original.graph.tensors.get(original.graph.inputs[0])!.shape.slice(1) as number[], 8, 1);
    await recalibrateBatchNorm(model, analysis, x);
    const start = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await recalibrateBatchNorm(model, analysis, x);
    expect(tf.memory().numTensors).toBe(start);
    x.dispose();
  });

  it('says why when a model has no BatchNorm, and returns it unchanged', async () => {
    const loaded = await loadModel(asFiles(await exportModel(transposeNet(), 1)));
    const analysis = analyzeModel(loaded);
    expect(batchNormUnsupported(analysis)).toMatch(/no BatchNormalization/);
    const x = tf.zeros([2, 6, 6, 2]);
    const { model, report } = await recalibrateBatchNorm(loaded, analysis, x);
    expect(model).toBe(loaded);
    expect(report).toEqual({ layers: 0, skipped: expect.stringMatching(/no BatchNormalization/) });
    x.dispose();
  });

  it('handles a Sequential model', async () => {
    const { model, analysis, original } = await prunedHalf(sequentialCnn);
    expect(batchNormUnsupported(analysis)).toBeUndefined();
    const x = calibrationBatch(original.graph.tensors.get(original.graph.inputs[0])!.shape.slice(1) as number[], 12, 4);
    const { model: recalibrated, report } = await recalibrateBatchNorm(model, analysis, x);
    expect(report.layers).toBe(1);
    for (const r of await statisticsOf(recalibrated, analysis, x)) expectClose(r.stored.mean, r.direct.mean, 1e-4);
    x.dispose();
  });

  it('recalibrates frozen BatchNorms (trainable: false, as transfer-learning exports have them)', async () => {
    const { model, analysis, original } = await prunedHalf(() => {
      const m = mobilenetV1Like();
      for (const name of ['stem_bn', 'dw1_bn']) m.getLayer(name).trainable = false;
      return m;
    });
    expect(JSON.stringify(model.topology)).toContain('"trainable":false');
    const x = calibrationBatch(original.graph.tensors.get(original.graph.inputs[0])!.shape.slice(1) as number[], 12, 4);
    const { model: recalibrated } = await recalibrateBatchNorm(model, analysis, x);
    for (const r of await statisticsOf(recalibrated, analysis, x)) {
      expectClose(r.stored.mean, r.direct.mean, 1e-4);
      expectClose(r.stored.variance, r.direct.variance, 1e-4);
    }
    x.dispose();
  });
});
