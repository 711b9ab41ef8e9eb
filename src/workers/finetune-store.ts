/**
 * The fine-tune saved in this browser (IndexedDB through idb-keyval), so a reload or a closed tab
 * loses no finished epoch. One fine-tune is kept at a time (a new one replaces it: each holds two
 * models and possibly the user's images). Records:
 *
 *   meta       FinetuneMeta: small, read on every page load (models' names, data, epochs, history)
 *   models     { teacher, student }: the original and the pruned model as export files, so the run
 *              can be rebuilt whatever model the page opens on
 *   data       FinetuneDataSpec, only for the user's images (the demo split is generated again
 *              from its name and count)
 *   snapshot   FinetuneSnapshot: weights, Adam's moments and step, history and best epoch
 *
 * The page writes models, data and the first meta when a fine-tune starts; the worker writes the
 * snapshot and meta together (one transaction) after every epoch. Used by both.
 */
import { createStore, delMany, get, getMany, setMany, type UseStore } from 'idb-keyval';
import type { FinetuneSnapshot } from '../core/finetune/distiller';
import type { FinetuneDataSpec, FinetuneMeta, ModelFiles } from './finetune-messages';

export interface FinetuneStore {
  /** Saves the run after an epoch and its summary, both or neither. */
  saveEpoch(id: string, snapshot: FinetuneSnapshot, meta: FinetuneMeta): Promise<void>;
  /** Saves the summary alone (e.g. a Stop between epochs). */
  saveMeta(meta: FinetuneMeta): Promise<void>;
}

export const DB_NAME = 'amc-playground-finetune';
const STORE_NAME = 'finetune';

let db: UseStore | null = null;
function store(): UseStore {
  db ??= createStore(DB_NAME, STORE_NAME);
  return db;
}

const KEYS = { meta: 'meta', models: 'models', data: 'data', snapshot: 'snapshot' } as const;

/** Keeps only records of the fine-tune `id` (a newer fine-tune replaces the saved one). */
async function sameRun(id: string): Promise<boolean> {
  const meta = await get<FinetuneMeta>(KEYS.meta, store());
  return !meta || meta.id === id;
}

export const idbFinetuneStore: FinetuneStore = {
  async saveEpoch(id, snapshot, meta) {
    if (!(await sameRun(id))) return;
    await setMany(
      [
        [KEYS.snapshot, snapshot],
        [KEYS.meta, meta],
      ],
      store(),
    );
  },
  async saveMeta(meta) {
    if (!(await sameRun(meta.id))) return;
    await setMany([[KEYS.meta, meta]], store());
  },
};

/** Saves the start of a fine-tune (replacing any saved one): its models, its images (user data only), its first summary. */
export async function saveFinetuneStart(meta: FinetuneMeta, models: { teacher: ModelFiles; student: ModelFiles }, data: FinetuneDataSpec): Promise<void> {
  await delMany([KEYS.meta, KEYS.models, KEYS.data, KEYS.snapshot], store());
  const entries: [IDBValidKey, unknown][] = [
    [KEYS.models, models],
    [KEYS.meta, meta],
  ];
  if (data.kind === 'images') entries.push([KEYS.data, data]);
  await setMany(entries, store());
}

export async function savedFinetuneMeta(): Promise<FinetuneMeta | undefined> {
  const m = await get<FinetuneMeta>(KEYS.meta, store());
  return m && m.version === 1 ? m : undefined;
}

export interface SavedFinetune {
  meta: FinetuneMeta;
  models: { teacher: ModelFiles; student: ModelFiles };
  data: FinetuneDataSpec;
  snapshot: FinetuneSnapshot | undefined;
}

/** Everything saved for the fine-tune, or undefined when a part is gone. */
export async function loadFinetune(): Promise<SavedFinetune | undefined> {
  const [meta, models, data, snapshot] = await getMany([KEYS.meta, KEYS.models, KEYS.data, KEYS.snapshot], store());
  if (!meta || !models) return undefined;
  const m = meta as FinetuneMeta;
  const spec = m.data.kind === 'demo' ? m.data : (data as FinetuneDataSpec | undefined);
  if (!spec) return undefined;
  return { meta: m, models, data: spec, snapshot: snapshot as FinetuneSnapshot | undefined };
}

export async function deleteFinetune(): Promise<void> {
  await delMany([KEYS.meta, KEYS.models, KEYS.data, KEYS.snapshot], store());
}
