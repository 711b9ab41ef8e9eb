/**
 * Weight quantization on export, in the format `tensorflowjs_converter --quantize_float16` and
 * `--quantize_uint8` write, so stock `tf.loadLayersModel` (and our own loader) read it back:
 *
 * - float16: `{dtype: 'float32', quantization: {dtype: 'float16', original_dtype: 'float32'}}`,
 *   each value rounded to the nearest half float (ties to even, as numpy's `astype(float16)`).
 * - uint8: `{dtype: 'float32', quantization: {dtype: 'uint8', min, scale, original_dtype: 'float32'}}`,
 *   one affine range per tensor; a value is stored as `q` and read back as `q * scale + min`.
 *   The range is the tensor's [min, max], nudged (as TF-Lite does) so that 0 is exactly
 *   representable when the range covers it; a constant tensor is stored as zeros with scale 1.
 *
 * Only float32 weights are quantized (int32 and bool stay as they are), and a float32 weight that
 * the format cannot represent faithfully (NaN/Infinity for uint8, finite values beyond the float16
 * range) stays float32 instead of turning into garbage. Callers see this in the spec: no
 * `quantization` field.
 */
import type { WeightArray } from '../model/types';
import { decodeWeight, elementCount, storedBytes, type ManifestWeight } from '../model/weights';

export type Quantization = 'float16' | 'uint8';

export const QUANTIZATIONS: readonly Quantization[] = ['float16', 'uint8'];

export interface QuantizedWeights {
  specs: ManifestWeight[];
  data: ArrayBuffer;
}

/** Largest finite half float. */
const FLOAT16_MAX = 65504;
const UINT8_MAX = 255;

// ---------------------------------------------------------------- float16

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The half-float bits nearest to `x` (rounded to float32 first), ties to even; overflow gives ±Infinity. */
export function float32ToFloat16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Infinity or NaN
  const e = exp - 127 + 15; // the exponent as a half float would store it
  if (e >= 31) return sign | 0x7c00; // too large: Infinity
  if (e <= 0) {
    // A half subnormal (or zero): value = m * 2^-24 with m = (1.mant) * 2^(e - 14 + 23) / 2^23.
    if (e < -10) return sign; // below half the smallest subnormal: rounds to (signed) zero
    const full = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let h = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++; // may carry into the smallest normal: correct
    return sign | h;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry into the exponent (even to Infinity) is correct
  return h;
}

// ---------------------------------------------------------------- uint8

/** numpy's `np.round`: to the nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties toward +Infinity
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface AffineRange {
  /** Dequantize as `q * scale + min`. */
  scale: number;
  min: number;
  /** The largest value the range holds: `255 * scale + min` (values above are clipped to it). */
  max: number;
}

/**
 * The converter's per-tensor uint8 range (quantization.py `quantize_weights` and
 * `_get_affine_quantization_range`), in float64: scale = (max - min) / 255; if min <= 0 <= max the
 * zero point round(-min / scale) is made an integer and the range shifted by under scale/2 so
 * 0 is exact; otherwise the range is left alone. A constant tensor gets scale 1 and min = its value.
 */
export function uint8Range(min: number, max: number): AffineRange {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new RangeError(`uint8Range needs finite min <= max, got [${min}, ${max}].`);
  }
  if (min === max) return { scale: 1, min, max };
  const scale = (max - min) / UINT8_MAX;
  if (min <= 0 && 0 <= max) {
    const zeroPoint = roundHalfEven((0 - min) / scale);
    const nudgedMin = zeroPoint === 0 ? 0 : -zeroPoint * scale;
    return { scale, min: nudgedMin, max: UINT8_MAX * scale + nudgedMin };
  }
  return { scale, min, max };
}

/** The stored uint8 for `x` under `r`: clipped to the range, then round((x - min) / scale), ties to even. */
export function uint8Quantize(x: number, r: AffineRange): number {
  if (r.min === r.max) return 0;
  const clipped = x < r.min ? r.min : x > r.max ? r.max : x;
  const q = roundHalfEven((clipped - r.min) / r.scale);
  return q < 0 ? 0 : q > UINT8_MAX ? UINT8_MAX : q;
}

// ---------------------------------------------------------------- one weight

interface Encoded {
  spec: ManifestWeight;
  bytes: Uint8Array;
  /** A priori bound on |dequantized - original| over the tensor; 0 when stored exactly. */
  bound: number;
}

/** Largest finite |x| (NaN and Infinity are stored exactly by float16, so they add no error). */
function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a > m && a !== Infinity) m = a;
  }
  return m;
}

function plain(w: WeightArray): Encoded {
  const bytes = new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength);
  return { spec: { name: w.name, shape: [...w.shape], dtype: w.dtype }, bytes, bound: 0 };
}

function encodeFloat16(w: WeightArray): Encoded {
  const src = w.values as Float32Array;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    // Finite values the half range cannot hold would turn into Infinity: keep the tensor exact.
    if (Number.isFinite(v) && Math.abs(v) > FLOAT16_MAX) return plain(w);
  }
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = float32ToFloat16Bits(src[i]);
  // Normal halves: error <= half an ulp <= 2^-11 |x|; subnormals: <= 2^-25 absolute.
  const m = maxAbs(src);
  return {
    spec: { name: w.name, shape: [...w.shape], dtype: 'float32', quantization: { dtype: 'float16', original_dtype: 'float32' } },
    bytes: new Uint8Array(out.buffer),
    bound: Math.max(m * 2 ** -11, 2 ** -25),
  };
}

function encodeUint8(w: WeightArray): Encoded {
  const src = w.values as Float32Array;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (!Number.isFinite(v)) return plain(w); // NaN/Infinity have no affine code: keep the tensor exact
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (src.length === 0) return plain(w);
  const r = uint8Range(lo, hi);
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = uint8Quantize(src[i], r);
  // Rounding moves a value by at most scale/2, and clipping at the nudged ends by at most the
  // nudge (itself <= scale/2). The slack covers reading back in float32 (tfjs computes
  // q * scale + min in float64 and stores float32: half an ulp of a value <= max|x| + scale).
  const bound = lo === hi ? 0 : r.scale / 2 + 2 ** -24 * (Math.max(Math.abs(lo), Math.abs(hi)) + r.scale);
  return {
    spec: {
      name: w.name,
      shape: [...w.shape],
      dtype: 'float32',
      quantization: { dtype: 'uint8', min: r.min, scale: r.scale, original_dtype: 'float32' },
    },
    bytes: out,
    bound,
  };
}

function encodeOne(w: WeightArray, quantization: Quantization | undefined): Encoded {
  if (quantization === undefined || w.dtype !== 'float32') return plain(w);
  if (elementCount(w.shape) !== w.values.length) {
    throw new RangeError(`weight '${w.name}' has ${w.values.length} values but its shape [${w.shape.join(', ')}] needs ${elementCount(w.shape)}.`);
  }
  if (quantization === 'float16') return encodeFloat16(w);
  if (quantization === 'uint8') return encodeUint8(w);
  throw new RangeError(`unknown quantization '${String(quantization)}': use ${QUANTIZATIONS.join(' or ')}.`);
}

function concat(parts: readonly Encoded[]): QuantizedWeights {
  const total = parts.reduce((s, p) => s + p.bytes.byteLength, 0);
  const data = new ArrayBuffer(total);
  const bytes = new Uint8Array(data);
  let offset = 0;
  for (const p of parts) {
    bytes.set(p.bytes, offset);
    offset += p.bytes.byteLength;
  }
  return { specs: parts.map((p) => p.spec), data };
}

// ---------------------------------------------------------------- public

/**
 * Weights into one shard and its manifest entries, float32 weights quantized as the converter
 * does; `undefined` writes everything unquantized (the same bytes as `encodeWeights`).
 */
export function quantizeWeights(weights: readonly WeightArray[], quantization?: Quantization): QuantizedWeights {
  return concat(weights.map((w) => encodeOne(w, quantization)));
}

/** What a loader reads back from a shard: the dequantized weights, in manifest order. */
export function dequantizeWeights(q: QuantizedWeights): WeightArray[] {
  let offset = 0;
  return q.specs.map((spec) => {
    const w = decodeWeight(spec, q.data, offset);
    offset += storedBytes(spec)!;
    return w;
  });
}

export interface WeightQuantizationError {
  name: string;
  /** How the weight is stored: 'float16', 'uint8', or its own dtype when left unquantized. */
  storedAs: string;
  /** max |dequantized - original| over the tensor, as tfjs will read it back. */
  maxAbsError: number;
  /**
   * A priori bound on maxAbsError from the format alone: uint8 scale/2 (plus float32 read-back
   * slack), float16 2^-11 max|x| (2^-25 for subnormals); 0 when stored exactly.
   */
  bound: number;
  /** uint8 only: the range's step (the error is at most half of it). */
  scale?: number;
}

/** Per weight: how far quantization moves it, measured and bounded, so callers can bound outputs. */
export function quantizationErrors(weights: readonly WeightArray[], quantization: Quantization): WeightQuantizationError[] {
  return weights.map((w) => {
    const e = encodeOne(w, quantization);
    const buffer = e.bytes.buffer.slice(e.bytes.byteOffset, e.bytes.byteOffset + e.bytes.byteLength) as ArrayBuffer;
    const back = decodeWeight(e.spec, buffer, 0).values;
    let maxErr = 0;
    for (let i = 0; i < back.length; i++) {
      const d = Math.abs(back[i] - w.values[i]); // NaN (NaN or Infinity stored as itself) never counts
      if (d > maxErr) maxErr = d;
    }
    return {
      name: w.name,
      storedAs: e.spec.quantization?.dtype ?? e.spec.dtype,
      maxAbsError: maxErr,
      bound: e.bound,
      ...(e.spec.quantization?.dtype === 'uint8' ? { scale: e.spec.quantization.scale } : {}),
    };
  });
}
