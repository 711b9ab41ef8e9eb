import sharp from 'sharp';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ModelError } from '../model/errors';
import { decodePlan, evenSubsample } from './decode';
import { planImageFiles } from './folders';
import {
  centreCrop,
  conformImages,
  defaultScaling,
  fitRgba,
  inputSpecOf,
  isImagePath,
  lumaOf,
  previewIndices,
  previewRgba,
} from './images';
import { decodeNodeImage, filesFromDir, loadImageDir, pngBytes } from './node-images';
import { CLASS_NAMES, generateDataset } from './procedural';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'amc-images-'));
  dirs.push(d);
  return d;
}

describe('preprocessing', () => {
  test('centre crop keeps the largest centred region of the target aspect ratio', () => {
    expect(centreCrop(100, 50, 32, 32)).toEqual({ sx: 25, sy: 0, sw: 50, sh: 50 });
    expect(centreCrop(40, 100, 32, 32)).toEqual({ sx: 0, sy: 30, sw: 40, sh: 40 });
    expect(centreCrop(64, 64, 32, 16)).toEqual({ sx: 0, sy: 16, sw: 64, sh: 32 });
    expect(centreCrop(32, 32, 32, 32)).toEqual({ sx: 0, sy: 0, sw: 32, sh: 32 });
  });

  test('same size is an exact copy; halving smooths (antialiased); gray is BT.601 luma; transparent reads black', () => {
    const rgba = new Uint8Array(4 * 4 * 4);
    for (let p = 0; p < 16; p++) rgba.set([p * 10, 255 - p * 10, p, 255], p * 4);
    const same = fitRgba(rgba, 4, 4, { height: 4, width: 4, channels: 3 });
    expect(Array.from(same)).toEqual(Array.from({ length: 16 }, (_, p) => [p * 10, 255 - p * 10, p]).flat());
    // A checkerboard of 0 and 200 halves to nearly flat 100 (no aliasing to 0 or 200).
    const checker = new Uint8Array(8 * 8 * 4);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) checker.set([(x + y) % 2 ? 200 : 0, 0, 0, 255], (y * 8 + x) * 4);
    const half = fitRgba(checker, 8, 8, { height: 4, width: 4, channels: 3 });
    for (let p = 0; p < 16; p++) expect(Math.abs(half[p * 3] - 100)).toBeLessThanOrEqual(5);
    const gray = fitRgba(rgba, 4, 4, { height: 4, width: 4, channels: 1 });
    expect(gray[5]).toBe(lumaOf(50, 205, 5));
    const clear = new Uint8Array([90, 90, 90, 0]);
    expect(Array.from(fitRgba(clear, 1, 1, { height: 1, width: 1, channels: 3 }))).toEqual([0, 0, 0]);
  });

  test('conformImages resizes and converts a whole set; the same layout is returned as is', () => {
    const ds = generateDataset('test', { count: 3 });
    expect(conformImages(ds.images, 3, 32, 32, 3, { height: 32, width: 32, channels: 3 })).toBe(ds.images);
    const g = conformImages(ds.images, 3, 32, 32, 3, { height: 16, width: 24, channels: 1 });
    expect(g.length).toBe(3 * 16 * 24);
  });

  test('model input specs: channels 1 or 3; unknown sizes take the assumed size; others are refused', () => {
    expect(inputSpecOf([null, 28, 28, 1], 224)).toEqual({ height: 28, width: 28, channels: 1 });
    expect(inputSpecOf([null, null, null, 3], 96)).toEqual({ height: 96, width: 96, channels: 3 });
    expect(() => inputSpecOf([null, 32, 32, 4], 224)).toThrow(/4 channels; images need 1 \(grayscale\) or 3 \(RGB\)/);
    expect(() => inputSpecOf([null, 10], 224)).toThrow(/not \[batch, height, width, channels\]/);
  });

  test('Teachable Machine models default to [-1, 1], others to [0, 1]', () => {
    expect(defaultScaling({ 'metadata.json': { tmVersion: '2.4.10', labels: ['a'] } })).toBe('signed');
    expect(defaultScaling({})).toBe('unit');
  });

  test('previews draw the scaled values with 0 black and 1 white, clipped, and report the range', () => {
    const set = { images: new Uint8Array([0, 128, 255]), height: 1, width: 1, channels: 3 as const };
    const unit = previewRgba(set, 0, 'unit');
    expect(Array.from(unit.rgba)).toEqual([0, 128, 255, 255]);
    expect([unit.min, unit.max]).toEqual([0, 1]);
    const signed = previewRgba(set, 0, 'signed');
    expect(Array.from(signed.rgba)).toEqual([0, 1, 255, 255]);
    expect(signed.min).toBe(-1);
    const raw = previewRgba(set, 0, 'raw');
    expect(Array.from(raw.rgba)).toEqual([0, 255, 255, 255]);
    expect(raw.max).toBe(255);
    const labels = Int32Array.from({ length: 40 }, (_, i) => Math.floor(i / 10));
    const picked = previewIndices(40, 8, labels);
    expect(picked).toHaveLength(8);
    expect(new Set(picked.map((i) => labels[i])).size).toBe(4);
    expect(previewIndices(3, 8)).toEqual([0, 1, 2]);
  });

  test('image files are recognised by extension; hidden files are not', () => {
    expect(isImagePath('a/b/c.PNG')).toBe(true);
    expect(isImagePath('x.jpeg')).toBe(true);
    expect(isImagePath('a/._x.png')).toBe(false);
    expect(isImagePath('a/model.json')).toBe(false);
  });
});

describe('decoding folders', () => {
  test('a folder of PNGs made from the demo dataset decodes to the same bytes, labels from the demo class order', async () => {
    const dir = tempDir();
    const ds = generateDataset('test', { count: 20 });
    const per = 32 * 32 * 3;
    for (let i = 0; i < ds.N; i++) {
      const sub = join(dir, 'shapes', CLASS_NAMES[ds.labels[i]]);
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, `${i}.png`), pngBytes(ds.images.subarray(i * per, (i + 1) * per), 32, 32, 3, { filter: (i % 5) as 0 }));
    }
    writeFileSync(join(dir, 'shapes', 'README.txt'), 'made by a test');
    const { plan, set, total } = await loadImageDir(join(dir, 'shapes'), { height: 32, width: 32, channels: 3 }, { numOutputs: 10 });
    expect(plan.labelSource).toBe('demo classes');
    expect(plan.skipped).toEqual([{ path: join(dir, 'shapes', 'README.txt'), reason: 'not an image' }]);
    expect(total).toBe(20);
    expect(set.n).toBe(20);
    for (let k = 0; k < set.n; k++) {
      const i = Number(/(\d+)\.png$/.exec(set.names[k])![1]);
      expect(set.labels![k]).toBe(ds.labels[i]);
      expect(Buffer.from(set.images.subarray(k * per, (k + 1) * per)).equals(Buffer.from(ds.images.subarray(i * per, (i + 1) * per)))).toBe(true);
    }
  });

  test('a broken image is refused naming the file and saying what to do; a real JPEG is read', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'a', 'ok.png'), pngBytes(new Uint8Array(4 * 4 * 3), 4, 4, 3));
    writeFileSync(join(dir, 'b', 'photo.jpg'), Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]));
    let err: unknown;
    try {
      await loadImageDir(dir, { height: 8, width: 8, channels: 3 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelError);
    const e = err as ModelError;
    expect(e.file).toBe(join(dir, 'b', 'photo.jpg'));
    expect(e.problem).toMatch(/is a JPEG image that could not be decoded/);
    expect(e.fix).toMatch(/Re-save it as a JPEG or PNG/);

    writeFileSync(join(dir, 'b', 'photo.jpg'), 'not an image at all');
    await expect(loadImageDir(dir, { height: 8, width: 8, channels: 3 })).rejects.toThrow(/photo\.jpg: is not an image this tool reads/);

    writeFileSync(join(dir, 'b', 'photo.jpg'), await sharp(Buffer.alloc(4 * 4 * 3, 200), { raw: { width: 4, height: 4, channels: 3 } }).jpeg().toBuffer());
    const { set } = await loadImageDir(dir, { height: 8, width: 8, channels: 3 });
    expect(set.n).toBe(2);
    expect(set.images[set.images.length - 1]).toBeGreaterThan(190);
  });

  test('sets over the memory cap are subsampled evenly, keeping every class', async () => {
    expect(evenSubsample(10, 4)).toEqual([0, 2, 5, 7]);
    const root = tempDirWith(12);
    const plan = await planImageFiles(filesFromDir(root), { root });
    const spec = { height: 2, width: 2, channels: 1 as const };
    const { set, total } = await decodePlan(plan, spec, decodeNodeImage, { maxBytes: 6 * 4 });
    expect(total).toBe(12);
    expect(set.n).toBe(6);
    expect(new Set(Array.from(set.labels!)).size).toBe(3);
  });
});

/** A folder with `n` tiny PNGs over three class folders. */
function tempDirWith(n: number): string {
  const dir = tempDir();
  for (let i = 0; i < n; i++) {
    const sub = join(dir, 'root', `c${i % 3}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `${i}.png`), pngBytes(new Uint8Array(4).fill(i * 10), 2, 2, 1));
  }
  return join(dir, 'root');
}
