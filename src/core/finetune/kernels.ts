/**
 * What each tfjs 4.22 backend lacks to train a conv net, and the order a fine-tune should try
 * backends in: measured, not assumed (bench/finetune-backends.ts, results in
 * bench/finetune-backends.json; this machine: 2 cores, no GPU, Chromium 156 headless with the
 * project's flags, so WebGL and WebGPU are SwiftShader).
 *
 * How it was measured. For each demo model (mobilenet-like: Conv2D + DepthwiseConv2D + BN +
 * ReLU6; plain-cnn: Conv2D + BN + ReLU + MaxPooling; resnet-like adds Add) pruned to 50% per group:
 *   - the kernels one Distiller training step calls (forward, backward, Adam), read with
 *     `tf.profile` on the CPU backend (every kernel registered there): TRAINING_KERNELS below;
 *   - per backend, those with no `tf.getKernel(name, backend)` as tfjs ships it (before
 *     `installWasmGradients`), confirmed by one training step with stock kernels, which fails on
 *     the first one it meets ("Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'");
 *   - the gradients of that step against the CPU backend's: WebGL 3.5e-6, WebGPU 2.9e-6, WASM
 *     with installWasmGradients 7e-6 .. 9e-6 (max abs error over a weight / its max abs gradient).
 *
 * Findings:
 *   - WASM lacks Conv2DBackpropFilter (every conv net), DepthwiseConv2dNativeBackpropFilter and
 *     DepthwiseConv2dNativeBackpropInput (MobileNets). Its MaxPoolGrad is registered but wrong
 *     (WRONG_TRAINING_KERNELS: a 2x2/2 pool of [2, 8, 8, 4] gives gradients off by ~1 where they
 *     are at most 1). installWasmGradients (wasm-gradients.ts) supplies the three and replaces
 *     MaxPoolGrad; with it WASM trains every demo model: gradients within 7e-6 .. 9e-6 of the
 *     CPU's on mobilenet-like and plain-cnn, and the same losses to 4 digits. On resnet-like the
 *     gradients nearest the input are further off (stem_bn/beta 6e-4 .. 4e-3, stem/kernel 3e-4;
 *     WebGL and WebGPU: 5e-6 there; not the FusedBatchNorm gradient it re-registers, which is
 *     4e-7 from the stock one on the CPU): small, but worth a look in wasm-gradients.ts.
 *   - WebGL, WebGPU and CPU have every kernel the demo models' training calls, and their
 *     gradients match the CPU's (WebGL 3.5e-6 .. 5.1e-6, WebGPU 2.9e-6 .. 6e-6). Beyond conv nets,
 *     tfjs 4.22 also lacks on WASM UnsortedSegmentSum (the gradient of gather: embeddings), Einsum
 *     and FFT, and on WebGL Dilation2D's backprop: nothing a Keras image classifier trains with.
 *   - WebGPU trains. The Distiller first did not run on it: its weightsBlob() read weights with
 *     `dataSync()` (since made `await data()`), and tfjs-webgpu reads synchronously through OffscreenCanvas
 *     'webgpu' contexts, which here returned zeros for a tensor of 18,432 values (after 3 smaller
 *     reads that were right) and lost the device at the first training step ("A valid external
 *     Instance reference no longer exists"). With that read made `await t.data()` (now in
 *     distiller.ts; rerun in bench/finetune-backends.json), the same fine-tune ran on WebGPU with the CPU backend's losses to 4
 *     digits (plain-cnn, 32 images: 2.4634 -> 2.2807). WebGL's dataSync reads right.
 *   - Speed, seconds per 1000 training images (batch 32, the epoch after a warm-up epoch, steps
 *     only; a shared 2-core machine at a load average of ~8-9, so +-30%):
 *       WASM, Node       mobilenet-like 17.6 .. 18.5   plain-cnn 24.5 .. 25.9
 *       WASM, Chromium   mobilenet-like 18.1           plain-cnn 21.8
 *       WebGL, Chromium  mobilenet-like 161.6 (9x)     plain-cnn 382.3 (17x)   SwiftShader
 *       CPU, Chromium    mobilenet-like 271.0 (15x)    plain-cnn 562.8 (25x)
 *       WebGPU           plain-cnn 797 (SwiftShader, 32 images, after the async-read fix; not representative)
 *     WASM in Node and in Chromium are the same within the noise. No GPU here: a hardware WebGPU
 *     or WebGL adapter was not measured.
 */
import type { BackendName } from '../measure/backends';

/**
 * Every kernel one Distiller training step of the demo models calls (forward, backward, Adam),
 * as the CPU backend ran them (tf.profile), over mobilenet-like, plain-cnn and resnet-like.
 */
export const TRAINING_KERNELS: readonly string[] = [
  'Add', 'BatchMatMul', 'Cast', 'ClipByValue', 'Conv2DBackpropFilter', 'Conv2DBackpropInput',
  'DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput',
  'Exp', 'FusedBatchNorm', 'FusedConv2D', 'GreaterEqual', 'Identity', 'LessEqual', 'Log', 'LogicalAnd',
  'Max', 'MaxPool', 'MaxPoolGrad', 'Mean', 'Multiply', 'Neg', 'OneHot', 'RealDiv', 'Relu', 'Reshape',
  'Rsqrt', 'Select', 'Slice', 'Softmax', 'Sqrt', 'Square', 'Step', 'Sub', 'Sum', 'Tile', 'ZerosLike',
  '_FusedMatMul',
];

/** Training kernels with no kernel registered for the backend in tfjs 4.22 (before installWasmGradients). */
export const MISSING_TRAINING_KERNELS: Record<BackendName, string[]> = {
  wasm: ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
  webgl: [],
  webgpu: [],
  cpu: [],
};

/** Training kernels registered for the backend that give wrong results in tfjs 4.22 (installWasmGradients replaces WASM's). */
export const WRONG_TRAINING_KERNELS: Record<BackendName, string[]> = {
  wasm: ['MaxPoolGrad'],
  webgl: [],
  webgpu: [],
  cpu: [],
};

/*
 * The order a fine-tune tries backends in, fastest that works first, is initBackend's own
 * (core/measure/backends.ts), which the fine-tune worker uses:
 *
 * - A real WebGPU adapter first: every training kernel is there and right, and a GPU is what
 *   training wants; not timed here (no GPU). The Distiller reads weights asynchronously (see
 *   above): with `dataSync` it lost the device on SwiftShader.
 * - WASM next: the fastest measured here by far (with installWasmGradients, which
 *   Distiller.create installs).
 * - WebGL: complete and right; on a software adapter 9-17x slower than WASM.
 * - CPU last: pure JavaScript, 15-25x slower than WASM.
 * - WebGPU on a fallback adapter is not tried: slower than even the CPU backend.
 */
