/** What both SearchHost test files need: an in-memory store, a search's summary and its start message. */
import type { SearchConfig } from '../core/search/config';
import type { ModelFiles, ScoringSpec } from '../workers/payload';
import type { SavedLatency, ToWorker } from '../workers/search-messages';
import type { SearchMeta, SearchProgress, SearchStore } from '../workers/search-store';

/** Keeps what the host saves as structured clones, which is what IndexedDB keeps. */
export class MemoryStore implements SearchStore {
  saved: { id: string; progress: SearchProgress; meta: SearchMeta }[] = [];
  latency: { id: string; latency: SavedLatency }[] = [];
  async saveProgress(id: string, progress: SearchProgress, meta: SearchMeta) {
    this.saved.push(structuredClone({ id, progress, meta }));
  }
  async saveLatency(id: string, latency: SavedLatency) {
    this.latency.push(structuredClone({ id, latency }));
  }
  get last() {
    return this.saved[this.saved.length - 1];
  }
}

export function searchMeta(c: SearchConfig, randomBaseline = false): SearchMeta {
  return {
    id: 's1',
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    model: { name: 'model.json', source: { kind: 'files', label: 'model.json' }, inputSize: null, fingerprint: 'x', bytes: 0, groups: 0 },
    data: { kind: 'images', name: 'random', count: 30, labeled: true },
    config: c,
    randomBaseline,
    episodes: 0,
    randomEpisodes: 0,
    stopped: false,
    best: null,
    randomBest: null,
    uniform: null,
    elapsedMs: 0,
  };
}

/** A start message with fresh copies of the buffers (a real postMessage transfers them away). */
export function startMessage(files: ModelFiles, data: Extract<ScoringSpec, { kind: 'images' }>, c: SearchConfig, extra: Partial<Extract<ToWorker, { type: 'start' }>> = {}): ToWorker {
  return {
    type: 'start',
    id: 's1',
    model: { modelJson: files.modelJson, weights: files.weights.slice(0) },
    inputSize: null,
    data: { ...data, images: data.images.slice(), labels: data.labels!.slice() },
    config: c,
    randomBaseline: false,
    resume: null,
    meta: searchMeta(c, extra.randomBaseline ?? false),
    run: true,
    ...extra,
  };
}
