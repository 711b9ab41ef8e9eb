import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../testing/fixtures';
import { exportFiles } from '../core/export/files';
import { analyzeModel } from '../core/model/analyze';
import { loadModel } from '../core/model/load';
import type { LoadedModel } from '../core/model/types';
import { pruneModel } from '../core/prune/prune';
import { searchConfig } from '../core/search/config';
import { buffersOf, fromModelPayload, fromPrunedPayload, modelFilesAsInput, toModelPayload, toPrunedPayload } from './payload';
import { dataChoiceOf, isResumable, type SearchMeta } from './search-store';
import { modelFingerprint } from '../core/hash';
import { transferOf, type ToWorker } from './search-messages';

let model: LoadedModel;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.mobilenetV1Like.build(), 4)));
});

/** What postMessage does to a message and its transfer list. */
function post<T>(msg: T, transfer: ArrayBuffer[]): T {
  return structuredClone(msg, { transfer });
}

describe('search messages', () => {
  it('sends a model as a payload of copied, transferred weights and rebuilds it whole', () => {
    const before = model.weights.map((w) => Array.from(w.values));
    const { payload, transfer } = toModelPayload(model);
    expect(transfer.length).toBe(model.weights.length);
    const received = fromModelPayload(post(payload, transfer));
    // The sender keeps its weights (copies were transferred).
    expect(model.weights.map((w) => Array.from(w.values))).toEqual(before);
    expect(received.weights.map((w) => Array.from(w.values))).toEqual(before);
    expect([...received.byName.keys()]).toEqual([...model.byName.keys()]);
    expect(received.byName.get(model.weights[0].name)).toBe(received.weights[0]);
    expect(received.topology).toEqual(model.topology);
  });

  it('sends a pruned result and rebuilds its maps', () => {
    const analysis = analyzeModel(model);
    const g = analysis.groups.find((x) => x.prunable)!;
    const result = pruneModel(model, analysis, { [g.id]: 1 }, { roundTo: 1 });
    const { payload, transfer } = toPrunedPayload(result, result.model);
    const back = fromPrunedPayload(post(payload, transfer));
    expect(back.keep).toEqual(result.keep);
    expect(back.kept).toEqual(result.kept);
    expect(back.cost.totalMacs).toBe(result.cost.totalMacs);
    expect(back.model.weights.map((w) => w.shape)).toEqual(result.model.weights.map((w) => w.shape));
    // The sender's pruned weights (which may share arrays with the original) are intact.
    expect(result.model.weights.every((w) => w.values.length > 0)).toBe(true);
    expect(model.weights.every((w) => w.values.buffer.byteLength > 0)).toBe(true);
  });

  it('lists each buffer of a start message once for transfer', async () => {
    const files = exportFiles(model);
    const images = new Uint8Array(2 * 8 * 8 * 3);
    const labels = new Int32Array([0, 1]);
    const msg: ToWorker = {
      type: 'start',
      id: 'x',
      model: files,
      inputSize: null,
      data: { kind: 'images', name: 'mine', images, labels, eval: { imageSize: 8 } },
      config: searchConfig(),
      randomBaseline: false,
      resume: null,
      meta: null,
      run: true,
    };
    const transfer = transferOf(msg);
    expect(transfer).toEqual([files.weights, images.buffer, labels.buffer]);
    expect(transferOf({ type: 'pause' })).toEqual([]);
    expect(buffersOf([images, images.subarray(3), images.buffer])).toEqual([images.buffer]);
    const got = post(msg, transfer) as Extract<ToWorker, { type: 'start' }>;
    expect(images.byteLength).toBe(0); // moved, not copied
    // The worker loads exactly the model the page had.
    const loaded = await loadModel(modelFilesAsInput(got.model, 'dir/my-model.json'));
    expect(loaded.source).toBe('dir/my-model.json');
    expect(modelFingerprint(loaded)).toBe(modelFingerprint(model));
    expect(dataChoiceOf(got.data)).toEqual({ kind: 'images', name: 'mine', count: 2, labeled: true });
  });

  it('fingerprints models by topology and weights', async () => {
    const other = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.mobilenetV1Like.build(), 5)));
    expect(modelFingerprint(other)).not.toBe(modelFingerprint(model));
    expect(modelFingerprint({ topology: model.topology, weights: model.weights })).toBe(modelFingerprint(model));
  });

  it('offers only unfinished searches the user did not stop', () => {
    const meta = (episodes: number, stopped: boolean) => ({ episodes, stopped, config: searchConfig({ episodes: 10 }) }) as SearchMeta;
    expect(isResumable(meta(3, false))).toBe(true);
    expect(isResumable(meta(3, true))).toBe(false);
    expect(isResumable(meta(10, false))).toBe(false);
  });

  it('describes demo data without bytes', () => {
    expect(dataChoiceOf({ kind: 'demo', split: 'val', count: 100, labeled: true })).toEqual({ kind: 'demo', split: 'val', count: 100, labeled: true });
  });
});
