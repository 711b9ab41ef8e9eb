/**
 * The messages between the page and the search worker (src/workers/search.worker.ts), both ways.
 *
 * Page -> worker: commands (start, pause, resume, stop), whose effect comes back as `status`
 * events, and requests (prune), each with a `requestId` the worker answers with (`pruned`, or an
 * `error` carrying the same id). Worker -> page: those answers, and events (progress, episodes,
 * fallbacks, fatal errors). The page's side is src/app/lib/search-client.ts.
 *
 * What the messages carry is plain data (payload.ts); the saved search's records they carry (its
 * summary, its progress) are the store's schema (search-store.ts).
 */
import type { Evaluator } from '../core/prune/config';
import type { BackendInfo, BackendName } from '../core/measure/backends';
import type { SearchConfig } from '../core/search/config';
import type { EpisodeRecord } from '../core/search/search';
import type { UniformBaseline } from '../core/search/baselines';
import type { SavedLatency } from '../core/search/latency-resource';
import { buffersOf, type ModelFiles, type PrunedPayload, type ScoringSpec } from './payload';
import type { SearchMeta, SearchProgress } from './search-store';

/** The uniform baseline and a latency search's saved table are the search session's types (core/search). */
export type { SavedLatency, UniformBaseline };

export type WorkerStatus = 'running' | 'paused' | 'done' | 'stopped';

/** Page -> worker, no answer: the worker reports the outcome as events (status, ready, episodes). */
export type SearchCommand =
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
  | { type: 'stop' };

/** Page -> worker, answered by one message with the same `requestId`. */
export type SearchRequest = { type: 'prune'; requestId: number; keep: Record<string, number> };

/** Page -> worker. */
export type ToWorker = SearchCommand | SearchRequest;

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
      /** Reward images, and the evaluator's calibration images (0: sliced), as the scorer got them. */
      images: number;
      calibration?: number;
      /** The evaluator the scorer runs, and why it is not the one asked for (a model without BatchNorm). */
      evaluator: Evaluator;
      evaluatorNote?: string;
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
  /** `scorers`: how many scored it and the episodes beside it at once (1: alone). */
  | { type: 'episode'; search: 'amc' | 'random'; record: EpisodeRecord; ms: number; tensors: number; saved: boolean; scorers: number }
  | { type: 'status'; status: WorkerStatus; episodes: number; randomEpisodes: number; elapsedMs: number }
  /** The answer to a prune request. */
  | { type: 'pruned'; requestId: number; result: PrunedPayload }
  /** With a requestId: that request failed (the search goes on). Without: `fatal` ends the search, else a notice. */
  | { type: 'error'; message: string; requestId?: number; fatal: boolean };

/** The answers to requests: they carry the request's id. */
export type SearchAnswer = Extract<FromWorker, { type: 'pruned' | 'error' }> & { requestId: number };

/** Worker -> page messages that answer no request. */
export type SearchEvent = Exclude<FromWorker, { type: 'pruned' }>;

/** Whether `m` answers a request (and which: m.requestId). */
export function isAnswer(m: FromWorker): m is SearchAnswer {
  return (m.type === 'pruned' || m.type === 'error') && m.requestId !== undefined;
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
