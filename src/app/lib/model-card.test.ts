import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCardAccuracy } from './model-card';
import { isImageData } from './drop';

describe('parseCardAccuracy', () => {
  it('reads the top-1 accuracy a card states for demo:test and demo:val', () => {
    const card = [
      '- Accuracy on `demo:test` (2000 images): top-1 86.10%, top-5 99.75%.',
      '  On `demo:val` (2000 images, the split searches use for rewards): top-1 86.15%.',
    ].join('\n');
    expect(parseCardAccuracy(card)).toEqual({ test: 0.861, val: 0.8615 });
    expect(parseCardAccuracy('# untrained\nno numbers here')).toEqual({});
  });

  it('reads the bundled ResNet-like card', () => {
    const card = parseCardAccuracy(readFileSync('models/resnet-like/README.md', 'utf8'));
    expect(card.test).toBeGreaterThan(0.5);
  });
});

describe('isImageData', () => {
  const f = (path: string) => ({ path, size: 1, read: async () => new ArrayBuffer(1) });
  it('sends images without weight files to the data panel, and anything with .bin to the model loader', () => {
    expect(isImageData([f('cats/a.png'), f('cats/b.JPG'), f('metadata.json')])).toBe(true);
    expect(isImageData([f('model.json'), f('weights.bin'), f('a.png')])).toBe(false);
    expect(isImageData([f('model.json')])).toBe(false);
  });
});
