/**
 * The AMC search loop (the official amc_search.py `train`), one episode per call so that a host
 * (the CLI, a Web Worker) can pause, save and resume between episodes.
 *
 * An episode: reset the env; for each group, the agent picks a preserve ratio (uniform random in
 * warm-up, else the actor plus truncated-normal noise); the env applies the wall; at the end the
 * pruned model is scored and every step is stored with the episode's reward; after warm-up, one
 * DDPG update per stored step. `agent: 'random'` keeps the warm-up forever: random search over
 * the same wall, budget and scorer, the baseline AMC must beat.
 */
import type { KeepMap } from '../model/cost';
import { Rng } from '../random';
import { bestOf } from './best';
import type { SearchConfig } from './config';
import { DdpgAgent, type AgentSnapshot } from './ddpg';
import { PruningEnv, STATE_SIZE } from './env';
import type { ScorerPool } from './pool';
import { ReplayBuffer, type ReplaySnapshot } from './replay';

/** What the scorer says about one pruned model. `error` drives the reward. */
export interface Score {
  error: number;
  /** Top-1 / top-5 accuracy on labeled data. */
  top1?: number;
  top5?: number;
  /** Top-1 agreement with the original model and mean KL(original || pruned), on unlabeled data. */
  agreement?: number;
  meanKL?: number;
  /**
   * Measured end-to-end latency of the pruned model (when the scorer measures it): its ratio to
   * the original, timed side by side, times the original's latency at the start of the search.
   */
  latencyMs?: number;
  /** The original's median in the same measurement: how far the device has drifted since the start. */
  originalNowMs?: number;
  /** Extra time spent per phase, in ms (prune and rebuild, evaluation, refit). */
  timings?: Record<string, number>;
}

export interface Scorer {
  score(keep: ReadonlyMap<string, number>): Promise<Score>;
  /** The unpruned model's measured latency, when the scorer measures latency. */
  originalLatencyMs?: number;
}

export interface EpisodeRecord {
  episode: number;
  phase: 'warm-up' | 'learning' | 'random';
  /** Kept channels per prunable group id, in step order. */
  keep: Record<string, number>;
  /** Real preserve ratio per step (kept / channels). */
  ratios: number[];
  /** The resource of the pruned model and its fraction of the original's. */
  resource: number;
  resourceRatio: number;
  /** For latency: the table's predicted ratio, beside the measured one (how far the predictor was off). */
  predictedRatio?: number;
  macs: number;
  params: number;
  score: Score;
  reward: number;
  /** Exploration noise used this episode (0 in warm-up and random search). */
  sigma: number;
  /** Time per phase, ms: scoring (prune, rebuild, evaluate) and agent (acting and updates). */
  timings: Record<string, number>;
}

/** An episode drawn (its policy chosen) but not yet scored. */
interface Draft {
  episode: number;
  warm: boolean;
  sigma: number;
  steps: { state: Float32Array; action: number; next: Float32Array }[];
  ratios: number[];
  keep: Map<string, number>;
  actingMs: number;
}

export interface SearchSnapshot {
  config: SearchConfig;
  episode: number;
  rngState: number;
  agent: AgentSnapshot | null;
  replay: ReplaySnapshot | null;
  log: EpisodeRecord[];
  /** What a measured resource (latency) learned so far. */
  resource?: unknown;
}

/**
 * AMC's reward: -error under the wall; -error * log(resource) without one (accuracy-guaranteed).
 * Latency enters the log in microseconds so that it stays above 1 (a small net runs in under 1 ms,
 * and log(ms) < 0 would reward a higher error).
 */
export function amcReward(env: Pick<SearchConfig['env'], 'protocol' | 'resource'>, score: Pick<Score, 'error'>, resource: number): number {
  if (env.protocol === 'constrained') return -score.error;
  const units = env.resource === 'latency' ? 1000 * resource : resource;
  return -score.error * Math.log(Math.max(units, Math.E));
}

/** The resource a scored policy is judged by, and its fraction of the original's. */
export interface JudgedResource {
  resource: number;
  resourceRatio: number;
  /** Set when the resource was measured (latency): the table's predicted ratio, what the wall saw. */
  predictedRatio?: number;
}

/**
 * The one measured-latency substitution, for episodes and the uniform baseline alike: with latency
 * as the resource and a score that measured it, a policy is judged by its measured latency over the
 * measured original, the table's prediction kept beside it; otherwise by the env's resource over the
 * original's. Call it before the resource learns from the measurement (`observe`).
 */
export function judgedResource(env: PruningEnv, scorer: Scorer, keep: KeepMap, score: Score): JudgedResource {
  if (env.resource.kind === 'latency' && score.latencyMs !== undefined && scorer.originalLatencyMs) {
    return { resource: score.latencyMs, resourceRatio: score.latencyMs / scorer.originalLatencyMs, predictedRatio: env.resource.of(keep) / env.originalResource };
  }
  const resource = env.resource.of(keep);
  return { resource, resourceRatio: resource / env.originalResource };
}

export class AmcSearch {
  readonly rng: Rng;
  readonly replay: ReplayBuffer;
  agent: DdpgAgent | null;
  log: EpisodeRecord[] = [];
  episode = 0;

  constructor(
    readonly env: PruningEnv,
    readonly scorer: Scorer,
    readonly config: SearchConfig,
  ) {
    this.rng = new Rng(config.seed);
    // Episodes are judged by measured latency over the measured original: the wall must be drawn on that scale too.
    // SearchSession anchors its envs before it builds a search; this keeps a search built alone (tests, bench) on that scale.
    if (env.resource.kind === 'latency' && scorer.originalLatencyMs) env.anchor(scorer.originalLatencyMs);
    this.replay = new ReplayBuffer(config.ddpg.replayEpisodes * env.length, STATE_SIZE);
    this.agent = config.agent === 'ddpg' ? new DdpgAgent(STATE_SIZE, config.ddpg, this.rng) : null;
  }

  get done(): boolean {
    return this.episode >= this.config.episodes;
  }

  /** The best episode so far (see bestOf). */
  get best(): EpisodeRecord | undefined {
    return bestOf(this.log, this.config.env);
  }

  private reward(score: Score, resource: number): number {
    return amcReward(this.config.env, score, resource);
  }

  /**
   * How many episodes from the next one on have policies that no score before them can change: the
   * rest of the warm-up, or every episode left of random search (uniform random actions from the
   * random stream, nothing learned in between). None in a latency search, where each measured
   * episode refits the predictor the next episode's wall is drawn with.
   */
  get independentAhead(): number {
    if (this.env.resource.kind === 'latency') return 0;
    const end = this.config.agent === 'random' ? this.config.episodes : Math.min(this.config.ddpg.warmupEpisodes, this.config.episodes);
    return Math.max(0, end - this.episode);
  }

  async runEpisode(): Promise<EpisodeRecord> {
    const draft = await this.draw();
    const t1 = performance.now();
    const score = await this.scorer.score(draft.keep);
    return this.finish(draft, score, performance.now() - t1);
  }

  /**
   * Up to `max` episodes, their policies scored together by `pool` when they are independent
   * (independentAhead): the policies are drawn first, from the same random stream in the same
   * order as one episode at a time, then scored at once, then recorded in episode order, so the log
   * is the one runEpisode() would write. Otherwise (learning, latency, no pool) one episode.
   */
  async runEpisodes(max: number, pool?: ScorerPool | null): Promise<EpisodeRecord[]> {
    const k = Math.min(max, this.independentAhead);
    if (!pool || pool.size < 2 || k < 2) return [await this.runEpisode()];
    const before = this.rng.state;
    const drafts: Draft[] = [];
    for (let i = 0; i < k; i++) drafts.push(await this.draw(this.episode + i));
    const t1 = performance.now();
    let scores: Score[];
    try {
      scores = await pool.scoreMany(drafts.map((d) => d.keep));
    } catch (e) {
      // Nothing recorded: the random stream goes back to where it was, so a retry draws the same policies.
      this.rng.state = before;
      throw e;
    }
    // The batch's wall time, shared: what an episode cost the search, so episodes/s reads right from the log.
    const each = (performance.now() - t1) / k;
    const records: EpisodeRecord[] = [];
    for (let i = 0; i < k; i++) records.push(await this.finish(drafts[i], scores[i], each));
    return records;
  }

  /** An episode's policy: the env walked with the agent's (or random) actions. Nothing is recorded yet. */
  private async draw(e = this.episode): Promise<Draft> {
    const { ddpg, env: envConfig } = this.config;
    const warm = this.config.agent === 'random' || e < ddpg.warmupEpisodes;
    const sigma = warm ? 0 : ddpg.initSigma * ddpg.sigmaDecay ** (e - ddpg.warmupEpisodes);
    const t0 = performance.now();
    let state = this.env.reset();
    const steps: Draft['steps'] = [];
    const ratios: number[] = [];
    while (!this.env.done) {
      let action: number;
      if (warm) action = this.rng.uniform(envConfig.lbound, 1);
      else action = this.rng.truncatedNormal(await this.agent!.act(state), sigma, envConfig.lbound, 1);
      const r = this.env.step(action);
      ratios.push(r.ratio);
      // The official code stores the agent's action, not the walled one; the state carries the real ratio.
      steps.push({ state, action, next: r.next ?? state });
      if (r.next) state = r.next;
    }
    return { episode: e, warm, sigma, steps, ratios, keep: this.env.policy, actingMs: performance.now() - t0 };
  }

  /** Judges a drawn, scored episode, stores its steps, learns from them after warm-up, and logs it. */
  private async finish(draft: Draft, score: Score, scoring: number): Promise<EpisodeRecord> {
    const { keep, steps, warm } = draft;
    const { resource, resourceRatio, predictedRatio } = judgedResource(this.env, this.scorer, keep, score);
    const reward = this.reward(score, resource);
    if (predictedRatio !== undefined && this.env.resource.observe) {
      this.env.resource.observe(keep, score.latencyMs!);
      this.env.recalibrate();
    }

    const t2 = performance.now();
    if (this.agent) steps.forEach((s, i) => this.replay.push({ state: s.state, action: s.action, reward, next: s.next, done: i === steps.length - 1 }));
    if (this.agent && !warm) {
      for (let i = 0; i < steps.length; i++) await this.agent.update(this.replay.sample(this.config.ddpg.batchSize, this.rng));
    }
    const updating = performance.now() - t2;

    const record: EpisodeRecord = {
      episode: draft.episode,
      phase: this.config.agent === 'random' ? 'random' : warm ? 'warm-up' : 'learning',
      keep: Object.fromEntries(keep),
      ratios: draft.ratios,
      resource,
      resourceRatio,
      predictedRatio,
      ...this.env.costOf(keep),
      score,
      reward,
      sigma: draft.sigma,
      timings: { score: scoring, agent: draft.actingMs + updating, ...score.timings },
    };
    this.log.push(record);
    this.episode++;
    return record;
  }

  async snapshot(): Promise<SearchSnapshot> {
    return {
      config: this.config,
      episode: this.episode,
      rngState: this.rng.state,
      agent: this.agent ? await this.agent.snapshot() : null,
      replay: this.agent ? this.replay.snapshot() : null,
      log: this.log.slice(),
      resource: this.env.resource.save?.(),
    };
  }

  /** Continues a saved search: same env and scorer, the snapshot's agent, buffer, random stream and log. */
  static restore(env: PruningEnv, scorer: Scorer, s: SearchSnapshot): AmcSearch {
    const search = new AmcSearch(env, scorer, s.config);
    search.episode = s.episode;
    search.rng.state = s.rngState;
    search.log = s.log.slice();
    if (s.agent && search.agent) search.agent.restore(s.agent);
    if (s.resource !== undefined && env.resource.load) {
      env.resource.load(s.resource);
      env.recalibrate();
    }
    if (s.replay) {
      const r = ReplayBuffer.restore(s.replay);
      Object.assign(search, { replay: r });
    }
    return search;
  }

  dispose(): void {
    this.agent?.dispose();
  }
}
