/**
 * One search session: what the search worker (src/workers/search-host.ts) and the CLI
 * (src/cli/search.ts) both run. Hosts only carry messages or print; every step of a search is here,
 * each one explicit and in this order (no constructor does any of it):
 *
 *   open()              burn-in, the latency table (the saved one, or measured now), the env, the
 *                       scorer, and anchor(): the wall on the scale episodes are judged on
 *   begin() | restore() the agent's search and, optionally, random search beside it
 *   uniformBaseline()   the uniform baseline, scored once (a restored one is not scored again)
 *   nextTurn()          whose episode is next (the agent first, then random search, alternating)
 *   play(turn)          that turn's episode, or a batch of independent ones on the scorer pool
 *   snapshot()          what a resume (or a fallback to another backend) needs
 *   bestModel()         the model a search ends with; a fine-tune of it plugs in there
 *   dispose()
 */
import type * as tf from '@tensorflow/tfjs';
import { BURN_IN, burnIn, type BurnIn, type BurnInOptions } from '../measure/burn-in';
import { DriftMonitor, type LatencyOptions } from '../measure/latency';
import { buildReferenceModel } from '../measure/reference-model';
import type { ModelAnalysis } from '../model/analyze';
import type { LoadedModel } from '../model/types';
import { disposeModel, instantiate } from '../model/tfjs-model';
import { bestUniform, randomConfig, type UniformBaseline } from './baselines';
import type { SearchConfig } from './config';
import { PruningEnv } from './env';
import { deviceLatencyTable, latencyResource, type SavedLatency } from './latency-resource';
import { EPISODES_PER_SCORER, type ScorerPool } from './pool';
import { EPISODE_LATENCY, EpisodeScorer, type PrunedCandidate, type ScoringData } from './scorer';
import { AmcSearch, amcReward, judgedResource, type EpisodeRecord, type SearchSnapshot } from './search';

export interface SessionOptions {
  model: LoadedModel;
  analysis: ModelAnalysis;
  config: SearchConfig;
  data: ScoringData;
  /** The backend it runs on: a saved latency table is reused only when it was measured there. */
  backend: string;
  /** A latency search's saved table (absent or null: one is measured). */
  latency?: SavedLatency | null;
  /**
   * The burn-in before anything is timed (latency, drift): its options (default BURN_IN), and whether
   * the reference model runs beside the user's (default true; always, when drift is watched).
   */
  burnIn?: { options?: BurnInOptions; withReference?: boolean };
  /** Watch the device's drift: the reference model is kept and re-timed with these options. */
  drift?: LatencyOptions;
  /** Timing of the latency table and of each episode's paired latency (tests make them short). */
  timing?: { table?: { layer?: LatencyOptions; endToEnd?: LatencyOptions }; episode?: LatencyOptions };
  /**
   * Scorers in other threads for the independent episodes (pool.ts), beside the session's scorer
   * (null: none). Asked for when a turn first has independent episodes to play (a search resumed
   * after its warm-up never starts threads), never in a latency search: timing needs the device to itself.
   */
  scorerPool?: (scorer: EpisodeScorer, backend: string) => Promise<ScorerPool | null>;
}

/** What open() tells its host as it goes. */
export interface SessionHooks {
  /** The burn-in is over (only when something is timed). */
  burnedIn?(result: BurnIn): void;
  /** The saved latency table was measured on another backend: it is measured again. */
  latencyStale?(saved: SavedLatency): void;
  latencyProgress?(fraction: number, what: string): void;
  /** The table in use: the saved one (`reused`) or one measured now. Awaited, so a host can save it before it says so. */
  latencyTable?(latency: SavedLatency, reused: boolean): void | Promise<void>;
}

/** The searches and the uniform baseline: what a session needs to go on where it stopped. */
export interface SessionSnapshot {
  amc: SearchSnapshot;
  /** The random-search baseline, when it runs beside the agent. */
  random: SearchSnapshot | null;
  uniform: UniformBaseline | null;
}

/**
 * A fine-tune of the best policy's pruned model, where a search ends (bestModel): `amc search
 * --finetune` passes the distillation fine-tune (core/finetune/after-search.ts) here.
 */
export type FinetuneBest = (candidate: PrunedCandidate, best: EpisodeRecord, session: SearchSession) => Promise<PrunedCandidate>;

export type Turn = { search: AmcSearch; which: 'amc' | 'random' };

interface Reference {
  model: tf.LayersModel;
  monitor: DriftMonitor;
}

export class SearchSession {
  private searches: { amc: AmcSearch; random: AmcSearch | null } | null = null;
  private uniform: UniformBaseline | null = null;

  private constructor(
    readonly options: SessionOptions,
    /** The agent's env (random search gets one of its own: the latency resource learns per search). */
    readonly env: PruningEnv,
    readonly scorer: EpisodeScorer,
    /** The latency table in use (latency searches), null otherwise. */
    readonly latency: SavedLatency | null,
    private readonly reference: Reference | null,
  ) {}

  /** The scorer pool of warm-up and random-search episodes (MACs and params searches), once started. */
  private scorers: ScorerPool | null = null;
  private widestPool = 1;
  private poolState: 'unstarted' | 'started' | 'closed' = 'unstarted';

  /** The scorer pool (null: none, not started yet, or closed). */
  get pool(): ScorerPool | null {
    return this.scorers;
  }

  /** Ends the pool's threads before the session ends (after the last episode); later batches are played one episode at a time. */
  closePool(): void {
    this.poolState = 'closed';
    const pool = this.scorers;
    this.scorers = null;
    pool?.dispose();
  }

  /** Burns in, gets the latency table, builds the env and the scorer, and anchors the wall. */
  static async open(options: SessionOptions, hooks: SessionHooks = {}): Promise<SearchSession> {
    const { model, analysis, config, data } = options;
    const reference = await warmUp(options, hooks);
    try {
      const latency = config.env.resource === 'latency' ? await latencyTable(options, hooks) : null;
      const env = newEnv(analysis, config, latency);
      const scorer = await EpisodeScorer.create(model, analysis, data, {
        seed: config.seed,
        roundTo: config.env.roundTo,
        evaluator: config.evaluator,
        ...(latency ? { latency: options.timing?.episode ?? EPISODE_LATENCY } : {}),
      });
      const session = new SearchSession(options, env, scorer, latency, reference);
      session.anchor();
      return session;
    } catch (e) {
      reference?.model.dispose();
      throw e;
    }
  }

  get config(): SearchConfig {
    return this.options.config;
  }

  /**
   * Holds the wall to target x the *measured* original: episodes (and the uniform baseline) are
   * judged by measured latency over the measured original, so the wall is drawn on that scale. A
   * no-op unless latency is the resource. open() calls it before anything reads the wall.
   */
  anchor(): void {
    this.anchorEnv(this.env);
  }

  private anchorEnv(env: PruningEnv): void {
    if (env.resource.kind === 'latency' && this.scorer.originalLatencyMs) env.anchor(this.scorer.originalLatencyMs);
  }

  /** Random search's env: its own (the latency resource learns per search), anchored like the agent's. */
  private randomEnv(): PruningEnv {
    const env = newEnv(this.options.analysis, this.config, this.latency);
    this.anchorEnv(env);
    return env;
  }

  /** A new search: the agent's and, with `randomBaseline`, random search (same wall, scorer and budget; seed + 1). */
  begin(randomBaseline: boolean): void {
    if (this.searches) throw new Error('this session already has its searches.');
    const amc = new AmcSearch(this.env, this.scorer, this.config);
    this.searches = { amc, random: randomBaseline ? new AmcSearch(this.randomEnv(), this.scorer, randomConfig(this.config)) : null };
  }

  /** Saved searches, continued; a saved uniform baseline is kept, not scored again. */
  restore(saved: SessionSnapshot): void {
    if (this.searches) throw new Error('this session already has its searches.');
    const amc = AmcSearch.restore(this.env, this.scorer, saved.amc);
    this.searches = { amc, random: saved.random ? AmcSearch.restore(this.randomEnv(), this.scorer, saved.random) : null };
    if (saved.uniform) this.uniform = saved.uniform;
  }

  /** The agent's search (after begin or restore). */
  get amc(): AmcSearch {
    if (!this.searches) throw new Error('the session has no search yet: begin() or restore() it first.');
    return this.searches.amc;
  }

  /** The random-search baseline, when it runs. */
  get random(): AmcSearch | null {
    return this.searches?.random ?? null;
  }

  get done(): boolean {
    return this.amc.done && (!this.random || this.random.done);
  }

  /** The search whose episode is next: the agent first, then random search, alternating; null when both are done. */
  nextTurn(): Turn | null {
    const r = this.random;
    if (r && !r.done && (this.amc.done || r.episode < this.amc.episode)) return { search: r, which: 'random' };
    if (!this.amc.done) return { search: this.amc, which: 'amc' };
    return null;
  }

  /** The most scorers that have scored this session's episodes at once (1: one at a time); for the report. */
  get scorersUsed(): number {
    return this.widestPool;
  }

  /** Episodes a turn plays at most: a batch per pool (EPISODES_PER_SCORER per scorer), else one. */
  get batch(): number {
    return this.pool ? this.pool.size * EPISODES_PER_SCORER : 1;
  }

  /**
   * Plays a turn: its search's next episode, or, where the next episodes are independent (warm-up,
   * random search) and a pool is there, a batch of them scored at once. The records come back in
   * episode order, the same log as one at a time; a host reports and saves after the batch.
   */
  async play(turn: Turn): Promise<EpisodeRecord[]> {
    if (turn.search.independentAhead >= 2) await this.startPool();
    const records = await turn.search.runEpisodes(this.batch, this.pool);
    // The agent's learning episodes are played one at a time: once no search has independent episodes left, the pool's threads end.
    if (this.scorers && ![this.amc, this.random].some((s) => s && !s.done && s.independentAhead > 0)) this.closePool();
    return records;
  }

  /** Starts the pool the options ask for, once; never for a latency search. */
  private async startPool(): Promise<void> {
    const factory = this.options.scorerPool;
    if (this.poolState !== 'unstarted' || !factory || this.latency) return;
    this.poolState = 'started';
    this.scorers = await factory(this.scorer, this.options.backend);
    this.widestPool = Math.max(this.widestPool, this.scorers?.size ?? 1);
  }

  /** The uniform baseline: the widest uniform policy under the (anchored) wall, scored like an episode, once. */
  async uniformBaseline(): Promise<UniformBaseline> {
    this.uniform ??= await this.scoreUniform();
    return this.uniform;
  }

  private async scoreUniform(): Promise<UniformBaseline> {
    const u = bestUniform(this.env);
    const score = await this.scorer.score(u.keep);
    // Latency: judged by its measured latency, as episodes are; the prediction kept beside it.
    const { resource, resourceRatio, predictedRatio } = judgedResource(this.env, this.scorer, u.keep, score);
    return {
      ratio: u.ratio,
      keep: Object.fromEntries(u.keep),
      resource,
      resourceRatio,
      ...(predictedRatio !== undefined ? { predictedRatio } : {}),
      ...this.env.costOf(u.keep),
      score,
      reward: amcReward(this.config.env, score, resource),
    };
  }

  async snapshot(): Promise<SessionSnapshot> {
    return {
      amc: await this.amc.snapshot(),
      random: this.random ? await this.random.snapshot() : null,
      uniform: this.uniform,
    };
  }

  /** Re-times the reference model: the device's drift since the first check; null when drift is not watched. */
  async checkDrift(): Promise<{ medianMs: number; drift: number } | null> {
    return this.reference ? this.reference.monitor.check() : null;
  }

  /**
   * The model the search ends with: the best episode's policy pruned (refitted when the data has
   * calibration images), then fine-tuned by `finetune` when one is given.
   */
  async bestModel(finetune?: FinetuneBest): Promise<{ best: EpisodeRecord; candidate: PrunedCandidate }> {
    const best = this.amc.best;
    if (!best) throw new Error('the search has no episode yet, so there is no best policy.');
    const candidate = await this.scorer.prune(new Map(Object.entries(best.keep)));
    return { best, candidate: finetune ? await finetune(candidate, best, this) : candidate };
  }

  /** Frees the agents, the scorer and the reference model, each on its own: one that lived on a lost backend does not keep the others. */
  dispose(): void {
    const parts = [this.scorers, this.searches?.amc, this.searches?.random, this.scorer, this.reference?.model];
    this.searches = null;
    this.scorers = null;
    for (const part of parts) {
      try {
        part?.dispose();
      } catch {
        // Its tensors lived on a lost backend.
      }
    }
  }
}

/**
 * A fresh worker, process or backend runs cold until V8 tiers its kernels up: the models about to
 * be timed are burned in until their speed is steady, before the latency table or the drift
 * baseline is timed. Returns the reference model and its drift monitor when drift is watched.
 */
async function warmUp(options: SessionOptions, hooks: SessionHooks): Promise<Reference | null> {
  const { model, analysis, config, drift } = options;
  const reference = drift ? newReference(drift) : null;
  if (!reference && config.env.resource !== 'latency') return null;
  const withReference = reference !== null || (options.burnIn?.withReference ?? true);
  const nets = [...(withReference ? [reference?.model ?? buildReferenceModel()] : []), await instantiate(model)];
  try {
    hooks.burnedIn?.(await burnIn(nets, analysis.graph.inputSize, options.burnIn?.options ?? BURN_IN));
  } catch (e) {
    reference?.model.dispose();
    throw e;
  } finally {
    nets.slice(reference ? 1 : 0).forEach((n) => disposeModel(n));
  }
  return reference;
}

/** An env on the search's resource: the latency table's predictor for latency, else MACs or params. */
function newEnv(analysis: ModelAnalysis, config: SearchConfig, latency: SavedLatency | null): PruningEnv {
  return new PruningEnv(analysis, config.env, latency ? latencyResource(latency.table, analysis, latency.points) : undefined);
}

function newReference(options: LatencyOptions): Reference {
  const model = buildReferenceModel();
  return { model, monitor: new DriftMonitor(model, options) };
}

/** The saved latency table when it was measured on this backend, else one measured now. */
async function latencyTable(options: SessionOptions, hooks: SessionHooks): Promise<SavedLatency> {
  const saved = options.latency;
  if (saved && saved.table.backend === options.backend) {
    await hooks.latencyTable?.(saved, true);
    return saved;
  }
  if (saved) hooks.latencyStale?.(saved);
  const { model, analysis, config, timing } = options;
  const latency = await deviceLatencyTable(model, analysis, { roundTo: config.env.roundTo, ...timing?.table }, hooks.latencyProgress);
  await hooks.latencyTable?.(latency, false);
  return latency;
}
