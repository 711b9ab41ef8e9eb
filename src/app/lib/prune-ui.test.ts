import { describe, expect, it } from 'vitest';
import { snapKeep } from './snap';
import { maxAbsDiff, sampleInputs, sampleValues, summarizeOutput } from './sample-input';
import { roundChannels } from '../../core/prune/policy';
import { loadSnippet, storageName } from '../../core/export/browser';

describe('snapKeep', () => {
  it('snaps to the nearest multiple of 8 within 1..channels', () => {
    expect(snapKeep(43, 128, 8)).toBe(40);
    expect(snapKeep(44, 128, 8)).toBe(48);
    expect(snapKeep(1, 128, 8)).toBe(8);
    expect(snapKeep(500, 128, 8)).toBe(128);
    expect(snapKeep(99, 100, 8)).toBe(96);
    expect(snapKeep(100, 100, 8)).toBe(100);
    expect(snapKeep(3, 5, 8)).toBe(3);
    expect(snapKeep(43, 128, 1)).toBe(43);
    expect(snapKeep(0, 128, 1)).toBe(1);
  });

  it('gives counts below the whole group that the pruner keeps as they are', () => {
    for (const c of [5, 10, 32, 100, 128, 1000]) {
      for (let v = 1; v <= c; v += 3) {
        const s = snapKeep(v, c, 8);
        if (s < c) expect(roundChannels(s, c, 8)).toBe(s);
      }
    }
  });
});

describe('sample input', () => {
  it('is the same numbers every time, in [0, 1)', () => {
    const a = sampleValues(1000);
    expect(Array.from(a)).toEqual(Array.from(sampleValues(1000)));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(1);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    const [x, y] = sampleInputs([[1, 4], [1, 2, 3]]);
    expect(x).toHaveLength(4);
    expect(y).toHaveLength(6);
    expect(x[0]).not.toBe(y[0]);
  });

  it('summarizes the first sample and compares outputs', () => {
    const s = summarizeOutput([2, 3], [0.1, 0.7, 0.2, 9, 9, 9]);
    expect(s.values).toEqual([0.1, 0.7, 0.2]);
    expect(s.argmax).toBe(1);
    expect(s.top.map((t) => t.index)).toEqual([1, 2, 0]);
    const t = summarizeOutput([1, 3], [0.1, 0.5, 0.25]);
    expect(maxAbsDiff([s], [t])).toBeCloseTo(0.2);
    expect(maxAbsDiff([s], [summarizeOutput([1, 2], [0, 0])])).toBe(Infinity);
  });
});

describe('export names', () => {
  it('names the IndexedDB entry after the model folder or file', () => {
    expect(storageName('builtin')).toBe('amc-builtin-pruned');
    expect(storageName('http://x/models/My Model/model.json?v=1')).toBe('amc-my-model-pruned');
    expect(storageName('export/tm.json')).toBe('amc-tm-pruned');
    expect(storageName('model.json')).toBe('amc-model-pruned');
    expect(storageName('model.json', '')).toBe('amc-model');
  });

  it('writes a loadable line of code', () => {
    expect(loadSnippet('model.json')).toBe("const model = await tf.loadLayersModel('model.json');");
    expect(loadSnippet("it's")).toBe("const model = await tf.loadLayersModel('it\\'s');");
  });
});
