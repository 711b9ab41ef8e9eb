/**
 * Row-major array helpers for weights: slice one axis by an index list, and reduce every other
 * axis to one number per index (for channel norms). Plain loops over typed arrays: fast in every
 * backend and no tensors to dispose.
 */
type Values = Float32Array | Int32Array | Uint8Array;

function strides(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return { outer, n: shape[axis], inner };
}

export function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Keeps `indices` (ascending) along `axis`. */
export function sliceAxis<T extends Values>(values: T, shape: readonly number[], axis: number, indices: ArrayLike<number>): { values: T; shape: number[] } {
  const ax = normalizeAxis(axis, shape.length);
  const { outer, n, inner } = strides(shape, ax);
  const k = indices.length;
  const out = new (values.constructor as new (len: number) => T)(outer * k * inner);
  for (let o = 0; o < outer; o++) {
    const src = o * n * inner;
    const dst = o * k * inner;
    for (let j = 0; j < k; j++) {
      const from = src + indices[j] * inner;
      out.set(values.subarray(from, from + inner) as never, dst + j * inner);
    }
  }
  const newShape = [...shape];
  newShape[ax] = k;
  return { values: out, shape: newShape };
}

/** Sum of |x| (l1) or x^2 (l2sq) over every axis but `axis`: one number per index of `axis`. */
export function reduceToAxis(values: Values, shape: readonly number[], axis: number, kind: 'l1' | 'l2sq'): Float64Array {
  const ax = normalizeAxis(axis, shape.length);
  const { outer, n, inner } = strides(shape, ax);
  const out = new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < n; i++) {
      const base = (o * n + i) * inner;
      let s = 0;
      for (let j = 0; j < inner; j++) {
        const v = values[base + j];
        s += kind === 'l1' ? Math.abs(v) : v * v;
      }
      out[i] += s;
    }
  }
  return out;
}
