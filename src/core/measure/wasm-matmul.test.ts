import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { installWasmMatMul } from './wasm-matmul';

beforeAll(async () => {
  await tf.setBackend('wasm');
  installWasmMatMul();
});

/** The product with the transposes done as separate ops: the untransposed path, the reference. */
function reference(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): tf.Tensor {
  const swap = (x: tf.Tensor) => tf.transpose(x, [...Array(x.rank - 2).keys(), x.rank - 1, x.rank - 2]);
  return tf.matMul(ta ? swap(a) : a, tb ? swap(b) : b);
}

describe('WASM BatchMatMul with transposed operands', () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ['a^T b (a dense layer\'s weight gradient)', [64, 30], [64, 20], true, false],
    ['a b^T (its input gradient)', [64, 20], [30, 20], false, true],
    ['a^T b^T', [12, 9], [10, 12], true, true],
    ['batched a^T b', [3, 16, 9], [3, 16, 11], true, false],
    ['a^T times one column (left native)', [50, 7], [50, 1], true, false],
  ];
  for (const [name, sa, sb, ta, tb] of cases) {
    it(`gives the untransposed product's values: ${name}`, () => {
      const a = tf.randomNormal(sa, 0, 1, 'float32', 1);
      const b = tf.randomNormal(sb, 0, 1, 'float32', 2);
      // Backend buffers, not tensors: the transposed copies live only inside the kernel.
      const buffers = () => tf.engine().backend.numDataIds();
      const before = buffers();
      const got = tf.matMul(a, b, ta, tb);
      expect(buffers()).toBe(before + 1);
      const want = reference(a, b, ta, tb);
      expect(got.shape).toEqual(want.shape);
      const err = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0];
      expect(err).toBeLessThan(1e-4);
      tf.dispose([a, b, got, want]);
    });
  }

  it('is installed once, and the gradients of a dense layer go through it correctly', () => {
    installWasmMatMul();
    const x = tf.randomNormal([8, 5], 0, 1, 'float32', 3);
    const w = tf.randomNormal([5, 4], 0, 1, 'float32', 4);
    const v = tf.variable(w, true, 'wasm-matmul-w');
    const { grads } = tf.variableGrads(() => tf.sum(tf.matMul(x, v)) as tf.Scalar, [v]);
    // d/dW sum(xW) = x^T 1: every column of the gradient is the column sums of x.
    const colSums = tf.sum(x, 0).dataSync();
    const g = grads['wasm-matmul-w'].arraySync() as number[][];
    for (let i = 0; i < 5; i++) for (let j = 0; j < 4; j++) expect(g[i][j]).toBeCloseTo(colSums[i], 4);
  });
});
