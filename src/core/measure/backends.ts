/**
 * Picks and initializes the tfjs backend every measurement runs on.
 *
 * Order (DESIGN.md, "Measuring on a device"): WebGPU only when the adapter is real hardware
 * (not a fallback adapter such as SwiftShader), else WASM, then WebGL, then CPU.
 * An explicitly preferred backend is tried first and kept if it initializes, so tests can
 * force WebGPU on SwiftShader. Every failure falls through to the next backend and the reason
 * is recorded in `BackendInfo.reason`.
 *
 * No DOM beyond `navigator.gpu`: runs in a page, a worker, or Node (where only wasm/cpu exist).
 */
import * as tf from '@tensorflow/tfjs';
import { errLine } from '../errors';
import { installWasmMatMul } from './wasm-matmul';

export type BackendName = 'webgpu' | 'wasm' | 'webgl' | 'cpu';

export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'wasm', 'webgl', 'cpu'];

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export interface BackendInfo {
  name: BackendName;
  /** The WebGPU adapter, when WebGPU was probed and gave one. */
  adapter?: AdapterInfo;
  /** Why this backend is the one in use, e.g. "WebGPU adapter is a fallback (SwiftShader): using WASM". */
  reason: string;
}

/** The three WASM binaries, by their file names in @tensorflow/tfjs-backend-wasm/dist (or a folder prefix). */
export type WasmPaths =
  | string
  | {
      'tfjs-backend-wasm.wasm': string;
      'tfjs-backend-wasm-simd.wasm': string;
      'tfjs-backend-wasm-threaded-simd.wasm': string;
    };

export function isBackendName(s: unknown): s is BackendName {
  return typeof s === 'string' && (BACKEND_NAMES as readonly string[]).includes(s);
}

/** Each backend's name in words, as every panel, host and report line writes it. */
export const BACKEND_LABEL: Record<BackendName, string> = { webgpu: 'WebGPU', wasm: 'WASM', webgl: 'WebGL', cpu: 'CPU' };
const LABEL = BACKEND_LABEL;

/** "WebGPU", "WASM"; an unknown name as it is. */
export function backendLabel(name: string): string {
  return BACKEND_LABEL[name as BackendName] ?? name;
}

/** Backends that can fail under a search or training (a GPU device or context can be lost); WASM and CPU cannot fall back further. */
export function canFallBack(backend: string): boolean {
  return backend !== 'wasm' && backend !== 'cpu';
}

function errText(e: unknown): string {
  return errLine(e).slice(0, 200);
}

interface GpuAdapterLike {
  info?: Partial<AdapterInfo>;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<Partial<AdapterInfo>>;
}

/** Asks the browser for a WebGPU adapter; `adapter: undefined` with a reason when there is none. */
export async function probeWebGpu(): Promise<{ adapter?: AdapterInfo; reason?: string }> {
  const nav = (globalThis as { navigator?: { gpu?: { requestAdapter(o?: unknown): Promise<unknown> } } }).navigator;
  if (!nav?.gpu) return { reason: 'WebGPU is not available here' };
  let raw: GpuAdapterLike | null;
  try {
    raw = (await nav.gpu.requestAdapter({ powerPreference: 'high-performance' })) as GpuAdapterLike | null;
  } catch (e) {
    return { reason: `WebGPU requestAdapter failed (${errText(e)})` };
  }
  if (!raw) return { reason: 'WebGPU gave no adapter' };
  let info: Partial<AdapterInfo> = {};
  try {
    info = raw.info ?? (raw.requestAdapterInfo ? await raw.requestAdapterInfo() : {});
  } catch {
    info = {};
  }
  const isFallbackAdapter = Boolean(info.isFallbackAdapter ?? raw.isFallbackAdapter ?? false);
  return {
    adapter: {
      vendor: String(info.vendor ?? ''),
      architecture: String(info.architecture ?? ''),
      device: String(info.device ?? ''),
      description: String(info.description ?? ''),
      isFallbackAdapter,
    },
  };
}

/** A short human name for an adapter: "SwiftShader", "nvidia ampere", ... */
export function adapterLabel(a: AdapterInfo): string {
  const desc = a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' ');
  if (/swiftshader/i.test(desc) || /swiftshader/i.test(a.vendor) || /swiftshader/i.test(a.architecture)) {
    return 'SwiftShader';
  }
  return desc || 'unknown adapter';
}

let wasmPathsSet = false;

async function registerBackend(name: BackendName, wasmPaths?: WasmPaths): Promise<void> {
  switch (name) {
    case 'webgpu':
      await import('@tensorflow/tfjs-backend-webgpu');
      break;
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // Threads are left to tfjs: on where the page is cross-origin isolated (SharedArrayBuffer,
      // vite.config.ts / the service worker send COOP/COEP), off elsewhere. The minified build's
      // pthread workers load the untouched Emscripten script (scripts/wasm-threads.ts).
      // The thread count is tfjs' own: its threadpool takes half the logical cores (at most 8;
      // setThreadsCount can only lower it), so a 2-core machine runs 1 thread, an 8-core phone 4.
      if (wasmPaths && !wasmPathsSet && !tf.findBackend('wasm')) {
        try {
          wasm.setWasmPaths(wasmPaths);
          wasmPathsSet = true;
        } catch {
          // Already initialized or aborted once: the paths in place are kept.
        }
      }
      break;
    }
    // Registered by @tensorflow/tfjs itself in Node and the dev server; a build's lean tfjs
    // (src/tfjs-lean.ts) has neither, so they are fetched only when started (WebGL registers
    // itself only where a WebGL context can exist).
    case 'webgl':
      await import('@tensorflow/tfjs-backend-webgl');
      break;
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      break;
  }
}

/** Initializes one backend; throws with a one-line reason when it cannot. */
async function trySet(name: BackendName, wasmPaths?: WasmPaths): Promise<void> {
  await registerBackend(name, wasmPaths);
  if (!tf.findBackendFactory(name)) throw new Error(`${LABEL[name]} backend is not available here`);
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`${LABEL[name]} backend failed to initialize`);
  await tf.ready();
  if (name === 'wasm') installWasmMatMul();
  // A backend can initialize and still fail at its first kernel (lost GPU device, missing wasm):
  // prove it with one tiny op.
  const probe = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)));
  try {
    const v = (await probe.data())[0];
    if (v !== 3) throw new Error(`${LABEL[name]} backend computed 1+2=${v}`);
  } finally {
    probe.dispose();
  }
}

/**
 * Chooses and initializes a backend. Never throws: CPU is the last resort
 * (and if even that fails, the error propagates because nothing can run).
 */
export async function initBackend(preferred?: BackendName, wasmPaths?: WasmPaths): Promise<BackendInfo> {
  const failures: string[] = [];
  const probe = await probeWebGpu();
  const adapter = probe.adapter;
  const adapterPart = adapter ? { adapter } : {};

  if (preferred) {
    try {
      await trySet(preferred, wasmPaths);
      let reason = `${LABEL[preferred]} requested`;
      if (preferred === 'webgpu' && adapter?.isFallbackAdapter) {
        reason += ` (adapter is a fallback: ${adapterLabel(adapter)}; correct but slow)`;
      }
      return { name: preferred, ...adapterPart, reason };
    } catch (e) {
      failures.push(`${LABEL[preferred]} requested but failed (${errText(e)})`);
    }
  }

  const order: BackendName[] = [];
  if (adapter && !adapter.isFallbackAdapter) order.push('webgpu');
  else if (adapter) failures.push(`WebGPU adapter is a fallback (${adapterLabel(adapter)})`);
  else failures.push(probe.reason ?? 'WebGPU is not available');
  for (const n of ['wasm', 'webgl', 'cpu'] as const) order.push(n);

  for (const name of order) {
    if (name === preferred) continue;
    try {
      await trySet(name, wasmPaths);
      const why = name === 'webgpu' ? `WebGPU on ${adapterLabel(adapter!)}` : `using ${LABEL[name]}`;
      const reason = failures.length ? `${failures.join('; ')}: ${why}` : why;
      return { name, ...adapterPart, reason };
    } catch (e) {
      failures.push(`${LABEL[name]} failed (${errText(e)})`);
    }
  }
  throw new Error(`No tfjs backend could start: ${failures.join('; ')}`);
}
