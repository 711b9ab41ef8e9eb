/**
 * A backend can be left broken by what ran on it: the WASM backend's memory after a huge
 * allocation failed half-way ("memory access out of bounds" at every later kernel, good models
 * included), a GPU backend after an out-of-memory. `checkBackend` proves the backend in use with a
 * small computation whose result is known; `resetBackend` drops the broken instance (its WASM
 * memory, its GPU device) and starts a fresh one of the same kind, or falls back to the next one.
 */
import * as tf from '@tensorflow/tfjs';
import { errLine } from '../errors';
import { backendLabel, initBackend, isBackendName, type BackendInfo, type WasmPaths } from './backends';

/** Errors that mean the backend itself is damaged, whatever model was running. */
const BROKEN = /memory access out of bounds|out of memory|RuntimeError|Aborted\(|unreachable|table index is out of bounds|context (?:was )?lost|device (?:was )?lost|backend .*disposed/i;

/** True when an error's text says the backend (not the model) failed. */
export function isBackendFailure(e: unknown): boolean {
  return BROKEN.test(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
}

/**
 * One small convolution and matrix product on the backend in use, read back and checked:
 * null when the backend computes, else why it does not. Leaves no tensor behind.
 */
export async function checkBackend(): Promise<string | null> {
  let out: tf.Tensor | undefined;
  try {
    out = tf.tidy(() => {
      // conv: every output of a 3x3x2 all-ones kernel over ones is 18; matMul: 3x5 ones by 5x2 ones is all 5.
      const conv = tf.conv2d(tf.ones([1, 4, 4, 2]) as tf.Tensor4D, tf.ones([3, 3, 2, 1]) as tf.Tensor4D, 1, 'valid');
      const mm = tf.matMul(tf.ones([3, 5]), tf.ones([5, 2]));
      return tf.concat([conv.reshape([-1]), mm.reshape([-1])]);
    });
    const v = await out.data();
    const expected = [18, 18, 18, 18, 5, 5, 5, 5, 5, 5];
    if (v.length !== expected.length || expected.some((x, i) => v[i] !== x)) {
      return `it computed ${Array.from(v.slice(0, 4)).join(', ')}… where 18, 18, 18, 18… was expected`;
    }
    return null;
  } catch (e) {
    return errLine(e) || 'it failed';
  } finally {
    try {
      out?.dispose();
    } catch {
      // A broken backend may fail to free too.
    }
  }
}

interface EngineRegistry {
  registryFactory: Record<string, { priority: number } | undefined>;
}

/**
 * Replaces the backend in use with a fresh instance of the same kind (tfjs drops the old one with
 * its memory; the kind's factory makes a new one), then proves it; when that fails, falls back
 * the way initBackend does. Tensors made on the old instance are gone with it: dispose models
 * built there before calling this. `why` says what was wrong, for BackendInfo.reason.
 */
export async function resetBackend(why: string, wasmPaths?: WasmPaths): Promise<BackendInfo> {
  const name = tf.getBackend();
  const factory = name ? tf.findBackendFactory(name) : null;
  if (name && factory && isBackendName(name)) {
    const priority = (tf.engine() as unknown as EngineRegistry).registryFactory[name]?.priority ?? 1;
    try {
      tf.removeBackend(name);
    } catch {
      // Already half gone: registering it again below is what matters.
    }
    tf.registerBackend(name, factory, priority);
  }
  const info = await initBackend(isBackendName(name) ? name : undefined, wasmPaths);
  const problem = await checkBackend();
  if (problem) throw new Error(`${backendLabel(info.name)} backend still fails after a reset (${problem})`);
  const was = name ? backendLabel(name) : 'the backend';
  const reason = info.name === name ? `${was} restarted after it failed (${why})` : `${was} failed (${why}); ${info.reason}`;
  return { ...info, reason };
}
