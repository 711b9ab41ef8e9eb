import { describe, expect, it } from 'vitest';
import { generateDataset, IMAGE_SIZE } from '../data/procedural';
import { demoScoringData } from './demo-data';

describe('demo scoring data', () => {
  it('scores on the split asked for, labeled unless told otherwise, and calibrates on the training split', () => {
    const val = generateDataset('val', { count: 6 });
    const d = demoScoringData('val', 6, { calibration: 4 });
    expect(d.images).toEqual(val.images);
    expect(d.labels).toEqual(val.labels);
    expect(d.eval).toEqual({ imageSize: IMAGE_SIZE, batchSize: 100 });
    expect(d.calibration).toEqual(generateDataset('train', { count: 4 }).images);
    expect(d.calibration).not.toEqual(generateDataset('val', { count: 4 }).images);

    const unlabeled = demoScoringData('val', 6, { labeled: false, scaling: 'signed' });
    expect(unlabeled.labels).toBeUndefined();
    expect(unlabeled.calibration).toBeUndefined();
    expect(unlabeled.eval.scaling).toBe('signed');
  });
});
