import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFiles, exportModel, memoryFile } from '../../testing/fixtures';
import { loadModel } from '../model/load';
import type { LoadedModel, WeightArray } from '../model/types';
import { decodeWeight, encodeWeights, type ManifestWeight } from '../model/weights';
import { exportFiles, MODEL_FILE, WEIGHTS_FILE } from './files';
import {
  dequantizeWeights,
  float32ToFloat16Bits,
  quantizationErrors,
  quantizeWeights,
  roundHalfEven,
  uint8Quantize,
  uint8Range,
  type Quantization,
} from './quantize';

const f32 = (xs: number[]) => Float32Array.from(xs);
const weight = (name: string, values: Float32Array | Int32Array | Uint8Array, dtype: WeightArray['dtype'] = 'float32'): WeightArray => ({
  name,
  shape: [values.length],
  dtype,
  values,
  storedAs: dtype,
});
/** What a reader gets back for one weight, read through the project's decoder (the tfjs formula). */
const roundTrip = (w: WeightArray, q: Quantization) => {
  const out = quantizeWeights([w], q);
  return { spec: out.specs[0], stored: new Uint8Array(out.data), back: Array.from(decodeWeight(out.specs[0], out.data, 0).values) };
};

/** Every half float, decoded by the project's (tfjs-equivalent) table. */
const allHalves = decodeWeight({ name: 'h', shape: [65536], dtype: 'float32', quantization: { dtype: 'float16' } }, Uint16Array.from({ length: 65536 }, (_, i) => i).buffer, 0)
  .values as Float32Array;

describe('float16 rounding', () => {
  it('gives back every half float exactly (sign of zero included), NaN as NaN', () => {
    for (let h = 0; h < 65536; h++) {
      const v = allHalves[h];
      if (Number.isNaN(v)) expect((float32ToFloat16Bits(v) & 0x7c00) === 0x7c00 && (float32ToFloat16Bits(v) & 0x3ff) !== 0).toBe(true);
      else if (float32ToFloat16Bits(v) !== h) throw new Error(`half 0x${h.toString(16)} (${v}) came back as 0x${float32ToFloat16Bits(v).toString(16)}`);
    }
  });

  it('rounds to nearest, ties to even, across normals, subnormals and the normal/subnormal border', () => {
    // Between each pair of neighbouring positive finite halves: the midpoint (exact in float32)
    // goes to the even one; a float32 step either side goes to the nearer one.
    const below = (x: number) => {
      const a = new Float32Array([x]);
      new Uint32Array(a.buffer)[0]--;
      return a[0];
    };
    const above = (x: number) => {
      const a = new Float32Array([x]);
      new Uint32Array(a.buffer)[0]++;
      return a[0];
    };
    for (let h = 0; h < 0x7bff; h++) {
      const mid = (allHalves[h] + allHalves[h + 1]) / 2;
      expect(Math.fround(mid)).toBe(mid);
      const even = h % 2 === 0 ? h : h + 1;
      if (float32ToFloat16Bits(mid) !== even || float32ToFloat16Bits(below(mid)) !== h || float32ToFloat16Bits(above(mid)) !== h + 1) {
        throw new Error(`rounding between halves 0x${h.toString(16)} and 0x${(h + 1).toString(16)} is wrong`);
      }
    }
  });

  it('overflows past 65504 (ties included) to Infinity and underflows below 2^-25 to zero, keeping the sign', () => {
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65519)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // the tie above the largest half goes to "even": Infinity
    expect(float32ToFloat16Bits(-1e9)).toBe(0xfc00);
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal
    expect(float32ToFloat16Bits(2 ** -25 * 1.5)).toBe(1);
    expect(float32ToFloat16Bits(-(2 ** -30))).toBe(0x8000);
    expect(float32ToFloat16Bits(1e-45)).toBe(0); // float32 subnormal
  });
});

describe('uint8 range as tensorflowjs_converter computes it', () => {
  it('rounds ties to even like np.round', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3]);
  });

  it('stores a constant tensor as zeros with scale 1 and min = the value (no division by zero)', () => {
    for (const c of [0.7, 0, -3.25]) {
      const { spec, stored, back } = roundTrip(weight('w', f32([c, c, c])), 'uint8');
      expect(spec.quantization).toEqual({ dtype: 'uint8', min: Math.fround(c), scale: 1, original_dtype: 'float32' });
      expect([...stored]).toEqual([0, 0, 0]);
      expect(back).toEqual([Math.fround(c), Math.fround(c), Math.fround(c)]);
    }
    expect(uint8Range(5, 5)).toEqual({ scale: 1, min: 5, max: 5 });
  });

  it('leaves an all-positive or all-negative range alone (no nudge when 0 is outside it)', () => {
    expect(uint8Range(1, 3.55)).toEqual({ scale: 2.55 / 255, min: 1, max: 3.55 });
    expect(uint8Range(-4, -1)).toEqual({ scale: 3 / 255, min: -4, max: -1 });
    const { spec, stored, back } = roundTrip(weight('w', f32([1, 2, 3.5, 1.25])), 'uint8');
    expect(spec.quantization).toMatchObject({ min: 1, scale: 2.5 / 255 });
    expect([...stored]).toEqual([0, 102, 255, 26]); // (x - 1) / (2.5/255): 0, 102, 255, 25.5 -> 26 (tie to even)
    expect(back[0]).toBe(1);
    expect(back[2]).toBeCloseTo(3.5, 6);
  });

  it('nudges a range that covers 0 so that 0 is stored exactly', () => {
    // [-1, 3]: scale 4/255, zero point 63.75 -> 64, min = -64 * scale, max = 191 * scale.
    const s = 4 / 255;
    expect(uint8Range(-1, 3)).toEqual({ scale: s, min: -64 * s, max: 255 * s - 64 * s });
    // [-1, 1]: zero point exactly 127.5 -> 128 (ties to even), not 127.
    expect(uint8Range(-1, 1).min).toBe(-128 * (2 / 255));
    // 0 at an end of the range: min stays 0 (and is +0, not -0).
    expect(Object.is(uint8Range(0, 2).min, 0)).toBe(true);
    expect(uint8Range(-2, 0)).toEqual({ scale: 2 / 255, min: -2, max: 0 });

    const { stored, back } = roundTrip(weight('w', f32([-1, 0, 3, 0, 0.5])), 'uint8');
    expect([...stored]).toEqual([0, 64, 255, 64, 96]);
    expect(back[1]).toBe(0);
    expect(back[3]).toBe(0);
    // The nudged range ends at 191 * scale < 3: the top value is clipped, by less than scale/2.
    expect(3 - back[2]).toBeGreaterThan(0);
    expect(3 - back[2]).toBeLessThanOrEqual(s / 2);
    expect(uint8Quantize(10, uint8Range(-1, 3))).toBe(255);
    expect(uint8Quantize(-10, uint8Range(-1, 3))).toBe(0);
  });

  it('keeps every exact zero of a pruned-looking tensor exactly zero', () => {
    const values = Float32Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? 0 : Math.sin(i) * (1 + (i % 5))));
    const { back } = roundTrip(weight('w', values), 'uint8');
    values.forEach((v, i) => v === 0 && expect(back[i]).toBe(0));
  });
});

describe('quantizeWeights', () => {
  const ints = weight('emb/ids', Int32Array.from([7, -3, 100000]), 'int32');
  const bools = weight('mask/m', Uint8Array.from([1, 0, 1]), 'bool');
  const odd = weight('a/kernel', f32([0.25, -0.5, 0.125])); // 3 bytes as uint8: what follows is unaligned
  const wide = weight('b/kernel', f32([1e5, -2, 0.5])); // beyond the float16 range
  const bad = weight('c/kernel', f32([NaN, 1, 2]));

  it('leaves int32, bool and unrepresentable float32 weights unquantized, and keeps offsets right', async () => {
    for (const q of ['float16', 'uint8'] as const) {
      const weights = [odd, ints, bools, wide, bad];
      const out = quantizeWeights(weights, q);
      const stored = out.specs.map((s) => s.quantization?.dtype ?? s.dtype);
      expect(stored).toEqual([q, 'int32', 'bool', q === 'float16' ? 'float32' : q, q === 'float16' ? q : 'float32']);
      expect(out.specs[1]).toEqual({ name: 'emb/ids', shape: [3], dtype: 'int32' });
      // Our reader and stock tfjs both read every weight back from the one shard.
      const ours = dequantizeWeights(out);
      const theirs = tf.io.decodeWeights(out.data, out.specs as tf.io.WeightsManifestEntry[]);
      expect([...ours[1].values]).toEqual([7, -3, 100000]);
      expect([...ours[2].values]).toEqual([1, 0, 1]);
      const tol = q === 'float16' ? 0 : 0.75 / 255 / 2; // these values are exact halves; uint8 moves them by <= scale/2
      [0.25, -0.5, 0.125].forEach((v, i) => expect(Math.abs(ours[0].values[i] - v)).toBeLessThanOrEqual(tol));
      expect(Array.from(ours[3].values)).toEqual(q === 'float16' ? [1e5, -2, 0.5] : Array.from(ours[3].values));
      for (const [i, s] of out.specs.entries()) {
        expect(Array.from(await theirs[s.name].data())).toEqual(Array.from(ours[i].values));
      }
      tf.dispose(Object.values(theirs));
    }
  });

  it('without a quantization writes the bytes encodeWeights writes', () => {
    const weights = [odd, ints, bools];
    const a = quantizeWeights(weights);
    const b = encodeWeights(weights);
    expect(a.specs).toEqual(b.specs);
    expect(new Uint8Array(a.data)).toEqual(new Uint8Array(b.data));
  });

  it('bounds the error of each weight: uint8 by scale/2, float16 by 2^-11 max|x|', () => {
    const rand = (() => {
      let s = 12345;
      return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    })();
    const tensors = [
      weight('r/a', Float32Array.from({ length: 1000 }, () => rand() * 0.3)),
      weight('r/b', Float32Array.from({ length: 1000 }, () => 2 + rand())),
      weight('r/c', Float32Array.from({ length: 1000 }, () => rand() ** 7 * 1e-3)),
      weight('r/d', f32([0, 0, 0])),
    ];
    for (const q of ['float16', 'uint8'] as const) {
      for (const e of quantizationErrors(tensors, q)) {
        expect(e.storedAs).toBe(q);
        expect(e.maxAbsError).toBeLessThanOrEqual(e.bound);
        if (q === 'uint8' && e.scale !== 1) expect(e.bound).toBeLessThan(e.scale! * 0.51);
      }
    }
    const u = quantizationErrors(tensors, 'uint8');
    expect(u[0].maxAbsError).toBeGreaterThan(u[0].scale! * 0.4); // the bound is tight, not vacuous
    expect(u[3]).toMatchObject({ maxAbsError: 0, bound: 0, scale: 1 });
    expect(quantizationErrors([ints], 'uint8')[0]).toEqual({ name: 'emb/ids', storedAs: 'int32', maxAbsError: 0, bound: 0 });
  });
});

// ---------------------------------------------------------------- a whole model

/** Conv(8, relu) MaxPool Conv(16, valid, relu) GlobalAvgPool Dense(10): small, with the weights a CNN classifier has. */
function convNet(): tf.Sequential {
  return tf.sequential({
    name: 'quant_cnn',
    layers: [
      tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1', inputShape: [16, 16, 3] }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'valid', activation: 'relu', name: 'conv2' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: 10, name: 'fc' }),
    ],
  });
}
const INPUT = [16, 16, 3] as const;
/** Largest fan-in of one output (conv2: 3*3*8) and the number of layers, for float32 rounding slack. */
const MAX_FAN_IN = 3 * 3 * 8;
const LAYERS = 3;
const LAYER_WEIGHTS = ['conv1/kernel', 'conv1/bias', 'conv2/kernel', 'conv2/bias', 'fc/kernel', 'fc/bias'];

/** The export as stock tfjs loads it: model.json parsed, its manifest's specs and the one shard. */
async function stockLoad(files: { modelJson: string; weights: ArrayBuffer }): Promise<tf.LayersModel> {
  const json = JSON.parse(files.modelJson) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  expect(json.weightsManifest).toHaveLength(1);
  expect(json.weightsManifest[0].paths).toEqual([`./${WEIGHTS_FILE}`]);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: files.weights }));
}

/** convNet's weights in LAYER_WEIGHTS order. */
const weightsOf = (m: tf.LayersModel) => ['conv1', 'conv2', 'fc'].flatMap((l) => m.getLayer(l).getWeights());

/** convNet's forward pass written out, with its weights as arguments; returns the pooled features and the outputs. */
function forward(x: tf.Tensor4D, [k1, b1, k2, b2, v, c]: tf.Tensor[]): { m1: tf.Tensor4D; f: tf.Tensor2D; y: tf.Tensor2D } {
  const m1 = tf.maxPool(tf.relu(tf.conv2d(x, k1 as tf.Tensor4D, 1, 'same').add(b1)) as tf.Tensor4D, 2, 2, 'valid');
  const f = tf.relu(tf.conv2d(m1, k2 as tf.Tensor4D, 1, 'valid').add(b2)).mean([1, 2]) as tf.Tensor2D;
  return { m1, f, y: tf.matMul(f, v as tf.Tensor2D).add(c) as tf.Tensor2D };
}

/**
 * A worst-case elementwise bound on |y_quantized - y_float32| for convNet, derived layer by layer
 * from the per-tensor weight error bounds e: a linear layer gives |W'x' - Wx| <= |W'| |x' - x| +
 * e_W |x| + e_b (as a convolution/product with |W'| and with a kernel of ones), and ReLU, max
 * pooling and averaging never increase a difference. Activations are the float32 model's, |W'| the
 * dequantized weights stock tfjs loaded; float32 rounding of both forward passes is added as
 * (layers * fan-in * 2^-24) of the magnitude of each output's terms.
 */
function worstCaseBound(orig: tf.LayersModel, quant: tf.LayersModel, e: (name: string) => number, x: tf.Tensor4D): { bound: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const w = weightsOf(orig);
    const [k1, , k2, , v, c] = w;
    const [, , k2q, , vq] = weightsOf(quant);
    const { m1, f, y } = forward(x, w);
    const d1 = tf.conv2d(x.abs(), tf.onesLike(k1) as tf.Tensor4D, 1, 'same').mul(e('conv1/kernel')).add(e('conv1/bias')) as tf.Tensor4D;
    const dm1 = tf.maxPool(d1, 2, 2, 'valid');
    const d2 = tf
      .conv2d(dm1, k2q.abs() as tf.Tensor4D, 1, 'valid')
      .add(tf.conv2d(m1.abs(), tf.onesLike(k2) as tf.Tensor4D, 1, 'valid').mul(e('conv2/kernel')))
      .add(e('conv2/bias'));
    const dy = tf.matMul(d2.mean([1, 2]) as tf.Tensor2D, vq.abs() as tf.Tensor2D).add(f.abs().sum(1, true).mul(e('fc/kernel'))).add(e('fc/bias'));
    const magnitude = tf.matMul(f.abs(), v.abs() as tf.Tensor2D).add(c.abs());
    return { bound: dy.add(magnitude.mul(2 * LAYERS * MAX_FAN_IN * 2 ** -24)) as tf.Tensor2D, y };
  });
}

/**
 * The variance of one weight's rounding error, elementwise, from the format: uint8 rounds to a grid
 * of step `scale`, float16 to a grid of step ulp(w) (2^(floor(log2|w|) - 10), 2^-24 below 2^-14);
 * an error uniform over one step has variance step^2 / 12. Exactly stored weights have none.
 */
function roundingVariance(w: tf.Tensor, spec: ManifestWeight): tf.Tensor {
  return tf.tidy(() => {
    const q = spec.quantization;
    if (q?.dtype === 'uint8') return tf.fill(w.shape, q.scale === 1 ? 0 : q.scale! ** 2 / 12);
    if (q?.dtype !== 'float16') return tf.zerosLike(w);
    const exponent = tf.floor(tf.log(w.abs().maximum(2 ** -14)).div(Math.LN2));
    return tf.pow(2, exponent.sub(10)).square().div(12);
  });
}

/**
 * First-order error model: every stored weight is off by an independent, unbiased rounding error
 * (variance above), so output k moves by sum_i (dy_k/dw_i) delta_i, with standard deviation
 * sigma_k = sqrt(sum_i (dy_k/dw_i)^2 var_i): the gradients come from tfjs.
 */
function firstOrderSigma(orig: tf.LayersModel, specs: Map<string, ManifestWeight>, x: tf.Tensor4D): Float32Array {
  const w = weightsOf(orig);
  const variances = w.map((t, i) => roundingVariance(t, specs.get(LAYER_WEIGHTS[i])!));
  const [n, outputs] = [x.shape[0], 10];
  const sigma = new Float32Array(n * outputs);
  for (let s = 0; s < n; s++) {
    for (let k = 0; k < outputs; k++) {
      sigma[s * outputs + k] = tf.tidy(() => {
        const xs = x.slice([s, 0, 0, 0], [1, -1, -1, -1]);
        const grads = tf.grads((...ws: tf.Tensor[]) => forward(xs, ws).y.slice([0, k], [1, 1]).reshape([]))(w);
        return Math.sqrt(grads.reduce((acc, g, i) => acc + g.square().mul(variances[i]).sum().dataSync()[0], 0));
      });
    }
  }
  tf.dispose(variances);
  return sigma;
}

describe('exporting a conv model quantized', () => {
  let original: tf.LayersModel;
  let loaded: LoadedModel;
  let x: tf.Tensor4D;
  let yRef: Float32Array;
  let float32Files: { modelJson: string; weights: ArrayBuffer };

  beforeAll(async () => {
    original = convNet();
    loaded = await loadModel(asFiles(await exportModel(original, 3)));
    x = tf.randomUniform([4, ...INPUT], -1, 1, 'float32', 21) as tf.Tensor4D;
    const y = original.predict(x) as tf.Tensor;
    yRef = (await y.data()) as Float32Array;
    y.dispose();
    float32Files = exportFiles(loaded);
  });

  it('writes float32 unchanged by default', async () => {
    expect(exportFiles(loaded, {})).toEqual(float32Files);
    expect(float32Files.weights.byteLength).toBe(4 * loaded.weights.reduce((s, w) => s + w.values.length, 0));
    const m = await stockLoad(float32Files);
    const y = m.predict(x) as tf.Tensor;
    expect(Array.from(await y.data())).toEqual(Array.from(yRef));
    tf.dispose(y);
    m.dispose();
  });

  for (const [q, factor] of [
    ['float16', 2],
    ['uint8', 4],
  ] as const) {
    it(`${q}: stock tfjs loads it, weights and outputs stay within the derived error bound, the weights file is ${factor}x smaller`, async () => {
      const files = exportFiles(loaded, { quantize: q });
      expect(files.weights.byteLength * factor).toBe(float32Files.weights.byteLength);
      // model.json grows by the quantization entries only (under 150 bytes a weight).
      const jsonGrowth = files.modelJson.length - float32Files.modelJson.length;
      expect(jsonGrowth).toBeGreaterThan(0);
      expect(jsonGrowth).toBeLessThan(150 * loaded.weights.length);
      const specs = (JSON.parse(files.modelJson) as { weightsManifest: { weights: ManifestWeight[] }[] }).weightsManifest[0].weights;
      for (const s of specs) {
        expect(s.dtype).toBe('float32');
        expect(s.quantization?.dtype).toBe(q);
        expect(s.quantization?.original_dtype).toBe('float32');
      }

      const quant = await stockLoad(files);
      // Each weight as stock tfjs holds it is within its a priori bound of the original.
      const errors = new Map(quantizationErrors(loaded.weights, q).map((e) => [e.name, e]));
      for (const layer of ['conv1', 'conv2', 'fc']) {
        const [a, b] = [original.getLayer(layer).getWeights(), quant.getLayer(layer).getWeights()];
        for (const [i, suffix] of ['kernel', 'bias'].entries()) {
          const e = errors.get(`${layer}/${suffix}`)!;
          const diff = tf.tidy(() => a[i].sub(b[i]).abs().max().dataSync()[0]);
          expect(diff, `${layer}/${suffix}`).toBeLessThanOrEqual(e.bound);
          expect(diff).toBe(e.maxAbsError); // the helper's measure is what tfjs really reads
        }
      }

      const { bound, y } = worstCaseBound(original, quant, (name) => errors.get(name)!.bound, x);
      const yOwn = await y.data();
      yRef.forEach((v, i) => expect(Math.abs(yOwn[i] - v)).toBeLessThan(1e-5)); // the written-out pass is the model
      const yq = quant.predict(x) as tf.Tensor;
      const [got, limit] = [await yq.data(), await bound.data()];
      const sigma = firstOrderSigma(original, new Map(specs.map((s) => [s.name, s])), x);
      let maxDiff = 0;
      let maxZ = 0;
      let sumZ2 = 0;
      for (let i = 0; i < got.length; i++) {
        const d = Math.abs(got[i] - yRef[i]);
        expect(d, `output ${i}`).toBeLessThanOrEqual(limit[i]); // always, whatever the rounding errors are
        maxDiff = Math.max(maxDiff, d);
        maxZ = Math.max(maxZ, d / sigma[i]);
        sumZ2 += (d / sigma[i]) ** 2;
      }
      const rmsZ = Math.sqrt(sumZ2 / got.length);
      const yMax = Math.max(...Array.from(yRef, Math.abs));
      console.log(
        `${q}: max |dy| ${maxDiff.toExponential(2)} (max |y| ${yMax.toFixed(3)}), worst-case bound up to ${Math.max(...Array.from(limit)).toExponential(2)}, ` +
          `first-order sigma up to ${Math.max(...sigma).toExponential(2)}, |dy|/sigma max ${maxZ.toFixed(2)} rms ${rmsZ.toFixed(2)}`,
      );
      expect(maxDiff).toBeGreaterThan(0); // quantization did change the model
      if (q === 'float16') expect(maxDiff).toBeLessThan(1e-3 * yMax);
      // The outputs move as unbiased rounding of the stated size predicts: within 6 sigma (a normal
      // variable exceeds that with probability 2e-9), and on average about 1 sigma, not several.
      expect(maxZ).toBeLessThan(6);
      expect(rmsZ).toBeGreaterThan(0.3);
      expect(rmsZ).toBeLessThan(2);
      tf.dispose([bound, y, yq]);
      quant.dispose();
    });

    it(`${q}: the project's loader reads the export back, dequantized exactly as tfjs does`, async () => {
      const files = exportFiles(loaded, { quantize: q });
      const back = await loadModel([memoryFile(MODEL_FILE, files.modelJson), memoryFile(WEIGHTS_FILE, files.weights)]);
      expect(back.notes.some((n) => n.includes(`weights stored as ${q} were dequantized`))).toBe(true);
      expect(back.bytesOnDisk).toBeLessThan(loaded.bytesOnDisk);
      const stock = await stockLoad(files);
      const stockWeights = new Map(stock.weights.map((w, i) => [w.originalName, stock.getWeights()[i]]));
      for (const w of back.weights) {
        expect(w.storedAs).toBe(q);
        expect(w.dtype).toBe('float32');
        expect(Array.from(w.values), w.name).toEqual(Array.from(await stockWeights.get(w.name)!.data()));
      }
      stock.dispose();
      // Quantizing what was loaded back again changes nothing for float16 (halves are fixed points).
      if (q === 'float16') expect(exportFiles(back, { quantize: q }).weights).toEqual(files.weights);
    });
  }
});
