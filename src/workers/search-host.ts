/**
 * What the search worker does, without the worker: message dispatch, backend fallback and saving
 * around one search session (core/search/session.ts, which the CLI runs too). It loads the model,
 * opens the session, runs episodes one at a time (pausing, resuming and stopping between them),
 * saves after every episode and reports each one, and prunes any policy on request. The worker file
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
 * MACs and params searches score their warm-up and random-search episodes in batches on a pool of
 * scorer workers (deps.scorerPool, scorer-pool.ts): the same log as one at a time; each episode of a
 * batch is posted as it would have been, after the batch is saved; pause and stop take effect
 * between batches; the pool's workers end when the search finishes or stops.
 *
 * A backend that fails (a lost GPU device, a WebGL context gone, an error thrown by a kernel)
 * does not end the search: the worker initializes WASM, rebuilds the scorer (and, for latency,
 * the table) there, restores the agent from the last finished episode and carries on, saying so.
 * An episode that fails on WASM itself is fatal.
 *
 * Two tabs, one saved search: a saved search that can still write (unfinished) runs only while this
 * host holds its lock (deps.lock: a Web Lock named after the search id, search-lock.ts); when another
 * tab's worker holds it, the start is refused with a fatal error that says so, before anything loads.
 * The lock is released when the search stops, finishes or fails (and by the browser when the worker
 * is terminated), after the last write.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, BackendName } from '../core/measure/backends';
import { bytesPerImage } from '../core/measure/accuracy';
import { BURN_IN, type BurnInOptions } from '../core/measure/burn-in';
import type { LatencyOptions } from '../core/measure/latency';
import { analyzeModel } from '../core/model/analyze';
import { loadModel } from '../core/model/load';
import { SEARCH_TIMING } from '../core/search/config';
import { demoScoringData } from '../core/search/demo-data';
import { SearchError } from '../core/search/env';
import type { ScoringData } from '../core/search/scorer';
import { SearchSession, type SessionHooks, type SessionOptions } from '../core/search/session';
import { modelFilesAsInput, toPrunedPayload, type ScoringSpec } from './payload';
import type { FromWorker, SavedLatency, ToWorker, WorkerStatus } from './search-messages';
import { briefOf, isFinished, type SearchMeta, type SearchProgress, type SearchStore } from './search-store';
import { LOCKED_ELSEWHERE } from './search-lock';
import { backendLabel, canFallBack } from '../core/measure/backends';
import { errLine } from '../core/errors';
import { RunControl } from './run-control';

export interface HostDeps {
  post(msg: FromWorker, transfer?: ArrayBuffer[]): void;
  /** Where progress is saved after every episode; null saves nothing. */
  store: SearchStore | null;
  /**
   * Takes the saved search's exclusive lock (search-lock.ts tryLockSearch): its release, or null
   * when another tab holds it. Absent: no lock (tests, a single-tab host).
   */
  lock?: (id: string) => Promise<(() => void) | null>;
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
  /**
   * Scorers in other workers for the warm-up and random-search episodes of a MACs or params search
   * (scorer-pool.ts; the session never asks in a latency search). Absent: every episode is scored here.
   */
  scorerPool?: SessionOptions['scorerPool'];
}

export const DRIFT_EVERY = SEARCH_TIMING.driftEvery;

/** The images and labels that score episodes, from what the page sent. */
export function scoringData(spec: ScoringSpec): ScoringData {
  if (spec.kind === 'demo') return demoScoringData(spec.split, spec.count, { labeled: spec.labeled, calibration: spec.calibration, scaling: spec.scaling });
  return { images: spec.images, labels: spec.labels, eval: { ...spec.eval }, calibration: spec.calibration };
}

/** What the host keeps beside the search session: its id, backend, saved summary and time. */
interface Session {
  id: string;
  backend: BackendInfo;
  search: SearchSession;
  meta: SearchMeta | null;
  elapsedMs: number;
  /** The state after the last finished episode, kept where the backend can fail: what a fallback restores. */
  lastGood: SearchProgress | null;
}

/** What a search session is opened on, apart from the backend and the saved latency table. */
type SessionBase = Pick<SessionOptions, 'model' | 'analysis' | 'config' | 'data'>;

export class SearchHost {
  private session: Session | null = null;
  private stopped = false;
  /** Pause, resume and stop (run-control.ts); the search loop is this host's. */
  private readonly control = new RunControl({ hasRun: () => this.session !== null, loop: () => this.loop(), finishStop: () => this.finishStop(), postStatus: () => this.postStatus() });
  /** Why the backend died between episodes (set by backendLost), handled before the next episode. */
  private lost: string | null = null;
  private readonly yieldNow: () => Promise<void>;
  /** Releases the saved search's lock (null: none held). */
  private unlock: (() => void) | null = null;

  constructor(private readonly deps: HostDeps) {
    this.yieldNow = deps.yieldNow ?? (() => new Promise((r) => setTimeout(r, 0)));
  }

  handle(msg: ToWorker): Promise<void> {
    if (msg.type === 'prune') return this.prune(msg.requestId, msg.keep);
    if (msg.type !== 'start') return this.control.command(msg.type);
    const refuse = () => this.deps.post({ type: 'error', message: 'this worker already runs a search; start another worker for a new one.', fatal: false });
    return this.control.start(msg.run, () => this.start(msg), refuse);
  }

  get status(): WorkerStatus {
    const s = this.session;
    if (this.stopped) return 'stopped';
    if (s && this.done(s)) return 'done';
    return this.control.activity;
  }

  private done(s: Session): boolean {
    return s.search.done;
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

  /** Lets the saved search go to another tab (after this host's last write); idempotent. */
  releaseLock(): void {
    const unlock = this.unlock;
    this.unlock = null;
    unlock?.();
  }

  /** The lock of a saved search that may still be written; false (refusal posted) when another tab holds it. */
  private async takeLock(msg: Extract<ToWorker, { type: 'start' }>): Promise<boolean> {
    if (!msg.meta || !this.deps.lock || !this.deps.store || isFinished(msg.meta)) return true;
    const unlock = await this.deps.lock(msg.id);
    if (!unlock) {
      this.deps.post({ type: 'error', message: LOCKED_ELSEWHERE + '.', fatal: true });
      return false;
    }
    this.unlock = unlock;
    return true;
  }

  private async start(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
    const { post } = this.deps;
    let session: Session;
    try {
      if (!(await this.takeLock(msg))) return;
      let backend = await this.deps.initBackend(msg.backend);
      try {
        session = await this.open(msg, backend);
      } catch (e) {
        // A GPU backend that fails while the search is set up: WASM takes over.
        if (!canFallBack(backend.name) || e instanceof SearchError) throw e;
        const failed = backend;
        backend = await this.deps.initBackend('wasm');
        if (backend.name === failed.name) throw e;
        post({ type: 'error', message: `${backendLabel(failed.name)} failed while the search was set up (${errLine(e)}): it runs on ${backendLabel(backend.name)} instead.`, fatal: false });
        session = await this.open(msg, backend);
      }
      this.session = session;
      await this.checkDrift(session);
      if (canFallBack(session.backend.name)) session.lastGood = await this.progressOf(session);
    } catch (e) {
      this.releaseLock();
      post({ type: 'error', message: errLine(e), fatal: true });
      return;
    }
    if (this.control.stopRequested) return this.finishStop();
    if (!this.control.pauseRequested && !this.done(session)) {
      void this.loop();
      return;
    }
    this.postStatus();
  }

  /** Loads the model and data, opens the search session on `backend`, builds or restores its searches, scores the uniform baseline. */
  private async open(msg: Extract<ToWorker, { type: 'start' }>, backend: BackendInfo): Promise<Session> {
    const { post } = this.deps;
    const model = await loadModel(modelFilesAsInput(msg.model));
    const analysis = analyzeModel(model, msg.inputSize === null ? undefined : { inputSize: msg.inputSize });
    const config = msg.resume?.amc.config ?? msg.config;
    const data = scoringData(msg.data);
    const meta = msg.meta ? { ...msg.meta, backend: backend.name } : null;
    const search = await this.openSession({ model, analysis, config, data }, msg.id, meta !== null, backend, msg.latency ?? null);
    try {
      const { env, scorer } = search;
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
        images: data.images.length / bytesPerImage(data.eval),
        calibration: scorer.evaluator === 'slice' ? 0 : (data.calibration?.length ?? 0) / bytesPerImage(data.eval),
        evaluator: scorer.evaluator,
        ...(scorer.evaluatorNote ? { evaluatorNote: scorer.evaluatorNote } : {}),
        ...(scorer.originalLatencyMs !== undefined ? { originalLatencyMs: scorer.originalLatencyMs } : {}),
      });
      if (msg.resume) {
        search.restore(msg.resume);
        post({ type: 'restored', amc: search.amc.log, random: search.random?.log ?? [], elapsedMs: msg.resume.elapsedMs });
      } else search.begin(msg.randomBaseline);
      post({ type: 'baseline', uniform: await search.uniformBaseline() });
    } catch (e) {
      search.dispose();
      throw e;
    }
    return { id: msg.id, backend, search, meta, elapsedMs: msg.resume?.elapsedMs ?? 0, lastGood: null };
  }

  private get driftEvery(): number {
    return this.deps.driftEvery ?? DRIFT_EVERY;
  }

  /**
   * The search session on `backend`: burned in with the reference model (kept for drift when drift
   * is watched), and for latency the saved table when it was measured on this backend, else one timed
   * now (progress posted, throttled) and saved with the search.
   */
  private openSession(base: SessionBase, id: string, persist: boolean, backend: BackendInfo, saved: SavedLatency | null): Promise<SearchSession> {
    const { timing } = this.deps;
    return SearchSession.open(
      {
        ...base,
        backend: backend.name,
        latency: saved,
        burnIn: { options: this.deps.burnIn ?? BURN_IN },
        ...(this.driftEvery > 0 ? { drift: timing?.reference ?? SEARCH_TIMING.drift } : {}),
        timing: { table: timing?.table, episode: timing?.episode },
        ...(this.deps.scorerPool ? { scorerPool: this.deps.scorerPool } : {}),
      },
      this.latencyHooks(id, persist, backend),
    );
  }

  private latencyHooks(id: string, persist: boolean, backend: BackendInfo): SessionHooks {
    const { post } = this.deps;
    let lastPost = -Infinity;
    let lastFraction = -1;
    return {
      latencyStale: (saved) =>
        post({ type: 'error', message: `the saved latency table was measured on ${backendLabel(saved.table.backend)}, the search now runs on ${backendLabel(backend.name)}: it is measured again.`, fatal: false }),
      latencyProgress: (fraction, what) => {
        const now = performance.now();
        if (fraction < 1 && now - lastPost < 150 && fraction - lastFraction < 0.05) return;
        lastPost = now;
        lastFraction = fraction;
        post({ type: 'latency-progress', fraction, what });
      },
      latencyTable: async (latency, reused) => {
        if (!reused && persist && this.deps.store?.saveLatency) {
          try {
            await this.deps.store.saveLatency(id, latency);
          } catch (e) {
            post({ type: 'error', message: `could not save the latency table in this browser (${errLine(e)}); a resumed search would measure it again.`, fatal: false });
          }
        }
        post({ type: 'latency-table', latency, reused });
      },
    };
  }

  /** Re-times the reference model and posts the drift (never fatal: a dead backend shows at the next episode). */
  private async checkDrift(s: Session): Promise<void> {
    try {
      const checked = await s.search.checkDrift();
      if (checked) this.deps.post({ type: 'drift', episode: s.search.amc.episode, medianMs: checked.medianMs, drift: checked.drift, backend: s.backend.name });
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
    const { model, analysis, config, data } = s.search.options;
    s.search.dispose();
    const search = await this.openSession({ model, analysis, config, data }, s.id, s.meta !== null, backend, null);
    search.restore(lastGood);
    s.search = search;
    s.backend = backend;
    s.lastGood = null;
    if (s.meta) s.meta = { ...s.meta, backend: backend.name };
    const to = backendLabel(backend.name);
    this.deps.post({
      type: 'backend',
      backend,
      episode: search.amc.episode,
      message: `${backendLabel(from.name)} failed (${reason}): the search goes on on ${to} from episode ${search.amc.episode + 1}${search.latency ? `, with a latency table measured again on ${to}` : ''}.`,
      ...(search.scorer.originalLatencyMs !== undefined ? { originalLatencyMs: search.scorer.originalLatencyMs } : {}),
    });
    await this.checkDrift(s);
    return true;
  }

  private postStatus(): void {
    const s = this.session;
    if (!s) return;
    this.deps.post({ type: 'status', status: this.status, episodes: s.search.amc.episode, randomEpisodes: s.search.random?.episode ?? 0, elapsedMs: s.elapsedMs });
  }

  private async loop(): Promise<void> {
    const s = this.session;
    if (!s || this.control.looping || this.stopped) return;
    this.control.looping = true;
    try {
      if (this.control.go) this.postStatus();
      while (this.control.go) {
        const lost = this.lost;
        if (lost !== null && !(await this.fallBack(s, lost))) throw new Error(lost);
        const turn = s.search.nextTurn();
        if (!turn) break;
        const t0 = performance.now();
        let records;
        try {
          // One episode, or a batch of independent ones scored at once on the scorer pool.
          records = await s.search.play(turn);
        } catch (e) {
          // A failed backend: go on on WASM from the last finished episode (this one is run again).
          if (await this.fallBack(s, errLine(e))) continue;
          throw e;
        }
        s.elapsedMs += performance.now() - t0;
        // A batch is saved once, after its last episode: a reload resumes after the batch.
        const saved = await this.afterEpisode(s);
        const ms = (performance.now() - t0) / records.length;
        const scorers = records.length > 1 ? s.search.scorersUsed : 1;
        for (const record of records) this.deps.post({ type: 'episode', search: turn.which, record, ms, tensors: tf.memory().numTensors, saved, scorers });
        const crossed = (n: number) => Math.floor(n / this.driftEvery) > Math.floor((n - records.length) / this.driftEvery);
        if (turn.which === 'amc' && this.driftEvery > 0 && crossed(s.search.amc.episode)) await this.checkDrift(s);
        await this.yieldNow();
      }
    } catch (e) {
      this.control.looping = false;
      this.releaseLock();
      this.deps.post({ type: 'error', message: `the search stopped: ${errLine(e)}`, fatal: true });
      return;
    }
    this.control.looping = false;
    if (this.control.stopRequested) return this.finishStop();
    // Finished: nothing more is written (prune requests only read), no more episodes to score.
    if (this.done(s)) {
      s.search.closePool();
      this.releaseLock();
    }
    this.postStatus();
  }

  private async finishStop(): Promise<void> {
    const s = this.session;
    if (this.stopped) return;
    this.stopped = true;
    s?.search.closePool();
    if (s?.meta && !this.done(s)) {
      s.meta = { ...s.meta, stopped: true };
      await this.save(s);
    }
    this.releaseLock();
    if (s) this.postStatus();
  }

  private async progressOf(s: Session): Promise<SearchProgress> {
    return { ...(await s.search.snapshot()), elapsedMs: s.elapsedMs };
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
    const best = s.search.amc.best;
    const randomBest = s.search.random?.best;
    const u = progress.uniform;
    s.meta = {
      ...s.meta,
      updatedAt: Date.now(),
      episodes: s.search.amc.episode,
      randomEpisodes: s.search.random?.episode ?? 0,
      best: best ? briefOf(best) : null,
      randomBest: randomBest ? briefOf(randomBest) : null,
      uniform: u ? { ratio: u.ratio, accuracy: u.score.top1 ?? u.score.agreement, resourceRatio: u.resourceRatio, reward: u.reward } : null,
      elapsedMs: s.elapsedMs,
    };
    try {
      if ((await store.saveProgress(s.id, progress, s.meta)) === false) {
        // Deleted meanwhile (from the list, or by another tab): not written back, not saved from now on.
        s.meta = null;
        this.releaseLock();
        this.deps.post({ type: 'error', message: 'this search was deleted from this browser while it ran: it goes on, but it is no longer saved.', fatal: false });
        return false;
      }
      return true;
    } catch (e) {
      this.deps.post({ type: 'error', message: `could not save the search in this browser (${errLine(e)}); it goes on, but a reload would lose the episodes since the last save.`, fatal: false });
      return false;
    }
  }

  private async prune(requestId: number, keep: Record<string, number>): Promise<void> {
    await this.control.setUp();
    const s = this.session;
    if (!s) {
      this.deps.post({ type: 'error', message: 'the search has not started, so there is no model to prune.', requestId, fatal: false });
      return;
    }
    try {
      const c = await s.search.scorer.prune(new Map(Object.entries(keep)));
      const { payload, transfer } = toPrunedPayload(c.result, c.model);
      this.deps.post({ type: 'pruned', requestId, result: payload }, transfer);
    } catch (e) {
      this.deps.post({ type: 'error', message: `could not prune that policy: ${errLine(e)}`, requestId, fatal: false });
    }
  }
}
