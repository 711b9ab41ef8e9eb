/**
 * FNV-1a (32-bit): the one hash of the project. It checks the demo dataset across runtimes
 * (core/data/procedural.ts) and fingerprints a model, so a saved search or fine-tune knows whether
 * the model on screen is the one it ran on. Not cryptographic; fast over megabytes of weights.
 */
import type { LoadedModel } from './model/types';

/** FNV-1a's offset basis: the state before any byte. */
export const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a over bytes, continuing from `state` (a 32-bit state; FNV_OFFSET to begin). */
export function fnv1a32(bytes: Uint8Array, state = FNV_OFFSET): number {
  let h = state >>> 0;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}

/** A 32-bit hash as 8 hex digits. */
export function hex32(h: number): string {
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Identifies a model by its topology and weights (not by its name or where it came from). */
export function modelFingerprint(model: Pick<LoadedModel, 'topology' | 'weights'>): string {
  const text = new TextEncoder();
  let h = fnv1a32(text.encode(JSON.stringify(model.topology)));
  let n = 0;
  for (const w of model.weights) {
    h = fnv1a32(text.encode(w.name), h);
    const v = w.values;
    h = fnv1a32(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), h);
    n += v.length;
  }
  return `${hex32(h)}-${n}`;
}
