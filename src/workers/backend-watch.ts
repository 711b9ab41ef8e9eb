/**
 * Tells when the backend in use dies under us: a WebGPU device lost (driver reset, the GPU
 * process crashed, the tab went to the background on a phone), a WebGL context lost. tfjs then
 * fails or returns garbage at the next kernel; the search worker falls back to WASM instead.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../core/measure/backends';

interface GpuDeviceLike {
  lost?: Promise<{ reason?: string; message?: string }>;
}
interface WebGlBackendLike {
  gpgpu?: { gl?: { canvas?: { addEventListener?: (type: string, fn: (e: Event) => void) => void } } };
}

/** Calls `onLost` once if the backend just initialized (`info`) loses its device or context. */
export function watchBackend(info: BackendInfo, onLost: (reason: string) => void): void {
  let fired = false;
  const fire = (reason: string) => {
    if (fired) return;
    fired = true;
    onLost(reason);
  };
  try {
    const backend = tf.findBackend(info.name) as unknown;
    if (info.name === 'webgpu') {
      const device = (backend as { device?: GpuDeviceLike } | null)?.device;
      void device?.lost?.then((i) => {
        // 'destroyed' is our own doing (a backend disposed on purpose), not a failure.
        if (i?.reason === 'destroyed') return;
        fire(`the GPU device was lost${i?.message ? ` (${i.message})` : ''}`);
      });
    } else if (info.name === 'webgl') {
      (backend as WebGlBackendLike | null)?.gpgpu?.gl?.canvas?.addEventListener?.('webglcontextlost', () => fire('the WebGL context was lost'));
    }
  } catch {
    // Nothing to watch: failures still surface as errors during an episode.
  }
}

/** Whether a worker's initialized backend still answers a request for `name` (none: whatever is in use). */
export function stillInUse(backend: BackendInfo | null, name?: BackendInfo['name']): backend is BackendInfo {
  return !!backend && (!name || backend.name === name) && tf.getBackend() === backend.name;
}
