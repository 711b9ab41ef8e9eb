/**
 * The messages between the page and the search worker (src/workers/search.worker.ts), both ways,
 * and the records the search keeps in IndexedDB (src/workers/search-store.ts).
 *
 * Everything here is plain, structured-cloneable data. Large arrays travel as transferables: the
 * model as the two files of a tfjs export (model.json text + one weights buffer, the same bytes
 * IndexedDB keeps), pruned models as their weight arrays. Nothing here imports tfjs.
 */
import type { BackendInfo, BackendName } from '../core/measure/backends';
import { bytesPerImage, type EvalOptions } from '../core/measure/accuracy';
import type { ModelCost } from '../core/model/cost';
import type { LoadedModel } from '../core/model/types';
import type { PruneResult } from '../core/prune/prune';
import type { Scaling } from '../core/data/procedural';
import { dirName, type ModelFile } from '../core/model/files';
import type { SearchConfig } from '../core/search/config';
import type { EpisodeRecord, Score, SearchSnapshot } from '../core/search/search';
import type { UniformBaseline } from '../core/search/baselines';
import type { SavedLatency } from '../core/search/latency-resource';

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

/** What the saved search says about its data (the bytes of user images are kept apart). */
export type DataChoice =
  | { kind: 'demo'; split: 'val'; count: number; labeled: boolean; scaling?: Scaling; calibration?: number }
  | { kind: 'images'; name: string; count: number; labeled: boolean; calibration?: number };

export function dataChoiceOf(spec: ScoringSpec): DataChoice {
  if (spec.kind === 'demo') return { ...spec };
  const calibration = spec.calibration ? imageCount({ ...spec, images: spec.calibration }) : undefined;
  return { kind: 'images', name: spec.name, count: imageCount(spec), labeled: spec.labels !== undefined, ...(calibration ? { calibration } : {}) };
}

/** Number of images in a spec's bytes. */
export function imageCount(spec: Extract<ScoringSpec, { kind: 'images' }>): number {
  return Math.floor(spec.images.length / bytesPerImage(spec.eval));
}

/** The uniform baseline and a latency search's saved table are the search session's types (core/search). */
export type { SavedLatency, UniformBaseline };

/** Everything a search needs to continue where it stopped; saved after every episode. */
export interface SearchProgress {
  amc: SearchSnapshot;
  /** The random-search baseline, when it runs beside the agent. */
  random: SearchSnapshot | null;
  uniform: UniformBaseline | null;
  /** Time spent searching so far, ms (pauses and reloads excluded). */
  elapsedMs: number;
}

/** One episode, in brief, for the list of past searches. */
export interface EpisodeBrief {
  episode: number;
  phase: EpisodeRecord['phase'];
  reward: number;
  /** Top-1 accuracy (labeled data) or top-1 agreement with the original (unlabeled). */
  accuracy: number | undefined;
  resourceRatio: number;
  keep: Record<string, number>;
}

export function briefOf(e: EpisodeRecord): EpisodeBrief {
  return { episode: e.episode, phase: e.phase, reward: e.reward, accuracy: accuracyOf(e.score), resourceRatio: e.resourceRatio, keep: e.keep };
}

/** Top-1 accuracy when the data has labels, else top-1 agreement with the original model. */
export function accuracyOf(s: Score): number | undefined {
  return s.top1 ?? s.agreement;
}

/** Where the model came from, as the app shows it (AppState's SourceInfo). */
export interface SourceRecord {
  kind: 'builtin' | 'url' | 'files';
  label: string;
  demo?: string;
}

/** The saved summary of one search: small, listed on every page load. */
export interface SearchMeta {
  id: string;
  version: 1;
  createdAt: number;
  updatedAt: number;
  model: {
    /** model.json's name as the user knows it. */
    name: string;
    source: SourceRecord;
    /** The input size the analysis assumed for dynamic models (null: the model's own). */
    inputSize: number | null;
    /** Hash of the topology and weights: tells whether the model on screen is this one. */
    fingerprint: string;
    bytes: number;
    groups: number;
  };
  data: DataChoice;
  config: SearchConfig;
  randomBaseline: boolean;
  /** AMC episodes finished and saved. */
  episodes: number;
  randomEpisodes: number;
  /** Stopped by the user before the budget was spent (not offered for resuming on load). */
  stopped: boolean;
  best: EpisodeBrief | null;
  randomBest: EpisodeBrief | null;
  uniform: { ratio: number; accuracy: number | undefined; resourceRatio: number; reward: number } | null;
  backend?: string;
  elapsedMs: number;
}

export function isFinished(m: Pick<SearchMeta, 'episodes' | 'config'>): boolean {
  return m.episodes >= m.config.episodes;
}

/** An unfinished search the page can offer to resume (the user did not stop it). */
export function isResumable(m: SearchMeta): boolean {
  return !m.stopped && !isFinished(m);
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

export type WorkerStatus = 'running' | 'paused' | 'done' | 'stopped';

/** Page -> worker. */
export type ToWorker =
  | {
      type: 'start';
      id: string;
      model: ModelFiles;
      inputSize: number | null;
      data: ScoringSpec;
      config: SearchConfig;
      randomBaseline: boolean;
      /** A saved search to continue; null starts fresh. */
      resume: SearchProgress | null;
      /** The saved summary to keep up to date after every episode; null: nothing is saved. */
      meta: SearchMeta | null;
      /** The backend the page runs on (tried first). */
      backend?: BackendName;
      /** Run the episodes right away (false: load, restore and wait for 'resume'). */
      run: boolean;
      /** The saved latency table of a latency search being resumed (absent: measure one). */
      latency?: SavedLatency | null;
    }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'prune'; requestId: number; keep: Record<string, number> };

export interface StepGroup {
  id: string;
  channels: number;
}

/** Worker -> page. */
export type FromWorker =
  | {
      type: 'ready';
      backend: BackendInfo;
      /** The prunable groups in step order. */
      groups: StepGroup[];
      originalResource: number;
      originalMacs: number;
      originalParams: number;
      budget: number;
      /** Resource with every group at its narrowest. */
      floor: number;
      labeled: boolean;
      images: number;
      /** Latency searches: the unpruned model's measured latency, ms, on the worker's backend. */
      originalLatencyMs?: number;
    }
  | { type: 'latency-progress'; fraction: number; what: string }
  /** The latency table in use: measured now, or the saved one (`reused`). */
  | { type: 'latency-table'; latency: SavedLatency; reused: boolean }
  /** The reference model re-timed by the search worker, after `episode` agent episodes. */
  | { type: 'drift'; episode: number; medianMs: number; drift: number; backend: string }
  /** The backend failed and the search went on on another (WASM), from the last finished episode. */
  | { type: 'backend'; backend: BackendInfo; message: string; episode: number; originalLatencyMs?: number }
  | { type: 'restored'; amc: EpisodeRecord[]; random: EpisodeRecord[]; elapsedMs: number }
  | { type: 'baseline'; uniform: UniformBaseline }
  | { type: 'episode'; search: 'amc' | 'random'; record: EpisodeRecord; ms: number; tensors: number; saved: boolean }
  | { type: 'status'; status: WorkerStatus; episodes: number; randomEpisodes: number; elapsedMs: number }
  | { type: 'pruned'; requestId: number; result: PrunedPayload }
  | { type: 'error'; message: string; requestId?: number; fatal: boolean };

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

/** The transfer list of a page -> worker message. */
export function transferOf(msg: ToWorker): ArrayBuffer[] {
  if (msg.type !== 'start') return [];
  const arrays: (ArrayBufferView | ArrayBuffer)[] = [msg.model.weights];
  if (msg.data.kind === 'images') {
    arrays.push(msg.data.images);
    if (msg.data.labels) arrays.push(msg.data.labels);
    if (msg.data.calibration) arrays.push(msg.data.calibration);
  }
  return buffersOf(arrays);
}

/** FNV-1a over bytes, continuing from `h` (a 32-bit state). */
function fnv(bytes: Uint8Array, h: number): number {
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Identifies a model by its topology and weights (not by its name or where it came from). */
export function modelFingerprint(model: Pick<LoadedModel, 'topology' | 'weights'>): string {
  let h = fnv(new TextEncoder().encode(JSON.stringify(model.topology)), 0x811c9dc5);
  let n = 0;
  for (const w of model.weights) {
    h = fnv(new TextEncoder().encode(w.name), h);
    const v = w.values;
    h = fnv(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), h);
    n += v.length;
  }
  return `${h.toString(16).padStart(8, '0')}-${n}`;
}
