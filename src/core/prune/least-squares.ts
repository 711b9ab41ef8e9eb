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

function useTf(mode: ProductsMode, work: number): boolean {
  if (mode !== 'auto') return mode === 'tf';
  return work >= TF_PRODUCTS_FROM && tf.getBackend() === 'wasm';
}

const asFloat32 = (a: Matrix): Float32Array => (a instanceof Float32Array ? a : Float32Array.from(a));

/** X W for each W of `Ws` ([features x outputs] each), in float64, skipping the zeros ReLU leaves (about half of every activation). */
function productsJs(X: Matrix, Ws: readonly Matrix[], rows: number, features: number, outputs: number): Float64Array[] {
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
function productsTf(X: Matrix, Ws: readonly Matrix[], rows: number, features: number, outputs: number): Float32Array[] {
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

/** X X^T [rows x rows], the products of the dual form (leastSquares), and whether summed in float64. */
function rowProducts(mode: ProductsMode, X: Matrix, rows: number, features: number): { gram: Float64Array; float64: boolean } {
  if (useTf(mode, rows * rows * features)) {
    const k = tf.tidy(() => {
      const x = tf.tensor2d(asFloat32(X), [rows, features]);
      return tf.matMul(x, x, false, true);
    });
    try {
      return { gram: Float64Array.from(k.dataSync()), float64: false };
    } finally {
      k.dispose();
    }
  }
  const gram = new Float64Array(rows * rows);
  for (let r = 0; r < rows; r++)
    for (let q = 0; q <= r; q++) {
      let s = 0;
      for (let i = 0; i < features; i++) s += X[r * features + i] * X[q * features + i];
      gram[r * rows + q] = s;
    }
  return { gram, float64: true };
}

const meanDiagonal = (A: Float64Array, size: number): number => {
  let trace = 0;
  for (let i = 0; i < size; i++) trace += A[i * size + i];
  return trace / size;
};

/**
 * Adds `lambda` to the diagonal of `A` [size x size] and factors it (Cholesky, lower triangle in
 * place). Returns false, leaving `A` half done, as soon as a pivot falls below half of `lambda`
 * when `strict`: with exact sums every pivot of a Gram matrix + lambda I is at least lambda, so a
 * smaller one means the sums' rounding outweighed it. Not strict, it goes on with the pivot
 * clamped above 0.
 */
export function cholesky(A: Float64Array, size: number, lambda: number, strict: boolean): boolean {
  for (let i = 0; i < size; i++) A[i * size + i] += lambda;
  for (let j = 0; j < size; j++) {
    let d = A[j * size + j];
    for (let k = 0; k < j; k++) d -= A[j * size + k] ** 2;
    if (strict && !(d >= lambda / 2)) return false;
    d = Math.sqrt(Math.max(d, 1e-300));
    A[j * size + j] = d;
    for (let i = j + 1; i < size; i++) {
      let s = A[i * size + j];
      for (let k = 0; k < j; k++) s -= A[i * size + k] * A[j * size + k];
      A[i * size + j] = s / d;
    }
  }
  return true;
}

/**
 * Solves L L^T Z = B in place for B [size x outputs], L from cholesky. A row of all outputs at a
 * time: the back substitution reads L by columns, which one output at a time walked with a stride
 * of a whole row per multiply-add. Each element's sums run in the same order as column by column.
 */
function substitute(L: Float64Array, B: Float64Array, size: number, outputs: number): Float64Array {
  for (let i = 0; i < size; i++) {
    const bi = i * outputs;
    for (let k = 0; k < i; k++) {
      const l = L[i * size + k];
      if (l === 0) continue;
      const bk = k * outputs;
      for (let o = 0; o < outputs; o++) B[bi + o] -= l * B[bk + o];
    }
    const d = L[i * size + i];
    for (let o = 0; o < outputs; o++) B[bi + o] /= d;
  }
  for (let i = size - 1; i >= 0; i--) {
    const bi = i * outputs;
    for (let k = i + 1; k < size; k++) {
      const l = L[k * size + i];
      if (l === 0) continue;
      const bk = k * outputs;
      for (let o = 0; o < outputs; o++) B[bi + o] -= l * B[bk + o];
    }
    const d = L[i * size + i];
    for (let o = 0; o < outputs; o++) B[bi + o] /= d;
  }
  return B;
}

/**
 * Solves (X^T X + ridge) W = X^T Y for W [features x outputs] with a Cholesky factorization; the
 * ridge is relative to the mean diagonal of X^T X.
 *
 * Products summed in float32 that the factorization cannot trust are summed again in float64:
 * their errors, about 1e-6 of the largest entry, exceed the ridge where a channel is dead or
 * copies others, and the factorization then broke down into NaN (12 of the 29 layers of the
 * Teachable Machine MobileNetV2 at width 0.6, which threw away its whole refit).
 *
 * With fewer rows than features (a Dense after global pooling reads one position per image) it
 * solves the dual form W = X^T (X X^T + ridge)^-1 Y, the same W: a rows x rows system instead of
 * features x features (64 against 768 for the Teachable Machine model's head).
 */
export function leastSquares(X: Matrix, Y: Matrix, rows: number, features: number, outputs: number, ridge: number = REFIT_DEFAULTS.ridge, mode: ProductsMode = 'auto'): Float64Array {
  // trace(X X^T) = trace(X^T X): both forms add the same ridge.
  const lambdaOf = (gram: Float64Array, size: number) => ridge * Math.max((meanDiagonal(gram, size) * size) / features, 1e-12);
  if (rows < features) {
    let { gram: K, float64 } = rowProducts(mode, X, rows, features);
    if (!cholesky(K, rows, lambdaOf(K, rows), !float64)) {
      K = rowProducts('js', X, rows, features).gram;
      cholesky(K, rows, lambdaOf(K, rows), false);
    }
    const Z = substitute(K, Float64Array.from(Y), rows, outputs);
    const W = new Float64Array(features * outputs);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < features; i++) {
        const x = X[r * features + i];
        if (x === 0) continue;
        for (let o = 0; o < outputs; o++) W[i * outputs + o] += x * Z[r * outputs + o];
      }
    return W;
  }
  let { gram: A, moments, float64 } = normalEquations(mode, X, Y, rows, features, outputs);
  if (!cholesky(A, features, lambdaOf(A, features), !float64)) {
    ({ gram: A, moments } = normalEquationsJs(X, Y, rows, features, outputs));
    cholesky(A, features, lambdaOf(A, features), false);
  }
  return substitute(A, moments, features, outputs);
}
