/**
 * WASM's BatchMatMul with a transposed operand, made as fast as the plain product.
 *
 * tfjs-backend-wasm 4.22 multiplies `a^T b` and `a b^T` on a slow path: on this machine a
 * (300x64)^T (64x300) product took 61 ms where transposing `a` first and multiplying took 6.6 ms,
 * and (64x300)(300x300)^T 58 ms against 8.4 ms. Every backward pass of a dense layer runs both
 * (dW = x^T dy, dx = dy W^T), so the DDPG agent's update and the fine-tune's dense layers spent
 * most of their time there. This wraps the native kernel: a transposed operand is transposed
 * explicitly (WASM's Transpose kernel) and the product runs untransposed. Same values up to float
 * rounding; forward passes of Dense layers (no transposes) are untouched. Not for a product that
 * uses each element once or twice: a^T times a single column (BatchNorm's channel means over a
 * 256-image batch) took 175 ms native and 1.2 s with its 16M-element operand transposed first.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmBackend {
  disposeData(dataId: object): boolean;
}

type Wrapped = tf.KernelFunc & { untransposed?: true };

/** An operand is transposed first when the product uses each of its elements at least this often. */
const MIN_REUSE = 8;

/** Swaps the last two axes of `x` with WASM's own Transpose kernel. */
function transposeLast(x: tf.TensorInfo, backend: tf.KernelBackend): tf.TensorInfo {
  const transpose = tf.getKernel('Transpose', 'wasm')!;
  const r = x.shape.length;
  const perm = [...Array(r - 2).keys(), r - 1, r - 2];
  return transpose.kernelFunc({ inputs: { x }, attrs: { perm }, backend }) as tf.TensorInfo;
}

/** Installs the wrapper on the WASM backend (once; a no-op before WASM's kernels are registered). */
export function installWasmMatMul(): void {
  const native = tf.getKernel('BatchMatMul', 'wasm');
  if (!native || (native.kernelFunc as Wrapped).untransposed || !tf.getKernel('Transpose', 'wasm')) return;
  const kernelFunc: Wrapped = (args) => {
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return native.kernelFunc(args);
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    // The product's rows and columns: a transpose costs one pass over its operand, the slow path
    // costs with the product, so only an operand that meets at least MIN_REUSE columns (rows) of
    // the other is worth moving: BatchNorm's channel sums (a^T times one column) stay native.
    const rows = a.shape[a.shape.length - (attrs.transposeA ? 1 : 2)];
    const cols = b.shape[b.shape.length - (attrs.transposeB ? 2 : 1)];
    const made: tf.TensorInfo[] = [];
    const plain = (x: tf.TensorInfo, transposed: boolean, reuse: number) => {
      if (!transposed || reuse < MIN_REUSE) return x;
      const t = transposeLast(x, args.backend as tf.KernelBackend);
      made.push(t);
      return t;
    };
    try {
      const a2 = plain(a, attrs.transposeA, cols);
      const b2 = plain(b, attrs.transposeB, rows);
      return native.kernelFunc({ ...args, inputs: { a: a2, b: b2 }, attrs: { ...args.attrs, transposeA: attrs.transposeA && a2 === a, transposeB: attrs.transposeB && b2 === b } });
    } finally {
      for (const t of made) (args.backend as unknown as WasmBackend).disposeData(t.dataId);
    }
  };
  kernelFunc.untransposed = true;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', setupFunc: native.setupFunc, kernelFunc });
}
