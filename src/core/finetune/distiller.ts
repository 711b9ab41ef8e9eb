/**
 * Recovery of a pruned model by fine-tuning it as the student of the original (the teacher).
 *
 * One `Distiller` owns both tfjs models, the Adam optimizer and the held-out split. `runEpoch`
 * trains one pass over the training images (BatchNorm in training mode: tfjs's `trainOnBatch`),
 * then scores the held-out slice; the best epoch's weights are kept (epoch 0 is the pruned model
 * itself, so a fine-tune never hands back a model worse on held-out images than the one it got).
 * `snapshot()` after an epoch holds everything a later `create(..., snapshot)` needs to continue
 * exactly as if nothing had stopped: weights, Adam's moments and step, the history, the best.
 *
 * Plain data in and out (LoadedModel, typed arrays): no DOM, the same in Node and workers.
 */
import * as tf from '@tensorflow/tfjs';
import type { Scaling } from '../data/procedural';
import { inputTensor } from '../measure/accuracy';
import type { LoadedModel, WeightArray } from '../model/types';
import { disposeModel, instantiate } from '../model/tfjs-model';
import { decodeWeight, encodeWeights, type ManifestWeight } from '../model/weights';
import { Rng } from '../random';
import { augmentBatch, epochOrder, gatherImages, splitHeldOut, type ImageLayout } from './batches';
import { batchSizeFor, finetuneConfig, learningRateAt, type FinetuneConfig } from './config';
import { asLogits, distillLoss, distillTerms, outputKindOf, type OutputKind } from './distill';
import { installWasmGradients } from './wasm-gradients';

export interface FinetuneData {
  /** Raw NHWC bytes, RGB or gray, at `layout`'s size (resized to the model's input on the fly). */
  images: Uint8Array;
  /** Class per image, in the model's output order; without them the loss is distillation alone. */
  labels?: Int32Array;
  layout: ImageLayout;
  scaling?: Scaling;
}

export interface EpochLog {
  /** 0: the pruned model before any training. */
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  trainLoss?: number;
  /** Mean T^2 * KL(teacher || student) at temperature T on the held-out images. */
  heldOutLoss: number;
  /** Held-out images whose top-1 class is the teacher's. */
  heldOutAgreement: number;
  /** Held-out top-1 accuracy, with labels. */
  heldOutAccuracy?: number;
  /** Learning rate at the epoch's last step. */
  learningRate?: number;
  ms?: number;
  steps?: number;
}

export interface WeightsBlob {
  specs: ManifestWeight[];
  data: ArrayBuffer;
}

export type StopReason = 'finished' | 'early-stop' | 'stopped';

/** Everything a fine-tune needs to continue after a reload; structured-cloneable (IndexedDB, postMessage). */
export interface FinetuneSnapshot {
  version: 1;
  config: FinetuneConfig;
  epochsDone: number;
  history: EpochLog[];
  weights: WeightsBlob;
  optimizer: { name: string; shape: number[]; data: Float32Array }[];
  best: { epoch: number; weights: WeightsBlob };
  stopReason: StopReason | null;
}

export interface EpochHooks {
  /** After every step: steps done in this epoch, steps per epoch, that step's loss. */
  onStep?: (done: number, total: number, loss: number) => void | Promise<void>;
  /** Checked before every step; when it says stop, the epoch ends unfinished (returns null) and only `bestModel()` is meaningful. */
  shouldStop?: () => boolean;
}

export class FinetuneError extends Error {}

/** A held-out score as one comparable pair: the metric (higher is better), then the loss (lower is better). */
function better(a: EpochLog, b: EpochLog, labeled: boolean): boolean {
  const ma = labeled ? a.heldOutAccuracy! : a.heldOutAgreement;
  const mb = labeled ? b.heldOutAccuracy! : b.heldOutAgreement;
  return ma > mb || (ma === mb && a.heldOutLoss < b.heldOutLoss);
}

function argmaxRows(v: Float32Array, c: number, row: number): number {
  let best = 0;
  for (let j = 1; j < c; j++) if (v[row * c + j] > v[row * c + best]) best = j;
  return best;
}

export class Distiller {
  readonly config: FinetuneConfig;
  readonly heldOut: Int32Array;
  readonly train: Int32Array;
  readonly outputKind: OutputKind;
  readonly classes: number;
  history: EpochLog[] = [];
  best: { epoch: number; weights: WeightsBlob };
  stopReason: StopReason | null = null;
  /** The current batch's one-hot labels, read by the loss that `trainOnBatch` calls (its targets can only be the teacher's logits). */
  private batchOneHot: tf.Tensor2D | null = null;

  private constructor(
    private readonly template: LoadedModel,
    private readonly student: tf.LayersModel,
    private readonly teacher: tf.LayersModel,
    private readonly data: FinetuneData,
    private readonly optimizer: tf.AdamOptimizer,
    config: FinetuneConfig,
    split: { heldOut: Int32Array; train: Int32Array },
    private readonly heldOutTeacher: Float32Array,
    kind: OutputKind,
    classes: number,
  ) {
    this.config = config;
    this.heldOut = split.heldOut;
    this.train = split.train;
    this.outputKind = kind;
    this.classes = classes;
    this.best = { epoch: 0, weights: { specs: [], data: new ArrayBuffer(0) } };
  }

  /**
   * Builds both models and the split, scores the pruned model as epoch 0, or continues from `snapshot`
   * (whose config wins over `overrides`, so a resumed run is the run that was started).
   */
  static async create(student: LoadedModel, teacher: LoadedModel, data: FinetuneData, overrides: Partial<FinetuneConfig> = {}, snapshot?: FinetuneSnapshot): Promise<Distiller> {
    let config = snapshot ? snapshot.config : finetuneConfig(overrides);
    if (tf.getBackend() === 'wasm') installWasmGradients();
    const { layout } = data;
    const n = data.images.length / (layout.height * layout.width * layout.channels);
    if (!Number.isInteger(n) || n < 2) throw new FinetuneError(`fine-tuning needs at least 2 whole ${layout.height}x${layout.width}x${layout.channels} images, got ${data.images.length} bytes.`);
    if (data.labels && data.labels.length !== n) throw new FinetuneError(`${n} images but ${data.labels.length} labels.`);
    const teacherModel = await instantiate(teacher);
    let studentModel: tf.LayersModel | undefined;
    try {
      studentModel = await instantiate(student);
      const outT = teacherModel.outputs;
      const outS = studentModel.outputs;
      if (outT.length !== 1 || outS.length !== 1) throw new FinetuneError(`fine-tuning needs a model with one output; this one has ${outS.length}.`);
      const classes = outT[0].shape[1];
      if (outT[0].shape.length !== 2 || typeof classes !== 'number' || outS[0].shape[1] !== classes) {
        throw new FinetuneError(`fine-tuning needs a classifier: teacher output [${outT[0].shape.join(', ')}], student output [${outS[0].shape.join(', ')}].`);
      }
      if (data.labels?.some((l) => !(l >= 0 && l < classes))) throw new FinetuneError(`a label is outside 0..${classes - 1}, the model's ${classes} outputs.`);
      const [, h, w] = studentModel.inputs[0].shape;
      if (!snapshot && overrides.batchSize === undefined) config = { ...config, batchSize: batchSizeFor(h ?? layout.height, w ?? layout.width) };
      const split = splitHeldOut(n, config);
      const heldOutRaw = await predictAll(teacherModel, gatherImages(data.images, split.heldOut, layout), data);
      const kind = outputKindOf(heldOutRaw, classes);
      const heldOutTeacher = kind === 'logits' ? heldOutRaw : heldOutRaw.map((p) => Math.log(Math.min(1, Math.max(p, 1e-7))));
      const optimizer = tf.train.adam(config.learningRate);
      const d = new Distiller(student, studentModel, teacherModel, data, optimizer, config, split, heldOutTeacher, kind, classes);
      studentModel.compile({ optimizer, loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => d.loss(yTrue as tf.Tensor2D, yPred as tf.Tensor2D) });
      if (snapshot) await d.restore(snapshot);
      else {
        d.history = [await d.evaluateHeldOut(0)];
        d.best = { epoch: 0, weights: await d.weightsBlob() };
      }
      return d;
    } catch (e) {
      disposeModel(teacherModel);
      if (studentModel) disposeModel(studentModel);
      throw e;
    }
  }

  get epochsDone(): number {
    return this.history.length - 1;
  }

  get stepsPerEpoch(): number {
    return Math.ceil(this.train.length / this.config.batchSize);
  }

  get labeled(): boolean {
    return this.data.labels !== undefined;
  }

  get finished(): boolean {
    return this.stopReason !== null;
  }

  private loss(teacherLogits: tf.Tensor2D, studentOut: tf.Tensor2D): tf.Tensor1D {
    const { temperature, distillWeight } = this.config;
    return distillLoss(teacherLogits, asLogits(studentOut, this.outputKind), temperature, distillWeight, this.batchOneHot ?? undefined);
  }

  /** One epoch of training and its held-out score; null when `shouldStop` ended it early. */
  async runEpoch(hooks: EpochHooks = {}): Promise<EpochLog | null> {
    if (this.finished) throw new FinetuneError(`this fine-tune has already ended (${this.stopReason}).`);
    const c = this.config;
    const epoch = this.epochsDone;
    const order = epochOrder(this.train, c.seed, epoch);
    const rng = new Rng((c.seed * 7_368_787 + epoch * 104_729 + 3) >>> 0);
    const steps = this.stepsPerEpoch;
    const total = steps * c.epochs;
    const t0 = performance.now();
    let lossSum = 0;
    let lr = c.learningRate;
    const { layout } = this.data;
    for (let s = 0; s < steps; s++) {
      if (hooks.shouldStop?.()) return null;
      const idx = order.subarray(s * c.batchSize, Math.min(order.length, (s + 1) * c.batchSize));
      const bytes = gatherImages(this.data.images, idx, layout);
      augmentBatch(bytes, layout, c.augment, rng);
      const x = this.inputs(bytes);
      const target = tf.tidy(() => asLogits(this.teacher.predict(x) as tf.Tensor2D, this.outputKind));
      const labels = this.data.labels;
      this.batchOneHot = labels ? tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(idx, (i) => labels[i]), 'int32'), this.classes).toFloat() as tf.Tensor2D) : null;
      lr = learningRateAt(c, epoch * steps + s, total);
      (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
      let loss: number;
      try {
        loss = (await this.student.trainOnBatch(x, target)) as number;
      } catch (e) {
        const why = String((e as Error).message ?? e);
        if (/Aborted\(|out of memory|memory access out of bounds|allocation failed|Cannot enlarge memory/i.test(why)) {
          this.stopReason = 'stopped';
          throw new FinetuneError(`training ran out of memory at ${c.batchSize} images a step (${why.split('\n')[0].slice(0, 80)}): use a smaller batch size.`);
        }
        throw e;
      } finally {
        tf.dispose([x, target]);
        this.batchOneHot?.dispose();
        this.batchOneHot = null;
      }
      if (!Number.isFinite(loss)) {
        this.stopReason = 'stopped';
        throw new FinetuneError(`the loss became ${loss} at step ${s + 1} of epoch ${epoch + 1}: lower the learning rate (now ${c.learningRate}).`);
      }
      lossSum += loss;
      await hooks.onStep?.(s + 1, steps, loss);
    }
    const log: EpochLog = { ...(await this.evaluateHeldOut(epoch + 1)), trainLoss: lossSum / steps, learningRate: lr, steps, ms: performance.now() - t0 };
    this.history.push(log);
    if (better(log, this.history[this.best.epoch], this.labeled)) this.best = { epoch: log.epoch, weights: await this.weightsBlob() };
    if (this.epochsDone >= c.epochs) this.stopReason = 'finished';
    else if (log.epoch - this.best.epoch >= c.patience) this.stopReason = 'early-stop';
    return log;
  }

  /** Ends the run where it is (the user's Stop); the best epoch so far is the result. */
  stop(): void {
    this.stopReason ??= 'stopped';
  }

  private inputs(bytes: Uint8Array): tf.Tensor4D {
    const { layout, scaling } = this.data;
    return inputTensor(this.student.inputs[0].shape, bytes, { imageSize: [layout.height, layout.width], channels: layout.channels, scaling });
  }

  /** The held-out score of the student as it is now (inference mode: BatchNorm uses its moving statistics). */
  private async evaluateHeldOut(epoch: number): Promise<EpochLog> {
    const c = this.classes;
    const out = await predictAll(this.student, gatherImages(this.data.images, this.heldOut, this.data.layout), this.data);
    const logits = tf.tidy(() => asLogits(tf.tensor2d(out, [this.heldOut.length, c]), this.outputKind));
    const teacher = tf.tensor2d(this.heldOutTeacher, [this.heldOut.length, c]);
    const klT = tf.tidy(() => tf.mean(distillTerms(teacher, logits, this.config.temperature).distill));
    const heldOutLoss = (await klT.data())[0];
    const s = (await logits.data()) as Float32Array;
    tf.dispose([logits, teacher, klT]);
    let agree = 0;
    let hit = 0;
    for (let r = 0; r < this.heldOut.length; r++) {
      const mine = argmaxRows(s, c, r);
      if (mine === argmaxRows(this.heldOutTeacher, c, r)) agree++;
      if (this.data.labels && mine === this.data.labels[this.heldOut[r]]) hit++;
    }
    const n = this.heldOut.length;
    return { epoch, heldOutLoss, heldOutAgreement: agree / n, ...(this.data.labels ? { heldOutAccuracy: hit / n } : {}) };
  }

  /**
   * The student's weights under the manifest names of the pruned model it came from. Read with
   * `data()`, never `dataSync()`: on WebGPU a synchronous read of a large tensor returned zeros
   * and then lost the device (bench/finetune-backends.ts, src/core/finetune/kernels.ts).
   */
  private async weightsBlob(): Promise<WeightsBlob> {
    const values = this.student.getWeights();
    const byName = new Map(this.student.weights.map((w, i) => [w.originalName, values[i]]));
    const weights: WeightArray[] = [];
    for (const w of this.template.weights) {
      const t = byName.get(w.name);
      if (!t) throw new FinetuneError(`the trained model has no weight named '${w.name}'.`);
      weights.push({ ...w, values: w.dtype === 'float32' ? Float32Array.from(await t.data()) : w.values.slice() });
    }
    return encodeWeights(weights);
  }

  private setWeightsFrom(blob: WeightsBlob): void {
    const model = modelWithWeights(this.template, blob);
    const byName = new Map(model.weights.map((w) => [w.name, w]));
    const tensors = this.student.weights.map((v) => {
      const w = byName.get(v.originalName);
      if (!w) throw new FinetuneError(`the snapshot has no weight named '${v.originalName}'.`);
      return tf.tensor(w.values, w.shape, w.dtype === 'bool' ? 'bool' : w.dtype);
    });
    this.student.setWeights(tensors);
    tf.dispose(tensors);
  }

  async snapshot(): Promise<FinetuneSnapshot> {
    // Adam hands out its live moment variables, plus a fresh scalar for the step count ('iter'):
    // only that scalar is ours to free.
    const named = await this.optimizer.getWeights();
    const optimizer = await Promise.all(named.map(async ({ name, tensor }) => ({ name, shape: tensor.shape.slice(), data: Float32Array.from(await tensor.data()) })));
    named[0]?.tensor.dispose();
    return {
      version: 1,
      config: this.config,
      epochsDone: this.epochsDone,
      history: this.history.map((h) => ({ ...h })),
      weights: await this.weightsBlob(),
      optimizer,
      best: this.best,
      stopReason: this.stopReason,
    };
  }

  private async restore(s: FinetuneSnapshot): Promise<void> {
    if (s.version !== 1) throw new FinetuneError(`a saved fine-tune of version ${s.version} cannot be resumed by this version.`);
    this.setWeightsFrom(s.weights);
    if (s.optimizer.length) {
      // setWeights makes variables that share these tensors' data: freeing ours leaves theirs.
      const named = s.optimizer.map(({ name, shape, data }) => ({ name, tensor: tf.tensor(data, shape) }));
      await this.optimizer.setWeights(named);
      tf.dispose(named.map((n) => n.tensor));
    }
    this.history = s.history.map((h) => ({ ...h }));
    this.best = s.best;
    this.stopReason = s.stopReason;
  }

  /** The student as it is after the last finished epoch. */
  async currentModel(): Promise<LoadedModel> {
    return modelWithWeights(this.template, await this.weightsBlob());
  }

  /** The student at its best held-out epoch (epoch 0: the pruned model unchanged). */
  bestModel(): LoadedModel {
    return modelWithWeights(this.template, this.best.weights);
  }

  dispose(): void {
    disposeModel(this.student);
    disposeModel(this.teacher);
    this.optimizer.dispose();
  }
}

/** `template` (the pruned model) with the weights of `blob`. */
export function modelWithWeights(template: LoadedModel, blob: WeightsBlob): LoadedModel {
  let offset = 0;
  const weights = blob.specs.map((spec) => {
    const w = decodeWeight(spec, blob.data, offset);
    offset += w.values.byteLength;
    return { ...w, storedAs: w.dtype };
  });
  return { ...template, weights, byName: new Map(weights.map((w) => [w.name, w])), notes: [...template.notes] };
}

/** The first output of `model` on every image of `bytes`, in batches of 100, as one flat array. */
async function predictAll(model: tf.LayersModel, bytes: Uint8Array, data: FinetuneData): Promise<Float32Array> {
  const { layout, scaling } = data;
  const per = layout.height * layout.width * layout.channels;
  const n = bytes.length / per;
  const parts: Float32Array[] = [];
  for (let start = 0; start < n; start += 100) {
    const end = Math.min(n, start + 100);
    const y = tf.tidy(() => {
      const x = inputTensor(model.inputs[0].shape, bytes.subarray(start * per, end * per), { imageSize: [layout.height, layout.width], channels: layout.channels, scaling });
      return model.predict(x) as tf.Tensor;
    });
    parts.push((await y.data()) as Float32Array);
    y.dispose();
  }
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
