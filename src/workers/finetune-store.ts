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
 * snapshot and meta together after every epoch, in one transaction that first checks the saved
 * run is still its own (another tab may have discarded it or started another). Used by both.
 * Every write is one transaction: one the storage quota refuses is undone whole (the fine-tune
 * saved before stays as it was) and throws a StorageFullError saying what to delete (storage-full.ts).
 */
import { createStore, delMany, get, getMany, promisifyRequest, type UseStore } from 'idb-keyval';
import type { FinetuneSnapshot } from '../core/finetune/distiller';
import type { FinetuneDataSpec, FinetuneMeta, ModelFiles } from './finetune-messages';
import { approxBytes, guardQuota, type StoredThing } from './storage-full';

export interface FinetuneStore {
  /**
   * Saves the run after an epoch and its summary, both or neither; false (nothing written) when
   * the saved fine-tune is no longer this run (another tab discarded it or started a newer one).
   */
  saveEpoch(id: string, snapshot: FinetuneSnapshot, meta: FinetuneMeta): Promise<boolean>;
  /** Saves the summary alone (e.g. a Stop between epochs); false as for saveEpoch. */
  saveMeta(meta: FinetuneMeta): Promise<boolean>;
}

export const DB_NAME = 'amc-playground-finetune';
const STORE_NAME = 'finetune';

let db: UseStore | null = null;
function store(): UseStore {
  db ??= createStore(DB_NAME, STORE_NAME);
  return db;
}

const KEYS = { meta: 'meta', models: 'models', data: 'data', snapshot: 'snapshot' } as const;

/**
 * Writes `entries` only while the saved fine-tune is the run `id`: the check and the writes in one
 * readwrite transaction, so no other tab's delete or new start slips in between. A missing summary
 * is not this run: the page writes it (with the models) before the worker starts, so it is gone only
 * when the run was discarded, and writing it back would leave a summary without its models.
 */
function putIfSameRun(id: string, entries: [IDBValidKey, unknown][]): Promise<boolean> {
  return store()(
    'readwrite',
    (s) =>
      new Promise<boolean>((resolve, reject) => {
        const read = s.get(KEYS.meta);
        read.onerror = () => reject(read.error);
        read.onsuccess = () => {
          const meta = read.result as FinetuneMeta | undefined;
          if (!meta || meta.id !== id) {
            resolve(false);
            return;
          }
          try {
            for (const [key, value] of entries) s.put(value, key);
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

export const idbFinetuneStore: FinetuneStore = {
  saveEpoch(id, snapshot, meta) {
    return guardQuota(() =>
      putIfSameRun(id, [
        [KEYS.snapshot, snapshot],
        [KEYS.meta, meta],
      ]),
    );
  },
  saveMeta(meta) {
    return guardQuota(() => putIfSameRun(meta.id, [[KEYS.meta, meta]]));
  },
};

/**
 * Saves the start of a fine-tune (replacing any saved one): its models, its images (user data only),
 * its first summary. The old run's records are deleted in the same transaction as the new ones are
 * written: when the quota refuses the new run, the saved one is kept, not lost.
 */
export async function saveFinetuneStart(meta: FinetuneMeta, models: { teacher: ModelFiles; student: ModelFiles }, data: FinetuneDataSpec): Promise<void> {
  const entries: [IDBValidKey, unknown][] = [
    [KEYS.models, models],
    [KEYS.meta, meta],
  ];
  if (data.kind === 'images') entries.push([KEYS.data, data]);
  await guardQuota(() =>
    store()('readwrite', (s) => {
      for (const k of [KEYS.meta, KEYS.models, KEYS.data, KEYS.snapshot]) s.delete(k);
      for (const [k, value] of entries) s.put(value, k);
      return promisifyRequest(s.transaction);
    }),
  );
}

/** The saved fine-tune and about how many bytes it takes (none: empty), for the storage-full message. */
export async function finetuneSizes(): Promise<StoredThing[]> {
  const [meta, models, data, snapshot] = await getMany([KEYS.meta, KEYS.models, KEYS.data, KEYS.snapshot], store());
  const bytes = approxBytes(meta) + approxBytes(models) + approxBytes(data) + approxBytes(snapshot);
  if (!meta && !models && !snapshot) return [];
  const m = meta as FinetuneMeta | undefined;
  return [{ what: m ? `the saved fine-tune of "${m.studentLabel}" (${m.epochsDone} of ${m.epochs} epochs)` : 'an incomplete saved fine-tune', bytes }];
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
