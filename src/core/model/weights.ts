/**
 * Weight shards <-> named float arrays. Quantized weights (uint8, uint16, float16) are dequantized
 * on load, so every later step works on float32 and the exported model is float32 unless asked.
 */
import type { WeightArray, WeightDtype } from './types';

export interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

export interface ManifestGroup {
  paths: string[];
  weights: ManifestWeight[];
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytes one manifest entry occupies in its shard, or undefined for a dtype we cannot read. */
export function storedBytes(w: ManifestWeight): number | undefined {
  const dtype = w.quantization?.dtype ?? w.dtype;
  const per = Object.hasOwn(BYTES_PER_ELEMENT, dtype) ? BYTES_PER_ELEMENT[dtype] : undefined;
  return per === undefined ? undefined : per * elementCount(w.shape);
}

const float16Table = (() => {
  // Exponent/mantissa decoding of all 65536 half floats, computed once (tfjs does the same).
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * 2 ** -14 * (frac / 1024);
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return t;
})();

/** Decodes one entry from `buffer` at `offset` (the caller has checked the bounds). */
export function decodeWeight(w: ManifestWeight, buffer: ArrayBuffer, offset: number): WeightArray {
  const n = elementCount(w.shape);
  const q = w.quantization;
  const dtype: WeightDtype = w.dtype === 'int32' ? 'int32' : w.dtype === 'bool' ? 'bool' : 'float32';
  let values: Float32Array | Int32Array | Uint8Array;
  if (q) {
    const out = new Float32Array(n);
    if (q.dtype === 'float16') {
      const src = new Uint16Array(buffer.slice(offset, offset + 2 * n));
      for (let i = 0; i < n; i++) out[i] = float16Table[src[i]];
    } else {
      const src = q.dtype === 'uint16' ? new Uint16Array(buffer.slice(offset, offset + 2 * n)) : new Uint8Array(buffer, offset, n);
      const scale = q.scale ?? 1;
      const min = q.min ?? 0;
      for (let i = 0; i < n; i++) out[i] = src[i] * scale + min;
    }
    values = dtype === 'int32' ? Int32Array.from(out, Math.round) : out;
  } else if (dtype === 'int32') {
    values = new Int32Array(buffer.slice(offset, offset + 4 * n));
  } else if (dtype === 'bool') {
    values = new Uint8Array(buffer.slice(offset, offset + n));
  } else {
    values = new Float32Array(buffer.slice(offset, offset + 4 * n));
  }
  return { name: w.name, shape: [...w.shape], dtype, values, storedAs: q?.dtype ?? w.dtype };
}

/** Weights back into one float32 shard with its manifest entries (what tf.io.fromMemory takes). */
export function encodeWeights(weights: readonly WeightArray[]): { specs: ManifestWeight[]; data: ArrayBuffer } {
  const total = weights.reduce((s, w) => s + w.values.byteLength, 0);
  const data = new ArrayBuffer(total);
  const bytes = new Uint8Array(data);
  let offset = 0;
  const specs = weights.map((w) => {
    bytes.set(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength), offset);
    offset += w.values.byteLength;
    return { name: w.name, shape: [...w.shape], dtype: w.dtype };
  });
  return { specs, data };
}
