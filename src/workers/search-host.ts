/**
 * What the search worker does, without the worker: it loads the model, builds the AMC environment
 * and scorer, runs episodes one at a time (pausing, resuming and stopping between them), saves
 * after every episode and reports each one, and prunes any policy on request. The worker file
 * binds it to `self`; tests drive it in Node with an in-memory store.
 *
 * Order after an episode: save (progress + summary, one transaction), then post it, so the page
 * never shows an episode that a reload would lose.
 *
 * With the random-search baseline on, its episodes alternate with the agent's (agent first), with
 * the same budget, wall and scorer and seed + 1: twice the time, and the user sees what the
 * agent bought over random search.
 */
import * as tf from '@tensorflow/tfjs';
import { generateDataset } from '../core/data/procedural';
import type { BackendInfo, BackendName } from '../core/measure/backends';
import { analyzeModel, type ModelAnalysis } from '../core/model/analyze';
import { loadModel } from '../core/model/load';
import type { LoadedModel } from '../core/model/types';
import { bestUniform } from '../core/search/baselines';
import type { SearchConfig } from '../core/search/config';
import { PruningEnv } from '../core/search/env';
import { EpisodeScorer, type ScoringData } from '../core/search/scorer';
import { AmcSearch, type Score } from '../core/search/search';
import {
  briefOf,
  modelFilesAsInput,
  toPrunedPayload,
  type FromWorker,
  type ScoringSpec,
  type SearchMeta,
  type SearchProgress,
  type ToWorker,
  type UniformBaseline,
  type WorkerStatus,
} from './search-messages';
import type { SearchStore } from './search-store';

export interface HostDeps {
  post(msg: FromWorker, transfer?: ArrayBuffer[]): void;
  /** Where progress is saved after every episode; null saves nothing. */
  store: SearchStore | null;
  initBackend(preferred?: BackendName): Promise<BackendInfo>;
  /** Lets queued messages (pause, stop, prune) in between episodes. */
  yieldNow?: () => Promise<void>;
}

/** The images and labels that score episodes, from what the page sent. */
export function scoringData(spec: ScoringSpec): ScoringData {
  if (spec.kind === 'demo') {
    const d = generateDataset(spec.split, { count: spec.count });
    // Refit calibration comes from the training split, never from the images that score policies.
    const calibration = spec.calibration ? generateDataset('train', { count: spec.calibration }).images : undefined;
    return { images: d.images, labels: spec.labeled ? d.labels : undefined, eval: { imageSize: 32, batchSize: 100, scaling: spec.scaling }, calibration };
  }
  return { images: spec.images, labels: spec.labels, eval: { ...spec.eval }, calibration: spec.calibration };
}

/** AMC's reward (search.ts): -error under the wall, -error * log(resource) without one. */
export function rewardOf(config: SearchConfig, score: Score, resource: number): number {
  return config.env.protocol === 'constrained' ? -score.error : -score.error * Math.log(resource);
}

/** The random-search baseline's config: the agent's, with random actions throughout and its own seed. */
export function randomConfig(config: SearchConfig): SearchConfig {
  return { ...config, agent: 'random', seed: config.seed + 1 };
}

function errLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

interface Session {
  id: string;
  model: LoadedModel;
  analysis: ModelAnalysis;
  scorer: EpisodeScorer;
  amc: AmcSearch;
  random: AmcSearch | null;
  uniform: UniformBaseline | null;
  meta: SearchMeta | null;
  elapsedMs: number;
}

export class SearchHost {
  private session: Session | null = null;
  private starting: Promise<void> | null = null;
  private looping = false;
  private pauseRequested = false;
  private stopRequested = false;
  private stopped = false;
  private readonly yieldNow: () => Promise<void>;

  constructor(private readonly deps: HostDeps) {
    this.yieldNow = deps.yieldNow ?? (() => new Promise((r) => setTimeout(r, 0)));
  }

  handle(msg: ToWorker): Promise<void> {
    switch (msg.type) {
      case 'start':
        if (this.starting) {
          this.deps.post({ type: 'error', message: 'this worker already runs a search; start another worker for a new one.', fatal: false });
          return Promise.resolve();
        }
        this.pauseRequested = !msg.run;
        this.starting = this.start(msg);
        return this.starting;
      case 'pause':
        this.pauseRequested = true;
        if (!this.looping && this.session) this.postStatus();
        return Promise.resolve();
      case 'resume':
        this.pauseRequested = false;
        return this.loop();
      case 'stop':
        this.stopRequested = true;
        return this.looping ? Promise.resolve() : this.finishStop();
      case 'prune':
        return this.prune(msg.requestId, msg.keep);
    }
  }

  get status(): WorkerStatus {
    const s = this.session;
    if (this.stopped) return 'stopped';
    if (s && this.done(s)) return 'done';
    return this.looping && !this.pauseRequested ? 'running' : 'paused';
  }

  private done(s: Session): boolean {
    return s.amc.done && (!s.random || s.random.done);
  }

  private async start(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
    const { post } = this.deps;
    let session: Session;
    try {
      const backend = await this.deps.initBackend(msg.backend);
      const model = await loadModel(modelFilesAsInput(msg.model));
      const analysis = analyzeModel(model, msg.inputSize === null ? undefined : { inputSize: msg.inputSize });
      const config = msg.resume?.amc.config ?? msg.config;
      const env = new PruningEnv(analysis, config.env);
      const data = scoringData(msg.data);
      const scorer = await EpisodeScorer.create(model, analysis, data, { seed: config.seed, roundTo: config.env.roundTo });
      const originalCost = env.costOf(new Map());
      post({
        type: 'ready',
        backend,
        groups: env.steps.map((s) => ({ id: s.group.id, channels: s.group.channels })),
        originalResource: env.originalResource,
        originalMacs: originalCost.macs,
        originalParams: originalCost.params,
        budget: env.budget,
        floor: env.floor,
        labeled: data.labels !== undefined,
        images: data.images.length / imageBytes(data),
      });
      const wantRandom = msg.resume ? msg.resume.random !== null : msg.randomBaseline;
      const randomEnv = () => new PruningEnv(analysis, config.env);
      let amc: AmcSearch;
      let random: AmcSearch | null = null;
      if (msg.resume) {
        amc = AmcSearch.restore(env, scorer, msg.resume.amc);
        if (msg.resume.random) random = AmcSearch.restore(randomEnv(), scorer, msg.resume.random);
        post({ type: 'restored', amc: amc.log, random: random?.log ?? [], elapsedMs: msg.resume.elapsedMs });
      } else {
        amc = new AmcSearch(env, scorer, config);
        if (wantRandom) random = new AmcSearch(randomEnv(), scorer, randomConfig(config));
      }
      let uniform = msg.resume?.uniform ?? null;
      if (!uniform) {
        const u = bestUniform(env);
        const score = await scorer.score(u.keep);
        uniform = {
          ratio: u.ratio,
          keep: Object.fromEntries(u.keep),
          resource: u.resource,
          resourceRatio: u.resourceRatio,
          ...env.costOf(u.keep),
          score,
          reward: rewardOf(config, score, u.resource),
        };
      }
      post({ type: 'baseline', uniform });
      const meta = msg.meta ? { ...msg.meta, backend: backend.name } : null;
      session = { id: msg.id, model, analysis, scorer, amc, random, uniform, meta, elapsedMs: msg.resume?.elapsedMs ?? 0 };
      this.session = session;
    } catch (e) {
      post({ type: 'error', message: errLine(e), fatal: true });
      return;
    }
    if (this.stopRequested) return this.finishStop();
    if (!this.pauseRequested && !this.done(session)) {
      void this.loop();
      return;
    }
    this.postStatus();
  }

  private postStatus(): void {
    const s = this.session;
    if (!s) return;
    this.deps.post({ type: 'status', status: this.status, episodes: s.amc.episode, randomEpisodes: s.random?.episode ?? 0, elapsedMs: s.elapsedMs });
  }

  /** The search whose turn it is: the agent first, then random search, alternating. */
  private next(s: Session): { search: AmcSearch; which: 'amc' | 'random' } | null {
    const r = s.random;
    if (r && !r.done && (s.amc.done || r.episode < s.amc.episode)) return { search: r, which: 'random' };
    if (!s.amc.done) return { search: s.amc, which: 'amc' };
    return null;
  }

  private async loop(): Promise<void> {
    const s = this.session;
    if (!s || this.looping || this.stopped) return;
    this.looping = true;
    try {
      if (!this.pauseRequested && !this.stopRequested) this.postStatus();
      while (!this.pauseRequested && !this.stopRequested) {
        const turn = this.next(s);
        if (!turn) break;
        const t0 = performance.now();
        const record = await turn.search.runEpisode();
        s.elapsedMs += performance.now() - t0;
        const saved = await this.save(s);
        const ms = performance.now() - t0;
        this.deps.post({ type: 'episode', search: turn.which, record, ms, tensors: tf.memory().numTensors, saved });
        await this.yieldNow();
      }
    } catch (e) {
      this.looping = false;
      this.deps.post({ type: 'error', message: `the search stopped: ${errLine(e)}`, fatal: true });
      return;
    }
    this.looping = false;
    if (this.stopRequested) return this.finishStop();
    this.postStatus();
  }

  private async finishStop(): Promise<void> {
    const s = this.session;
    if (this.stopped) return;
    this.stopped = true;
    if (s?.meta && !this.done(s)) {
      s.meta = { ...s.meta, stopped: true };
      await this.save(s);
    }
    if (s) this.postStatus();
  }

  /** Saves the progress and the summary; false (with an error posted) when storage fails. */
  private async save(s: Session): Promise<boolean> {
    const store = this.deps.store;
    if (!store || !s.meta) return false;
    const progress: SearchProgress = {
      amc: await s.amc.snapshot(),
      random: s.random ? await s.random.snapshot() : null,
      uniform: s.uniform,
      elapsedMs: s.elapsedMs,
    };
    const best = s.amc.best;
    const randomBest = s.random?.best;
    const u = s.uniform;
    s.meta = {
      ...s.meta,
      updatedAt: Date.now(),
      episodes: s.amc.episode,
      randomEpisodes: s.random?.episode ?? 0,
      best: best ? briefOf(best) : null,
      randomBest: randomBest ? briefOf(randomBest) : null,
      uniform: u ? { ratio: u.ratio, accuracy: u.score.top1 ?? u.score.agreement, resourceRatio: u.resourceRatio, reward: u.reward } : null,
      elapsedMs: s.elapsedMs,
    };
    try {
      await store.saveProgress(s.id, progress, s.meta);
      return true;
    } catch (e) {
      this.deps.post({ type: 'error', message: `could not save the search in this browser (${errLine(e)}); it goes on, but a reload would lose the episodes since the last save.`, fatal: false });
      return false;
    }
  }

  private async prune(requestId: number, keep: Record<string, number>): Promise<void> {
    if (this.starting) await this.starting;
    const s = this.session;
    if (!s) {
      this.deps.post({ type: 'error', message: 'the search has not started, so there is no model to prune.', requestId, fatal: false });
      return;
    }
    try {
      const c = await s.scorer.prune(new Map(Object.entries(keep)));
      const { payload, transfer } = toPrunedPayload(c.result, c.model);
      this.deps.post({ type: 'pruned', requestId, result: payload }, transfer);
    } catch (e) {
      this.deps.post({ type: 'error', message: `could not prune that policy: ${errLine(e)}`, requestId, fatal: false });
    }
  }
}

function imageBytes(d: ScoringData): number {
  const s = d.eval.imageSize ?? 32;
  const [h, w] = typeof s === 'number' ? [s, s] : s;
  return h * w * (d.eval.channels ?? 3);
}
