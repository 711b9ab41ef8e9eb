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
 *
 * Latency searches: before the first episode, a per-layer latency table is timed on this device
 * (progress posted) and saved with the search; a resume reuses the saved table. The wall uses the
 * table's prediction, each episode is scored with its measured latency.
 *
 * Every DRIFT_EVERY agent episodes (and at the start) the fixed reference model is re-timed and
 * the drift since the start is posted: a phone that heats up shows here.
 *
 * A backend that fails (a lost GPU device, a WebGL context gone, an error thrown by a kernel)
 * does not end the search: the worker initializes WASM, rebuilds the scorer (and, for latency,
 * the table) there, restores the agent from the last finished episode and carries on, saying so.
 * An episode that fails on WASM itself is fatal.
 */
import * as tf from '@tensorflow/tfjs';
import { generateDataset } from '../core/data/procedural';
import type { BackendInfo, BackendName } from '../core/measure/backends';
import { DriftMonitor, type LatencyOptions } from '../core/measure/latency';
import { buildReferenceModel } from '../core/measure/reference-model';
import { instantiate } from '../core/model/tfjs-model';
import { analyzeModel, type ModelAnalysis } from '../core/model/analyze';
import { loadModel } from '../core/model/load';
import type { LoadedModel } from '../core/model/types';
import { bestUniform } from '../core/search/baselines';
import type { SearchConfig } from '../core/search/config';
import { PruningEnv, SearchError } from '../core/search/env';
import { deviceLatencyTable, latencyResource } from '../core/search/latency-resource';
import { amcReward } from '../core/search/search';
import { EPISODE_LATENCY, EpisodeScorer, type ScoringData } from '../core/search/scorer';
import { AmcSearch, type Score } from '../core/search/search';
import {
  briefOf,
  modelFilesAsInput,
  toPrunedPayload,
  type FromWorker,
  type SavedLatency,
  type ScoringSpec,
  type SearchMeta,
  type SearchProgress,
  type ToWorker,
  type UniformBaseline,
  type WorkerStatus,
} from './search-messages';
import type { SearchStore } from './search-store';
import { BURN_IN, burnIn, type BurnInOptions } from '../core/measure/burn-in';

export interface HostDeps {
  post(msg: FromWorker, transfer?: ArrayBuffer[]): void;
  /** Where progress is saved after every episode; null saves nothing. */
  store: SearchStore | null;
  initBackend(preferred?: BackendName): Promise<BackendInfo>;
  /** Lets queued messages (pause, stop, prune) in between episodes. */
  yieldNow?: () => Promise<void>;
  /** Re-time the reference model every this many agent episodes (0: never). Default DRIFT_EVERY. */
  driftEvery?: number;
  /** Burn-in before anything is timed on a backend (see burn-in.ts). Default BURN_IN. */
  burnIn?: BurnInOptions;
  /** Timing options (tests make them short). */
  timing?: {
    table?: { layer?: LatencyOptions; endToEnd?: LatencyOptions };
    episode?: LatencyOptions;
    reference?: LatencyOptions;
  };
}

export const DRIFT_EVERY = 10;

const LABEL: Record<string, string> = { webgpu: 'WebGPU', wasm: 'WASM', webgl: 'WebGL', cpu: 'CPU' };

/** Backends that can fail under a search (a GPU device or context can be lost); WASM and CPU cannot fall back further. */
export function canFallBack(backend: string): boolean {
  return backend !== 'wasm' && backend !== 'cpu';
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

/** AMC's reward, the same function the search uses. */
export function rewardOf(config: SearchConfig, score: Score, resource: number): number {
  return amcReward(config.env, score, resource);
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
  config: SearchConfig;
  data: ScoringData;
  backend: BackendInfo;
  latency: SavedLatency | null;
  scorer: EpisodeScorer;
  amc: AmcSearch;
  random: AmcSearch | null;
  uniform: UniformBaseline | null;
  meta: SearchMeta | null;
  elapsedMs: number;
  /** The reference model and its drift monitor, on the session's backend. */
  reference: { model: tf.LayersModel; monitor: DriftMonitor } | null;
  /** The state after the last finished episode, kept where the backend can fail: what a fallback restores. */
  lastGood: SearchProgress | null;
}

export class SearchHost {
  private session: Session | null = null;
  private starting: Promise<void> | null = null;
  private looping = false;
  private pauseRequested = false;
  private stopRequested = false;
  private stopped = false;
  /** Why the backend died between episodes (set by backendLost), handled before the next episode. */
  private lost: string | null = null;
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
        // While the search is still being set up, start() sees the request and stops it once there is a session to stop.
        if (this.starting && !this.session) return Promise.resolve();
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

  /**
   * The backend in use died (a lost GPU device, a lost WebGL context): the search falls back to
   * WASM before its next episode. `backend` names the one that died (ignored if it is not in use).
   */
  backendLost(reason: string, backend?: string): void {
    const s = this.session;
    const current = s?.backend.name ?? backend;
    if (!current || !canFallBack(current) || (backend && backend !== current)) return;
    this.lost = reason;
  }

  private async start(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
    const { post } = this.deps;
    let session: Session;
    try {
      let backend = await this.deps.initBackend(msg.backend);
      try {
        session = await this.open(msg, backend);
      } catch (e) {
        // A GPU backend that fails while the search is set up: WASM takes over.
        if (!canFallBack(backend.name) || e instanceof SearchError) throw e;
        const failed = backend;
        backend = await this.deps.initBackend('wasm');
        if (backend.name === failed.name) throw e;
        post({ type: 'error', message: `${LABEL[failed.name] ?? failed.name} failed while the search was set up (${errLine(e)}): it runs on ${LABEL[backend.name] ?? backend.name} instead.`, fatal: false });
        session = await this.open(msg, backend);
      }
      this.session = session;
      await this.checkDrift(session);
      if (canFallBack(session.backend.name)) session.lastGood = await this.progressOf(session);
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

  /** Loads the model and data, builds the env, scorer and searches on `backend`, scores the uniform baseline. */
  private async open(msg: Extract<ToWorker, { type: 'start' }>, backend: BackendInfo): Promise<Session> {
    const { post } = this.deps;
    const model = await loadModel(modelFilesAsInput(msg.model));
    const analysis = analyzeModel(model, msg.inputSize === null ? undefined : { inputSize: msg.inputSize });
    const config = msg.resume?.amc.config ?? msg.config;
    const data = scoringData(msg.data);
    const meta = msg.meta ? { ...msg.meta, backend: backend.name } : null;
    const reference = await this.warmUp(config, model, analysis.graph.inputSize);
    const latency = config.env.resource === 'latency' ? await this.latencyTable(msg.id, meta !== null, model, analysis, config, msg.latency ?? null, backend) : null;
    const { env, scorer } = await this.scoring(model, analysis, config, data, latency);
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
      ...(scorer.originalLatencyMs !== undefined ? { originalLatencyMs: scorer.originalLatencyMs } : {}),
    });
    const wantRandom = msg.resume ? msg.resume.random !== null : msg.randomBaseline;
    const randomEnv = () => new PruningEnv(analysis, config.env, latency ? latencyResource(latency.table, analysis, latency.points) : undefined);
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
      // Latency: judged by its measured latency, as episodes are; the prediction kept beside it.
      const measured = latency && score.latencyMs !== undefined && scorer.originalLatencyMs ? score.latencyMs : undefined;
      const resource = measured ?? u.resource;
      uniform = {
        ratio: u.ratio,
        keep: Object.fromEntries(u.keep),
        resource,
        resourceRatio: measured !== undefined ? measured / scorer.originalLatencyMs! : u.resourceRatio,
        ...(measured !== undefined ? { predictedRatio: u.resourceRatio } : {}),
        ...env.costOf(u.keep),
        score,
        reward: rewardOf(config, score, resource),
      };
    }
    post({ type: 'baseline', uniform });
    return {
      id: msg.id,
      model,
      analysis,
      config,
      data,
      backend,
      latency,
      scorer,
      amc,
      random,
      uniform,
      meta,
      elapsedMs: msg.resume?.elapsedMs ?? 0,
      reference,
      lastGood: null,
    };
  }

  private get driftEvery(): number {
    return this.deps.driftEvery ?? DRIFT_EVERY;
  }

  /**
   * A fresh worker (or backend) runs cold until V8 tiers its kernels up: burns it in with the
   * reference model and the user's model, until their speed is steady, before the latency table or
   * the drift baseline is timed. Returns the reference model and its drift monitor when drift is
   * watched.
   */
  private async warmUp(config: SearchConfig, model: LoadedModel, inputSize: number): Promise<{ model: tf.LayersModel; monitor: DriftMonitor } | null> {
    const reference = this.driftEvery > 0 ? this.newReference() : null;
    if (!reference && config.env.resource !== 'latency') return null;
    const nets = [reference?.model ?? buildReferenceModel(), await instantiate(model)];
    try {
      await burnIn(nets, inputSize, this.deps.burnIn ?? BURN_IN);
    } finally {
      nets.slice(reference ? 1 : 0).forEach((n) => n.dispose());
    }
    return reference;
  }

  private newReference(): { model: tf.LayersModel; monitor: DriftMonitor } {
    const model = buildReferenceModel();
    return { model, monitor: new DriftMonitor(model, this.deps.timing?.reference ?? { warmup: 3, runs: 15 }) };
  }

  /** The env (with the latency table's predictor for latency) and the scorer (measuring latency for latency). */
  private async scoring(model: LoadedModel, analysis: ModelAnalysis, config: SearchConfig, data: ScoringData, latency: SavedLatency | null): Promise<{ env: PruningEnv; scorer: EpisodeScorer }> {
    const env = new PruningEnv(analysis, config.env, latency ? latencyResource(latency.table, analysis, latency.points) : undefined);
    const scorer = await EpisodeScorer.create(model, analysis, data, {
      seed: config.seed,
      roundTo: config.env.roundTo,
      ...(latency ? { latency: this.deps.timing?.episode ?? EPISODE_LATENCY } : {}),
    });
    return { env, scorer };
  }

  /**
   * The latency table for a latency search: the saved one when it was measured on this backend,
   * else one timed now (progress posted) and saved with the search.
   */
  private async latencyTable(id: string, persist: boolean, model: LoadedModel, analysis: ModelAnalysis, config: SearchConfig, saved: SavedLatency | null, backend: BackendInfo): Promise<SavedLatency> {
    const { post } = this.deps;
    if (saved && saved.table.backend === backend.name) {
      post({ type: 'latency-table', latency: saved, reused: true });
      return saved;
    }
    if (saved) {
      post({ type: 'error', message: `the saved latency table was measured on ${LABEL[saved.table.backend] ?? saved.table.backend}, the search now runs on ${LABEL[backend.name] ?? backend.name}: it is measured again.`, fatal: false });
    }
    let lastPost = -Infinity;
    let lastFraction = -1;
    const built = await deviceLatencyTable(model, analysis, { roundTo: config.env.roundTo, ...this.deps.timing?.table }, (fraction, what) => {
      const now = performance.now();
      if (fraction < 1 && now - lastPost < 150 && fraction - lastFraction < 0.05) return;
      lastPost = now;
      lastFraction = fraction;
      post({ type: 'latency-progress', fraction, what });
    });
    const latency: SavedLatency = { table: built.table, points: built.points };
    if (persist && this.deps.store?.saveLatency) {
      try {
        await this.deps.store.saveLatency(id, latency);
      } catch (e) {
        post({ type: 'error', message: `could not save the latency table in this browser (${errLine(e)}); a resumed search would measure it again.`, fatal: false });
      }
    }
    post({ type: 'latency-table', latency, reused: false });
    return latency;
  }

  /** Re-times the reference model and posts the drift (never fatal: a dead backend shows at the next episode). */
  private async checkDrift(s: Session): Promise<void> {
    if (!s.reference) return;
    try {
      const { medianMs, drift } = await s.reference.monitor.check();
      this.deps.post({ type: 'drift', episode: s.amc.episode, medianMs, drift, backend: s.backend.name });
    } catch {
      // Reported by the episode that fails next, if the backend is gone.
    }
  }

  /**
   * After a backend failure: WASM, the scorer (and latency table) rebuilt there, the searches
   * restored from the last finished episode. False when there is nothing to fall back to.
   */
  private async fallBack(s: Session, reason: string): Promise<boolean> {
    this.lost = null;
    if (!canFallBack(s.backend.name) || !s.lastGood) return false;
    const from = s.backend;
    let backend: BackendInfo;
    try {
      backend = await this.deps.initBackend('wasm');
    } catch {
      return false;
    }
    if (backend.name === from.name) return false;
    const lastGood = s.lastGood;
    for (const old of [s.amc, s.random, s.scorer]) {
      try {
        old?.dispose();
      } catch {
        // Its tensors lived on the lost backend.
      }
    }
    try {
      s.reference?.model.dispose();
    } catch {
      // Same.
    }
    const reference = await this.warmUp(s.config, s.model, s.analysis.graph.inputSize);
    const latency = s.latency ? await this.latencyTable(s.id, s.meta !== null, s.model, s.analysis, s.config, null, backend) : null;
    const { env, scorer } = await this.scoring(s.model, s.analysis, s.config, s.data, latency);
    s.backend = backend;
    s.latency = latency;
    s.scorer = scorer;
    s.amc = AmcSearch.restore(env, scorer, lastGood.amc);
    s.random = lastGood.random ? AmcSearch.restore(new PruningEnv(s.analysis, s.config.env, latency ? latencyResource(latency.table, s.analysis, latency.points) : undefined), scorer, lastGood.random) : null;
    s.lastGood = null;
    if (s.meta) s.meta = { ...s.meta, backend: backend.name };
    s.reference = reference;
    const to = LABEL[backend.name] ?? backend.name;
    this.deps.post({
      type: 'backend',
      backend,
      episode: s.amc.episode,
      message: `${LABEL[from.name] ?? from.name} failed (${reason}): the search goes on on ${to} from episode ${s.amc.episode + 1}${latency ? `, with a latency table measured again on ${to}` : ''}.`,
      ...(scorer.originalLatencyMs !== undefined ? { originalLatencyMs: scorer.originalLatencyMs } : {}),
    });
    await this.checkDrift(s);
    return true;
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
        const lost = this.lost;
        if (lost !== null && !(await this.fallBack(s, lost))) throw new Error(lost);
        const turn = this.next(s);
        if (!turn) break;
        const t0 = performance.now();
        let record;
        try {
          record = await turn.search.runEpisode();
        } catch (e) {
          // A failed backend: go on on WASM from the last finished episode (this one is run again).
          if (await this.fallBack(s, errLine(e))) continue;
          throw e;
        }
        s.elapsedMs += performance.now() - t0;
        const saved = await this.afterEpisode(s);
        const ms = performance.now() - t0;
        this.deps.post({ type: 'episode', search: turn.which, record, ms, tensors: tf.memory().numTensors, saved });
        if (turn.which === 'amc' && this.driftEvery > 0 && s.amc.episode % this.driftEvery === 0) await this.checkDrift(s);
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

  private async progressOf(s: Session): Promise<SearchProgress> {
    return {
      amc: await s.amc.snapshot(),
      random: s.random ? await s.random.snapshot() : null,
      uniform: s.uniform,
      elapsedMs: s.elapsedMs,
    };
  }

  /** After an episode: the snapshot a fallback would restore (on a GPU backend), and the save. */
  private async afterEpisode(s: Session): Promise<boolean> {
    const fallible = canFallBack(s.backend.name);
    if (!fallible && !(this.deps.store && s.meta)) return false;
    const progress = await this.progressOf(s);
    if (fallible) s.lastGood = progress;
    return this.save(s, progress);
  }

  /** Saves the progress and the summary; false (with an error posted) when storage fails. */
  private async save(s: Session, snapshot?: SearchProgress): Promise<boolean> {
    const store = this.deps.store;
    if (!store || !s.meta) return false;
    const progress = snapshot ?? (await this.progressOf(s));
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
