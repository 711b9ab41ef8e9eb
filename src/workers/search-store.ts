/**
 * Searches saved in this browser (IndexedDB through idb-keyval), so a reload or a closed tab
 * loses no finished episode: the records' schema and their access. One database, one object
 * store, four records per search (five for latency):
 *
 *   meta:<id>      SearchMeta: small, listed on every page load (model name, target, episodes, best)
 *   model:<id>     ModelFiles: the model searched (its export files), so it can be restored even
 *                  when it was a dropped file
 *   data:<id>      ScoringSpec: the scoring images, when they are the user's (the demo split is
 *                  generated again)
 *   progress:<id>  SearchProgress: agent weights and Adam moments, replay buffer, random state,
 *                  episode log, baselines
 *   latency:<id>   SavedLatency: a latency search's per-layer table measured on this device,
 *                  written once by the worker before the first episode (a resume reuses it)
 *
 * The page writes model, data and the first meta when a search starts, lists, loads and deletes
 * (src/app/state/saved-searches.svelte.ts); the worker writes progress and meta together (one
 * transaction) after every episode. Both use this module, so it sits with the workers, below the
 * page (workers import nothing from src/app).
 *
 * Two tabs, one search: the worker running a saved search holds its Web Lock (search-lock.ts), so
 * no other tab resumes it meanwhile; every write is one transaction (both or neither), and an
 * episode's write lands only while the search is still saved (a delete is never undone by a late
 * episode). A write the quota refuses throws a StorageFullError saying what to delete
 * (storage-full.ts); what was saved before it stays intact.
 */
import { createStore, delMany, get, getMany, keys, promisifyRequest, setMany, type UseStore } from 'idb-keyval';
import type { Scaling } from '../core/data/procedural';
import type { SearchConfig } from '../core/search/config';
import { accuracyOf } from '../core/search/best';
import type { EpisodeRecord, SearchSnapshot } from '../core/search/search';
import type { UniformBaseline } from '../core/search/baselines';
import type { SavedLatency } from '../core/search/latency-resource';
import { imageCount, type ModelFiles, type ScoringSpec } from './payload';
import { approxBytes, guardQuota, type StoredThing } from './storage-full';

// ---------------------------------------------------------------- schema

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

/** Where the model came from, as the app shows it (AppState's SourceInfo). */
export interface SourceRecord {
  kind: 'builtin' | 'url' | 'files';
  label: string;
  demo?: string;
  /** The model's name for people (its folder, Teachable Machine name or URL); absent in searches saved before names. */
  name?: string;
}

/** What the saved search says about its data (the bytes of user images are kept apart). */
export type DataChoice =
  | { kind: 'demo'; split: 'val'; count: number; labeled: boolean; scaling?: Scaling; calibration?: number }
  | { kind: 'images'; name: string; count: number; labeled: boolean; calibration?: number };

export function dataChoiceOf(spec: ScoringSpec): DataChoice {
  if (spec.kind === 'demo') return { ...spec };
  const calibration = spec.calibration ? imageCount({ ...spec, images: spec.calibration }) : undefined;
  return { kind: 'images', name: spec.name, count: imageCount(spec), labeled: spec.labels !== undefined, ...(calibration ? { calibration } : {}) };
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
    /** Hash of the topology and weights (core/hash.ts): tells whether the model on screen is this one. */
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

// ---------------------------------------------------------------- access

export interface SearchStore {
  /**
   * Saves what the search has done so far and its summary, both or neither; false (nothing
   * written) when the search is no longer saved (deleted meanwhile).
   */
  saveProgress(id: string, progress: SearchProgress, meta: SearchMeta): Promise<boolean | void>;
  /** Saves a latency search's table (once, before its first episode). */
  saveLatency?(id: string, latency: SavedLatency): Promise<void>;
}

export const DB_NAME = 'amc-playground-searches';
const STORE_NAME = 'searches';

let db: UseStore | null = null;
function store(): UseStore {
  db ??= createStore(DB_NAME, STORE_NAME);
  return db;
}

const key = {
  meta: (id: string) => `meta:${id}`,
  model: (id: string) => `model:${id}`,
  data: (id: string) => `data:${id}`,
  progress: (id: string) => `progress:${id}`,
  latency: (id: string) => `latency:${id}`,
};

/**
 * Writes `entries` only while the search `id` is still saved (its summary is there): the check and
 * the writes in one readwrite transaction, so a delete from the page or another tab cannot slip in
 * between, and a late episode never writes a deleted search back as progress without a model.
 */
function putIfSaved(id: string, entries: [IDBValidKey, unknown][]): Promise<boolean> {
  return store()(
    'readwrite',
    (s) =>
      new Promise<boolean>((resolve, reject) => {
        const read = s.getKey(key.meta(id));
        read.onerror = () => reject(read.error);
        read.onsuccess = () => {
          if (read.result === undefined) {
            resolve(false);
            return;
          }
          try {
            for (const [k, value] of entries) s.put(value, k);
          } catch (e) {
            // Both or neither: a put that cannot be cloned undoes the other.
            s.transaction.abort();
            reject(e);
            return;
          }
          promisifyRequest(s.transaction).then(() => resolve(true), reject);
        };
      }),
  );
}

export const idbSearchStore: SearchStore = {
  saveProgress(id, progress, meta) {
    return guardQuota(() =>
      putIfSaved(id, [
        [key.progress(id), progress],
        [key.meta(id), meta],
      ]),
    );
  },
  async saveLatency(id, latency) {
    await guardQuota(() => putIfSaved(id, [[key.latency(id), latency]]));
  },
};

/** Saves the start of a search: its model, its images (user data only) and its first summary. */
export async function saveSearchStart(meta: SearchMeta, model: ModelFiles, data: ScoringSpec): Promise<void> {
  const entries: [IDBValidKey, unknown][] = [
    [key.model(meta.id), model],
    [key.meta(meta.id), meta],
  ];
  if (data.kind === 'images') entries.push([key.data(meta.id), data]);
  await guardQuota(() => setMany(entries, store()));
}

export async function saveMeta(meta: SearchMeta): Promise<void> {
  await guardQuota(() => setMany([[key.meta(meta.id), meta]], store()));
}

/** Every saved search, newest first. */
export async function listSearches(): Promise<SearchMeta[]> {
  const all = (await keys(store())).filter((k): k is string => typeof k === 'string' && k.startsWith('meta:'));
  const metas = (await getMany<SearchMeta>(all, store())).filter((m): m is SearchMeta => !!m && m.version === 1);
  return metas.sort((a, b) => b.updatedAt - a.updatedAt);
}

export interface SavedSearch {
  meta: SearchMeta;
  model: ModelFiles;
  data: ScoringSpec | undefined;
  progress: SearchProgress | undefined;
  /** A latency search's table, as measured when it started. */
  latency: SavedLatency | undefined;
}

/** Everything saved for one search, or undefined when its model is gone. */
export async function loadSearch(id: string): Promise<SavedSearch | undefined> {
  const [meta, model, data, progress, latency] = await getMany([key.meta(id), key.model(id), key.data(id), key.progress(id), key.latency(id)], store());
  if (!meta || !model) return undefined;
  return {
    meta: meta as SearchMeta,
    model: model as ModelFiles,
    data: data as ScoringSpec | undefined,
    progress: progress as SearchProgress | undefined,
    latency: latency as SavedLatency | undefined,
  };
}

export async function getMeta(id: string): Promise<SearchMeta | undefined> {
  return get<SearchMeta>(key.meta(id), store());
}

export async function deleteSearch(id: string): Promise<void> {
  await delMany([key.meta(id), key.model(id), key.data(id), key.progress(id), key.latency(id)], store());
}

/**
 * Every saved search with about how many bytes it takes (model, images, progress, latency table),
 * for the message that tells the user what to delete when storage is full. Reads one record at a
 * time (a cursor), so it never holds every search in memory at once.
 */
export async function searchSizes(): Promise<StoredThing[]> {
  const bytes = new Map<string, number>();
  const metas = new Map<string, SearchMeta>();
  await store()(
    'readonly',
    (s) =>
      new Promise<void>((resolve, reject) => {
        const cursor = s.openCursor();
        cursor.onerror = () => reject(cursor.error);
        cursor.onsuccess = () => {
          const c = cursor.result;
          if (!c) {
            resolve();
            return;
          }
          const k = String(c.key);
          const at = k.indexOf(':');
          if (at > 0) {
            const id = k.slice(at + 1);
            bytes.set(id, (bytes.get(id) ?? 0) + approxBytes(c.value));
            if (k.startsWith('meta:')) metas.set(id, c.value as SearchMeta);
          }
          c.continue();
        };
      }),
  );
  return [...bytes].map(([id, b]) => {
    const m = metas.get(id);
    const what = m ? `saved search "${m.model.name}" (${m.episodes} of ${m.config.episodes} episodes)` : `an incomplete saved search (${id})`;
    return { what, bytes: b };
  });
}
