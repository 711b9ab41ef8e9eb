/**
 * The search panel's state: the settings of a new search, the search on screen (its worker, its
 * episodes as they arrive, the baselines), the searches saved in this browser, and the comparison
 * of the episode the user picked.
 *
 * The AMC search runs in a Web Worker (src/workers/search.worker.ts); this class only sends it
 * commands and keeps what it reports, so the page stays responsive. The worker saves after every
 * episode; this class saves the start of a search (model files, images, summary) and, after a
 * reload, offers to resume the newest unfinished one.
 *
 * One SearchState per app (`SearchState.of(app)`): it outlives the panel, so a model reload
 * (resuming a search on a dropped model reloads that model) does not lose the search on screen.
 */
import { exportFiles } from '../../core/export/files';
import { downloadBlob } from '../lib/download';
import type { ModelAnalysis } from '../../core/model/analyze';
import type { LoadedModel } from '../../core/model/types';
import { isBackendName, type BackendInfo } from '../../core/measure/backends';
import { defaultWarmup, ENV_DEFAULTS, EPISODE_BUDGET, SCORING_DEFAULTS, SEARCH_DEFAULTS, searchConfig, type Protocol, type ResourceKind, type SearchConfig } from '../../core/search/config';
import { bestOf } from '../../core/search/best';
import type { EpisodeRecord } from '../../core/search/search';
import { PruningEnv } from '../../core/search/env';
import { accuracyOf } from '../../core/search/best';
import { briefOf, isFinished, isResumable, dataChoiceOf, type SearchMeta } from '../../workers/search-store';
import { fromPrunedPayload, modelFilesAsInput, type ScoringSpec } from '../../workers/payload';
import { modelFingerprint } from '../../core/hash';
import { transferOf, type FromWorker, type SavedLatency, type StepGroup, type ToWorker, type UniformBaseline } from '../../workers/search-messages';
import { deleteSearch, listSearches, loadSearch, saveMeta, saveSearchStart } from '../../workers/search-store';
import { formatDuration, paretoFront, timeLeft } from '../lib/search-math';
import { searchData, searchDataLabel } from '../lib/search-data';
import type { AppState } from './app.svelte';
import type { DataState } from './data.svelte';
import { PruneState } from './prune.svelte';
import { DeviceState } from './device.svelte';
import { errLine } from '../../core/errors';

export type SearchPhase = 'idle' | 'starting' | 'running' | 'pausing' | 'paused' | 'stopping' | 'stopped' | 'done' | 'error';

/** What the worker said about the model and data once it was ready. */
export interface SearchInfo {
  backend: BackendInfo;
  groups: StepGroup[];
  originalResource: number;
  originalMacs: number;
  originalParams: number;
  budget: number;
  floor: number;
  labeled: boolean;
  images: number;
  /** Latency searches: the original model's measured latency, ms, in the worker. */
  originalLatencyMs?: number;
}

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

/** Creates the search worker (replaced in tests). */
export type WorkerFactory = () => Worker;

const defaultWorker: WorkerFactory = () => new Worker(new URL('../../workers/search.worker.ts', import.meta.url), { type: 'module', name: 'amc-search' });

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function newId(): string {
  return `s${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Fingerprints are hashes over all weights: computed once per loaded model. */
const fingerprints = new WeakMap<LoadedModel, string>();
function fingerprintOf(model: LoadedModel): string {
  let f = fingerprints.get(model);
  if (!f) {
    f = modelFingerprint(model);
    fingerprints.set(model, f);
  }
  return f;
}

/** Duration of a restored episode, from its own timings (the page did not see it run). */
const recordedMs = (e: EpisodeRecord) => (e.timings.score ?? 0) + (e.timings.agent ?? 0);

/** The settings' defaults and bounds are the search's (core/search/config.ts), the same as the CLI's. */
export const BUDGET_MIN = EPISODE_BUDGET.min;
export const BUDGET_MAX = EPISODE_BUDGET.max;
export const DEFAULT_BUDGET = SEARCH_DEFAULTS.episodes;
export const DEFAULT_REWARD_IMAGES = SCORING_DEFAULTS.rewardImages;
/** Images the refit (AMC's least-squares reconstruction of the layers after a pruned group) calibrates on, when it is on. */
export const REFIT_IMAGES = SCORING_DEFAULTS.refitImages;
/** Episodes reach the panel at most this often, in ms (see onMessage). */
export const FLUSH_MS = 250;

const states = new WeakMap<AppState, SearchState>();

export class SearchState {
  // ---- settings of a new search
  protocol = $state<Protocol>(ENV_DEFAULTS.protocol);
  resource = $state<ResourceKind>(ENV_DEFAULTS.resource);
  target = $state(ENV_DEFAULTS.target);
  episodes = $state(DEFAULT_BUDGET);
  /** null: the default for the budget (defaultWarmup). */
  warmupOverride = $state<number | null>(null);
  seed = $state(SEARCH_DEFAULTS.seed);
  rewardImages = $state(DEFAULT_REWARD_IMAGES);
  randomBaseline = $state(false);
  refit = $state(SCORING_DEFAULTS.refitImages > 0);
  readonly warmup = $derived(Math.min(this.warmupOverride ?? defaultWarmup(this.episodes), this.episodes));

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
  tensors = $state<number | null>(null);
  private amcMs = $state.raw<number[]>([]);
  private randomMs = $state.raw<number[]>([]);
  /** The model object the search runs on, as the app holds it. */
  searchModel = $state.raw<LoadedModel | null>(null);

  // ---- the picked episode, compared and exported with the prune panel's view
  picked = $state.raw<Pick | null>(null);
  compare = $state.raw<PruneState | null>(null);
  compareStatus = $state<CompareStatus>({ kind: 'idle' });

  // ---- searches saved in this browser
  saved = $state.raw<SearchMeta[]>([]);
  /** The unfinished search offered for resuming after a reload (null once answered). */
  offer = $state.raw<SearchMeta | null>(null);
  storageError = $state<string | null>(null);

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

  private worker: Worker | null = null;
  private waiting: Extract<FromWorker, { type: 'episode' }>[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private lastFlush = -Infinity;
  private requestSeq = 0;
  private pending = new Map<number, { resolve: (m: Extract<FromWorker, { type: 'pruned' }>) => void; reject: (e: Error) => void }>();
  private pickSeq = 0;
  private listed = false;

  constructor(
    readonly app: AppState,
    readonly data: DataState | null = null,
    private readonly createWorker: WorkerFactory = defaultWorker,
  ) {}

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

  configFromSettings(): SearchConfig {
    return searchConfig({
      episodes: this.episodes,
      seed: this.seed,
      env: { protocol: this.protocol, resource: this.resource, target: this.target },
      ddpg: { warmupEpisodes: this.warmup },
    });
  }

  /** Checks the settings; the first problem, in words, or null. */
  settingsProblem(): string | null {
    if (!Number.isInteger(this.episodes) || this.episodes < BUDGET_MIN || this.episodes > BUDGET_MAX) return `The episode budget must be a whole number from ${BUDGET_MIN} to ${BUDGET_MAX}.`;
    if (this.protocol === 'constrained' && !(this.target > 0 && this.target <= 1)) return `The target must be a fraction in (0, 1], e.g. 0.5 for half the ${this.resource === 'latency' ? 'latency' : this.resource === 'params' ? 'parameters' : 'MACs'}.`;
    if (!Number.isInteger(this.seed) || this.seed < 0) return 'The seed must be a whole number, 0 or more.';
    if (!Number.isInteger(this.rewardImages) || this.rewardImages < 1) return 'The number of reward images must be a whole number, 1 or more.';
    if (this.warmupOverride !== null && (!Number.isInteger(this.warmupOverride) || this.warmupOverride < 0)) return 'The warm-up must be a whole number of episodes, 0 or more.';
    return null;
  }

  // ------------------------------------------------------------------ commands

  /** Starts a new search on the model on screen, with the settings. */
  async start(): Promise<void> {
    const { model, analysis } = this.app;
    if (!model || !analysis || this.busy) return;
    const problem = this.settingsProblem();
    if (problem) {
      this.fail(problem);
      return;
    }
    const config = this.configFromSettings();
    try {
      // The same check the worker makes, at once: an impossible target is refused before anything is
      // saved. (Latency needs the table the worker times first: the worker checks it.)
      if (config.env.resource !== 'latency') new PruningEnv(analysis, config.env);
    } catch (e) {
      this.fail(capitalize(errLine(e)));
      return;
    }
    const { spec, label } = searchData(model, analysis, this.data, this.rewardImages, this.refit ? REFIT_IMAGES : 0);
    const files = exportFiles(model);
    const source = this.app.source ?? { kind: 'files' as const, label: model.source };
    const now = Date.now();
    const meta: SearchMeta = {
      id: newId(),
      version: 1,
      createdAt: now,
      updatedAt: now,
      model: {
        name: model.source,
        source: { kind: source.kind, label: source.label, ...(source.demo ? { demo: source.demo } : {}) },
        inputSize: this.app.inputSize,
        fingerprint: fingerprintOf(model),
        bytes: model.bytesOnDisk,
        groups: analysis.groups.filter((g) => g.prunable).length,
      },
      data: dataChoiceOf(spec),
      config,
      randomBaseline: this.randomBaseline,
      episodes: 0,
      randomEpisodes: 0,
      stopped: false,
      best: null,
      randomBest: null,
      uniform: null,
      elapsedMs: 0,
    };
    this.resetView();
    this.phase = 'starting';
    this.config = config;
    this.runRandom = this.randomBaseline;
    this.dataLabel = label;
    this.searchModel = model;
    this.offer = null;
    let saved: SearchMeta | null = meta;
    try {
      await saveSearchStart(meta, files, spec);
    } catch (e) {
      saved = null;
      this.notice = `This search cannot be saved in this browser (${errLine(e)}): it runs, but a reload would lose it.`;
    }
    this.meta = saved;
    this.launch({
      type: 'start',
      id: meta.id,
      model: files,
      inputSize: this.app.inputSize,
      data: spec,
      config,
      randomBaseline: this.randomBaseline,
      resume: null,
      meta: saved,
      backend: this.app.backend.kind === 'ready' ? this.app.backend.info.name : undefined,
      run: true,
    });
    void this.refreshList();
  }

  pause(): void {
    if (this.phase !== 'running') return;
    this.phase = 'pausing';
    this.post({ type: 'pause' });
  }

  resume(): void {
    if (this.phase !== 'paused') return;
    this.phase = 'running';
    this.post({ type: 'resume' });
  }

  stop(): void {
    if (this.phase !== 'running' && this.phase !== 'paused' && this.phase !== 'pausing' && this.phase !== 'starting') return;
    this.phase = 'stopping';
    this.post({ type: 'stop' });
  }

  /**
   * Opens a saved search: loads its model into the app if the one on screen is another, restores
   * the agent, its replay buffer and log in a worker, and continues it (`run`) when unfinished.
   */
  async open(id: string, run = true): Promise<void> {
    if (this.busy) return;
    this.offer = null;
    this.resetView();
    this.phase = 'starting';
    let saved;
    try {
      saved = await loadSearch(id);
    } catch (e) {
      this.fail(`Could not read the saved search: ${errLine(e)}.`);
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
    const spec: ScoringSpec | undefined = saved.data ?? (meta.data.kind === 'demo' ? { ...meta.data } : undefined);
    if (!spec) {
      this.fail('The images this search was scored on are no longer saved, so it cannot go on. Delete it from the list.');
      return;
    }
    this.dataLabel = meta.data.kind === 'demo' ? `${meta.data.count} demo:val images, ${meta.data.labeled ? 'top-1 accuracy' : 'agreement with the original model'}` : `${meta.data.count} of your images (${meta.data.name}), ${meta.data.labeled ? 'top-1 accuracy' : 'agreement with the original model'}`;
    const resumed: SearchMeta = { ...meta, stopped: false };
    this.meta = resumed;
    // A latency search goes on with the table it started with, on the backend that table was timed on.
    const tableBackend = saved.latency?.table.backend;
    this.launch({
      type: 'start',
      id: meta.id,
      model: saved.model,
      inputSize: meta.model.inputSize,
      data: spec,
      config: meta.config,
      randomBaseline: meta.randomBaseline,
      resume: saved.progress ?? null,
      meta: resumed,
      backend: isBackendName(tableBackend) ? tableBackend : this.app.backend.kind === 'ready' ? this.app.backend.info.name : undefined,
      run: run && !isFinished(meta),
      latency: saved.latency ?? null,
    });
  }

  dismissOffer(): void {
    this.offer = null;
  }

  async remove(id: string): Promise<void> {
    if (this.meta?.id === id) {
      if (this.busy) return;
      this.closeWorker();
      this.resetView();
      this.phase = 'idle';
      this.config = null;
      this.meta = null;
    }
    if (this.offer?.id === id) this.offer = null;
    try {
      await deleteSearch(id);
    } catch (e) {
      this.storageError = `Could not delete the search: ${errLine(e)}.`;
    }
    await this.refreshList();
  }

  async refreshList(first = false): Promise<void> {
    try {
      const list = await listSearches();
      this.saved = list;
      this.storageError = null;
      if (first && !this.listed) {
        this.listed = true;
        const unfinished = list.find((m) => isResumable(m));
        if (unfinished && !this.busy && this.meta?.id !== unfinished.id) this.offer = unfinished;
      }
    } catch (e) {
      this.storageError = `Saved searches cannot be read in this browser (${errLine(e)}).`;
    }
  }

  /** Loads the pruned model of an episode into the comparison and export view. */
  async pick(p: Pick): Promise<void> {
    this.picked = p;
    const seq = ++this.pickSeq;
    const { model, analysis } = this.app;
    if (!this.worker || !model || !analysis) {
      this.compareStatus = { kind: 'error', message: 'No search is open: start or open one first.' };
      return;
    }
    if (!this.onScreen) {
      this.compareStatus = { kind: 'error', message: 'This search ran on another model than the one on screen: open it from the list of searches to compare its models.' };
      return;
    }
    this.compareStatus = { kind: 'loading', label: p.label };
    try {
      const reply = await this.request(p.keep);
      if (seq !== this.pickSeq) return;
      if (!this.compare || this.compare.model !== model || this.compare.analysis !== analysis) {
        this.compare?.dispose();
        this.compare = new PruneState(this.app, model, analysis);
      }
      const compare = this.compare;
      // A comparison still running finishes first; the newest pick wins.
      while (compare.status.kind === 'pruning') await new Promise((r) => setTimeout(r, 50));
      if (seq !== this.pickSeq) return;
      compare.sourceLabel = `search ${p.label}`;
      await compare.showPruned(fromPrunedPayload(reply.result), { roundTo: this.config?.env.roundTo }, { search: this.summary(p) });
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

  /** What report.json says about the search a picked model comes from. */
  private summary(p: Pick) {
    const e = p.which === 'amc' ? this.log[p.episode] : p.which === 'random' ? this.randomLog[p.episode] : undefined;
    const u = this.uniform;
    return {
      picked: { which: p.which, episode: p.episode, label: p.label, phase: e?.phase, reward: e?.reward, score: e?.score, resourceRatio: e?.resourceRatio },
      config: this.config,
      data: this.dataLabel,
      backend: this.info?.backend.name,
      episodes: this.log.length,
      seconds: this.elapsedMs / 1000,
      best: this.best ? { episode: this.best.episode, phase: this.best.phase, reward: this.best.reward, score: this.best.score, resourceRatio: this.best.resourceRatio } : null,
      uniform: u ? { ratio: u.ratio, reward: u.reward, score: u.score, resourceRatio: u.resourceRatio } : null,
      randomSearch: this.randomBest ? { episodes: this.randomLog.length, best: { episode: this.randomBest.episode, reward: this.randomBest.reward, score: this.randomBest.score, resourceRatio: this.randomBest.resourceRatio } } : null,
      latency: this.latencySummary(),
    };
  }

  /** A latency search's table and the original's measured latency, for report.json and the log. */
  private latencySummary() {
    const t = this.latencyTable;
    if (t.kind !== 'ready') return undefined;
    const { layers: _layers, ...table } = t.latency.table;
    return {
      originalMs: this.info?.originalLatencyMs,
      table: { ...table, layers: t.latency.table.layers.length },
      reused: t.reused,
      calibration: t.latency.points,
      drift: DeviceState.of(this.app).searchDrift,
      fallbacks: this.fallbacks,
    };
  }

  /** The search's log and summary as JSON, for the user to keep. */
  downloadLog(): void {
    const c = this.config;
    if (!c) return;
    const brief = (e: EpisodeRecord) => ({
      episode: e.episode,
      phase: e.phase,
      reward: e.reward,
      accuracy: accuracyOf(e.score),
      error: e.score.error,
      resourceRatio: e.resourceRatio,
      predictedRatio: e.predictedRatio,
      latencyMs: e.score.latencyMs,
      macs: e.macs,
      params: e.params,
      sigma: e.sigma,
      keep: e.keep,
      ms: e.timings,
    });
    const report = {
      tool: 'AMC Playground',
      createdAt: new Date().toISOString(),
      model: this.meta?.model.name ?? this.searchModel?.source,
      data: this.dataLabel,
      config: c,
      backend: this.info?.backend,
      seconds: this.elapsedMs / 1000,
      best: this.best ? brief(this.best) : null,
      uniform: this.uniform,
      randomBest: this.randomBest ? brief(this.randomBest) : null,
      log: this.log.map(brief),
      randomLog: this.randomLog.map(brief),
      latency: this.latencySummary(),
    };
    downloadBlob(new Blob([JSON.stringify(report, null, 2) + '\n'], { type: 'application/json' }), 'search-log.json');
  }

  dismissError(): void {
    this.error = null;
    if (this.phase === 'error') this.phase = this.log.length ? 'stopped' : 'idle';
  }

  dispose(): void {
    this.closeWorker();
    this.compare?.dispose();
  }

  // ------------------------------------------------------------------ internals

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
    this.tensors = null;
    this.amcMs = [];
    this.randomMs = [];
    this.picked = null;
    this.compareStatus = { kind: 'idle' };
    this.compare?.dispose();
    this.compare = null;
  }

  private settingsFrom(meta: SearchMeta): void {
    const c = meta.config;
    this.protocol = c.env.protocol;
    this.resource = c.env.resource;
    this.target = c.env.target;
    this.episodes = c.episodes;
    this.seed = c.seed;
    this.warmupOverride = c.ddpg.warmupEpisodes === defaultWarmup(c.episodes) ? null : c.ddpg.warmupEpisodes;
    this.randomBaseline = meta.randomBaseline;
    this.rewardImages = meta.data.count;
    this.refit = (meta.data.calibration ?? 0) > 0;
  }

  /** Makes the app show the model a saved search ran on (loading it from storage when needed). */
  private async showModel(meta: SearchMeta, files: { modelJson: string; weights: ArrayBuffer }): Promise<void> {
    const app = this.app;
    const same = app.model !== null && fingerprintOf(app.model) === meta.model.fingerprint;
    if (!same) {
      // A copy: the worker takes the original buffer.
      await app.loadFiles(modelFilesAsInput({ modelJson: files.modelJson, weights: files.weights.slice(0) }, meta.model.name));
      if (app.load.kind === 'error') throw new Error(app.load.error.problem);
      if (app.model) fingerprints.set(app.model, meta.model.fingerprint);
      app.source = { ...meta.model.source };
    }
    if ((app.inputSize ?? null) !== meta.model.inputSize) await app.setInputSize(meta.model.inputSize);
  }

  private launch(msg: Extract<ToWorker, { type: 'start' }>): void {
    this.closeWorker();
    let w: Worker;
    try {
      w = this.createWorker();
    } catch (e) {
      this.fail(`Could not start the search worker: ${errLine(e)}.`);
      return;
    }
    this.worker = w;
    w.onmessage = (e: MessageEvent<FromWorker>) => {
      if (w === this.worker) this.onMessage(e.data);
    };
    w.onerror = (e: ErrorEvent) => {
      if (w === this.worker) this.fail(`The search worker failed: ${e.message || 'unknown error'}.`);
    };
    w.postMessage(msg, transferOf(msg));
  }

  private post(msg: ToWorker): void {
    this.worker?.postMessage(msg, transferOf(msg));
  }

  private closeWorker(): void {
    this.worker?.terminate();
    this.worker = null;
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.waiting = [];
    for (const p of this.pending.values()) p.reject(new Error('the search worker was closed'));
    this.pending.clear();
  }

  /**
   * After a fatal error the saved search is not offered again on the next load: deleted when it had
   * no episode yet (nothing is lost), else marked stopped (it stays in the list).
   */
  private async forgetFailed(): Promise<void> {
    const meta = this.meta;
    if (!meta) return;
    try {
      if (this.log.length === 0) {
        await deleteSearch(meta.id);
        if (this.meta?.id === meta.id) this.meta = null;
      } else {
        const stopped = { ...meta, stopped: true, episodes: this.log.length };
        await saveMeta(stopped);
        if (this.meta?.id === meta.id) this.meta = stopped;
      }
    } catch {
      // Storage unavailable: nothing to forget.
    }
    await this.refreshList();
  }

  /** Applies the episodes that arrived since the last flush (public for tests). */
  flush(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = this.waiting;
    if (!batch.length) return;
    this.waiting = [];
    this.lastFlush = performance.now();
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

  private request(keep: Record<string, number>): Promise<Extract<FromWorker, { type: 'pruned' }>> {
    const requestId = ++this.requestSeq;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.post({ type: 'prune', requestId, keep });
    });
  }

  /**
   * Applies one message from the worker (public for tests). Episodes are applied in batches, at
   * most one every FLUSH_MS: however fast episodes come (tiny models, few reward images), a phone
   * redraws the panel a few times a second. Any other message applies the waiting episodes first.
   */
  onMessage(m: FromWorker): void {
    if (m.type === 'episode') {
      this.waiting.push(m);
      const since = performance.now() - this.lastFlush;
      if (since >= FLUSH_MS) this.flush();
      else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS - since);
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
        this.fallbacks = [...this.fallbacks, m.message.charAt(0).toUpperCase() + m.message.slice(1)];
        break;
      case 'pruned': {
        const p = this.pending.get(m.requestId);
        this.pending.delete(m.requestId);
        p?.resolve(m);
        break;
      }
      case 'error':
        if (m.requestId !== undefined) {
          const p = this.pending.get(m.requestId);
          this.pending.delete(m.requestId);
          p?.reject(new Error(m.message));
        } else if (m.fatal) {
          this.fail(capitalize(m.message));
          void this.forgetFailed();
        } else {
          this.notice = capitalize(m.message);
        }
        break;
    }
  }
}

