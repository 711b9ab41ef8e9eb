/**
 * Searches saved in this browser (IndexedDB through idb-keyval), so a reload or a closed tab
 * loses no finished episode. One database, one object store, four records per search (five for latency):
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
 * The page writes model, data and the first meta when a search starts; the worker writes progress
 * and meta together (one transaction) after every episode. Used by both.
 */
import { createStore, delMany, get, getMany, keys, setMany, type UseStore } from 'idb-keyval';
import type { ModelFiles, SavedLatency, ScoringSpec, SearchMeta, SearchProgress } from './search-messages';

export interface SearchStore {
  /** Saves what the search has done so far and its summary, both or neither. */
  saveProgress(id: string, progress: SearchProgress, meta: SearchMeta): Promise<void>;
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

export const idbSearchStore: SearchStore = {
  async saveProgress(id, progress, meta) {
    await setMany(
      [
        [key.progress(id), progress],
        [key.meta(id), meta],
      ],
      store(),
    );
  },
  async saveLatency(id, latency) {
    await setMany([[key.latency(id), latency]], store());
  },
};

/** Saves the start of a search: its model, its images (user data only) and its first summary. */
export async function saveSearchStart(meta: SearchMeta, model: ModelFiles, data: ScoringSpec): Promise<void> {
  const entries: [IDBValidKey, unknown][] = [
    [key.model(meta.id), model],
    [key.meta(meta.id), meta],
  ];
  if (data.kind === 'images') entries.push([key.data(meta.id), data]);
  await setMany(entries, store());
}

export async function saveMeta(meta: SearchMeta): Promise<void> {
  await setMany([[key.meta(meta.id), meta]], store());
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
