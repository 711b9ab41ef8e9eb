import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../../testing/fixtures';
import { analyzeModel, type ModelAnalysis } from '../../core/model/analyze';
import { loadModel } from '../../core/model/load';
import type { LoadedModel } from '../../core/model/types';
import type { DataState } from '../state/data.svelte';
import { calibrationOfItsKind, outputClasses, searchCalibrationCount, searchData, searchDataLabel, searchDataWarnings } from './search-data';

let model: LoadedModel;
let analysis: ModelAnalysis;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.mobilenetV1Like.build(), 4)));
  analysis = analyzeModel(model);
});

/** The part of the data panel's state the search reads. */
function dataWith(files: boolean, labeled: boolean, forModel = model): DataState {
  const n = 10;
  const images = Uint8Array.from({ length: n * 8 * 8 * 3 }, (_, i) => Math.floor(i / (8 * 8 * 3)));
  return {
    scaling: 'signed',
    prepared: {
      source: files ? { kind: 'files', label: 'my-photos', files: [] } : { kind: 'demo', split: 'test' },
      model: forModel,
      spec: { height: 8, width: 8, channels: 3 },
      set: { images, n, height: 8, width: 8, channels: 3, labels: labeled ? Int32Array.from({ length: n }, (_, i) => i % 3) : undefined, names: [] },
      total: n,
      kind: labeled ? 'labeled' : 'unlabeled',
      classNames: [],
      counts: [],
      labelText: '',
    },
  } as unknown as DataState;
}

describe('search data', () => {
  it('uses the demo val split without a data panel, labeled only for 10-class models', () => {
    expect(outputClasses(analysis)).not.toBe(10);
    const d = searchData(model, analysis, null, 500);
    expect(d.spec).toEqual({ kind: 'demo', split: 'val', count: 500, labeled: false, scaling: 'unit' });
    expect(d.label).toMatch(/500 demo:val images, agreement with the original model/);
    expect(searchData(model, analysis, null, 99_999).spec).toMatchObject({ count: 2000 });
  });

  it('labels the demo images only for a demo model: a 10-class model of its own is scored by agreement', async () => {
    const ten = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [8, 8, 3] }), tf.layers.dense({ units: 10, activation: 'softmax' })] });
    const m10 = await loadModel(asFiles(await exportModel(ten, 3)));
    const a10 = analyzeModel(m10);
    expect(outputClasses(a10)).toBe(10);
    const d = searchData(m10, a10, null, 100);
    expect(d.spec).toMatchObject({ kind: 'demo', labeled: false });
    expect(d.label).toMatch(/agreement with the original model \(it is not a bundled demo model/);
    // The user's opt-in in the Data panel, for this very model, labels them.
    const optedIn = { ...dataWith(false, false), demoOptInFor: m10 } as unknown as DataState;
    expect(searchData(m10, a10, optedIn, 100).spec).toMatchObject({ kind: 'demo', labeled: true });
    expect(searchData(model, analysis, optedIn, 100).spec).toMatchObject({ labeled: false });
  });

  it("calibrates on images of the model's own kind only with the user's images (or the demo's for a model they belong to)", () => {
    expect(calibrationOfItsKind(model, analysis, null)).toBe(false);
    expect(calibrationOfItsKind(model, analysis, dataWith(true, false))).toBe(true);
    expect(calibrationOfItsKind(model, analysis, dataWith(false, false))).toBe(false);
    expect(calibrationOfItsKind(model, analysis, dataWith(true, true, { ...model } as LoadedModel))).toBe(false);
  });

  it('warns when the reward or calibration set is too small to separate policies', () => {
    expect(searchDataWarnings(model, analysis, null, 500, 64)).toEqual([]);
    const [w] = searchDataWarnings(model, analysis, dataWith(true, true), 4);
    expect(w).toMatch(/Only 4 reward images: a score on them moves in steps of 25 points/);
    // 10 images, 5 scoring: too few left for calibration, so it takes all 10 (shared with the reward).
    expect(searchDataWarnings(model, analysis, dataWith(true, true), 5, 64).join(' ')).toMatch(/Only 10 calibration images/);
  });

  it('says how many calibration images the evaluator really gets: all a small folder has, the asked count from the demo', () => {
    expect(searchCalibrationCount(model, analysis, dataWith(true, true), 5, 64)).toBe(10);
    expect(searchCalibrationCount(model, analysis, null, 500, 256)).toBe(256);
    expect(searchCalibrationCount(model, analysis, dataWith(true, true), 5, 0)).toBe(0);
  });

  it("uses the user's prepared images for this model, evenly subsampled, with their labels and scaling", () => {
    const d = searchData(model, analysis, dataWith(true, true), 5);
    expect(d.spec.kind).toBe('images');
    if (d.spec.kind !== 'images') return;
    const per = 8 * 8 * 3;
    expect(d.spec.images.length).toBe(5 * per);
    // Images 0, 2, 4, 6, 8 (each image's bytes hold its index).
    expect(Array.from({ length: 5 }, (_, k) => d.spec.kind === 'images' && d.spec.images[k * per])).toEqual([0, 2, 4, 6, 8]);
    expect(Array.from(d.spec.labels!)).toEqual([0, 2, 1, 0, 2]);
    expect(d.spec.eval).toMatchObject({ imageSize: [8, 8], channels: 3, scaling: 'signed' });
    expect(d.label).toMatch(/5 of your images \(my-photos\), top-1 accuracy/);
    expect(searchDataLabel(model, analysis, dataWith(true, true), 5)).toBe(d.label);
    const unlabeled = searchData(model, analysis, dataWith(true, false), 100);
    expect(unlabeled.spec.kind === 'images' && unlabeled.spec.labels).toBeUndefined();
    expect(unlabeled.label).toMatch(/10 of your images .* agreement/);
  });

  it('falls back to the demo split when the data panel shows the demo or data for another model', () => {
    expect(searchData(model, analysis, dataWith(false, true), 50).spec).toMatchObject({ kind: 'demo', count: 50, scaling: 'signed' });
    const other = { ...model } as LoadedModel;
    expect(searchData(model, analysis, dataWith(true, true, other), 50).spec.kind).toBe('demo');
  });
});
