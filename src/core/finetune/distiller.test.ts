import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, mobilenetV1Like, randomImages, teachableMachineLike } from '../../testing/fixtures';
import { exportFiles } from '../export/files';
import { analyzeModel } from '../model/analyze';
import { loadModel } from '../model/load';
import type { LoadedModel } from '../model/types';
import { uniformPolicy } from '../prune/policy';
import { pruneModel } from '../prune/prune';
import { Rng } from '../random';
import { augmentBatch, epochOrder, splitHeldOut } from './batches';
import { batchSizeFor, finetuneConfig, learningRateAt } from './config';
import { distillLoss, outputKindOf } from './distill';
import { Distiller, type FinetuneData } from './distiller';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function teacherAndStudent(build: () => tf.LayersModel, ratio = 0.5): Promise<{ teacher: LoadedModel; student: LoadedModel }> {
  const teacher = await loadModel(asFiles(await exportModel(build(), 3)));
  const analysis = analyzeModel(teacher);
  const student = pruneModel(teacher, analysis, uniformPolicy(analysis.groups, ratio), { roundTo: 1 }).model;
  return { teacher, student };
}

function data(n: number, labeled: boolean, classes = 4): FinetuneData {
  const { images, labels } = randomImages(n, 8, classes, 9);
  return { images, ...(labeled ? { labels } : {}), layout: { height: 8, width: 8, channels: 3 } };
}

const small = { epochs: 3, batchSize: 8, learningRate: 5e-3, heldOutMin: 16, heldOutFraction: 0.25 };

describe('distillation loss', () => {
  it('is T^2 KL(teacher_T || student_T), plus weighted cross-entropy with labels, as computed by hand', async () => {
    const t = [2, 0, -1];
    const s = [0.5, 0.2, 0.1];
    const T = 2;
    const soft = (z: number[]) => {
      const e = z.map((v) => Math.exp(v / T));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / sum);
    };
    const p = soft(t);
    const q = soft(s);
    const kl = p.reduce((acc, pi, i) => acc + pi * Math.log(pi / q[i]), 0);
    const qe = s.map((v) => Math.exp(v));
    const ce = -Math.log(qe[1] / qe.reduce((a, b) => a + b, 0));
    const noLabels = distillLoss(tf.tensor2d([t]), tf.tensor2d([s]), T, 0.7);
    expect((await noLabels.data())[0]).toBeCloseTo(T * T * kl, 5);
    const withLabels = distillLoss(tf.tensor2d([t]), tf.tensor2d([s]), T, 0.7, tf.tensor2d([[0, 1, 0]]));
    expect((await withLabels.data())[0]).toBeCloseTo(0.7 * T * T * kl + 0.3 * ce, 5);
    tf.dispose([noLabels, withLabels]);
  });

  it('is zero when the student equals the teacher, and tells probabilities from logits', async () => {
    const l = distillLoss(tf.tensor2d([[1, 2, 3]]), tf.tensor2d([[1, 2, 3]]), 4, 1);
    expect((await l.data())[0]).toBeCloseTo(0, 6);
    expect(outputKindOf([0.2, 0.8, 0.5, 0.5], 2)).toBe('probabilities');
    expect(outputKindOf([2, -1, 0.5, 0.5], 2)).toBe('logits');
  });
});

describe('schedule and batches', () => {
  it('warms up linearly, peaks, and decays by cosine to the final fraction', () => {
    const c = finetuneConfig({ learningRate: 1e-3, warmupFraction: 0.1, finalLrFraction: 0.02 });
    expect(learningRateAt(c, 0, 100)).toBeCloseTo(1e-4, 9);
    expect(learningRateAt(c, 9, 100)).toBeCloseTo(1e-3 * (0.02 + 0.98 * 0.5 * (1 + Math.cos((Math.PI * 9) / 99))), 9);
    // The last step (99 of 100) is at the final fraction, 2% of the peak, not a little above it.
    expect(learningRateAt(c, 99, 100)).toBeCloseTo(2e-5, 9);
  });

  it('picks fewer images a step for large inputs, never under 8', () => {
    expect([batchSizeFor(32, 32), batchSizeFor(96, 96), batchSizeFor(224, 224)]).toEqual([32, 14, 8]);
  });

  it('holds out a disjoint slice, and an epoch order depends on the seed and epoch only', () => {
    const c = finetuneConfig({ heldOutFraction: 0.1, heldOutMin: 5, seed: 4 });
    const { heldOut, train } = splitHeldOut(200, c);
    expect(heldOut.length).toBe(20);
    expect(new Set([...heldOut, ...train]).size).toBe(200);
    expect(Array.from(epochOrder(train, 4, 2))).toEqual(Array.from(epochOrder(train, 4, 2)));
    expect(Array.from(epochOrder(train, 4, 2))).not.toEqual(Array.from(epochOrder(train, 4, 3)));
  });

  it('shifts with edges repeated and mirrors', () => {
    const layout = { height: 1, width: 4, channels: 1 as const };
    const flipped = Uint8Array.from([1, 2, 3, 4]);
    augmentBatch(flipped, layout, { shift: 0, flip: true }, { next: () => 0 } as unknown as Rng);
    expect(Array.from(flipped)).toEqual([4, 3, 2, 1]);
    const shifted = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    // Up to 1 px: dy = 0 (draw 0.5 of 3 offsets), dx = +1 (draw 0.99), no flip.
    const draws = [0.5, 0.99];
    augmentBatch(shifted, { height: 2, width: 4, channels: 1 }, { shift: 0.5, flip: false }, { next: () => draws.shift()! } as unknown as Rng);
    expect(Array.from(shifted)).toEqual([1, 1, 2, 3, 5, 5, 6, 7]);
  });
});

describe('Distiller', () => {
  it('lowers the held-out distillation loss, keeps the pruned architecture, and the result loads in stock tfjs', async () => {
    const { teacher, student } = await teacherAndStudent(mobilenetV1Like);
    const d = await Distiller.create(student, teacher, data(96, false), small);
    const before = d.history[0];
    const counts: number[] = [];
    while (!d.finished) {
      await d.runEpoch();
      counts.push(tf.memory().numTensors);
    }
    // Adam's moments appear at the first step; after that the count stays flat.
    expect(counts).toEqual(counts.map(() => counts[0]));
    const last = d.history[d.history.length - 1];
    expect(last.trainLoss).toBeDefined();
    expect(last.heldOutLoss).toBeLessThan(before.heldOutLoss * 0.8);
    expect(d.best.epoch).toBeGreaterThan(0);
    const best = d.bestModel();
    expect(best.topology).toEqual(student.topology);
    expect(best.weights.map((w) => [w.name, w.shape])).toEqual(student.weights.map((w) => [w.name, w.shape]));
    const changed = best.weights.some((w, i) => w.values.some((v, j) => v !== student.weights[i].values[j]));
    expect(changed).toBe(true);
    d.dispose();
    const { modelJson, weights } = exportFiles(best);
    const json = JSON.parse(modelJson);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: weights }));
    expect(loaded.outputs[0].shape).toEqual([null, 4]);
    loaded.dispose();
  });

  it('uses the labels when it has them: held-out accuracy reported, and cross-entropy joins the loss', async () => {
    const { teacher, student } = await teacherAndStudent(mobilenetV1Like);
    const losses: number[] = [];
    for (const labeled of [true, false]) {
      const d = await Distiller.create(student, teacher, data(64, labeled), { ...small, epochs: 1 });
      await d.runEpoch();
      expect(d.history[1].heldOutAccuracy === undefined).toBe(!labeled);
      losses.push(d.history[1].trainLoss!);
      d.dispose();
    }
    // Same images, order and seed: only the cross-entropy term (weight 0.3, labels random here, so large) tells the runs apart.
    expect(losses[0]).toBeGreaterThan(losses[1] + 0.1);
  });

  it('resumed from a snapshot, continues exactly as the run that never stopped', async () => {
    const { teacher, student } = await teacherAndStudent(teachableMachineLike);
    const cfg = { ...small, epochs: 3, augment: { shift: 0.25, flip: true } };
    const straight = await Distiller.create(student, teacher, data(80, true, 3), cfg);
    const tensors: number[] = [];
    for (let e = 0; e < 3; e++) {
      await straight.runEpoch();
      // A snapshot between epochs (as the app saves one) must leave the run itself untouched.
      await straight.snapshot();
      tensors.push(tf.memory().numTensors);
    }
    expect(tensors).toEqual(tensors.map(() => tensors[0]));
    const whole = await straight.currentModel();
    straight.dispose();

    const first = await Distiller.create(student, teacher, data(80, true, 3), cfg);
    await first.runEpoch();
    const snap = structuredClone(await first.snapshot());
    first.dispose();
    const resumed = await Distiller.create(student, teacher, data(80, true, 3), {}, snap);
    expect(resumed.epochsDone).toBe(1);
    const before = tf.memory().numTensors;
    while (!resumed.finished) await resumed.runEpoch();
    expect(tf.memory().numTensors).toBe(before);
    const after = await resumed.currentModel();
    for (let i = 0; i < whole.weights.length; i++) expect(Array.from(after.weights[i].values)).toEqual(Array.from(whole.weights[i].values));
    resumed.dispose();
  });

  it('stops on request between steps and hands back the best epoch', async () => {
    const { teacher, student } = await teacherAndStudent(mobilenetV1Like);
    const d = await Distiller.create(student, teacher, data(64, false), small);
    let steps = 0;
    const log = await d.runEpoch({ onStep: () => void steps++, shouldStop: () => steps >= 2 });
    expect(log).toBeNull();
    d.stop();
    expect(d.stopReason).toBe('stopped');
    expect(d.best.epoch).toBe(0);
    expect(Array.from(d.bestModel().weights[0].values)).toEqual(Array.from(student.weights[0].values));
    d.dispose();
  });
});
