/**
 * What both worker hosts (search-host.ts, fine-tune-host.ts) say when a backend fails: its name in
 * words, whether another backend can take over, and the error as one line. The page's state
 * classes use `errLine` too.
 */
import type { BackendName } from '../core/measure/backends';

const LABEL: Record<BackendName, string> = { webgpu: 'WebGPU', wasm: 'WASM', webgl: 'WebGL', cpu: 'CPU' };

/** "WebGPU", "WASM"; an unknown name as it is. */
export function backendLabel(name: string): string {
  return LABEL[name as BackendName] ?? name;
}

/** Backends that can fail under a search or training (a GPU device or context can be lost); WASM and CPU cannot fall back further. */
export function canFallBack(backend: string): boolean {
  return backend !== 'wasm' && backend !== 'cpu';
}

/** The first line of an error's message (what a host posts and a panel shows). */
export function errLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
