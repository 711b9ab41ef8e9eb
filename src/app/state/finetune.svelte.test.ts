import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, mobilenetV1Like } from '../../testing/fixtures';
import { FINETUNE_DEFAULTS } from '../../core/finetune/config';
import { analyzeModel } from '../../core/model/analyze';
import { loadModel } from '../../core/model/load';
import type { LoadedModel } from '../../core/model/types';
import { uniformPolicy } from '../../core/prune/policy';
import { pruneModel } from '../../core/prune/prune';
import type { FromFinetune, ToFinetune } from '../../workers/finetune-messages';
import { toModelPayload } from '../../workers/payload';
import type { AppState } from './app.svelte';
import type { DataState } from './data.svelte';
import { FinetuneState } from './finetune.svelte';

let original: LoadedModel;
let pruned: LoadedModel;

beforeAll(async () => {
  await tf.setBackend('cpu');
  original = await loadModel(asFiles(await exportModel(mobilenetV1Like(), 4)));
  const analysis = analyzeModel(original);
  pruned = pruneModel(original, analysis, uniformPolicy(analysis.groups, 0.5), { roundTo: 1 }).model;
});

/** A worker that records what the page posts. */
class FakeWorker {
  posted: ToFinetune[] = [];
  terminated = false;
  onmessage: ((e: MessageEvent<FromFinetune>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  postMessage(m: ToFinetune) {
    this.posted.push(m);
  }
  terminate() {
    this.terminated = true;
  }
  send(m: FromFinetune) {
    this.onmessage?.({ data: m } as MessageEvent<FromFinetune>);
  }
}

function setup() {
  const workers: FakeWorker[] = [];
  const app = { model: original, analysis: null, pruned: { original, model: pruned, label: 'Prune panel, 40% of MACs' }, exclusive: (fn: () => Promise<unknown>) => fn() } as unknown as AppState;
  const data = { prepared: null, scaling: 'unit' } as unknown as DataState;
  const state = new FinetuneState(app, data, () => {
    const w = new FakeWorker();
    workers.push(w);
    return w as unknown as Worker;
  });
  return { state, workers };
}

const log = (epoch: number, ms?: number) => ({ epoch, heldOutLoss: 1 / (epoch + 1), heldOutAgreement: 0.5 + epoch / 10, ...(ms ? { trainLoss: 1, ms, steps: 4 } : {}) });

describe('FinetuneState', () => {
  it('fine-tunes the app pruned model on a demo:train subset; progress, time left and the result follow the worker', async () => {
    const { state, workers } = setup();
    expect(state.subject?.label).toBe('Prune panel, 40% of MACs');
    state.demoCount = 256;
    state.epochs = 2;
    await state.start();
    expect(state.phase).toBe('starting');
    const w = workers[0];
    const start = w.posted[0] as Extract<ToFinetune, { type: 'start' }>;
    expect(start.type).toBe('start');
    expect(start.data).toMatchObject({ kind: 'demo', split: 'train', count: 256, augment: true });
    // The fixture has 4 outputs, not the demo's 10 classes: no labels.
    expect(start.data.kind === 'demo' && start.data.labeled).toBe(false);
    expect(start.config.epochs).toBe(2);

    w.send({ type: 'ready', backend: { name: 'wasm', reason: 'test' }, stepsPerEpoch: 4, epochs: 2, config: { ...FINETUNE_DEFAULTS, epochs: 2 }, trainImages: 224, heldOutImages: 32, labeled: false, history: [log(0)], bestEpoch: 0, elapsedMs: 0, epochBackends: {} });
    expect(state.phase).toBe('running');
    expect(state.info?.data).toContain('demo:train (256 images, distillation only)');
    w.send({ type: 'step', epoch: 1, done: 2, total: 4, loss: 0.5, epochMs: 1000 });
    expect(state.fraction).toBeCloseTo(2 / 8, 9);
    // 6 steps left at 500 ms each.
    expect(state.msLeft).toBeCloseTo(3000, 6);
    expect(state.timeLeftText).toBe('3 s');
    w.send({ type: 'epoch', log: log(1, 2000), backend: 'wasm', bestEpoch: 1, saved: true, tensors: 10, elapsedMs: 2000 });
    expect(state.fraction).toBeCloseTo(0.5, 9);
    expect(state.msLeft).toBeCloseTo(2000, 6);
    expect(state.saved).toBe(true);
    expect(state.epochBackends).toEqual({ 1: 'wasm' });

    state.pause();
    expect(w.posted[w.posted.length - 1]).toEqual({ type: 'pause' });
    w.send({ type: 'status', status: 'paused', stopReason: null, epochsDone: 1, elapsedMs: 2000 });
    expect(state.phase).toBe('paused');
    state.resume();
    expect(w.posted[w.posted.length - 1]).toEqual({ type: 'resume' });
    state.stop();
    expect(w.posted[w.posted.length - 1]).toEqual({ type: 'stop' });
    expect(state.phase).toBe('stopping');

    const { payload } = toModelPayload(pruned);
    w.send({ type: 'result', model: payload, bestEpoch: 1, stopReason: 'stopped' });
    w.send({ type: 'status', status: 'done', stopReason: 'stopped', epochsDone: 1, elapsedMs: 2500 });
    expect(state.phase).toBe('done');
    expect(w.terminated).toBe(true);
    expect(state.result?.weights.length).toBe(pruned.weights.length);
    expect(state.resultEpoch).toBe(1);
    // No evaluation images in the Data panel: the comparison says what to do.
    await new Promise((r) => setTimeout(r, 0));
    expect(state.outcome.compare.kind).toBe('error');

    const report = state.outcome.report() as unknown as { finetune: { epochsDone: number; bestEpoch: number; stopReason: string; backend: string }; pruned: { params: number } };
    expect(report.finetune).toMatchObject({ epochsDone: 1, bestEpoch: 1, stopReason: 'stopped', backend: 'wasm' });
    expect(report.pruned.params).toBeGreaterThan(0);
    const files = state.outcome.exportFiles();
    // Named after the original (its model.json path here, so "model"), not model.json for every download.
    expect(files.map((f) => f.name)).toEqual(['model-finetuned.json', 'model-finetuned.weights.bin', 'model-finetuned.report.json']);
  });

  it('refuses a bad count or epochs with one line, and a fatal worker error ends the run', async () => {
    const { state, workers } = setup();
    state.demoCount = 10;
    await state.start();
    expect(state.error).toMatch(/demo:train images must be from 64/);
    expect(workers.length).toBe(0);
    state.demoCount = 128;
    state.epochs = 0;
    await state.start();
    expect(state.error).toMatch(/Epochs must be/);
    state.epochs = 1;
    await state.start();
    workers[0].send({ type: 'error', message: 'the loss became NaN', fatal: true });
    expect(state.phase).toBe('error');
    expect(state.error).toContain('the loss became NaN');
    expect(workers[0].terminated).toBe(true);
  });
});
