import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, mobilenetV1Like, randomImages } from '../testing/fixtures';
import { exportFiles } from '../core/export/files';
import { finetuneConfig } from '../core/finetune/config';
import { installWasmGradients } from '../core/finetune/wasm-gradients';
import type { FinetuneSnapshot } from '../core/finetune/distiller';
import { analyzeModel } from '../core/model/analyze';
import { loadModel } from '../core/model/load';
import { uniformPolicy } from '../core/prune/policy';
import { pruneModel } from '../core/prune/prune';
import { FinetuneHost, finetuneData } from './finetune-host';
import { dataChoiceOf, isResumable, transferOf, type FinetuneDataSpec, type FinetuneMeta, type FromFinetune, type ModelFiles, type ToFinetune } from './finetune-messages';
import type { FinetuneStore } from './finetune-store';
import { fromModelPayload, modelFilesAsInput } from './payload';
import { messageLog } from '../testing/messages';

/**
 * Keeps what the host saves as structured clones, which is what IndexedDB keeps. `refuse`: the
 * saved fine-tune is another run (another tab discarded or replaced it), so nothing is written.
 */
class MemoryStore implements FinetuneStore {
  epochs: { id: string; snapshot: FinetuneSnapshot; meta: FinetuneMeta }[] = [];
  metas: FinetuneMeta[] = [];
  refused = 0;
  constructor(private readonly refuse = false) {}
  async saveEpoch(id: string, snapshot: FinetuneSnapshot, meta: FinetuneMeta) {
    if (this.refuse) {
      this.refused++;
      return false;
    }
    this.epochs.push(structuredClone({ id, snapshot, meta }));
    return true;
  }
  async saveMeta(meta: FinetuneMeta) {
    if (this.refuse) {
      this.refused++;
      return false;
    }
    this.metas.push(structuredClone(meta));
    return true;
  }
  get last() {
    return this.epochs[this.epochs.length - 1];
  }
}

let teacher: ModelFiles;
let student: ModelFiles;
let data: Extract<FinetuneDataSpec, { kind: 'images' }>;

beforeAll(async () => {
  installWasmGradients();
  await tf.setBackend('wasm');
  const original = await loadModel(asFiles(await exportModel(mobilenetV1Like(), 3)));
  const analysis = analyzeModel(original);
  const pruned = pruneModel(original, analysis, uniformPolicy(analysis.groups, 0.5), { roundTo: 1 }).model;
  teacher = exportFiles(original);
  student = exportFiles(pruned);
  const { images, labels } = randomImages(72, 8, 4, 9);
  data = { kind: 'images', name: 'random', images, labels, layout: { height: 8, width: 8, channels: 3 } };
});

const CONFIG = { epochs: 2, batchSize: 8, learningRate: 5e-3, heldOutMin: 16, heldOutFraction: 0.25 };

function meta(epochs = CONFIG.epochs): FinetuneMeta {
  return {
    id: 'f1',
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    teacher: { name: 'model.json', fingerprint: 'x' },
    studentLabel: 'uniform 0.5',
    data: dataChoiceOf(data),
    epochs,
    epochsDone: 0,
    history: [],
    bestEpoch: 0,
    stopReason: null,
    elapsedMs: 0,
  };
}

/** A start message with fresh copies of the buffers (a real postMessage transfers them away). */
function start(extra: Partial<Extract<ToFinetune, { type: 'start' }>> = {}): ToFinetune {
  return {
    type: 'start',
    id: 'f1',
    teacher: { modelJson: teacher.modelJson, weights: teacher.weights.slice(0) },
    student: { modelJson: student.modelJson, weights: student.weights.slice(0) },
    data: { ...data, images: data.images.slice(), labels: data.labels!.slice() },
    config: CONFIG,
    resume: null,
    meta: meta(),
    run: true,
    ...extra,
  };
}

/** A host whose messages are collected (as structured clones, like postMessage makes). */
function makeHost(store: FinetuneStore | null = new MemoryStore(), onPost?: (m: FromFinetune, host: FinetuneHost) => void) {
  const { messages, push, until } = messageLog<FromFinetune>();
  const host: FinetuneHost = new FinetuneHost({
    post: (m) => {
      push(m);
      onPost?.(m, host);
    },
    store,
    initBackend: async () => ({ name: 'wasm', reason: 'test' }),
  });
  return { host, messages, until };
}

const of = <T extends FromFinetune['type']>(m: FromFinetune[], type: T) => m.filter((x): x is Extract<FromFinetune, { type: T }> => x.type === type);
const statuses = (m: FromFinetune[]) => of(m, 'status').map((s) => s.status);
const done = (m: FromFinetune[]) => statuses(m).includes('done');

describe('fine-tune worker host', () => {
  /** A run that is never paused or stopped: what the others must match. */
  let straightStore: MemoryStore;
  let straightMessages: FromFinetune[];
  let straight: Extract<FromFinetune, { type: 'epoch' }>[];

  beforeAll(async () => {
    straightStore = new MemoryStore();
    const run = makeHost(straightStore);
    await run.host.handle(start());
    await run.until(done);
    run.host.dispose();
    straightMessages = run.messages;
    straight = of(straightMessages, 'epoch');
  });

  it('reports ready with epoch 0, every step, then every epoch after saving it, and the best model at the end', async () => {
    const store = straightStore;
    const messages = straightMessages;
    const ready = messages[0] as Extract<FromFinetune, { type: 'ready' }>;
    expect(ready.type).toBe('ready');
    expect(ready.backend.name).toBe('wasm');
    expect(ready.labeled).toBe(true);
    expect(ready.heldOutImages).toBe(18);
    expect(ready.trainImages).toBe(54);
    expect(ready.stepsPerEpoch).toBe(7);
    // What it trains with: the page's overrides over the defaults.
    expect(ready.config).toEqual(finetuneConfig(CONFIG));
    expect(ready.history.map((h) => h.epoch)).toEqual([0]);
    const steps = of(messages, 'step');
    expect(steps.length).toBe(14);
    expect(steps.map((s) => `${s.epoch}:${s.done}/${s.total}`).slice(0, 2)).toEqual(['1:1/7', '1:2/7']);
    const epochs = straight;
    expect(epochs.map((e) => e.log.epoch)).toEqual([1, 2]);
    expect(epochs.every((e) => e.saved)).toBe(true);
    expect(epochs[0].log.heldOutAccuracy).toBeGreaterThanOrEqual(0);
    // Tensor count flat across epochs: the run goes on in the same Distiller after each snapshot.
    expect(epochs[1].tensors).toBe(epochs[0].tensors);
    // Saved before posted: one snapshot per epoch, the summary up to date.
    expect(store.epochs.map((s) => s.meta.epochsDone)).toEqual([1, 2]);
    expect(store.last.meta.history.length).toBe(3);
    expect(store.last.meta.stopReason).toBe('finished');
    expect(store.last.meta.backend).toBe('wasm');
    expect(store.last.meta.epochBackends).toEqual({ 1: 'wasm', 2: 'wasm' });
    expect(epochs.map((e) => e.backend)).toEqual(['wasm', 'wasm']);
    expect(isResumable(store.last.meta)).toBe(false);
    expect(isResumable(store.epochs[0].meta)).toBe(true);
    const results = of(messages, 'result');
    const last = results[results.length - 1];
    expect(last.stopReason).toBe('finished');
    const model = fromModelPayload(last.model);
    expect(model.weights.map((w) => w.shape)).toEqual((await loadModel(modelFilesAsInput(student))).weights.map((w) => w.shape));
    expect(statuses(messages)[statuses(messages).length - 1]).toBe('done');
  });

  it('pauses between steps and resumes into the same run', async () => {
    let paused = false;
    const { host, messages, until } = makeHost(new MemoryStore(), (m, h) => {
      if (m.type === 'step' && m.epoch === 1 && m.done === 3 && !paused) {
        paused = true;
        void h.handle({ type: 'pause' });
      }
    });
    await host.handle(start());
    await until((m) => statuses(m).includes('paused'));
    const stepsAtPause = of(messages, 'step').length;
    await new Promise((r) => setTimeout(r, 300));
    expect(of(messages, 'step').length).toBe(stepsAtPause);
    expect(host.status).toBe('paused');
    void host.handle({ type: 'resume' });
    await until(done);
    const epochs = of(messages, 'epoch');
    expect(epochs.map((e) => e.log.heldOutLoss)).toEqual(straight.map((e) => e.log.heldOutLoss));
    host.dispose();
  });

  it('resumes from the snapshot saved after epoch 1 and ends as the run that never stopped', async () => {
    const first = new MemoryStore();
    const a = makeHost(first, (m, h) => {
      if (m.type === 'epoch' && m.log.epoch === 1) void h.handle({ type: 'pause' });
    });
    await a.host.handle(start());
    await a.until((m) => of(m, 'epoch').length === 1 && statuses(m).includes('paused'));
    a.host.dispose();
    const saved = first.last;
    expect(saved.snapshot.epochsDone).toBe(1);

    const b = makeHost(new MemoryStore());
    await b.host.handle(start({ resume: saved.snapshot, meta: saved.meta, config: { ...CONFIG, learningRate: 0.5 } }));
    await b.until(done);
    const ready = b.messages[0] as Extract<FromFinetune, { type: 'ready' }>;
    expect(ready.history.map((h) => h.epoch)).toEqual([0, 1]);
    expect(ready.epochBackends).toEqual({ 1: 'wasm' });
    // A resumed run trains with its saved config, whatever the page sends.
    expect(ready.config).toEqual(saved.snapshot.config);
    const epochs = of(b.messages, 'epoch');
    expect(epochs.map((e) => e.log.epoch)).toEqual([2]);
    expect(epochs[0].log.heldOutLoss).toBeCloseTo(straight[1].log.heldOutLoss, 5);
    b.host.dispose();
  });

  it('stop ends the run at once with the best epoch so far, and the summary says stopped', async () => {
    const store = new MemoryStore();
    const { host, messages, until } = makeHost(store, (m, h) => {
      if (m.type === 'step' && m.epoch === 2 && m.done === 2) void h.handle({ type: 'stop' });
    });
    await host.handle(start({ config: { ...CONFIG, epochs: 3 }, meta: meta(3) }));
    await until(done);
    expect(of(messages, 'epoch').map((e) => e.log.epoch)).toEqual([1]);
    expect(of(messages, 'step').filter((s) => s.epoch === 2).length).toBe(2);
    const results = of(messages, 'result');
    expect(results[results.length - 1].stopReason).toBe('stopped');
    expect(store.metas[store.metas.length - 1].stopReason).toBe('stopped');
    expect(isResumable(store.metas[store.metas.length - 1])).toBe(false);
    host.dispose();
  });

  it('an epoch the store refuses (the saved run is another one now) is posted as not saved, and the run goes on unsaved', async () => {
    const store = new MemoryStore(true);
    const { host, messages, until } = makeHost(store);
    await host.handle(start());
    await until(done);
    const epochs = of(messages, 'epoch');
    expect(epochs.map((e) => e.log.epoch)).toEqual([1, 2]);
    expect(epochs.map((e) => e.saved)).toEqual([false, false]);
    // Refused once: the host stops saving this run, and says so once, without ending it.
    expect(store.refused).toBe(1);
    expect(store.epochs.length).toBe(0);
    const errors = of(messages, 'error');
    expect(errors.length).toBe(1);
    expect(errors[0].fatal).toBe(false);
    expect(errors[0].message).toMatch(/no longer the one saved in this browser/);
    host.dispose();
  });

  it('run: false restores and waits; a stop before any epoch gives back the pruned model', async () => {
    const { host, messages, until } = makeHost(null);
    await host.handle(start({ run: false, meta: null }));
    await until((m) => statuses(m).includes('paused'));
    expect(of(messages, 'step').length).toBe(0);
    await host.handle({ type: 'stop' });
    await until(done);
    const r = of(messages, 'result');
    expect(r[r.length - 1].bestEpoch).toBe(0);
    host.dispose();
  });

  it('a bad input is one fatal line', async () => {
    const { host, messages, until } = makeHost(null);
    await host.handle(start({ data: { ...data, images: new Uint8Array(10), labels: undefined } }));
    await until((m) => m.some((x) => x.type === 'error'));
    const err = of(messages, 'error')[0];
    expect(err.fatal).toBe(true);
    expect(err.message).toMatch(/at least 2 whole 8x8x3 images/);
    expect(err.message).not.toContain('\n');
  });
});

describe('fine-tune messages', () => {
  it('names the demo split instead of carrying its bytes, and generates it in the worker', () => {
    const spec: FinetuneDataSpec = { kind: 'demo', split: 'train', count: 40, labeled: true, augment: true };
    const d = finetuneData(spec);
    expect(d.images.length).toBe(40 * 32 * 32 * 3);
    expect(d.labels?.length).toBe(40);
    expect(finetuneData({ ...spec, labeled: false }).labels).toBeUndefined();
    expect(dataChoiceOf(spec)).toEqual(spec);
    expect(dataChoiceOf(data)).toEqual({ kind: 'images', name: 'random', count: 72, labeled: true });
  });

  it('transfers each buffer once', () => {
    const msg = start();
    expect(transferOf(msg).length).toBe(4);
    expect(transferOf({ type: 'pause' })).toEqual([]);
  });
});
