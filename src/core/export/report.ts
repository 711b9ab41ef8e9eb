/**
 * report.json: what was done to a model and what it cost, in the shape DESIGN.md fixes: the
 * pruning (pruneReport) and, for a model a search found, the search (searchReport: the CLI's
 * report.json, the app's report.json of a picked episode and its search log all come from it).
 * Measurements (accuracy, latency) join it as those steps land.
 */
import type { RecoveredPolicy } from '../finetune/after-search';
import type { AdapterInfo, BackendInfo } from '../measure/backends';
import type { ModelAnalysis } from '../model/analyze';
import type { LoadedModel } from '../model/types';
import type { PruneOptions, PruneResult } from '../prune/prune';
import type { UniformBaseline } from '../search/baselines';
import { accuracyOf, bestOf } from '../search/best';
import type { SearchConfig } from '../search/config';
import type { SavedLatency } from '../search/latency-resource';
import type { EpisodeRecord, Score } from '../search/search';

/** The `tool` every report and log names. */
export const TOOL = 'AMC Playground';

export interface ModelFigures {
  macs: number;
  params: number;
  bytes: number;
}

export interface PruneReport {
  tool: typeof TOOL;
  createdAt: string;
  /** Where the model came from: its path or URL. */
  source: string;
  /** Its name for people (its folder, Teachable Machine name or URL: core/model/identity.ts), when known. */
  name?: string;
  inputSize: number;
  original: ModelFigures;
  pruned: ModelFigures;
  ratios: { macs: number; params: number; bytes: number };
  /** Kept channels per group id (the policy contract), every prunable group listed. */
  policy: Record<string, number>;
  /** Channels per prunable group before pruning. */
  channels: Record<string, number>;
  options: PruneOptions & { refit: boolean };
}

export function pruneReport(original: LoadedModel, analysis: ModelAnalysis, result: PruneResult, options: PruneOptions & { refit?: boolean }, name?: string): PruneReport {
  const prunable = analysis.groups.filter((g) => g.prunable);
  const o: ModelFigures = { macs: analysis.cost.totalMacs, params: analysis.cost.totalParams, bytes: original.bytesOnDisk };
  const p: ModelFigures = { macs: result.cost.totalMacs, params: result.cost.totalParams, bytes: result.model.bytesOnDisk };
  return {
    tool: TOOL,
    createdAt: new Date().toISOString(),
    source: original.source,
    ...(name ? { name } : {}),
    inputSize: analysis.graph.inputSize,
    original: o,
    pruned: p,
    ratios: { macs: p.macs / o.macs, params: p.params / o.params, bytes: p.bytes / o.bytes },
    policy: Object.fromEntries(prunable.map((g) => [g.id, result.keep.get(g.id)!])),
    channels: Object.fromEntries(prunable.map((g) => [g.id, g.channels])),
    options: { ...options, refit: options.refit ?? false },
  };
}

// ---------------------------------------------------------------- the search

/** One episode as report.json and the search log list it. */
export interface EpisodeEntry {
  episode: number;
  phase: EpisodeRecord['phase'];
  reward: number;
  /** Top-1 accuracy (labeled data) or top-1 agreement with the original (unlabeled). */
  accuracy: number | undefined;
  error: number;
  score: Score;
  /** The resource the episode spent over the original's (measured, for latency). */
  resourceRatio: number;
  /** Latency searches: what the table predicted. */
  predictedRatio: number | undefined;
  latencyMs: number | undefined;
  macs: number;
  params: number;
  sigma: number;
  keep: Record<string, number>;
  /** Where the episode's time went, ms. */
  ms: EpisodeRecord['timings'];
}

export function episodeEntry(e: EpisodeRecord): EpisodeEntry {
  return {
    episode: e.episode,
    phase: e.phase,
    reward: e.reward,
    accuracy: accuracyOf(e.score),
    error: e.score.error,
    score: e.score,
    resourceRatio: e.resourceRatio,
    predictedRatio: e.predictedRatio,
    latencyMs: e.score.latencyMs,
    macs: e.macs,
    params: e.params,
    sigma: e.sigma,
    keep: e.keep,
    ms: e.timings,
  };
}

/** The episode a pruned model comes from (the app's pick: an agent's or random-search episode, or the uniform baseline). */
export interface PickedEntry {
  which: 'amc' | 'random' | 'uniform';
  /** Index in its log; -1 for the uniform baseline. */
  episode: number;
  label: string;
  phase?: EpisodeRecord['phase'];
  reward?: number;
  score?: Score;
  resourceRatio?: number;
}

/** A latency search's table (its layers counted, not listed) and the measurements around it. */
export interface SearchLatencyReport {
  table: Omit<SavedLatency['table'], 'layers'> & { layers: number };
  /** The models the table's fit was checked on. */
  calibration: SavedLatency['points'];
  /** The original model's latency as the search measured it, ms. */
  originalMs?: number;
  /** The table was the saved one (a resumed search), not measured again. */
  reused?: boolean;
  /** Original, best and uniform timed interleaved once the search ended (the CLI). */
  measured?: {
    originalMs: number;
    bestMs: number;
    uniformMs: number;
    speedup: number;
    uniformSpeedup: number;
    runs: number;
    /** The original's latency during the search over its latency at the start (core/search/latency-resource.ts: originalLatencySpread). */
    originalSpread?: { startMs: number; min: number; max: number; offShare: number; busy: boolean };
  };
  /** The reference model re-timed during the search (the app's device card). */
  drift?: { episode: number; medianMs: number; drift: number; backend: string }[];
  /** Backend failures the search survived, in words. */
  fallbacks?: string[];
}

/** What a search did, as the `search` part of report.json (CLI and app) and the app's search log. */
export interface SearchReport {
  config: SearchConfig;
  /** The images that scored the episodes, in words (e.g. "demo:val"). */
  data: string;
  rewardImages?: number;
  /** Refit calibration images (0: no refit). */
  calibration?: number;
  /** The backend the episodes ran on, and its adapter when it is WebGPU. */
  backend: string | undefined;
  adapter?: AdapterInfo;
  /** Time spent searching, s. */
  seconds: number;
  /**
   * Scorers that scored episodes at once (the pool for the warm-up and random search; 1: one at a
   * time, as every latency search is). Episodes per second depend on it, the log does not.
   */
  scorers?: number;
  /** Episodes run by the agent (or by random search, when it is the agent). */
  episodes: number;
  best: EpisodeEntry | null;
  uniform: UniformBaseline | null;
  /** The random-search baseline run beside the agent. */
  random?: { episodes: number; best: EpisodeEntry | null; log?: EpisodeEntry[] };
  picked?: PickedEntry;
  /** The best and uniform policies scored on the test split (the paper's table, without fine-tuning). */
  test?: { images: number; best: Score; uniform: Score };
  latency?: SearchLatencyReport;
  finetune?: { epochs: number; data: string; test?: string; best?: RecoveredPolicy; uniform?: RecoveredPolicy };
  /** Every episode, in order (left out of the report of a picked model: the log download has it). */
  log?: EpisodeEntry[];
}

export interface SearchReportInput {
  config: SearchConfig;
  data: string;
  rewardImages?: number;
  calibration?: number;
  backend: BackendInfo | string | undefined;
  seconds: number;
  scorers?: number;
  log: readonly EpisodeRecord[];
  /** The search's best; default bestOf(log) under the config's target. */
  best?: EpisodeRecord;
  uniform: UniformBaseline | null;
  /** The random-search baseline's episodes, when it ran beside the agent. */
  randomLog?: readonly EpisodeRecord[];
  picked?: PickedEntry;
  test?: SearchReport['test'];
  /** A latency search's table, with what was measured around it. */
  latency?: { saved: SavedLatency } & Omit<SearchLatencyReport, 'table' | 'calibration'>;
  finetune?: SearchReport['finetune'];
  /** List every episode (default true). */
  withLog?: boolean;
}

/** The one account of a search: `amc search`'s report.json, the app's report.json of a picked model and its search log. */
export function searchReport(s: SearchReportInput): SearchReport {
  const withLog = s.withLog ?? true;
  const best = s.best ?? bestOf(s.log, s.config.env);
  const backend = typeof s.backend === 'string' ? { name: s.backend, adapter: undefined } : s.backend;
  let latency: SearchLatencyReport | undefined;
  if (s.latency) {
    const { saved, ...measured } = s.latency;
    const { layers, ...table } = saved.table;
    latency = { table: { ...table, layers: layers.length }, calibration: saved.points, ...measured };
  }
  const randomBest = s.randomLog ? bestOf(s.randomLog, s.config.env) : undefined;
  return {
    config: s.config,
    data: s.data,
    ...(s.rewardImages !== undefined ? { rewardImages: s.rewardImages } : {}),
    ...(s.calibration !== undefined ? { calibration: s.calibration } : {}),
    backend: backend?.name,
    ...(backend?.adapter ? { adapter: backend.adapter } : {}),
    seconds: s.seconds,
    ...(s.scorers !== undefined ? { scorers: s.scorers } : {}),
    episodes: s.log.length,
    best: best ? episodeEntry(best) : null,
    uniform: s.uniform,
    ...(s.randomLog ? { random: { episodes: s.randomLog.length, best: randomBest ? episodeEntry(randomBest) : null, ...(withLog ? { log: s.randomLog.map(episodeEntry) } : {}) } } : {}),
    ...(s.picked ? { picked: s.picked } : {}),
    ...(s.test ? { test: s.test } : {}),
    ...(latency ? { latency } : {}),
    ...(s.finetune ? { finetune: s.finetune } : {}),
    ...(withLog ? { log: s.log.map(episodeEntry) } : {}),
  };
}
