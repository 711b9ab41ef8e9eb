/**
 * Image sets as the models see them: N images of the model's input height x width x channels,
 * as raw bytes (NHWC), the layout evaluation takes (src/core/measure/accuracy.ts).
 *
 * Preprocessing, the same in the app and the CLI:
 * - centre crop to the model's aspect ratio (the largest centred region of that shape), then resize
 *   to the input size (no stretching: a wide photo loses its sides, as Teachable Machine does);
 *   the CLI resizes with an antialiased bilinear filter in JavaScript, the browser with its own
 *   high-quality canvas scaling, so only images that need resizing can differ by a grey level;
 * - alpha is ignored (a fully transparent pixel counts as black, as canvases read it);
 * - 1-channel models get luma (0.299 R + 0.587 G + 0.114 B), 3-channel models RGB;
 * - scaling to floats ([0, 1], [-1, 1] or 0-255) happens at evaluation time, not here.
 */
import type { Scaling } from './procedural';
import { scalingOf } from './procedural';

/** The input an image classifier takes: height x width x channels (1 or 3). */
export interface InputSpec {
  height: number;
  width: number;
  channels: 1 | 3;
}

export interface ImageSet {
  /** n * height * width * channels bytes, NHWC. */
  images: Uint8Array;
  n: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** Output index per image, for labeled sets. */
  labels?: Int32Array;
  /** Class name per output index, where known. */
  classNames?: string[];
  /** Where each image came from (file path, or "demo:test #12"). */
  names: string[];
}

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'gif', 'webp', 'bmp'] as const;

/** True for file names an image decoder should try (by extension; hidden files excluded). */
export function isImagePath(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name.startsWith('.')) return false;
  const dot = name.lastIndexOf('.');
  return dot > 0 && (IMAGE_EXTENSIONS as readonly string[]).includes(name.slice(dot + 1).toLowerCase());
}

/** The largest centred region of `srcW x srcH` with the aspect ratio of `dstW x dstH`. */
export function centreCrop(srcW: number, srcH: number, dstW: number, dstH: number): { sx: number; sy: number; sw: number; sh: number } {
  let sw = srcW;
  let sh = Math.round((srcW * dstH) / dstW);
  if (sh > srcH) {
    sh = srcH;
    sw = Math.min(srcW, Math.round((srcH * dstW) / dstH));
  }
  sw = Math.max(1, sw);
  sh = Math.max(1, sh);
  return { sx: Math.floor((srcW - sw) / 2), sy: Math.floor((srcH - sh) / 2), sw, sh };
}

/** Resampling weights along one axis (antialiased triangle filter; identity when sizes match). */
function axisWeights(srcLen: number, dstLen: number): { start: Int32Array; count: Int32Array; w: Float64Array; taps: number } {
  const scale = srcLen / dstLen;
  const support = Math.max(1, scale);
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(dstLen);
  const count = new Int32Array(dstLen);
  const w = new Float64Array(dstLen * taps);
  for (let x = 0; x < dstLen; x++) {
    const centre = (x + 0.5) * scale - 0.5;
    const lo = Math.max(0, Math.ceil(centre - support + 1e-9));
    const hi = Math.min(srcLen - 1, Math.floor(centre + support - 1e-9));
    let sum = 0;
    let k = 0;
    for (let i = lo; i <= hi && k < taps; i++, k++) {
      const v = Math.max(0, 1 - Math.abs(i - centre) / support);
      w[x * taps + k] = v;
      sum += v;
    }
    if (sum === 0) {
      // Upscaling past the edge: nearest source pixel.
      const i = Math.min(srcLen - 1, Math.max(0, Math.round(centre)));
      start[x] = i;
      count[x] = 1;
      w[x * taps] = 1;
      continue;
    }
    for (let j = 0; j < k; j++) w[x * taps + j] /= sum;
    start[x] = lo;
    count[x] = k;
  }
  return { start, count, w, taps };
}

/**
 * RGBA pixels (`width x height`, e.g. a decoded PNG) -> the model's input: centre crop, resize,
 * channels. Returns spec.height * spec.width * spec.channels bytes.
 */
export function fitRgba(rgba: Uint8Array, width: number, height: number, spec: InputSpec): Uint8Array {
  const { sx, sy, sw, sh } = centreCrop(width, height, spec.width, spec.height);
  const dw = spec.width;
  const dh = spec.height;
  const hx = axisWeights(sw, dw);
  const hy = axisWeights(sh, dh);
  // Horizontal pass: sh rows x dw columns x RGB.
  const tmp = new Float64Array(sh * dw * 3);
  for (let y = 0; y < sh; y++) {
    const rowBase = ((sy + y) * width + sx) * 4;
    for (let x = 0; x < dw; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < hx.count[x]; k++) {
        const wt = hx.w[x * hx.taps + k];
        const p = rowBase + (hx.start[x] + k) * 4;
        if (rgba[p + 3] === 0) continue; // transparent reads as black
        r += wt * rgba[p];
        g += wt * rgba[p + 1];
        b += wt * rgba[p + 2];
      }
      const t = (y * dw + x) * 3;
      tmp[t] = r;
      tmp[t + 1] = g;
      tmp[t + 2] = b;
    }
  }
  const out = new Uint8Array(dw * dh * spec.channels);
  const q = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < hy.count[y]; k++) {
        const wt = hy.w[y * hy.taps + k];
        const t = ((hy.start[y] + k) * dw + x) * 3;
        r += wt * tmp[t];
        g += wt * tmp[t + 1];
        b += wt * tmp[t + 2];
      }
      const o = (y * dw + x) * spec.channels;
      if (spec.channels === 1) out[o] = lumaOf(q(r), q(g), q(b));
      else {
        out[o] = q(r);
        out[o + 1] = q(g);
        out[o + 2] = q(b);
      }
    }
  }
  return out;
}

/** Luma of 8-bit RGB, rounded (ITU-R BT.601 weights, as tf.image.rgbToGrayscale). */
export function lumaOf(r: number, g: number, b: number): number {
  return Math.round(0.299 * r + 0.587 * g + 0.114 * b);
}

/** Raw RGB/gray images (`from` channels, `h x w`) -> `spec`: crop, resize and channel change per image. */
export function conformImages(images: Uint8Array, n: number, h: number, w: number, from: 1 | 3, spec: InputSpec): Uint8Array {
  if (h === spec.height && w === spec.width && from === spec.channels) return images;
  const per = h * w * from;
  const outPer = spec.height * spec.width * spec.channels;
  const out = new Uint8Array(n * outPer);
  const rgba = new Uint8Array(h * w * 4);
  for (let i = 0; i < n; i++) {
    const src = images.subarray(i * per, (i + 1) * per);
    for (let p = 0; p < h * w; p++) {
      rgba[p * 4] = src[p * from];
      rgba[p * 4 + 1] = src[p * from + (from === 3 ? 1 : 0)];
      rgba[p * 4 + 2] = src[p * from + (from === 3 ? 2 : 0)];
      rgba[p * 4 + 3] = 255;
    }
    out.set(fitRgba(rgba, w, h, spec), i * outPer);
  }
  return out;
}

/**
 * One image of a set as RGBA for display, drawn as the model will see it after `scaling`:
 * 0 is black, 1 is white, values outside [0, 1] are clipped (how tf.browser.toPixels draws floats).
 * With the right scaling for a [0, 1] model the image looks natural; [-1, 1] looks dark and harsh,
 * 0-255 looks blown out. Also returns the range of input values.
 */
export function previewRgba(set: Pick<ImageSet, 'images' | 'height' | 'width' | 'channels'>, index: number, scaling: Scaling): { rgba: Uint8ClampedArray<ArrayBuffer>; min: number; max: number } {
  const { scale, offset } = scalingOf(scaling);
  const { height, width, channels } = set;
  const per = height * width * channels;
  const src = set.images.subarray(index * per, (index + 1) * per);
  const rgba = new Uint8ClampedArray(height * width * 4);
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0; p < height * width; p++) {
    for (let c = 0; c < 3; c++) {
      const v = src[p * channels + (channels === 3 ? c : 0)] * scale + offset;
      if (v < min) min = v;
      if (v > max) max = v;
      rgba[p * 4 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
    rgba[p * 4 + 3] = 255;
  }
  return { rgba, min, max };
}

/** `count` indices spread over [0, n), one per class first when labels are given. */
export function previewIndices(n: number, count: number, labels?: Int32Array): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  const picked: number[] = [];
  if (labels) {
    const seen = new Set<number>();
    for (let i = 0; i < n && picked.length < count; i++) {
      if (!seen.has(labels[i])) {
        seen.add(labels[i]);
        picked.push(i);
      }
    }
  }
  for (let k = 0; picked.length < count && k < count * 4; k++) {
    const i = Math.floor(((k + 0.5) * n) / count) % n;
    if (!picked.includes(i)) picked.push(i);
  }
  return picked.sort((a, b) => a - b);
}

/** The scalings a user can choose, by name. */
export type ScalingName = 'unit' | 'signed' | 'raw';
export const SCALINGS: readonly ScalingName[] = ['unit', 'signed', 'raw'];
export const SCALING_LABELS: Readonly<Record<ScalingName, string>> = { unit: '[0, 1]', signed: '[-1, 1]', raw: '0-255' };

export function isScalingName(s: unknown): s is ScalingName {
  return typeof s === 'string' && (SCALINGS as readonly string[]).includes(s);
}

/** True when the model came with a Teachable Machine metadata.json (those models take [-1, 1]). */
export function hasTeachableMachineMetadata(sidecars: Record<string, unknown>): boolean {
  const meta = sidecars['metadata.json'] as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object') return false;
  return 'tmVersion' in meta || /teachablemachine/i.test(String(meta.packageName ?? '')) || Array.isArray(meta.labels);
}

/** [-1, 1] for a model that came with a Teachable Machine metadata.json, else [0, 1]. */
export function defaultScaling(sidecars: Record<string, unknown>): ScalingName {
  return hasTeachableMachineMetadata(sidecars) ? 'signed' : 'unit';
}

/** `imageSize` of a Teachable Machine metadata.json, when it has one. */
export function metadataImageSize(sidecars: Record<string, unknown>): number | undefined {
  const s = (sidecars['metadata.json'] as { imageSize?: unknown } | undefined)?.imageSize;
  return typeof s === 'number' && Number.isInteger(s) && s > 0 ? s : undefined;
}

/**
 * The image input of a model from its first input's shape ([batch, h, w, c]); unknown height or
 * width take `assumedSize`. Throws an Error saying why when it is not an image input of 1 or 3 channels.
 */
export function inputSpecOf(shape: readonly (number | null | undefined)[], assumedSize: number): InputSpec {
  const fmt = `[${shape.map((d) => (d === null || d === undefined || d < 0 ? '?' : d)).join(', ')}]`;
  if (shape.length !== 4) throw new Error(`the model's input has shape ${fmt}, not [batch, height, width, channels] images.`);
  const c = shape[3];
  if (c !== 1 && c !== 3) throw new Error(`the model's input has shape ${fmt}: ${c ?? 'unknown'} channels; images need 1 (grayscale) or 3 (RGB).`);
  const dim = (d: number | null | undefined) => (typeof d === 'number' && d > 0 ? d : assumedSize);
  return { height: dim(shape[1]), width: dim(shape[2]), channels: c };
}
