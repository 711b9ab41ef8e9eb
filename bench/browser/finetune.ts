/**
 * Time per epoch of the distillation fine-tune (src/core/finetune) on one tfjs backend, and what
 * that backend lacks for training: the same function runs in the bench page in Chromium (exposed
 * as `window.amcFinetune.run`, driven by bench/browser.ts `finetuneInChromium`) and in Node
 * (bench/finetune-backends.ts), so "WASM in Node" and "WASM in Chromium" are one code path.
 *
 * For one demo model and one backend:
 *   1. the model and a uniformly pruned copy (every prunable group at 50%, channels rounded to 8);
 *   2. on the CPU backend (every kernel registered): the kernels one training step of this
 *      student calls, read with `tf.profile` over a tiny epoch of the Distiller itself (forward,
 *      backward, Adam), and the reference gradients of a fixed loss on 8 images;
 *   3. on the chosen backend, before anything is patched: which of those kernels it has no kernel
 *      for, one training step with stock kernels (the error a missing kernel gives), and the same
 *      gradients compared with the CPU's (a kernel present but wrong shows here); on WASM the
 *      same again after `installWasmGradients`;
 *   4. `Distiller.create` (teacher = the model, student = the pruned copy, demo:train images with
 *      labels, the demo augmentation) and two epochs: a warm-up (shader compilation, XNNPACK
 *      set-up), then the timed one. Time = from the epoch's start to its last step's end (the
 *      held-out scoring after it is not training and is left out), as seconds per 1000 images.
 */
import * as tf from '@tensorflow/tfjs';
import { generateDataset } from '../../src/core/data/procedural';
import { DEMO_AUGMENT, type FinetuneConfig } from '../../src/core/finetune/config';
import { Distiller, type FinetuneData } from '../../src/core/finetune/distiller';
import { installWasmGradients } from '../../src/core/finetune/wasm-gradients';
import type { BackendInfo, BackendName } from '../../src/core/measure/backends';
import { inputTensor } from '../../src/core/measure/accuracy';
import { analyzeModel } from '../../src/core/model/analyze';
import type { LoadedModel } from '../../src/core/model/types';
import { instantiate } from '../../src/core/model/tfjs-model';
import { uniformPolicy } from '../../src/core/prune/policy';
import { pruneModel } from '../../src/core/prune/prune';
import { Rng } from '../../src/core/random';

export interface FinetuneBenchPlan {
  /** Demo model name (models/<name>), for the record. */
  model: string;
  backend: BackendName;
  /** Training images per epoch (the held-out slice of 32 comes on top). */
  images: number;
  batchSize: number;
  /** Preserve ratio of every prunable group (0.5: the issue's 50%). */
  ratio?: number;
  seed?: number;
  /** Skip the timed epochs (only the kernel and gradient checks). */
  checksOnly?: boolean;
  /**
   * Only this: on the fresh backend, `dataSync()` of ten tensors of 3 to 147,456 values, then one async read.
   * tfjs-webgpu reads synchronously through an OffscreenCanvas 'webgpu' context, and the Distiller
   * reads weights with dataSync (distiller.ts weightsBlob): this tells whether that alone loses the device.
   */
  syncReadProbe?: boolean;
}

export interface GradCheck {
  /** max over weights of max|g - g_cpu| / max|g_cpu| (float32 noise is ~1e-5 .. 1e-3). */
  worstRelErr: number;
  worstWeight: string;
  weights: number;
}

export interface FinetuneBenchResult {
  model: string;
  where: 'Chromium' | 'Node';
  requested: BackendName;
  /** The backend that ran (null when it could not start). */
  used: BackendName | null;
  reason: string;
  adapterFallback?: boolean;
  images: number;
  batchSize: number;
  heldOut: number;
  student: { params: number; keep: Record<string, number> };
  kernels: {
    /** Kernels one training step of this student calls (forward, backward, Adam), as the CPU backend ran them. */
    used: string[];
    /** Of those, the ones with no kernel registered for this backend as tfjs ships it. */
    missing: string[];
  };
  /** One training step with the backend's stock kernels: ok, or the error (a missing kernel names itself). */
  stockStep: { ok: boolean; error?: string; missingKernel?: string; grad?: GradCheck };
  /** WASM only: the same after installWasmGradients. */
  patchedStep?: { ok: boolean; error?: string; grad?: GradCheck };
  warmup?: { seconds: number; trainLoss: number };
  timed?: { seconds: number; epochSeconds: number; steps: number; trainLoss: number; stepLosses: number[] };
  secondsPer1000?: number;
  heldOutLoss?: number[];
  /** tf.memory().numTensors after the warm-up and after the timed epoch: flat when nothing leaks. */
  tensors?: { afterWarmup: number; afterTimed: number };
  /** The syncReadProbe plan's result. */
  syncRead?: { ok: boolean; error?: string };
  /** What stopped the run, when something did. */
  error?: string;
  missingKernel?: string;
  totalSeconds: number;
}

const HELD_OUT = 32;

function errText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 300);
}

function kernelOf(msg: string): string | undefined {
  return /Kernel '([A-Za-z0-9]+)' not registered/.exec(msg)?.[1];
}

/** The gradients of a fixed scalar of the student's output (BatchNorm in training mode) on `x`, per trainable weight. */
async function gradients(student: LoadedModel, x: Uint8Array, probe: Float32Array): Promise<Map<string, Float32Array>> {
  const model = await instantiate(student);
  try {
    const vars = model.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
    const { grads } = tf.tidy(() => {
      const input = inputTensor(model.inputs[0].shape, x, { imageSize: [32, 32], channels: 3 });
      return tf.variableGrads(() => {
        const out = model.apply(input, { training: true }) as tf.Tensor2D;
        return tf.sum(tf.mul(out, tf.tensor2d(probe, out.shape as [number, number]))) as tf.Scalar;
      }, vars);
    });
    const out = new Map<string, Float32Array>();
    const names = model.trainableWeights.map((w) => w.originalName);
    for (const [i, v] of vars.entries()) {
      const g = grads[v.name];
      out.set(names[i], g ? ((await g.data()) as Float32Array).slice() : new Float32Array(0));
    }
    tf.dispose(Object.values(grads));
    return out;
  } finally {
    model.dispose();
  }
}

function compareGrads(ref: Map<string, Float32Array>, got: Map<string, Float32Array>): GradCheck {
  let worstRelErr = 0;
  let worstWeight = '';
  for (const [name, r] of ref) {
    const g = got.get(name);
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < r.length; i++) scale = Math.max(scale, Math.abs(r[i]));
    if (!g || g.length !== r.length) diff = Infinity;
    else for (let i = 0; i < r.length; i++) diff = Math.max(diff, Math.abs(g[i] - r[i]));
    const rel = diff / Math.max(scale, 1e-12);
    if (!(rel <= worstRelErr)) {
      worstRelErr = rel;
      worstWeight = name;
    }
  }
  return { worstRelErr, worstWeight, weights: ref.size };
}

/** One checked step: the gradients on this backend against the CPU's. */
async function step(student: LoadedModel, x: Uint8Array, probe: Float32Array, ref: Map<string, Float32Array>): Promise<{ ok: boolean; error?: string; missingKernel?: string; grad?: GradCheck }> {
  try {
    return { ok: true, grad: compareGrads(ref, await gradients(student, x, probe)) };
  } catch (e) {
    const error = errText(e);
    const k = kernelOf(error);
    return { ok: false, error, ...(k ? { missingKernel: k } : {}) };
  }
}

/**
 * Runs the plan on `plan.backend`, started by `init` (initBackend with the page's WASM paths in
 * Chromium, without them in Node). Never throws: what failed is in `error`.
 */
export async function finetuneBench(teacher: LoadedModel, plan: FinetuneBenchPlan, init: (b: BackendName) => Promise<BackendInfo>, where: 'Chromium' | 'Node', log: (s: string) => void = () => {}): Promise<FinetuneBenchResult> {
  const t0 = performance.now();
  const seed = plan.seed ?? 1;
  const analysis = analyzeModel(teacher);
  const pruned = pruneModel(teacher, analysis, uniformPolicy(analysis.groups, plan.ratio ?? 0.5));
  const student = pruned.model;
  const params = student.weights.reduce((s, w) => s + w.values.length, 0);
  const r: FinetuneBenchResult = {
    model: plan.model,
    where,
    requested: plan.backend,
    used: null,
    reason: '',
    images: plan.images,
    batchSize: plan.batchSize,
    heldOut: HELD_OUT,
    student: { params, keep: Object.fromEntries(pruned.keep) },
    kernels: { used: [], missing: [] },
    stockStep: { ok: false },
    totalSeconds: 0,
  };
  const per = 32 * 32 * 3;
  const ds = generateDataset('train', { count: plan.images + HELD_OUT });
  const rng = new Rng(seed * 31 + 7);
  const probe = Float32Array.from({ length: 8 * 10 }, () => rng.next() * 2 - 1);
  const x8 = ds.images.subarray(0, 8 * per);
  const data: FinetuneData = { images: ds.images, labels: ds.labels, layout: { height: 32, width: 32, channels: 3 } };
  const overrides: Partial<FinetuneConfig> = { epochs: 2, batchSize: plan.batchSize, seed, heldOutMin: HELD_OUT, heldOutMax: HELD_OUT, patience: 10, augment: { ...DEMO_AUGMENT } };

  // 2. The kernels training calls, and the reference gradients, on the CPU backend.
  let ref: Map<string, Float32Array>;
  try {
    await tf.setBackend('cpu');
    await tf.ready();
    const tiny: FinetuneData = { images: ds.images.subarray(0, 6 * per), labels: ds.labels.subarray(0, 6), layout: data.layout };
    const d = await Distiller.create(student, teacher, tiny, { ...overrides, batchSize: 2, heldOutMin: 2, heldOutMax: 2 });
    try {
      const info = await tf.profile(async () => {
        await d.runEpoch();
        return [];
      });
      // The profile also lists op scopes of custom gradients (fusedConv2d__op ...): only names the CPU has a kernel for are kernels.
      r.kernels.used = [...new Set(info.kernelNames)].filter((k) => tf.getKernel(k, 'cpu') !== undefined).sort();
    } finally {
      d.dispose();
    }
    ref = await gradients(student, x8, probe);
  } catch (e) {
    r.error = `CPU reference failed: ${errText(e)}`;
    r.totalSeconds = (performance.now() - t0) / 1000;
    return r;
  }

  // 3. The backend as tfjs ships it.
  const info = await init(plan.backend);
  r.used = info.name;
  r.reason = info.reason;
  if (info.adapter) r.adapterFallback = info.adapter.isFallbackAdapter;
  if (info.name !== plan.backend) {
    r.error = `${plan.backend} did not start: ${info.reason}`;
    r.totalSeconds = (performance.now() - t0) / 1000;
    return r;
  }
  r.kernels.missing = r.kernels.used.filter((k) => tf.getKernel(k, plan.backend) === undefined);
  r.stockStep = await step(student, x8, probe, ref);
  log(`${plan.model} on ${where} ${plan.backend}: missing ${r.kernels.missing.join(', ') || 'none'}; stock step ${r.stockStep.ok ? `ok, gradients vs CPU ${r.stockStep.grad!.worstRelErr.toExponential(1)}` : r.stockStep.error}`);
  if (plan.backend === 'wasm') {
    installWasmGradients();
    r.patchedStep = await step(student, x8, probe, ref);
    log(`${plan.model} on ${where} wasm after installWasmGradients: ${r.patchedStep.ok ? `ok, gradients vs CPU ${r.patchedStep.grad!.worstRelErr.toExponential(1)}` : r.patchedStep.error}`);
  }
  if (plan.checksOnly) {
    r.totalSeconds = (performance.now() - t0) / 1000;
    return r;
  }

  // 4. The fine-tune itself: a warm-up epoch, then the timed one.
  let d: Distiller | undefined;
  let phase = 'Distiller.create';
  // A WebGPU device can be lost mid-run (the GPU process restarted): say so rather than only the failed call after it.
  let lost: string | undefined;
  const device = (tf.backend() as { device?: { lost?: Promise<{ reason?: string; message?: string }> } }).device;
  void device?.lost?.then((l) => (lost = `WebGPU device lost (${l.reason ?? 'unknown'}: ${l.message ?? ''}) during ${phase}`));
  try {
    d = await Distiller.create(student, teacher, data, overrides);
    let name = 'warm-up';
    const epoch = async () => {
      const losses: number[] = [];
      const start = performance.now();
      let end = start;
      phase = `${name} epoch, step 1`;
      const log1 = await d!.runEpoch({
        onStep: (done, total, loss) => {
          losses.push(loss);
          end = performance.now();
          phase = done < total ? `${name} epoch, step ${done + 1}` : `${name} epoch, held-out scoring`;
        },
      });
      name = 'timed';
      return { log: log1!, seconds: (end - start) / 1000, losses };
    };
    const w = await epoch();
    r.warmup = { seconds: w.seconds, trainLoss: w.log.trainLoss! };
    const afterWarmup = tf.memory().numTensors;
    log(`${plan.model} on ${where} ${plan.backend}: warm-up epoch ${w.seconds.toFixed(1)} s, loss ${w.log.trainLoss!.toFixed(4)}`);
    const t = await epoch();
    r.timed = { seconds: t.seconds, epochSeconds: (t.log.ms ?? 0) / 1000, steps: t.log.steps ?? t.losses.length, trainLoss: t.log.trainLoss!, stepLosses: t.losses };
    r.tensors = { afterWarmup, afterTimed: tf.memory().numTensors };
    r.secondsPer1000 = (t.seconds / d.train.length) * 1000;
    r.heldOutLoss = d.history.map((h) => h.heldOutLoss);
    log(`${plan.model} on ${where} ${plan.backend}: timed epoch ${t.seconds.toFixed(1)} s (${r.secondsPer1000.toFixed(1)} s per 1000 images), loss ${t.log.trainLoss!.toFixed(4)}`);
  } catch (e) {
    const k = kernelOf(errText(e));
    r.error = `${phase}: ${errText(e)}${lost ? ` [${lost}]` : ''}`;
    if (k) r.missingKernel = k;
  } finally {
    d?.dispose();
  }
  r.totalSeconds = (performance.now() - t0) / 1000;
  return r;
}

/** The plan's `syncReadProbe` on `plan.backend` (no model). */
export async function syncReadProbe(plan: FinetuneBenchPlan, init: (b: BackendName) => Promise<BackendInfo>, where: 'Chromium' | 'Node'): Promise<FinetuneBenchResult> {
  const t0 = performance.now();
  const info = await init(plan.backend);
  const r: FinetuneBenchResult = {
    model: plan.model,
    where,
    requested: plan.backend,
    used: info.name,
    reason: info.reason,
    ...(info.adapter ? { adapterFallback: info.adapter.isFallbackAdapter } : {}),
    images: 0,
    batchSize: 0,
    heldOut: 0,
    student: { params: 0, keep: {} },
    kernels: { used: [], missing: [] },
    stockStep: { ok: false },
    totalSeconds: 0,
  };
  let lost: string | undefined;
  const device = (tf.backend() as { device?: { lost?: Promise<{ reason?: string; message?: string }> } }).device;
  void device?.lost?.then((l) => (lost = `device lost (${l.reason ?? 'unknown'}: ${l.message ?? ''})`));
  // As the Distiller's weightsBlob reads a model: one tensor after another, small and large.
  const sizes = [3, 864, 32, 18_432, 64, 73_728, 128, 147_456, 1_280, 10];
  let reads = 0;
  try {
    for (const n of sizes) {
      const a = tf.tidy(() => tf.mul(tf.range(0, n), 2));
      const v = a.dataSync();
      a.dispose();
      const bad = v.findIndex((x, i) => x !== 2 * i);
      if (v.length !== n || bad >= 0) throw new Error(`dataSync of ${n} values read wrong values${bad >= 0 ? ` from index ${bad} (${v[bad]} for ${2 * bad}; ${v.filter((x, i) => x !== 2 * i).length} wrong)` : ''}`);
      reads++;
      await new Promise((ok) => setTimeout(ok, 0));
      if (lost) throw new Error(`after ${reads} dataSync reads`);
    }
    const b = tf.tidy(() => tf.add(tf.tensor1d([1, 2, 3]), 1));
    const after = Array.from(await b.data());
    b.dispose();
    if (after.join() !== '2,3,4') throw new Error(`data() after them gave [${after}]`);
    r.syncRead = { ok: true };
  } catch (e) {
    r.syncRead = { ok: false, error: `${reads} of ${sizes.length} dataSync reads done: ${errText(e)}${lost ? ` [${lost}]` : ''}` };
  }
  r.totalSeconds = (performance.now() - t0) / 1000;
  return r;
}

// The page's side: load the demo model by URL (the bench server serves models/ at /models/) and run.
if (typeof document !== 'undefined') {
  const api = {
    run: async (url: string, plan: FinetuneBenchPlan): Promise<FinetuneBenchResult> => {
      const [{ wasmPaths }, { initBackend }, { filesFromUrl }, { loadModel }] = await Promise.all([
        import('../../src/workers/wasm-paths'),
        import('../../src/core/measure/backends'),
        import('../../src/core/model/files'),
        import('../../src/core/model/load'),
      ]);
      if (plan.syncReadProbe) return syncReadProbe(plan, (b) => initBackend(b, wasmPaths), 'Chromium');
      const teacher = await loadModel(await filesFromUrl(url));
      return finetuneBench(teacher, plan, (b) => initBackend(b, wasmPaths), 'Chromium', (line) => console.log(`[bench] ${line}`));
    },
  };
  (globalThis as unknown as { amcFinetune: typeof api }).amcFinetune = api;
}
