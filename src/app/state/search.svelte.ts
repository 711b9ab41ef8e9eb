/**
 * The search panel's view of a search: the search on screen (its episodes as they arrive, the
 * baselines, the latency table), the commands that drive it, and the comparison of the episode
 * the user picked. Its other jobs are in their own modules:
 *
 *   settings        search-settings.svelte.ts (SearchState extends it: the panel binds to them)
 *   the worker      src/app/lib/search-client.ts: commands, prune requests answered by id, events
 *   batching        src/app/lib/batcher.ts: episodes reach the panel at most every FLUSH_MS
 *   saved searches  saved-searches.svelte.ts (the list, the offer, the start record, resuming)
 *   report, log     core/export/report.ts: searchReport(), the same as `amc search`'s report.json
 *
 * The AMC search runs in a Web Worker (src/workers/search.worker.ts), so the page stays
 * responsive. The worker saves after every episode; the page saves the start of a search (model
 * files, images, summary) and, after a reload, offers to resume the newest unfinished one.
 *
 * One SearchState per app (`SearchState.of(app)`): it outlives the panel, so a model reload
 * (resuming a search on a dropped model reloads that model) does not lose the search on screen.
 */
import { errLine } from '../../core/errors';
import { exportFiles } from '../../core/export/files';
import { searchReport, TOOL, type PickedEntry, type SearchReportInput } from '../../core/export/report';
import type { ModelAnalysis } from '../../core/model/analyze';
import type { LoadedModel } from '../../core/model/types';
import { accuracyOf, bestOf } from '../../core/search/best';
import { calibrationImages, resolveEvaluator, type SearchConfig } from '../../core/search/config';
import { batchNormUnsupported } from '../../core/prune/batchnorm';
import type { Evaluator } from '../../core/prune/config';
import { PruningEnv } from '../../core/search/env';
import type { EpisodeRecord } from '../../core/search/search';
import { fromPrunedPayload, modelFilesAsInput, type ModelFiles } from '../../workers/payload';
import type { FromWorker, SavedLatency, SearchCommand, SearchEvent, UniformBaseline } from '../../workers/search-messages';
import { briefOf, type SearchMeta } from '../../workers/search-store';
import { Batcher } from '../lib/batcher';
import { downloadJson } from '../lib/download';
import { SearchClient, defaultSearchWorker, type WorkerFactory } from '../lib/search-client';
import { calibrationOfItsKind, dataChoiceLabel, searchData, searchDataLabel } from '../lib/search-data';
import { formatDuration, paretoFront, timeLeft } from '../lib/search-math';
import type { AppState } from './app.svelte';
import type { DataState } from './data.svelte';
import { DeviceState } from './device.svelte';
import { PruneState } from './prune.svelte';
import { fingerprintOf, newSearchMeta, rememberFingerprint, resumeCommand, SavedSearches, savedScoringSpec } from './saved-searches.svelte';
import { SearchSettings } from './search-settings.svelte';

export { BUDGET_MAX, BUDGET_MIN, DEFAULT_BUDGET, DEFAULT_REWARD_IMAGES, EVALUATOR_CHOICES, REFIT_IMAGES } from './search-settings.svelte';
export type { WorkerFactory } from '../lib/search-client';

export type SearchPhase = 'idle' | 'starting' | 'running' | 'pausing' | 'paused' | 'stopping' | 'stopped' | 'done' | 'error';

/** What the worker said about the model and data once it was ready (its backend updated after a fallback). */
export type SearchInfo = Omit<Extract<SearchEvent, { type: 'ready' }>, 'type'>;

/** A latency search's table: being timed (progress), or in use (measured now or reused from the saved search). */
export type LatencyTableState =
  | { kind: 'none' }
  | { kind: 'measuring'; fraction: number; what: string }
  | { kind: 'ready'; latency: SavedLatency; reused: boolean };

/** An episode the user picked, from the agent's search, random search or the uniform baseline. */
export interface Pick {
  which: 'amc' | 'random' | 'uniform';
  episode: number;
  keep: Record<string, number>;
  label: string;
}

export type CompareStatus = { kind: 'idle' } | { kind: 'loading'; label: string } | { kind: 'error'; message: string };

type EpisodeMessage = Extract<FromWorker, { type: 'episode' }>;

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Duration of a restored episode, from its own timings (the page did not see it run). */
const recordedMs = (e: EpisodeRecord) => (e.timings.score ?? 0) + (e.timings.agent ?? 0);

/** Episodes reach the panel at most this often, in ms (see onMessage). */
export const FLUSH_MS = 250;

const states = new WeakMap<AppState, SearchState>();

export class SearchState extends SearchSettings {
  // ---- the search on screen
  phase = $state<SearchPhase>('idle');
  error = $state<string | null>(null);
  /** A problem that does not stop the search (e.g. storage full). */
  notice = $state<string | null>(null);
  /** Backend failures the search survived (it went on on WASM), in words. */
  fallbacks = $state.raw<string[]>([]);
  /** The latency table of a latency search. */
  latencyTable = $state.raw<LatencyTableState>({ kind: 'none' });
  /** The search's saved summary (null: not saved). */
  meta = $state.raw<SearchMeta | null>(null);
  config = $state.raw<SearchConfig | null>(null);
  dataLabel = $state('');
  info = $state.raw<SearchInfo | null>(null);
  log = $state.raw<EpisodeRecord[]>([]);
  randomLog = $state.raw<EpisodeRecord[]>([]);
  uniform = $state.raw<UniformBaseline | null>(null);
  elapsedMs = $state(0);
  /** The most scorers that scored episodes at once in this search (report.json's `scorers`). */
  private scorers = 1;
  tensors = $state<number | null>(null);
  private amcMs = $state.raw<number[]>([]);
  private randomMs = $state.raw<number[]>([]);
  /** The model object the search runs on, as the app holds it. */
  searchModel = $state.raw<LoadedModel | null>(null);

  // ---- the picked episode, compared and exported with the prune panel's view
  picked = $state.raw<Pick | null>(null);
  compare = $state.raw<PruneState | null>(null);
  compareStatus = $state<CompareStatus>({ kind: 'idle' });

  /** Searches saved in this browser. */
  readonly saved = new SavedSearches();

  readonly best = $derived(bestOf(this.log, this.config?.env));
  readonly randomBest = $derived(bestOf(this.randomLog, this.config?.env));
  readonly busy = $derived(this.phase === 'starting' || this.phase === 'running' || this.phase === 'pausing' || this.phase === 'stopping');
  /** Whether the search on screen runs the random-search baseline beside the agent. */
  runRandom = $state(false);
  readonly total = $derived(this.config ? this.config.episodes * (this.runRandom ? 2 : 1) : 0);
  readonly doneCount = $derived(this.log.length + this.randomLog.length);
  readonly fraction = $derived(this.total ? Math.min(1, this.doneCount / this.total) : 0);
  readonly msLeft = $derived.by(() => {
    const c = this.config;
    if (!c) return undefined;
    return timeLeft([
      { durations: this.amcMs, remaining: c.episodes - this.log.length },
      { durations: this.randomMs, remaining: this.runRandom ? c.episodes - this.randomLog.length : 0 },
    ]);
  });
  readonly timeLeftText = $derived(this.msLeft === undefined ? '' : formatDuration(this.msLeft));
  /** Indices into `log` of the episodes on the Pareto front of cost against accuracy. */
  readonly front = $derived(paretoFront(this.log.map((e) => ({ x: e.resourceRatio, y: accuracyOf(e.score) ?? NaN }))));
  /** True when the model on screen is the one the search runs on (picked episodes can be compared). */
  get onScreen(): boolean {
    return this.searchModel !== null && this.app.model === this.searchModel;
  }

  private client: SearchClient | null = null;
  private readonly episodeBatches = new Batcher<EpisodeMessage>((batch) => this.applyEpisodes(batch), FLUSH_MS);
  private pickSeq = 0;

  constructor(
    readonly app: AppState,
    readonly data: DataState | null = null,
    private readonly createWorker: WorkerFactory = defaultSearchWorker,
  ) {
    super();
    // A shared link opens with its settings (the demo model itself is the app's `?demo=`).
    this.settingsFromUrl(globalThis.location?.search ?? '');
  }

  /** The app's search state (one per app, made on first use). */
  static of(app: AppState, data: DataState | null = null): SearchState {
    let s = states.get(app);
    if (!s) {
      s = new SearchState(app, data);
      states.set(app, s);
      void s.refreshList(true);
    }
    return s;
  }

  /** Where the episodes' images come from, for the model on screen. */
  describeData(model: LoadedModel, analysis: ModelAnalysis): string {
    return searchDataLabel(model, analysis, this.data, this.rewardImages);
  }

  // ------------------------------------------------------------------ commands

  /** Starts a new search on the model on screen, with the settings. */
  /** The evaluator a search of this model runs with the settings as they are (`auto` resolved). */
  evaluatorFor(model: LoadedModel, analysis: ModelAnalysis): Evaluator {
    return resolveEvaluator(this.evaluator, !batchNormUnsupported(analysis), calibrationOfItsKind(model, analysis, this.data));
  }

  async start(): Promise<void> {
    const { model, analysis } = this.app;
    if (!model || !analysis || this.busy) return;
    const problem = this.settingsProblem();
    if (problem) {
      this.fail(problem);
      return;
    }
    const evaluator = this.evaluatorFor(model, analysis);
    const config = this.configFromSettings(evaluator);
    try {
      // The same check the worker makes, at once: an impossible target is refused before anything is
      // saved. (Latency needs the table the worker times first: the worker checks it.)
      if (config.env.resource !== 'latency') new PruningEnv(analysis, config.env);
    } catch (e) {
      this.fail(capitalize(errLine(e)));
      return;
    }
    const { spec, label } = searchData(model, analysis, this.data, this.rewardImages, calibrationImages(evaluator));
    const files = exportFiles(model);
    const meta = newSearchMeta({
      model,
      source: this.app.source ?? { kind: 'files', label: model.source },
      inputSize: this.app.inputSize,
      groups: analysis.groups.filter((g) => g.prunable).length,
      data: spec,
      config,
      randomBaseline: this.randomBaseline,
    });
    this.resetView();
    this.phase = 'starting';
    this.config = config;
    this.runRandom = this.randomBaseline;
    this.dataLabel = label;
    this.searchModel = model;
    this.saved.dismissOffer();
    const unsaved = await this.saved.saveStart(meta, files, spec);
    if (unsaved) this.notice = `This search cannot be saved in this browser (${unsaved}): it runs, but a reload would lose it.`;
    this.meta = unsaved ? null : meta;
    this.launch({
      type: 'start',
      id: meta.id,
      model: files,
      inputSize: this.app.inputSize,
      data: spec,
      config,
      randomBaseline: this.randomBaseline,
      resume: null,
      meta: this.meta,
      backend: this.pageBackend(),
      run: true,
    });
    void this.refreshList();
  }

  pause(): void {
    if (this.phase !== 'running') return;
    this.phase = 'pausing';
    this.client?.send({ type: 'pause' });
  }

  resume(): void {
    if (this.phase !== 'paused') return;
    this.phase = 'running';
    this.client?.send({ type: 'resume' });
  }

  stop(): void {
    if (this.phase !== 'running' && this.phase !== 'paused' && this.phase !== 'pausing' && this.phase !== 'starting') return;
    this.phase = 'stopping';
    this.client?.send({ type: 'stop' });
  }

  /**
   * Opens a saved search: loads its model into the app if the one on screen is another, restores
   * the agent, its replay buffer and log in a worker, and continues it (`run`) when unfinished.
   */
  async open(id: string, run = true): Promise<void> {
    if (this.busy) return;
    this.saved.dismissOffer();
    this.resetView();
    this.phase = 'starting';
    let saved;
    try {
      saved = await this.saved.load(id);
    } catch (e) {
      this.fail(errLine(e));
      return;
    }
    if (!saved) {
      this.fail('This search is no longer saved in this browser (its model is missing). Delete it from the list.');
      return;
    }
    const { meta } = saved;
    try {
      await this.showModel(meta, saved.model);
    } catch (e) {
      this.fail(`Could not load the model of this search: ${errLine(e)}.`);
      return;
    }
    this.settingsFrom(meta);
    this.config = meta.config;
    this.runRandom = meta.randomBaseline;
    this.searchModel = this.app.model;
    const spec = savedScoringSpec(saved);
    if (!spec) {
      this.fail('The images this search was scored on are no longer saved, so it cannot go on. Delete it from the list.');
      return;
    }
    this.dataLabel = dataChoiceLabel(meta.data, this.app.analysis);
    const resumed: SearchMeta = { ...meta, stopped: false };
    this.meta = resumed;
    this.launch(resumeCommand(saved, resumed, spec, run, this.pageBackend()));
  }

  dismissOffer(): void {
    this.saved.dismissOffer();
  }

  async remove(id: string): Promise<void> {
    if (this.meta?.id === id) {
      if (this.busy) return;
      this.resetView();
      this.phase = 'idle';
      this.config = null;
      this.meta = null;
    }
    await this.saved.delete(id);
  }

  /** Reads the list of saved searches again; the first time (`first`), offers the newest unfinished one for resuming. */
  refreshList(first = false): Promise<void> {
    return this.saved.refresh(first ? (m) => !this.busy && this.meta?.id !== m.id : undefined);
  }

  /** Loads the pruned model of an episode into the comparison and export view. */
  async pick(p: Pick): Promise<void> {
    this.picked = p;
    const seq = ++this.pickSeq;
    const { model, analysis } = this.app;
    const client = this.client;
    if (!client || !model || !analysis) {
      this.compareStatus = { kind: 'error', message: 'No search is open: start or open one first.' };
      return;
    }
    if (!this.onScreen) {
      this.compareStatus = { kind: 'error', message: 'This search ran on another model than the one on screen: open it from the list of searches to compare its models.' };
      return;
    }
    this.compareStatus = { kind: 'loading', label: p.label };
    try {
      const pruned = await client.prune(p.keep);
      if (seq !== this.pickSeq) return;
      if (!this.compare || this.compare.model !== model || this.compare.analysis !== analysis) {
        this.compare?.dispose();
        this.compare = new PruneState(this.app, model, analysis);
      }
      const compare = this.compare;
      // A comparison still running finishes first; the newest pick wins.
      await compare.settled();
      if (seq !== this.pickSeq) return;
      compare.sourceLabel = `search ${p.label}`;
      await compare.showPruned(fromPrunedPayload(pruned), { roundTo: this.config?.env.roundTo }, { search: this.report(p) });
      if (seq !== this.pickSeq) return;
      this.compareStatus = compare.status.kind === 'error' ? { kind: 'error', message: compare.status.message } : { kind: 'idle' };
    } catch (e) {
      if (seq === this.pickSeq) this.compareStatus = { kind: 'error', message: errLine(e) };
    }
  }

  pickBest(): Promise<void> | undefined {
    const b = this.best;
    if (!b) return;
    return this.pick({ which: 'amc', episode: b.episode, keep: b.keep, label: `best policy (episode ${b.episode + 1})` });
  }

  /** The uniform baseline at the same target: picked like an episode, so it can be fine-tuned and compared recovered too. */
  pickUniform(): Promise<void> | undefined {
    const u = this.uniform;
    if (!u) return;
    return this.pick({ which: 'uniform', episode: -1, keep: u.keep, label: `uniform ratio ${u.ratio.toFixed(3)}` });
  }

  /** The search's log and summary as JSON (searchReport with every episode), for the user to keep. */
  downloadLog(): void {
    const input = this.reportInput();
    if (!input) return;
    downloadJson({ tool: TOOL, createdAt: new Date().toISOString(), model: this.meta?.model.name ?? this.searchModel?.source, ...searchReport(input) }, 'search-log.json');
  }

  dismissError(): void {
    this.error = null;
    if (this.phase === 'error') this.phase = this.log.length ? 'stopped' : 'idle';
  }

  dispose(): void {
    this.closeWorker();
    this.compare?.dispose();
  }

  /** Applies the episodes that arrived since the last flush (public for tests). */
  flush(): void {
    this.episodeBatches.flush();
  }

  /**
   * Applies one message from the worker (public for tests). Episodes are applied in batches, at
   * most one every FLUSH_MS: however fast episodes come (tiny models, few reward images), a phone
   * redraws the panel a few times a second. Any other message applies the waiting episodes first.
   */
  onMessage(m: SearchEvent): void {
    if (m.type === 'episode') {
      this.episodeBatches.push(m);
      return;
    }
    this.flush();
    switch (m.type) {
      case 'ready': {
        const { type: _t, ...info } = m;
        this.info = info;
        break;
      }
      case 'restored':
        this.log = m.amc;
        this.randomLog = m.random;
        this.amcMs = m.amc.map(recordedMs);
        this.randomMs = m.random.map(recordedMs);
        this.elapsedMs = m.elapsedMs;
        break;
      case 'baseline': {
        const u = m.uniform;
        this.uniform = u;
        if (this.meta) this.meta = { ...this.meta, uniform: { ratio: u.ratio, accuracy: accuracyOf(u.score), resourceRatio: u.resourceRatio, reward: u.reward } };
        break;
      }
      case 'status': {
        this.elapsedMs = m.elapsedMs;
        // A pause asked for stays 'pausing' until the episode under way ends.
        if (m.status === 'running' && (this.phase === 'pausing' || this.phase === 'stopping')) break;
        if (m.status === 'paused' && this.phase === 'stopping') break;
        this.phase = m.status;
        if (this.meta) this.meta = { ...this.meta, episodes: m.episodes, randomEpisodes: m.randomEpisodes, stopped: m.status === 'stopped' };
        if (m.status !== 'running') void this.refreshList();
        break;
      }
      case 'latency-progress':
        this.latencyTable = { kind: 'measuring', fraction: m.fraction, what: m.what };
        break;
      case 'latency-table':
        this.latencyTable = { kind: 'ready', latency: m.latency, reused: m.reused };
        break;
      case 'drift':
        DeviceState.of(this.app).addSearchDrift({ episode: m.episode, medianMs: m.medianMs, drift: m.drift, backend: m.backend });
        break;
      case 'backend':
        if (this.info) this.info = { ...this.info, backend: m.backend, ...(m.originalLatencyMs !== undefined ? { originalLatencyMs: m.originalLatencyMs } : {}) };
        if (this.meta) this.meta = { ...this.meta, backend: m.backend.name };
        this.fallbacks = [...this.fallbacks, capitalize(m.message)];
        break;
      case 'error':
        // Errors that answer a request go to the request (SearchClient); these are the search's own.
        if (m.fatal) {
          this.fail(capitalize(m.message));
          void this.forgetFailed();
        } else {
          this.notice = capitalize(m.message);
        }
        break;
    }
  }

  // ------------------------------------------------------------------ internals

  /** What searchReport needs from the search on screen (null: none). */
  private reportInput(): SearchReportInput | null {
    const config = this.config;
    if (!config) return null;
    const t = this.latencyTable;
    return {
      config,
      data: this.dataLabel,
      backend: this.info?.backend,
      ...(this.info ? { rewardImages: this.info.images, calibration: this.info.calibration } : {}),
      seconds: this.elapsedMs / 1000,
      scorers: this.scorers,
      log: this.log,
      best: this.best,
      uniform: this.uniform,
      ...(this.runRandom ? { randomLog: this.randomLog } : {}),
      latency:
        t.kind === 'ready'
          ? { saved: t.latency, originalMs: this.info?.originalLatencyMs, reused: t.reused, drift: DeviceState.of(this.app).searchDrift, fallbacks: this.fallbacks }
          : undefined,
    };
  }

  /** What report.json says about the search a picked model comes from (every episode is in the log download). */
  private report(p: Pick) {
    const input = this.reportInput();
    if (!input) return undefined;
    const e = p.which === 'amc' ? this.log[p.episode] : p.which === 'random' ? this.randomLog[p.episode] : undefined;
    const picked: PickedEntry = { which: p.which, episode: p.episode, label: p.label, phase: e?.phase, reward: e?.reward, score: e?.score, resourceRatio: e?.resourceRatio };
    return searchReport({ ...input, picked, withLog: false });
  }

  private pageBackend() {
    return this.app.backend.kind === 'ready' ? this.app.backend.info.name : undefined;
  }

  private resetView(): void {
    this.closeWorker();
    this.error = null;
    this.notice = null;
    this.fallbacks = [];
    this.latencyTable = { kind: 'none' };
    DeviceState.of(this.app).clearSearchDrift();
    this.info = null;
    this.log = [];
    this.randomLog = [];
    this.uniform = null;
    this.elapsedMs = 0;
    this.scorers = 1;
    this.tensors = null;
    this.amcMs = [];
    this.randomMs = [];
    this.picked = null;
    this.compareStatus = { kind: 'idle' };
    this.compare?.dispose();
    this.compare = null;
  }

  /** Makes the app show the model a saved search ran on (loading it from storage when needed). */
  private async showModel(meta: SearchMeta, files: ModelFiles): Promise<void> {
    const app = this.app;
    const same = app.model !== null && fingerprintOf(app.model) === meta.model.fingerprint;
    if (!same) {
      // A copy: the worker takes the original buffer.
      await app.loadFiles(modelFilesAsInput({ modelJson: files.modelJson, weights: files.weights.slice(0) }, meta.model.name));
      if (app.load.kind === 'error') throw new Error(app.load.error.problem);
      if (app.model) rememberFingerprint(app.model, meta.model.fingerprint);
      app.source = { ...meta.model.source };
    }
    if ((app.inputSize ?? null) !== meta.model.inputSize) await app.setInputSize(meta.model.inputSize);
  }

  private launch(start: Extract<SearchCommand, { type: 'start' }>): void {
    this.closeWorker();
    let client: SearchClient;
    try {
      client = SearchClient.open(this.createWorker, {
        onEvent: (m) => {
          if (client === this.client) this.onMessage(m);
        },
        onFailure: (message) => {
          if (client === this.client) this.fail(message);
        },
      });
    } catch (e) {
      this.fail(errLine(e));
      return;
    }
    this.client = client;
    client.start(start);
  }

  private closeWorker(): void {
    this.client?.close();
    this.client = null;
    this.episodeBatches.clear();
  }

  /** A search that failed is not offered again on the next load (see SavedSearches.forgetFailed). */
  private async forgetFailed(): Promise<void> {
    const meta = this.meta;
    if (!meta) return;
    const now = await this.saved.forgetFailed(meta, this.log.length);
    if (this.meta?.id === meta.id) this.meta = now;
  }

  private applyEpisodes(batch: EpisodeMessage[]): void {
    const amc = batch.filter((m) => m.search === 'amc');
    const random = batch.filter((m) => m.search === 'random');
    if (amc.length) {
      this.log = [...this.log, ...amc.map((m) => m.record)];
      this.amcMs = [...this.amcMs, ...amc.map((m) => m.ms)];
    }
    if (random.length) {
      this.randomLog = [...this.randomLog, ...random.map((m) => m.record)];
      this.randomMs = [...this.randomMs, ...random.map((m) => m.ms)];
    }
    this.elapsedMs += batch.reduce((t, m) => t + m.ms, 0);
    this.tensors = batch[batch.length - 1].tensors;
    this.scorers = Math.max(this.scorers, ...batch.map((m) => m.scorers));
    if (this.meta && batch.some((m) => m.saved)) {
      const best = bestOf(this.log, this.config?.env);
      const randomBest = bestOf(this.randomLog, this.config?.env);
      this.meta = {
        ...this.meta,
        updatedAt: Date.now(),
        episodes: this.log.length,
        randomEpisodes: this.randomLog.length,
        best: best ? briefOf(best) : null,
        randomBest: randomBest ? briefOf(randomBest) : null,
      };
    }
  }

  private fail(message: string): void {
    this.error = message;
    this.phase = 'error';
  }
}
