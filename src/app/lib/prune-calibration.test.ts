import { describe, expect, it } from 'vitest';
import type { LoadedModel } from '../../core/model/types';
import type { DataState } from '../state/data.svelte';
import { pruneCalibration } from './prune-calibration';

const model = { source: 'mine/model.json', weights: [], byName: new Map(), topology: {}, modelJson: {}, sidecars: {} } as unknown as LoadedModel;

function dataWith(n: number, kind: 'files' | 'demo', forModel = model): DataState {
  const set = { images: Uint8Array.from({ length: n * 2 * 2 * 3 }, (_, i) => i % 251), n, height: 2, width: 2, channels: 3, names: [] };
  return { prepared: { model: forModel, source: kind === 'files' ? { kind: 'files', label: 'x', files: [] } : { kind: 'demo', split: 'val' }, set }, scaling: 'unit', demoOptInFor: null } as unknown as DataState;
}

describe('pruneCalibration', () => {
  it("takes up to the count from the Data panel's own images, evenly spread", () => {
    const c = pruneCalibration(model, 3, dataWith(10, 'files'), 4);
    if ('none' in c) throw new Error(c.none);
    expect(c.n).toBe(4);
    expect(c.images.length).toBe(4 * 12);
    expect(c.source).toBe('of your');
    expect(c.eval).toEqual({ imageSize: [2, 2], channels: 3, scaling: 'unit' });
  });

  it('asks for images rather than calibrating a model of the user on the demo images or on another model’s', () => {
    for (const data of [null, dataWith(10, 'demo'), dataWith(10, 'files', { ...model } as LoadedModel)]) {
      expect(pruneCalibration(model, 3, data, 64)).toEqual({ none: expect.stringMatching(/Prepare some of your own images/) });
    }
  });
});
