/**
 * What crosses between the page and the workers as plain, structured-cloneable data, and how it
 * travels: the model as the two files of a tfjs export (model.json text + one weights buffer, the
 * same bytes IndexedDB keeps), models and pruned models as their weight arrays, the images that
 * score a search as raw bytes. Large arrays go as transferables, each buffer listed once.
 * Used by every worker's messages (search, fine-tune, timing). Nothing here imports tfjs.
 */
import { bytesPerImage, type EvalOptions } from '../core/measure/accuracy';
import type { Scaling } from '../core/data/procedural';
import type { ModelCost } from '../core/model/cost';
import { dirName, type ModelFile } from '../core/model/files';
import type { LoadedModel } from '../core/model/types';
import type { PruneResult } from '../core/prune/prune';

/** A model as the two files of a tfjs export: what IndexedDB keeps and what the worker loads. */
export interface ModelFiles {
  modelJson: string;
  weights: ArrayBuffer;
}

/**
 * The files of an export as the loader reads them, named as the user knew the model
 * (`jsonPath`), the weights beside it.
 */
export function modelFilesAsInput(files: ModelFiles, jsonPath = 'model.json'): ModelFile[] {
  const json = new TextEncoder().encode(files.modelJson).buffer as ArrayBuffer;
  return [
    { path: jsonPath, size: json.byteLength, read: async () => json },
    { path: `${dirName(jsonPath)}model.weights.bin`, size: files.weights.byteLength, read: async () => files.weights },
  ];
}

/** EvalOptions without its callbacks (functions cannot cross to a worker). */
export type PlainEvalOptions = Omit<EvalOptions, 'onProgress' | 'pause'>;

/**
 * The images that score each episode. The demo dataset's val split is generated in the worker
 * (the same bytes everywhere); other images come as raw bytes at the model's input size.
 */
export type ScoringSpec =
  | { kind: 'demo'; split: 'val'; count: number; labeled: boolean; scaling?: Scaling; calibration?: number }
  | { kind: 'images'; name: string; images: Uint8Array; labels?: Int32Array; eval: PlainEvalOptions; calibration?: Uint8Array };

/** Number of images in a spec's bytes. */
export function imageCount(spec: Extract<ScoringSpec, { kind: 'images' }>): number {
  return Math.floor(spec.images.length / bytesPerImage(spec.eval));
}

/** A LoadedModel without its name index (rebuilt on arrival). */
export type ModelPayload = Omit<LoadedModel, 'byName'>;

/** A pruned model and how it was made, as the worker sends it back. */
export interface PrunedPayload {
  model: ModelPayload;
  keep: Record<string, number>;
  kept: Record<string, number[]>;
  cost: ModelCost;
}

/** Buffers of `arrays`, each once (a transfer list must not repeat a buffer). */
export function buffersOf(arrays: Iterable<ArrayBufferView | ArrayBuffer>): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const a of arrays) {
    const b = a instanceof ArrayBuffer ? a : a.buffer;
    if (b instanceof ArrayBuffer) out.add(b);
  }
  return [...out];
}

/**
 * A model for posting: weight values copied into buffers of their own (the sender keeps its
 * model), listed for transfer.
 */
export function toModelPayload(model: LoadedModel): { payload: ModelPayload; transfer: ArrayBuffer[] } {
  const { byName: _byName, ...rest } = model;
  const weights = model.weights.map((w) => ({ ...w, values: w.values.slice() }));
  return { payload: { ...rest, weights, notes: [...model.notes] }, transfer: buffersOf(weights.map((w) => w.values)) };
}

export function fromModelPayload(p: ModelPayload): LoadedModel {
  return { ...p, byName: new Map(p.weights.map((w) => [w.name, w])) };
}

export function toPrunedPayload(result: Pick<PruneResult, 'keep' | 'kept' | 'cost'>, model: LoadedModel): { payload: PrunedPayload; transfer: ArrayBuffer[] } {
  const m = toModelPayload(model);
  return {
    payload: { model: m.payload, keep: Object.fromEntries(result.keep), kept: Object.fromEntries(result.kept), cost: result.cost },
    transfer: m.transfer,
  };
}

export function fromPrunedPayload(p: PrunedPayload): PruneResult {
  return { model: fromModelPayload(p.model), keep: new Map(Object.entries(p.keep)), kept: new Map(Object.entries(p.kept)), cost: p.cost };
}
