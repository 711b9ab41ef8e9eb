/**
 * The fixed input the original and the pruned model both see when compared: uniform numbers in
 * [0, 1) from a seeded generator (mulberry32), so the same on every device and in tests.
 */
export const SAMPLE_SEED = 2018;

export function sampleValues(size: number, seed = SAMPLE_SEED): Float32Array {
  const out = new Float32Array(size);
  let a = seed >>> 0;
  for (let i = 0; i < size; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

/** One array per model input (seed + input index), in the model's input order. */
export function sampleInputs(shapes: number[][], seed = SAMPLE_SEED): Float32Array[] {
  return shapes.map((s, i) => sampleValues(s.reduce((p, d) => p * d, 1), seed + i));
}

/** The first sample of an output, summarized: argmax, the top values, the values themselves. */
export interface OutputSummary {
  shape: number[];
  /** Values of the first sample (batch index 0), flattened. */
  values: number[];
  argmax: number;
  top: { index: number; value: number }[];
}

export function summarizeOutput(shape: number[], data: ArrayLike<number>, topK = 3): OutputSummary {
  const per = shape.slice(1).reduce((p, d) => p * d, 1);
  const values = Array.from({ length: Math.min(per, data.length) }, (_, i) => data[i]);
  const order = values.map((_, i) => i).sort((x, y) => values[y] - values[x]);
  return { shape, values, argmax: order[0] ?? -1, top: order.slice(0, topK).map((index) => ({ index, value: values[index] })) };
}

/** Largest |a - b| over every output; Infinity when the outputs differ in shape. */
export function maxAbsDiff(a: OutputSummary[], b: OutputSummary[]): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let k = 0; k < a.length; k++) {
    if (a[k].values.length !== b[k].values.length) return Infinity;
    for (let i = 0; i < a[k].values.length; i++) m = Math.max(m, Math.abs(a[k].values[i] - b[k].values[i]));
  }
  return m;
}
