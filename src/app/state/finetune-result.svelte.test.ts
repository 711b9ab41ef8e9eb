import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, mobilenetV1Like, randomImages } from '../../testing/fixtures';
import { DEMO_AUGMENT, FINETUNE_DEFAULTS } from '../../core/finetune/config';
import { analyzeModel } from '../../core/model/analyze';
import { loadModel } from '../../core/model/load';
import type { LoadedModel } from '../../core/model/types';
import { uniformPolicy } from '../../core/prune/policy';
import { pruneModel } from '../../core/prune/prune';
import type { FromFinetune, ToFinetune } from '../../workers/finetune-messages';
import { toModelPayload } from '../../workers/payload';
import { localEvalFactory, type LocalEvalWorker } from '../../testing/local-eval-worker';
import type { AppState } from './app.svelte';
import type { DataState, PreparedData } from './data.svelte';
import { FinetuneState } from './finetune.svelte';

let original: LoadedModel;
let other: LoadedModel;
let pruned: LoadedModel;

beforeAll(async () => {
  await tf.setBackend('cpu');
  original = await loadModel(asFiles(await exportModel(mobilenetV1Like(), 4)));
  // Another model with the same architecture (another seed): images prepared for it are not this run's.
  other = await loadModel(asFiles(await exportModel(mobilenetV1Like(), 5)));
  const analysis = analyzeModel(original);
  pruned = pruneModel(original, analysis, uniformPolicy(analysis.groups, 0.5), { roundTo: 1 }).model;
});

class FakeWorker {
  posted: ToFinetune[] = [];
  onmessage: ((e: MessageEvent<FromFinetune>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  postMessage(m: ToFinetune) {
    this.posted.push(m);
  }
  terminate() {}
  send(m: FromFinetune) {
    this.onmessage?.({ data: m } as MessageEvent<FromFinetune>);
  }
}

function prepared(model: LoadedModel): PreparedData {
  const { images, labels } = randomImages(20, 8, 4, 3);
  return {
    source: { kind: 'demo', split: 'test' },
    model,
    set: { images, labels, n: 20, height: 8, width: 8, channels: 3, names: [] },
    kind: 'labeled',
  } as unknown as PreparedData;
}

/** A finished run of `original` -> `pruned`, the Data panel's images prepared for `forModel`. */
async function finishedRun(forModel: LoadedModel, source: 'demo' | 'data' = 'demo', evalWorkers: LocalEvalWorker[] = []) {
  const workers: FakeWorker[] = [];
  const app = { model: original, analysis: null, pruned: { original, model: pruned, label: 'uniform 0.5' }, exclusive: (fn: () => Promise<unknown>) => fn() } as unknown as AppState;
  const data = { prepared: prepared(forModel), scaling: 'unit' } as unknown as DataState;
  const state = new FinetuneState(app, data, () => {
    const w = new FakeWorker();
    workers.push(w);
    return w as unknown as Worker;
  });
  // The comparison's evaluation worker, in process.
  state.outcome.evalWorker = localEvalFactory(evalWorkers);
  state.source = source;
  await state.start();
  const w = workers[0];
  w.send({ type: 'ready', backend: { name: 'wasm', reason: 'test' }, stepsPerEpoch: 2, epochs: 1, config: RAN, trainImages: 60, heldOutImages: 12, labeled: true, history: [], bestEpoch: 0, elapsedMs: 0, epochBackends: {} });
  w.send({ type: 'result', model: toModelPayload(pruned).payload, bestEpoch: 1, stopReason: 'finished' });
  w.send({ type: 'status', status: 'done', stopReason: 'finished', epochsDone: 1, elapsedMs: 10 });
  return state;
}

/** The config the worker says it trains with (not the page's defaults: the demo's augmentation, say). */
const RAN = { ...FINETUNE_DEFAULTS, epochs: 1, augment: { ...DEMO_AUGMENT } };

async function settled(state: FinetuneState) {
  for (let i = 0; i < 200 && (state.outcome.compare.kind === 'running' || state.outcome.compare.kind === 'idle'); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('fine-tune comparison', () => {
  it("compares the three models on the Data panel's images prepared for the run's original", async () => {
    const state = await finishedRun(original);
    await settled(state);
    expect(state.outcome.compare.kind).toBe('done');
    const c = state.outcome.compare as Extract<typeof state.outcome.compare, { kind: 'done' }>;
    expect(c.labeled).toBe(true);
    expect(c.n).toBe(20);
    expect(c.original.top1).toBeGreaterThanOrEqual(0);
    expect(c.trainingImages).toBe(false);
  });

  it('a new run drops the comparison under way: its evaluation worker ends and nothing it finds is shown', async () => {
    const evalWorkers: LocalEvalWorker[] = [];
    const state = await finishedRun(original, 'demo', evalWorkers);
    expect(state.outcome.compare.kind).toBe('running');
    state.outcome.reset();
    expect(evalWorkers).toHaveLength(1);
    expect(evalWorkers[0].terminated).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(state.outcome.compare.kind).toBe('idle');
  });

  it("report.json's config and image counts are what the worker said it ran", async () => {
    const state = await finishedRun(original);
    await settled(state);
    const report = state.outcome.report() as unknown as { finetune: { config: unknown; images: unknown } };
    expect(report.finetune.config).toEqual(RAN);
    expect(report.finetune.images).toEqual({ train: 60, heldOut: 12 });
  });

  it('says when the comparison runs on the images the run trained on, and report.json says so too', async () => {
    const state = await finishedRun(original, 'data');
    await settled(state);
    expect(state.outcome.compare.kind === 'done' && state.outcome.compare.trainingImages).toBe(true);
    const report = state.outcome.report() as unknown as { finetune: { evaluation: { trainingImages?: boolean } } };
    expect(report.finetune.evaluation.trainingImages).toBe(true);
  });

  it('refuses images prepared for another model: no top-1 with its labels, for the comparison or the quantized model', async () => {
    const state = await finishedRun(other);
    await settled(state);
    expect(state.outcome.compare.kind).toBe('error');
    expect(state.outcome.compare.kind === 'error' && state.outcome.compare.message).toMatch(/Choose evaluation images for this model in the Data panel/);
    state.outcome.setQuantize('float16');
    await new Promise((r) => setTimeout(r, 0));
    expect(state.outcome.quantCheck.kind).toBe('error');
    expect(state.outcome.quantCheck.kind === 'error' && state.outcome.quantCheck.message).toMatch(/Choose evaluation images for this model/);
  });
});
