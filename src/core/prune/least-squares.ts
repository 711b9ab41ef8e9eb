/**
 * The linear algebra of the refit (refit.ts): matrix products, as float64 JavaScript loops or as
 * float32 tfjs products, and the least-squares solve, always in float64.
 *
 * Which products run on tfjs: on WASM its matrix product is several times faster than the loops,
 * so products above TF_PRODUCTS_FROM multiply-adds run there. float32 sums are enough for the
 * layer's outputs (the target Y and the error checks): their inputs are float32 activations and
 * weights to begin with. Not always for the normal equations, which leastSquares checks. The solve
 * stays in float64 JavaScript: tfjs has no float64, and the ridge (1e-6 of the mean diagonal)
 * lets condition numbers reach about 1e6, where a float32 factorization's 7 digits would leave
 * next to none.
 */
import * as tf from '@tensorflow/tfjs';
import { REFIT_DEFAULTS } from './config';

/** A row-major matrix of float32 values (features, weights) or float64 ones (the loops' products). */
export type Matrix = Float32Array | Float64Array;

/**
 * Where the refit's products run: `auto` (tfjs on WASM above TF_PRODUCTS_FROM, else the loops),
 * or forced to the loops (`js`) or to tfjs on the current backend (`tf`), for tests that compare
 * the two.
 */
export type ProductsMode = 'auto' | 'js' | 'tf';

/**
 * Multiply-adds from which a product runs as a tfjs op; only on WASM, whose matrix product beats
 * the loops (on WebGPU a read back would stall the queue, and the CPU backend's product is
 * JavaScript too). Below it, uploading and reading back costs more than the loops.
 */
const TF_PRODUCTS_FROM = 1e6;

export function useTf(mode: ProductsMode, work: number): boolean {
  if (mode !== 'auto') return mode === 'tf';
  return work >= TF_PRODUCTS_FROM && tf.getBackend() === 'wasm';
}

const asFloat32 = (a: Matrix): Float32Array => (a instanceof Float32Array ? a : Float32Array.from(a));

/** X W for each W of `Ws` ([features x outputs] each), in float64, skipping the zeros ReLU leaves (about half of every activation). */
export function productsJs(X: Matrix, Ws: readonly Matrix[], rows: number, features: number, outputs: number): Float64Array[] {
  return Ws.map((W) => {
    const Y = new Float64Array(rows * outputs);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < features; i++) {
        const x = X[r * features + i];
        if (x === 0) continue;
        const y = r * outputs;
        const w = i * outputs;
        for (let o = 0; o < outputs; o++) Y[y + o] += x * W[w + o];
      }
    return Y;
  });
}

/**
 * The same products as float32 tfjs matrix products, X uploaded once. On WASM the refit's targets
 * and error checks over the 29 layers of the Teachable Machine MobileNetV2 at width 0.6 took about
 * 1 s as loops and 0.15 s as these.
 */
export function productsTf(X: Matrix, Ws: readonly Matrix[], rows: number, features: number, outputs: number): Float32Array[] {
  const ys = tf.tidy(() => {
    const x = tf.tensor2d(asFloat32(X), [rows, features]);
    return Ws.map((W) => tf.matMul(x, tf.tensor2d(asFloat32(W), [features, outputs])));
  });
  try {
    return ys.map((y) => y.dataSync() as Float32Array);
  } finally {
    tf.dispose(ys);
  }
}

export function products(mode: ProductsMode, X: Matrix, Ws: readonly Matrix[], rows: number, features: number, outputs: number): Matrix[] {
  return useTf(mode, rows * features * outputs * Ws.length) ? productsTf(X, Ws, rows, features, outputs) : productsJs(X, Ws, rows, features, outputs);
}

/** X^T X (lower triangle at least) and X^T Y, the two products of the normal equations. */
export interface NormalEquations {
  /** features x features; only the lower triangle is read. */
  gram: Float64Array;
  /** features x outputs. */
  moments: Float64Array;
  /** Summed in float64: the solve trusts these (see leastSquares). */
  float64: boolean;
}

/** In float64 JavaScript, skipping the zeros ReLU leaves. */
export function normalEquationsJs(X: Matrix, Y: Matrix, rows: number, features: number, outputs: number): NormalEquations {
  const gram = new Float64Array(features * features);
  const moments = new Float64Array(features * outputs);
  for (let r = 0; r < rows; r++) {
    const x = r * features;
    for (let i = 0; i < features; i++) {
      const xi = X[x + i];
      if (xi === 0) continue;
      for (let j = 0; j <= i; j++) gram[i * features + j] += xi * X[x + j];
      for (let o = 0; o < outputs; o++) moments[i * outputs + o] += xi * Y[r * outputs + o];
    }
  }
  return { gram, moments, float64: true };
}

/**
 * The same products as two float32 matrix products on the current tfjs backend: on WASM 4-9x
 * faster than the loops (640 sampled positions: 465 -> 53 ms for 480 features and 160 outputs;
 * 7.7 -> 2.1 ms for 64 and 32), but only about 6 digits: leastSquares redoes them in float64
 * where that is not enough.
 */
export function normalEquationsTf(X: Matrix, Y: Matrix, rows: number, features: number, outputs: number): NormalEquations {
  const [gram, moments] = tf.tidy(() => {
    const x = tf.tensor2d(asFloat32(X), [rows, features]);
    const y = tf.tensor2d(asFloat32(Y), [rows, outputs]);
    return [tf.matMul(x, x, true, false), tf.matMul(x, y, true, false)];
  });
  try {
    return { gram: Float64Array.from(gram.dataSync()), moments: Float64Array.from(moments.dataSync()), float64: false };
  } finally {
    tf.dispose([gram, moments]);
  }
}

export function normalEquations(mode: ProductsMode, X: Matrix, Y: Matrix, rows: number, features: number, outputs: number): NormalEquations {
  return useTf(mode, rows * features * (features + outputs)) ? normalEquationsTf(X, Y, rows, features, outputs) : normalEquationsJs(X, Y, rows, features, outputs);
}

type NormalEquationsOf = (X: Matrix, Y: Matrix, rows: number, features: number, outputs: number) => NormalEquations;

/**
 * Adds the ridge to the diagonal of `A` and factors it (Cholesky, lower triangle in place).
 * Returns false, leaving `A` half done, as soon as a pivot falls below half the ridge when
 * `strict`: with exact sums every pivot of X^T X + ridge I is at least the ridge, so a smaller one
 * means the sums' rounding outweighed it. Not strict, it goes on with the pivot clamped above 0.
 */
export function cholesky(A: Float64Array, features: number, ridge: number, strict: boolean): boolean {
  let trace = 0;
  for (let i = 0; i < features; i++) trace += A[i * features + i];
  const lambda = ridge * Math.max(trace / features, 1e-12);
  for (let i = 0; i < features; i++) A[i * features + i] += lambda;
  for (let j = 0; j < features; j++) {
    let d = A[j * features + j];
    for (let k = 0; k < j; k++) d -= A[j * features + k] ** 2;
    if (strict && !(d >= lambda / 2)) return false;
    d = Math.sqrt(Math.max(d, 1e-300));
    A[j * features + j] = d;
    for (let i = j + 1; i < features; i++) {
      let s = A[i * features + j];
      for (let k = 0; k < j; k++) s -= A[i * features + k] * A[j * features + k];
      A[i * features + j] = s / d;
    }
  }
  return true;
}

/**
 * Solves (X^T X + ridge) W = X^T Y for W [features x outputs] with a Cholesky factorization.
 * Normal equations summed in float32 that the factorization cannot trust are summed again in
 * float64: their errors, about 1e-6 of the largest entry, exceed the ridge (1e-6 of the mean
 * diagonal) where a channel is dead or fewer rows than features leave X^T X singular, and the
 * factorization then broke down into NaN (12 of the 29 layers of the Teachable Machine
 * MobileNetV2 at width 0.6, which threw away its whole refit).
 */
export function leastSquares(
  X: Matrix,
  Y: Matrix,
  rows: number,
  features: number,
  outputs: number,
  ridge: number = REFIT_DEFAULTS.ridge,
  normal: NormalEquationsOf = (...args) => normalEquations('auto', ...args),
): Float64Array {
  let { gram: A, moments, float64 } = normal(X, Y, rows, features, outputs);
  if (!cholesky(A, features, ridge, !float64)) {
    ({ gram: A, moments } = normalEquationsJs(X, Y, rows, features, outputs));
    cholesky(A, features, ridge, false);
  }
  // Both substitutions a row of all outputs at a time: the back substitution reads L by columns,
  // which one output at a time walked with a stride of a whole row per multiply-add. Each
  // element's sums run in the same order as solving column by column would.
  const W = moments;
  for (let i = 0; i < features; i++) {
    const wi = i * outputs;
    for (let k = 0; k < i; k++) {
      const l = A[i * features + k];
      if (l === 0) continue;
      const wk = k * outputs;
      for (let o = 0; o < outputs; o++) W[wi + o] -= l * W[wk + o];
    }
    const d = A[i * features + i];
    for (let o = 0; o < outputs; o++) W[wi + o] /= d;
  }
  for (let i = features - 1; i >= 0; i--) {
    const wi = i * outputs;
    for (let k = i + 1; k < features; k++) {
      const l = A[k * features + i];
      if (l === 0) continue;
      const wk = k * outputs;
      for (let o = 0; o < outputs; o++) W[wi + o] -= l * W[wk + o];
    }
    const d = A[i * features + i];
    for (let o = 0; o < outputs; o++) W[wi + o] /= d;
  }
  return W;
}
