import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { exportModel } from '../testing/fixtures';
import { parseDataFlag, parseDataSource, parseScalingFlag } from './eval';
import { CLASS_NAMES, generateDataset } from '../core/data/procedural';
import { pngBytes } from '../core/data/node-images';
import { UsageError } from './args';

let dir: string;

function amc(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l && !/nodedir|tfjs-node|Hi, looks|====/.test(l)) };
}

function classifier(classes: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 4, kernelSize: 3, strides: 2, activation: 'relu', name: 'conv' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: classes, activation: 'softmax', name: 'classes' }),
    ],
  });
}

async function write(model: tf.LayersModel, sub: string): Promise<string> {
  const e = await exportModel(model);
  const d = join(dir, sub);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'model.json'), JSON.stringify(e.modelJson));
  writeFileSync(join(d, 'weights.bin'), new Uint8Array(e.shards['weights.bin']));
  return join(d, 'model.json');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amc-eval-'));
  await write(classifier(10), 'ten');
  await write(classifier(3), 'three');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('amc eval', () => {
  test('--data accepts demo:train|val|test and refuses anything else with the allowed values', () => {
    expect(parseDataFlag('demo:val')).toBe('val');
    expect(parseDataFlag('demo:train')).toBe('train');
    expect(() => parseDataFlag('demo:nope')).toThrow(UsageError);
    expect(() => parseDataFlag('demo:nope')).toThrow(/demo:train, demo:val, demo:test/);
    expect(() => parseDataFlag(undefined)).toThrow(/--data is needed/);
  });

  test('--json reports top-1, top-5 and fidelity to a reference', () => {
    const model = join(dir, 'ten', 'model.json');
    const r = amc('eval', model, '--data', 'demo:val', '--limit', '40', '--reference', model, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ data: 'demo:val', n: 40, backend: 'wasm', agreement: 1 });
    expect(out.top1).toBeGreaterThanOrEqual(0);
    expect(out.top5).toBeGreaterThanOrEqual(out.top1);
    expect(out.meanKL).toBeLessThan(1e-6);
  }, 60_000);

  test('a bad --data exits 2 naming the allowed values; a model with other classes exits 1 with one line', () => {
    const bad = amc('eval', join(dir, 'ten', 'model.json'), '--data', 'cifar10');
    expect(bad.code).toBe(2);
    expect(bad.stderr[0]).toMatch(/--data 'cifar10' .* demo:train, demo:val, demo:test/);
    const three = amc('eval', join(dir, 'three', 'model.json'), '--data', 'demo:test', '--limit', '10');
    expect(three.code).toBe(1);
    expect(three.stderr).toHaveLength(1);
    expect(three.stderr[0]).toMatch(/outputs 3 classes, but demo:test has 10 classes/);
  }, 60_000);
});

/** The first `count` images of demo:test as PNGs in class folders under `root` (filters vary, to exercise the decoder). */
function writeDemoFolder(root: string, count: number): void {
  const ds = generateDataset('test', { count });
  const per = 32 * 32 * 3;
  for (let i = 0; i < ds.N; i++) {
    const sub = join(root, CLASS_NAMES[ds.labels[i]].replace(' ', '_'));
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `img${i}.png`), pngBytes(ds.images.subarray(i * per, (i + 1) * per), 32, 32, 3, { filter: (i % 5) as 0 }));
  }
}

const TRAINED = 'models/resnet-like/model.json';

describe('amc eval --data DIR', () => {
  test('--data takes demo splits or a folder; --scaling takes unit, signed or raw', () => {
    expect(parseDataSource('demo:test')).toEqual({ kind: 'demo', split: 'test' });
    expect(parseDataSource('some/dir')).toEqual({ kind: 'dir', dir: 'some/dir' });
    expect(() => parseDataSource('demo:nope')).toThrow(UsageError);
    expect(parseScalingFlag('signed')).toBe('signed');
    expect(parseScalingFlag(undefined)).toBeUndefined();
    expect(() => parseScalingFlag('0-1')).toThrow(/unit \(\[0, 1\]\), signed \(\[-1, 1\]\), raw \(0-255\)/);
  });

  test('a folder of PNGs made from demo:test gives the accuracy of the same demo:test images', () => {
    const data = join(dir, 'demo-pngs');
    writeDemoFolder(data, 60);
    writeFileSync(join(data, 'notes.txt'), 'not an image');
    const fromDir = amc('eval', TRAINED, '--data', data, '--json');
    expect(fromDir.stderr).toEqual([]);
    expect(fromDir.code).toBe(0);
    const a = JSON.parse(fromDir.stdout);
    const b = JSON.parse(amc('eval', TRAINED, '--data', 'demo:test', '--limit', '60', '--json').stdout);
    expect(a).toMatchObject({ kind: 'labeled', n: 60, labelSource: 'demo classes', scaling: 'unit', input: [32, 32, 3], classes: [...CLASS_NAMES] });
    expect(a.counts).toEqual(new Array(10).fill(6));
    expect(a.skipped).toEqual([{ path: join(data, 'notes.txt'), reason: 'not an image' }]);
    expect(b.n).toBe(60);
    expect(a.top1).toBe(b.top1);
    expect(a.top5).toBe(b.top5);
    expect(a.top1).toBeGreaterThan(0.6); // a trained model: the labels line up

    // The text form names the classes, skipped files and scaling; the wrong scaling costs accuracy.
    const text = amc('eval', TRAINED, '--data', data);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/per class  disc 6, square 6/);
    expect(text.stdout).toMatch(/skipped    1 not an image/);
    expect(text.stdout).toMatch(/scaled to \[0, 1\] \(default/);
    expect(text.stdout).toContain(`top-1      ${(a.top1 * 100).toFixed(2)}%`);
    const raw = JSON.parse(amc('eval', TRAINED, '--data', data, '--scaling', 'raw', '--json').stdout);
    expect(raw.scaling).toBe('raw');
    expect(raw.top1).toBeLessThan(a.top1);
  }, 180_000);

  test('loose images need --reference and then give fidelity; bad images and folders exit 1 with one line', () => {
    const loose = join(dir, 'loose');
    mkdirSync(loose, { recursive: true });
    const ds = generateDataset('val', { count: 5 });
    for (let i = 0; i < 5; i++) writeFileSync(join(loose, `${i}.png`), pngBytes(ds.images.subarray(i * 3072, (i + 1) * 3072), 32, 32, 3));
    const model = join(dir, 'ten', 'model.json');
    const needsRef = amc('eval', model, '--data', loose);
    expect(needsRef.code).toBe(1);
    expect(needsRef.stderr).toHaveLength(1);
    expect(needsRef.stderr[0]).toMatch(/holds 5 loose images and no class folders.*--reference/);
    const fid = amc('eval', model, '--data', loose, '--reference', model, '--json');
    expect(fid.code).toBe(0);
    expect(JSON.parse(fid.stdout)).toMatchObject({ kind: 'unlabeled', n: 5, agreement: 1 });

    writeFileSync(join(loose, 'photo.jpg'), Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]));
    const jpeg = amc('eval', model, '--data', loose, '--reference', model);
    expect(jpeg.code).toBe(1);
    expect(jpeg.stderr).toHaveLength(1);
    expect(jpeg.stderr[0]).toMatch(/photo\.jpg: is a JPEG image that could not be decoded .*Re-save it as a JPEG or PNG/);

    const missing = amc('eval', model, '--data', join(dir, 'nope'));
    expect(missing.code).toBe(2);
    expect(missing.stderr[0]).toMatch(/--data '.*nope' is neither one of demo:train, demo:val, demo:test nor a folder that exists/);
    const empty = join(dir, 'empty');
    mkdirSync(join(empty, 'cats'), { recursive: true });
    writeFileSync(join(empty, 'cats', 'a.txt'), 'x');
    const e = amc('eval', model, '--data', empty);
    expect(e.code).toBe(1);
    expect(e.stderr[0]).toMatch(/cats\/: is a class folder with no images/);
    const four = join(dir, 'four-classes');
    for (const c of ['a', 'b', 'c', 'd']) {
      mkdirSync(join(four, c), { recursive: true });
      writeFileSync(join(four, c, '1.png'), pngBytes(new Uint8Array(8 * 8 * 3), 8, 8, 3));
    }
    const three = amc('eval', join(dir, 'three', 'model.json'), '--data', four);
    expect(three.code).toBe(1);
    expect(three.stderr).toHaveLength(1);
    expect(three.stderr[0]).toMatch(/has 4 class folders \(a, b, c, d\) but the model has 3 outputs/);
  }, 180_000);
});
