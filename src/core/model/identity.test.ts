import { describe, expect, it } from 'vitest';
import type { ModelFile } from './files';
import { modelClassNames, modelDisplayName, parseLabelLines } from './identity';

const file = (path: string, text = ''): ModelFile => {
  const bytes = new TextEncoder().encode(text);
  return { path, size: bytes.length, read: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
};

describe('a model is named after where it came from, not "model.json"', () => {
  it('dropped files: the folder, else the Teachable Machine name, else the file name', () => {
    expect(modelDisplayName({ kind: 'files', path: 'khmer-digits/model.json' })).toBe('khmer-digits');
    expect(modelDisplayName({ kind: 'files', path: 'exports/khmer-digits/model.json', sidecars: { 'metadata.json': { modelName: 'tm' } } })).toBe('khmer-digits');
    expect(modelDisplayName({ kind: 'files', path: 'model.json', sidecars: { 'metadata.json': { modelName: 'My birds' } } })).toBe('My birds');
    expect(modelDisplayName({ kind: 'files', path: 'mnist.json' })).toBe('mnist');
    expect(modelDisplayName({ kind: 'files', path: 'model.json' })).toBe('model.json');
  });

  it('a URL: the Teachable Machine name, else its folder or file name', () => {
    expect(modelDisplayName({ kind: 'url', path: 'https://teachablemachine.withgoogle.com/models/Ab12/model.json' })).toBe('Ab12');
    expect(modelDisplayName({ kind: 'url', path: 'https://x.org/m/model.json', sidecars: { 'metadata.json': { modelName: 'Plants' } } })).toBe('Plants');
    expect(modelDisplayName({ kind: 'url', path: 'https://x.org/zoo/mobilenet%20v2.json?v=3' })).toBe('mobilenet v2');
    expect(modelDisplayName({ kind: 'url', path: 'https://x.org/model.json' })).toBe('x.org');
    expect(modelDisplayName({ kind: 'builtin', path: 'http://localhost/models/plain-cnn/model.json', demo: 'plain-cnn' })).toBe('plain-cnn');
  });
});

describe('class names beside the model', () => {
  it('parses one name a line, dropping "0 name" numbering only when every line is numbered in order', () => {
    expect(parseLabelLines('\uFEFF0 cat\r\n1 dog\n\n')).toEqual(['cat', 'dog']);
    expect(parseLabelLines('cat\ndog\n')).toEqual(['cat', 'dog']);
    expect(parseLabelLines('7 seas\n3 kings\n')).toEqual(['7 seas', '3 kings']);
  });

  it('reads metadata.json labels first, then labels.txt, then class_names.txt, from model.json\'s folder', async () => {
    const files = [file('m/model.json'), file('m/labels.txt', '0 a\n1 b\n'), file('m/class_names.txt', 'x\ny\n'), file('other/labels.txt', 'q\nr\n')];
    expect(await modelClassNames(files, 'm/model.json', { 'metadata.json': { labels: ['one', 'two'] } }, 2)).toEqual({ classNames: { names: ['one', 'two'], from: 'metadata.json' } });
    expect(await modelClassNames(files, 'm/model.json', {}, 2)).toEqual({ classNames: { names: ['a', 'b'], from: 'labels.txt' } });
    expect(await modelClassNames(files.filter((f) => !f.path.endsWith('m/labels.txt')), 'm/model.json', {}, 2)).toEqual({ classNames: { names: ['x', 'y'], from: 'class_names.txt' } });
    expect(await modelClassNames([file('m/model.json')], 'm/model.json', {})).toEqual({});
  });

  it('does not use names whose count differs from the outputs, and says so', async () => {
    const r = await modelClassNames([file('labels.txt', 'a\nb\nc\n')], 'model.json', {}, 10);
    expect(r.classNames).toBeUndefined();
    expect(r.problem).toBe('labels.txt lists 3 class names but the model has 10 outputs: not used.');
  });
});
