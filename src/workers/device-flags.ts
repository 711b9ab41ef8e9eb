/**
 * What can be known about how tfjs runs on this device, beside the backend and its adapter: cores,
 * cross-origin isolation, and for WASM whether SIMD is used and how many threads run. Every field
 * is optional: a browser that does not say is not guessed at.
 */
import * as tf from '@tensorflow/tfjs';
import type { DeviceFlags } from './latency-messages';

async function flag(name: string): Promise<boolean | undefined> {
  try {
    return Boolean(await tf.env().getAsync(name));
  } catch {
    // Not registered: that backend's package is not loaded here.
    return undefined;
  }
}

export async function deviceFlags(): Promise<DeviceFlags> {
  const g = globalThis as { navigator?: { hardwareConcurrency?: number }; crossOriginIsolated?: boolean };
  const out: DeviceFlags = {};
  if (typeof g.navigator?.hardwareConcurrency === 'number') out.cores = g.navigator.hardwareConcurrency;
  if (typeof g.crossOriginIsolated === 'boolean') out.crossOriginIsolated = g.crossOriginIsolated;
  if (tf.findBackend('wasm')) {
    const simd = await flag('WASM_HAS_SIMD_SUPPORT');
    if (simd !== undefined) out.wasmSimd = simd;
    const multithread = await flag('WASM_HAS_MULTITHREAD_SUPPORT');
    if (multithread !== undefined) out.wasmMultithreadFlag = multithread;
    // The browser's own answer (tfjs' flag above can also be set to false by hand).
    out.wasmThreadsSupported = typeof SharedArrayBuffer !== 'undefined' && g.crossOriginIsolated === true;
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      out.wasmThreads = wasm.getThreadsCount();
    } catch {
      // Not initialized yet.
    }
  }
  return out;
}

/** "SIMD, 1 thread (threads off), 2 cores", for the device card and tables. */
export function describeDevice(d: DeviceFlags, backend: string): string {
  const parts: string[] = [];
  if (backend === 'wasm') {
    if (d.wasmSimd !== undefined) parts.push(d.wasmSimd ? 'SIMD' : 'no SIMD');
    if (d.wasmThreads !== undefined) {
      // Threads on: the threaded build runs, with half the logical cores (tfjs' threadpool).
      const why =
        d.wasmMultithreadFlag === true
          ? ' (threads on)'
          : d.wasmMultithreadFlag === false
            ? d.crossOriginIsolated === false
              ? ' (threads off: page not cross-origin isolated)'
              : ' (threads off)'
            : '';
      parts.push(`${d.wasmThreads} thread${d.wasmThreads === 1 ? '' : 's'}${why}`);
    }
  }
  if (d.cores !== undefined) parts.push(`${d.cores} logical core${d.cores === 1 ? '' : 's'}`);
  return parts.join(', ');
}
