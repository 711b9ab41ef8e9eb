/**
 * The searches saved in this browser, as the page sees them: the list, the unfinished search
 * offered for resuming after a reload, and the page's writes (the start of a search, a failed
 * search forgotten, a delete). The records and their IndexedDB access are the store's
 * (src/workers/search-store.ts), which the worker writes each episode's progress to as well.
 *
 * Two tabs, one search: the worker that runs a saved search holds its Web Lock
 * (src/workers/search-lock.ts). The page takes the same lock around its own writes (delete, a failed
 * search marked stopped) and before resuming one, so a search running or paused in another tab is
 * neither resumed here nor deleted or rewritten from here: the user is told it is open elsewhere.
 */
import { modelFingerprint } from '../../core/hash';
import type { LoadedModel } from '../../core/model/types';
import type { SearchConfig } from '../../core/search/config';
import type { ModelFiles, ScoringSpec } from '../../workers/payload';
import type { SearchCommand } from '../../workers/search-messages';
import { dataChoiceOf, deleteSearch, getMeta, isFinished, isResumable, listSearches, loadSearch, saveMeta, saveSearchStart, type SavedSearch, type SearchMeta, type SourceRecord } from '../../workers/search-store';
import { isBackendName, type BackendName } from '../../core/measure/backends';
import { errLine } from '../../core/errors';
import { LOCKED_ELSEWHERE, lockedSearchIds, withSearchLock } from '../../workers/search-lock';

/** The words shown when a search cannot be resumed or deleted here because another tab has it open. */
export const OPEN_ELSEWHERE = LOCKED_ELSEWHERE.charAt(0).toUpperCase() + LOCKED_ELSEWHERE.slice(1) + '.';

/** Fingerprints are hashes over all weights: computed once per loaded model. */
const fingerprints = new WeakMap<LoadedModel, string>();

/** Whether a saved search ran on this model (core/hash.ts: topology and weights). */
export function fingerprintOf(model: LoadedModel): string {
  let f = fingerprints.get(model);
  if (!f) {
    f = modelFingerprint(model);
    fingerprints.set(model, f);
  }
  return f;
}

/** A model loaded from a saved search's files has the fingerprint the search saved. */
export function rememberFingerprint(model: LoadedModel, fingerprint: string): void {
  fingerprints.set(model, fingerprint);
}

function newId(): string {
  return `s${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** The summary a new search is saved with, before its first episode. */
export function newSearchMeta(o: {
  model: LoadedModel;
  source: SourceRecord;
  inputSize: number | null;
  groups: number;
  data: ScoringSpec;
  config: SearchConfig;
  randomBaseline: boolean;
}): SearchMeta {
  const now = Date.now();
  const { kind, label, demo, name } = o.source;
  return {
    id: newId(),
    version: 1,
    createdAt: now,
    updatedAt: now,
    model: { name: o.model.source, source: { kind, label, ...(demo ? { demo } : {}), ...(name ? { name } : {}) }, inputSize: o.inputSize, fingerprint: fingerprintOf(o.model), bytes: o.model.bytesOnDisk, groups: o.groups },
    data: dataChoiceOf(o.data),
    config: o.config,
    randomBaseline: o.randomBaseline,
    episodes: 0,
    randomEpisodes: 0,
    stopped: false,
    best: null,
    randomBest: null,
    uniform: null,
    elapsedMs: 0,
  };
}

/**
 * The start command that continues a saved search (`run`: at once, unless it is finished). A
 * latency search goes on with the table it started with, on the backend that table was timed on.
 */
export function resumeCommand(saved: SavedSearch, meta: SearchMeta, data: ScoringSpec, run: boolean, pageBackend: BackendName | undefined): Extract<SearchCommand, { type: 'start' }> {
  const tableBackend = saved.latency?.table.backend;
  return {
    type: 'start',
    id: meta.id,
    model: saved.model,
    inputSize: meta.model.inputSize,
    data,
    config: meta.config,
    randomBaseline: meta.randomBaseline,
    resume: saved.progress ?? null,
    meta,
    backend: isBackendName(tableBackend) ? tableBackend : pageBackend,
    run: run && !isFinished(meta),
    latency: saved.latency ?? null,
  };
}

/** The images a saved search scores on: the user's, as saved, or the demo split generated again (undefined: lost). */
export function savedScoringSpec(saved: SavedSearch): ScoringSpec | undefined {
  return saved.data ?? (saved.meta.data.kind === 'demo' ? { ...saved.meta.data } : undefined);
}

export class SavedSearches {
  /** Every saved search, newest first. */
  list = $state.raw<SearchMeta[]>([]);
  /** The unfinished search offered for resuming after a reload (null once answered). */
  offer = $state.raw<SearchMeta | null>(null);
  /** Storage cannot be read or written, in words. */
  error = $state<string | null>(null);
  /**
   * Ids of the saved searches some tab's worker holds the lock of now (this tab's own running search
   * included: the list tells them apart by the search on screen).
   */
  locked = $state.raw<ReadonlySet<string>>(new Set());
  private listed = false;

  /**
   * Reads the list again. The first time `canOffer` is given, the newest unfinished search the
   * user did not stop is offered for resuming, if `canOffer` allows it.
   */
  async refresh(canOffer?: (m: SearchMeta) => boolean): Promise<void> {
    try {
      const [list, locked] = await Promise.all([listSearches(), lockedSearchIds()]);
      this.list = list;
      this.locked = locked;
      this.error = null;
      if (canOffer && !this.listed) {
        this.listed = true;
        const unfinished = list.find((m) => isResumable(m));
        // A search another tab runs is not offered here. Its lock is waited for a moment first:
        // after a reload, the worker of the page that was left lets go of it only as it is closed.
        if (unfinished && locked.has(unfinished.id)) {
          const free = await withSearchLock(unfinished.id, async () => true, 3000);
          void this.refreshLocks();
          if (free.locked) return;
        }
        if (unfinished && canOffer(unfinished)) this.offer = unfinished;
      }
    } catch (e) {
      this.error = `Saved searches cannot be read in this browser (${errLine(e)}).`;
    }
  }

  /** Reads again which saved searches are open in some tab (cheap: no storage read). */
  async refreshLocks(): Promise<void> {
    const locked = await lockedSearchIds();
    const same = locked.size === this.locked.size && [...locked].every((id) => this.locked.has(id));
    if (!same) this.locked = locked;
  }

  dismissOffer(): void {
    this.offer = null;
  }

  /** Saves the start of a search: its model, its images (user data only) and its summary. The problem in words, or null when saved. */
  async saveStart(meta: SearchMeta, files: ModelFiles, data: ScoringSpec): Promise<string | null> {
    try {
      await saveSearchStart(meta, files, data);
      return null;
    } catch (e) {
      return errLine(e);
    }
  }

  /**
   * Everything saved for one search (undefined: its model is gone); throws, in words, when storage
   * fails or when another tab has the search open (its worker holds the search's lock). Call it
   * after closing this tab's own worker for the search: its lock is waited for a moment.
   */
  async load(id: string): Promise<SavedSearch | undefined> {
    let r;
    try {
      r = await withSearchLock(id, () => loadSearch(id));
    } catch (e) {
      throw new Error(`Could not read the saved search: ${errLine(e)}.`);
    }
    if (r.locked) {
      void this.refreshLocks();
      throw new Error(OPEN_ELSEWHERE);
    }
    return r.value;
  }

  async delete(id: string): Promise<void> {
    if (this.offer?.id === id) this.offer = null;
    try {
      const r = await withSearchLock(id, () => deleteSearch(id));
      if (r.locked) this.error = `${OPEN_ELSEWHERE.slice(0, -1)}. It was not deleted.`;
    } catch (e) {
      this.error = `Could not delete the search: ${errLine(e)}.`;
    }
    await this.refresh();
  }

  /**
   * After a fatal error the saved search is not offered again on the next load: deleted when it
   * had no episode yet (nothing is lost; null), else marked stopped (it stays in the list).
   * Returns the summary as saved now. Decided on the summary as stored (the worker's last write),
   * under the search's lock: a search another tab runs is left alone, and one that tab saved
   * episodes of is never deleted from here.
   */
  async forgetFailed(meta: SearchMeta, episodes: number): Promise<SearchMeta | null> {
    let now: SearchMeta | null = meta;
    try {
      // Under the search's lock: a search refused because another tab runs it is that tab's, untouched.
      await withSearchLock(meta.id, async () => {
        const stored = await getMeta(meta.id);
        if (!stored) {
          now = null;
          return;
        }
        if (Math.max(episodes, stored.episodes) === 0 && stored.randomEpisodes === 0) {
          await deleteSearch(meta.id);
          now = null;
        } else {
          const stopped = { ...stored, stopped: true };
          await saveMeta(stopped);
          now = stopped;
        }
      });
    } catch {
      // Storage unavailable: nothing to forget.
    }
    await this.refresh();
    return now;
  }
}
