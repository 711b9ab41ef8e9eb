/**
 * The demo dataset: 32x32 RGB images drawn by code from a seed, so the app, the CLI and the
 * training script all have the same labeled data without downloading anything.
 *
 * Ten classes: five solid shapes (disc, square, triangle, ring, cross), three full-frame textures
 * (stripes, checkerboard, dots) and two mixtures (a disc filled with stripes, a square filled with
 * a checkerboard). Every image has random colours (with a random, sometimes low contrast),
 * scale, rotation and position, a plain or graded background, small clutter, and pixel noise.
 *
 * Bit-identical in every JavaScript engine: only an integer PRNG (Math.imul) and + - * /,
 * Math.floor, Math.sqrt, Math.abs, Math.min/max are used (all exactly rounded by the spec);
 * rotations come from a cosine/sine table built from a Taylor series with those operations,
 * never from Math.sin/cos (whose results differ between engines).
 *
 * Splits (fixed sizes and seeds): train 9000, val 2000 (search rewards), test 2000. Image i of a
 * split depends only on (split seed, i), so any slice can be generated alone. Labels are
 * `i % 10`: every run of ten consecutive images holds one of each class.
 */
import * as tf from '@tensorflow/tfjs';
import { FNV_OFFSET, fnv1a32, hex32 } from '../hash';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];
export const IMAGE_SIZE = 32;
export const CHANNELS = 3;
export const CLASS_NAMES = [
  'disc',
  'square',
  'triangle',
  'ring',
  'cross',
  'stripes',
  'checkerboard',
  'dots',
  'striped disc',
  'checkered square',
] as const;
export const NUM_CLASSES = CLASS_NAMES.length;
export const SPLIT_SIZES: Readonly<Record<Split, number>> = { train: 9000, val: 2000, test: 2000 };
const SPLIT_SEEDS: Readonly<Record<Split, number>> = { train: 0x1a2b3c4d, val: 0x5e6f7a8b, test: 0x0c1d2e3f };

export interface Dataset {
  split: Split;
  /** N * 32 * 32 * 3 bytes, RGB, row-major (NHWC). */
  images: Uint8Array;
  labels: Int32Array;
  classNames: string[];
  N: number;
  /** Index of the first image in the split. */
  offset: number;
}

export interface GenerateOptions {
  /** Images to make (default: the whole split from `offset`). */
  count?: number;
  /** First image index within the split (default 0). */
  offset?: number;
}

// ---------------------------------------------------------------- deterministic numbers

/** A 32-bit hash (murmur3 finalizer) of two integers. */
function hash2(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  /** mulberry32: a uint32. */
  u32(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** [0, 1), exactly u32 / 2^32. */
  next(): number {
    return this.u32() / 4294967296;
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Approximately normal(0, 1): a sum of four uniforms, rescaled. */
  gauss(): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * 1.7320508075688772;
  }
}

const ANGLE_STEPS = 360;
const PI = 3.141592653589793;
/** cos and sin of 2*pi*k/ANGLE_STEPS by Taylor series on [-pi, pi] (basic arithmetic only). */
const COS = new Float64Array(ANGLE_STEPS);
const SIN = new Float64Array(ANGLE_STEPS);
for (let k = 0; k < ANGLE_STEPS; k++) {
  const x = ((k - ANGLE_STEPS / 2) * 2 * PI) / ANGLE_STEPS; // in [-pi, pi)
  let c = 0;
  let s = 0;
  let term = 1; // x^n / n!
  for (let n = 0; n < 40; n++) {
    if (n % 4 === 0) c += term;
    else if (n % 4 === 1) s += term;
    else if (n % 4 === 2) c -= term;
    else s -= term;
    term = (term * x) / (n + 1);
  }
  // x = theta - pi, so cos(theta) = -cos(x), sin(theta) = -sin(x).
  COS[k] = -c;
  SIN[k] = -s;
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
/** Coverage of a pixel by a shape with signed distance d (negative inside), 1 px soft edge. */
const cover = (d: number) => clamp01(0.5 - d);
const frac = (v: number) => v - Math.floor(v);

type Rgb = [number, number, number];

function randomColor(rng: Rng): Rgb {
  return [rng.int(256), rng.int(256), rng.int(256)];
}

function colorDistance(a: Rgb, b: Rgb): number {
  const dr = a[0] - b[0];
  const dg = a[1] - b[1];
  const db = a[2] - b[2];
  return Math.sqrt(dr * dr + dg * dg + db * db);
}

/** A colour at least `min` away from every colour in `others` (gives up after a few tries). */
function contrastingColor(rng: Rng, others: Rgb[], min: number): Rgb {
  let c = randomColor(rng);
  for (let tries = 0; tries < 20 && others.some((o) => colorDistance(c, o) < min); tries++) c = randomColor(rng);
  return c;
}

// ---------------------------------------------------------------- drawing

/** Signed distance of point (u, v) in the shape's rotated frame, for a shape of size r. */
type Sdf = (u: number, v: number, r: number) => number;

const SHAPES: Record<'disc' | 'square' | 'triangle' | 'ring' | 'cross', Sdf> = {
  disc: (u, v, r) => Math.sqrt(u * u + v * v) - r,
  square: (u, v, r) => Math.max(Math.abs(u), Math.abs(v)) - r * 0.82,
  triangle: (u, v, r) => {
    // Equilateral, circumradius r: three half-planes with normals at 90, 210, 330 degrees.
    const h = 0.8660254037844386;
    return Math.max(v, -h * u - 0.5 * v, h * u - 0.5 * v) - r * 0.5;
  },
  ring: (u, v, r) => Math.abs(Math.sqrt(u * u + v * v) - r * 0.72) - r * 0.26,
  cross: (u, v, r) => {
    const au = Math.abs(u);
    const av = Math.abs(v);
    const w = r * 0.3;
    return Math.min(Math.max(au - r, av - w), Math.max(au - w, av - r));
  },
};

/** Texture value in [0, 1] at (u, v) in the texture's rotated frame, period p. */
type Texture = (u: number, v: number, p: number) => number;

const stripes: Texture = (u, _v, p) => cover((Math.abs(frac(u / p) - 0.5) - 0.25) * p);
const TEXTURES: Record<'stripes' | 'checkerboard' | 'dots', Texture> = {
  stripes,
  checkerboard: (u, v, p) => {
    const a = stripes(u, 0, p);
    const b = stripes(v, 0, p);
    return a * (1 - b) + b * (1 - a);
  },
  dots: (u, v, p) => {
    const du = (frac(u / p) - 0.5) * p;
    const dv = (frac(v / p) - 0.5) * p;
    return cover(Math.sqrt(du * du + dv * dv) - p * 0.27);
  },
};

interface Frame {
  cx: number;
  cy: number;
  cos: number;
  sin: number;
}

function randomFrame(rng: Rng, margin: number): Frame {
  const k = rng.int(ANGLE_STEPS);
  return { cx: rng.range(margin, IMAGE_SIZE - margin), cy: rng.range(margin, IMAGE_SIZE - margin), cos: COS[k], sin: SIN[k] };
}

/** A float RGB canvas (values 0..255). */
class Canvas {
  readonly px = new Float64Array(IMAGE_SIZE * IMAGE_SIZE * 3);
  /** Blends colour `c` with per-pixel coverage `alpha(x, y)` (pixel centres at +0.5). */
  paint(alpha: (x: number, y: number) => number, color: (x: number, y: number) => Rgb | null = () => null, solid?: Rgb): void {
    for (let y = 0; y < IMAGE_SIZE; y++) {
      for (let x = 0; x < IMAGE_SIZE; x++) {
        const a = alpha(x + 0.5, y + 0.5);
        if (a <= 0) continue;
        const c = solid ?? color(x + 0.5, y + 0.5)!;
        const i = (y * IMAGE_SIZE + x) * 3;
        this.px[i] += (c[0] - this.px[i]) * a;
        this.px[i + 1] += (c[1] - this.px[i + 1]) * a;
        this.px[i + 2] += (c[2] - this.px[i + 2]) * a;
      }
    }
  }
}

const local = (f: Frame, x: number, y: number): [number, number] => {
  const dx = x - f.cx;
  const dy = y - f.cy;
  return [dx * f.cos + dy * f.sin, -dx * f.sin + dy * f.cos];
};

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

/** Difficulty knobs (fixed: changing them changes the dataset and its checksums). */
const MIN_CONTRAST = 80;
const MAX_NOISE = 24;
const MAX_CLUTTER = 3;

function drawImage(rng: Rng, label: number, out: Uint8Array, at: number): void {
  const canvas = new Canvas();
  // Background: solid or a linear gradient.
  const bg0 = randomColor(rng);
  const graded = rng.next() < 0.5;
  const bg1 = graded ? mix(bg0, randomColor(rng), rng.range(0.3, 0.8)) : bg0;
  const gk = rng.int(ANGLE_STEPS);
  const gx = COS[gk];
  const gy = SIN[gk];
  canvas.paint(
    () => 1,
    (x, y) => mix(bg0, bg1, clamp01(0.5 + ((x - IMAGE_SIZE / 2) * gx + (y - IMAGE_SIZE / 2) * gy) / IMAGE_SIZE)),
  );
  const fg = contrastingColor(rng, [bg0, bg1], MIN_CONTRAST);
  const fg2 = contrastingColor(rng, [fg], MIN_CONTRAST);
  const name = CLASS_NAMES[label];

  // Clutter behind the object: small blobs and short bars.
  const behind = rng.int(MAX_CLUTTER + 1);
  const clutter = (n: number) => {
    for (let k = 0; k < n; k++) {
      const f = randomFrame(rng, 2);
      const c = randomColor(rng);
      const r = rng.range(1.2, 2.6);
      const bar = rng.next() < 0.5;
      const len = rng.range(2.5, 5);
      canvas.paint((x, y) => {
        const [u, v] = local(f, x, y);
        return cover(bar ? Math.max(Math.abs(u) - len, Math.abs(v) - r * 0.45) : Math.sqrt(u * u + v * v) - r);
      }, undefined, c);
    }
  };
  const isTexture = name === 'stripes' || name === 'checkerboard' || name === 'dots';
  if (!isTexture) clutter(behind);

  if (isTexture) {
    const f = randomFrame(rng, 0);
    const p = name === 'dots' ? rng.range(5.5, 9) : rng.range(4.5, 9);
    const tex = TEXTURES[name];
    canvas.paint((x, y) => {
      const [u, v] = local(f, x, y);
      return tex(u, v, p);
    }, undefined, fg);
  } else {
    const r = rng.range(6, 11.5);
    const f = randomFrame(rng, r + 1);
    const shape = name === 'striped disc' ? SHAPES.disc : name === 'checkered square' ? SHAPES.square : SHAPES[name as keyof typeof SHAPES];
    if (name === 'striped disc' || name === 'checkered square') {
      const tf2 = randomFrame(rng, 0);
      const p = rng.range(4, Math.max(4.5, r * 0.9));
      const tex = name === 'striped disc' ? TEXTURES.stripes : TEXTURES.checkerboard;
      canvas.paint(
        (x, y) => {
          const [u, v] = local(f, x, y);
          return cover(shape(u, v, r));
        },
        (x, y) => {
          const [u, v] = local(tf2, x, y);
          return mix(fg, fg2, tex(u, v, p));
        },
      );
    } else {
      canvas.paint((x, y) => {
        const [u, v] = local(f, x, y);
        return cover(shape(u, v, r));
      }, undefined, fg);
    }
  }
  // Clutter in front.
  clutter(rng.int(MAX_CLUTTER + 1 - behind) + (isTexture ? behind : 0));

  // Noise, then quantize.
  const sigma = rng.range(0, MAX_NOISE);
  const px = canvas.px;
  for (let i = 0; i < px.length; i++) {
    const v = Math.floor(px[i] + sigma * rng.gauss() + 0.5);
    out[at + i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

// ---------------------------------------------------------------- API

export function isSplit(s: unknown): s is Split {
  return typeof s === 'string' && (SPLITS as readonly string[]).includes(s);
}

/** Images [offset, offset + count) of a split. */
export function generateDataset(split: Split, opts: GenerateOptions = {}): Dataset {
  const size = SPLIT_SIZES[split];
  const offset = opts.offset ?? 0;
  const N = opts.count ?? size - offset;
  if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(N) || N < 0 || offset + N > size) {
    throw new RangeError(`demo:${split} has ${size} images; cannot take ${N} from ${offset}.`);
  }
  const per = IMAGE_SIZE * IMAGE_SIZE * CHANNELS;
  const images = new Uint8Array(N * per);
  const labels = new Int32Array(N);
  for (let k = 0; k < N; k++) {
    const i = offset + k;
    labels[k] = i % NUM_CLASSES;
    drawImage(new Rng(hash2(SPLIT_SEEDS[split], i)), labels[k], images, k * per);
  }
  return { split, images, labels, classNames: [...CLASS_NAMES], N, offset };
}

/** How pixel bytes become model inputs: v * scale + offset. */
export type Scaling = 'unit' | 'signed' | 'raw' | { scale: number; offset: number };

export function scalingOf(s: Scaling = 'unit'): { scale: number; offset: number } {
  if (s === 'unit') return { scale: 1 / 255, offset: 0 };
  if (s === 'signed') return { scale: 2 / 255, offset: -1 };
  if (s === 'raw') return { scale: 1, offset: 0 };
  return s;
}

/**
 * Images [start, end) of raw NHWC bytes as a float32 [n, h, w, channels] tensor, scaled ([0, 1] by
 * default). `size` is the side of square images or [height, width].
 */
export function imagesToTensor(images: Uint8Array, start = 0, end?: number, scaling: Scaling = 'unit', size: number | [number, number] = IMAGE_SIZE, channels = CHANNELS): tf.Tensor4D {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  const per = h * w * channels;
  const total = Math.floor(images.length / per);
  const stop = end ?? total;
  if (start < 0 || stop > total || stop < start) throw new RangeError(`images [${start}, ${stop}) out of 0..${total}.`);
  const { scale, offset } = scalingOf(scaling);
  const data = new Float32Array((stop - start) * per);
  const src = images.subarray(start * per, stop * per);
  for (let i = 0; i < src.length; i++) data[i] = src[i] * scale + offset;
  return tf.tensor4d(data, [stop - start, h, w, channels]);
}

/** A slice of a dataset as a float tensor. */
export function datasetToTensor(ds: Dataset, start = 0, end = ds.N, scaling: Scaling = 'unit'): tf.Tensor4D {
  return imagesToTensor(ds.images, start, end, scaling);
}

/** FNV-1a (32-bit, core/hash.ts) over bytes, as 8 hex digits. */
export function fnv1a(bytes: Uint8Array, seed = FNV_OFFSET): string {
  return hex32(fnv1a32(bytes, seed));
}

/** FNV-1a over the first `count` images (bytes) and their labels (one byte each): the cross-runtime check. */
export function datasetChecksum(split: Split, count = SPLIT_SIZES[split]): string {
  const ds = generateDataset(split, { count });
  const bytes = new Uint8Array(ds.images.length + ds.N);
  bytes.set(ds.images);
  for (let i = 0; i < ds.N; i++) bytes[ds.images.length + i] = ds.labels[i];
  return fnv1a(bytes);
}
