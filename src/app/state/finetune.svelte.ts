/**
 * The fine-tune panel's state: which pruned model recovers (the app's latest pruned model, from the
 * Prune panel or a picked search episode), on which images, for how many epochs; the run in its
 * worker (src/workers/finetune.worker.ts) with its progress and per-epoch log; the saved run. What
 * the run gives (the comparison on the evaluation images, the quantized check, report.json, the
 * export) is `outcome`, a FinetuneResult (finetune-result.svelte.ts).
 *
 * Training runs only in the worker, so the page stays responsive. The worker saves the run after
 * every epoch; this class saves its start (both models, the user's images) and, on page load,
 * offers to resume a saved run that did not end.
 */
import { analyzeModel } from '../../core/model/analyze';
import { loadModel } from '../../core/model/load';
import type { LoadedModel } from '../../core/model/types';
import { SPLIT_SIZES } from '../../core/data/procedural';
import type { EpochLog, StopReason } from '../../core/finetune/distiller';
import { isBackendName, type BackendName } from '../../core/measure/backends';
import { exportFiles } from '../../core/export/files';
import { errLine } from '../../core/errors';
import { dataChoiceOf, dataText, isResumable, transferOf, type FinetuneDataChoice, type FinetuneDataSpec, type FinetuneMeta, type FromFinetune, type ModelFiles, type ToFinetune } from '../../workers/finetune-messages';
import { deleteFinetune, loadFinetune, saveFinetuneStart, savedFinetuneMeta } from '../../workers/finetune-store';
import { fromModelPayload, modelFilesAsInput } from '../../workers/payload';
import { modelFingerprint } from '../../core/hash';
import { formatDuration } from '../lib/search-math';
import type { AppState } from './app.svelte';
import { demoLabelsFor, type DataState } from './data.svelte';
import { dataName, FinetuneResult } from './finetune-result.svelte';
import type { PruneState } from './prune.svelte';

export const DEFAULT_EPOCHS = 3;

/** Creates the fine-tune worker (replaced in tests). */
export type WorkerFactory = () => Worker;
const defaultWorker: WorkerFactory = () => new Worker(new URL('../../workers/finetune.worker.ts', import.meta.url), { type: 'module', name: 'amc-finetune' });

/** What is fine-tuned: the original (teacher) and a pruned version of it (student). */
export interface FinetuneSubject {
  teacher: LoadedModel;
  student: LoadedModel;
  /** "Prune panel: 49.6% of MACs", "search episode 12". */
  label: string;
  /** The prune panel's state that made the student, when it is on screen (its report and latency). */
  prune?: PruneState;
}

export type FinetunePhase = 'idle' | 'starting' | 'running' | 'pausing' | 'paused' | 'stopping' | 'done' | 'error';

/** The run as the worker set it up (its `ready` message), and its training images in words. */
export type RunInfo = Pick<Extract<FromFinetune, { type: 'ready' }>, 'backend' | 'stepsPerEpoch' | 'epochs' | 'config' | 'trainImages' | 'heldOutImages' | 'labeled'> & {
  /** "demo:train (256 images, labels + distillation)" */
  data: string;
};

export type DataChoiceName = 'demo' | 'data';

export interface ModelFigures {
  original: { macs: number; params: number; bytes: number };
  pruned: { macs: number; params: number; bytes: number };
}

export class FinetuneState {
  // ---- settings of a new run
  source = $state<DataChoiceName>('demo');
  demoCount = $state(SPLIT_SIZES.train);
  useLabels = $state(true);
  epochs = $state(DEFAULT_EPOCHS);
  backendChoice = $state<'auto' | BackendName>('auto');

  // ---- the run on screen
  phase = $state<FinetunePhase>('idle');
  /** The models of the run on screen (null: none started; the panel shows the app's pruned model). */
  running = $state.raw<FinetuneSubject | null>(null);
  info = $state.raw<RunInfo | null>(null);
  history = $state.raw<EpochLog[]>([]);
  bestEpoch = $state(0);
  /** The backend each epoch trained on. */
  epochBackends = $state.raw<Record<number, string>>({});
  stopReason = $state<StopReason | null>(null);
  step = $state.raw<{ epoch: number; done: number; total: number; loss: number; epochMs: number } | null>(null);
  elapsedMs = $state(0);
  saved = $state(false);
  error = $state<string | null>(null);
  notice = $state<string | null>(null);
  /** The best epoch's model, as the worker sent it. */
  result = $state.raw<LoadedModel | null>(null);
  resultEpoch = $state(0);

  // ---- comparison and export of the run's best model
  readonly outcome: FinetuneResult;

  // ---- the run saved in this browser
  offer = $state.raw<FinetuneMeta | null>(null);
  /** The saved run that ended (finished, stopped early or by the user), offered for opening: its model and export. */
  lastRun = $state.raw<FinetuneMeta | null>(null);
  storageError = $state<string | null>(null);

  private worker: Worker | null = null;
  private runId = '';

  constructor(
    private readonly app: AppState,
    private readonly data: DataState,
    private readonly createWorker: WorkerFactory = defaultWorker,
  ) {
    this.outcome = new FinetuneResult(this, app, data);
  }

  /** The app's pruned model, when it belongs to the model on screen. */
  get candidate(): FinetuneSubject | null {
    const p = this.app.pruned;
    if (!p || p.original !== this.app.model) return null;
    return { teacher: p.original, student: p.model, label: p.label ?? 'pruned model', prune: p.prune };
  }

  /** The models the panel is about: the run's, or (no run yet) the app's pruned model. */
  get subject(): FinetuneSubject | null {
    return this.running ?? this.candidate;
  }

  get busy(): boolean {
    return this.phase === 'starting' || this.phase === 'running' || this.phase === 'pausing' || this.phase === 'stopping' || this.phase === 'paused';
  }

  /** True when the app has a newer pruned model than the one of the run on screen. */
  get newerCandidate(): boolean {
    const c = this.candidate;
    return !!c && !!this.running && c.student !== this.running.student;
  }

  /** The teacher's class count (its first output's width), when it is a classifier. */
  get outputs(): number | undefined {
    const m = this.subject?.teacher;
    if (!m) return undefined;
    try {
      const a = this.app.analysis && this.app.model === m ? this.app.analysis : analyzeModel(m);
      const out = a.graph.tensors.get(a.graph.outputs[0])?.shape;
      return out && out.length === 2 && typeof out[1] === 'number' ? out[1] : undefined;
    } catch {
      return undefined;
    }
  }

  /** The original's name for people (its folder, Teachable Machine name or URL), else its path. */
  get teacherName(): string {
    const t = this.subject?.teacher;
    if (!t) return '';
    return this.app.model === t && this.app.modelName ? this.app.modelName : t.source;
  }

  /** Whether the demo images carry labels for this teacher (a bundled demo model, or the user's opt-in). */
  get demoLabeled(): boolean {
    const m = this.subject?.teacher;
    return !!m && demoLabelsFor(m, this.outputs, this.data).apply;
  }

  /** The Data panel's images, when they are prepared for the original model. */
  get dataImages() {
    const p = this.data.prepared;
    const t = this.subject?.teacher;
    return p && t && p.model === t ? p : null;
  }

  private figuresCache: { subject: FinetuneSubject; figures: ModelFigures } | null = null;

  /** MACs, params and bytes of the original and the pruned model (the fine-tuned one has the pruned architecture). */
  get figures(): ModelFigures | null {
    const s = this.subject;
    if (!s) return null;
    if (this.figuresCache?.subject.student === s.student) return this.figuresCache.figures;
    const report = s.prune?.outcome?.result.model === s.student ? s.prune.outcome.report : undefined;
    let figures: ModelFigures;
    if (report) figures = { original: report.original, pruned: report.pruned };
    else {
      try {
        const a = analyzeModel(s.teacher).cost;
        const b = analyzeModel(s.student).cost;
        figures = { original: { macs: a.totalMacs, params: a.totalParams, bytes: s.teacher.bytesOnDisk }, pruned: { macs: b.totalMacs, params: b.totalParams, bytes: s.student.bytesOnDisk } };
      } catch {
        return null;
      }
    }
    this.figuresCache = { subject: s, figures };
    return figures;
  }

  /** The original's and the pruned model's measured latency, when the prune panel timed this very pruned model. */
  get latency(): { original: number; pruned: number; backend: string } | null {
    const s = this.subject;
    const p = s?.prune;
    if (!p || p.outcome?.result.model !== s.student || p.latency.kind !== 'done') return null;
    const c = p.latency.comparison;
    return { original: c.original.medianMs, pruned: c.pruned.medianMs, backend: p.latency.timing.backend.name };
  }

  // ---- progress
  readonly fraction = $derived.by(() => {
    const info = this.info;
    if (!info) return 0;
    const total = info.epochs * info.stepsPerEpoch;
    const doneEpochs = this.history.length - 1;
    const inEpoch = this.step && this.step.epoch === doneEpochs + 1 ? this.step.done : 0;
    return total ? Math.min(1, (doneEpochs * info.stepsPerEpoch + inEpoch) / total) : 0;
  });

  /** Milliseconds left: the steps left times the mean step time (this epoch's, else the last epoch's). */
  readonly msLeft = $derived.by(() => {
    const info = this.info;
    if (!info || this.phase === 'done') return undefined;
    const doneEpochs = this.history.length - 1;
    const s = this.step && this.step.epoch === doneEpochs + 1 ? this.step : null;
    const last = this.history[this.history.length - 1];
    const perStep = s && s.done > 0 ? s.epochMs / s.done : last?.ms && last.steps ? last.ms / last.steps : undefined;
    if (perStep === undefined) return undefined;
    const left = (info.epochs - doneEpochs) * info.stepsPerEpoch - (s?.done ?? 0);
    return Math.max(0, left) * perStep;
  });

  get timeLeftText(): string {
    return this.msLeft === undefined ? '' : formatDuration(this.msLeft);
  }

  /** The metric the chart and table show: accuracy with labels, else agreement with the original. */
  get metricName(): string {
    return this.info?.labeled ? 'held-out accuracy' : 'held-out agreement with the original';
  }

  // ---- saved runs

  /** On page load: a saved run that did not end is offered for resuming. */
  async checkSaved(): Promise<void> {
    try {
      const m = await savedFinetuneMeta();
      this.offer = m && m.epochsDone < m.epochs && isResumable(m) && !this.running ? m : null;
      this.lastRun = m && !isResumable(m) && m.epochsDone > 0 && !this.running ? m : null;
    } catch (e) {
      this.storageError = `The saved fine-tune cannot be read in this browser (${errLine(e)}).`;
    }
  }

  async discardSaved(): Promise<void> {
    this.offer = null;
    this.lastRun = null;
    try {
      await deleteFinetune();
    } catch {
      // nothing to discard
    }
  }

  /**
   * Resumes the saved run in a new worker, from its last saved epoch; or (a run that ended) opens
   * it: the worker restores it and hands back its best epoch's model without training.
   */
  async resumeSaved(): Promise<void> {
    if (this.busy) return;
    this.offer = null;
    this.lastRun = null;
    this.resetRun();
    this.phase = 'starting';
    try {
      const saved = await loadFinetune();
      if (!saved) throw new Error('the saved fine-tune is incomplete (a model or its images are missing)');
      const teacher = await this.savedTeacher(saved.models.teacher, saved.meta.teacher.fingerprint);
      const student = await loadModel(modelFilesAsInput(saved.models.student, 'pruned/model.json'));
      this.running = { teacher, student, label: saved.meta.studentLabel };
      this.runId = saved.meta.id;
      this.history = saved.meta.history;
      this.bestEpoch = saved.meta.bestEpoch;
      this.elapsedMs = saved.meta.elapsedMs;
      this.epochs = saved.meta.epochs;
      this.launch({
        type: 'start',
        id: saved.meta.id,
        teacher: saved.models.teacher,
        student: saved.models.student,
        data: saved.data,
        config: saved.snapshot?.config ?? { epochs: saved.meta.epochs },
        // A run stopped between epochs was saved before the stop: the summary says how it ended.
        resume: saved.snapshot ? { ...saved.snapshot, stopReason: saved.snapshot.stopReason ?? saved.meta.stopReason } : null,
        meta: saved.meta,
        // The backend it trained on (a run picked by 'auto' picks the same again).
        ...(saved.meta.backend && isBackendName(saved.meta.backend) ? { backend: saved.meta.backend } : {}),
        run: true,
      });
    } catch (e) {
      this.fail(`Could not resume the saved fine-tune: ${errLine(e)}.`);
    }
  }

  /** The app's model when it is the saved original (so the Data panel's images fit it), else the saved copy. */
  private async savedTeacher(files: ModelFiles, fingerprint: string): Promise<LoadedModel> {
    const m = this.app.model;
    if (m && modelFingerprint(m) === fingerprint) return m;
    return loadModel(modelFilesAsInput(files, 'original/model.json'));
  }

  // ---- a new run

  /** The training images as the worker takes them; throws a one-line reason when there are none. */
  private dataSpec(): FinetuneDataSpec {
    if (this.source === 'demo') {
      const count = Math.round(this.demoCount);
      if (!(count >= 64 && count <= SPLIT_SIZES.train)) throw new Error(`demo:train images must be from 64 to ${SPLIT_SIZES.train}, got ${this.demoCount}`);
      return { kind: 'demo', split: 'train', count, labeled: this.useLabels && this.demoLabeled, scaling: this.data.scaling, augment: true };
    }
    const p = this.dataImages;
    if (!p) throw new Error('the Data panel has no images prepared for this model: choose them there first');
    const set = p.set;
    return {
      kind: 'images',
      name: dataName(p),
      // Copies: the worker takes the buffers.
      images: set.images.slice(),
      ...(this.useLabels && p.kind === 'labeled' && set.labels ? { labels: set.labels.slice() } : {}),
      layout: { height: set.height, width: set.width, channels: set.channels },
      scaling: this.data.scaling,
    };
  }

  async start(): Promise<void> {
    const subject = this.candidate;
    if (!subject || this.busy) return;
    if (!(Number.isInteger(this.epochs) && this.epochs >= 1 && this.epochs <= 100)) {
      this.error = `Epochs must be a whole number from 1 to 100, got ${this.epochs}.`;
      return;
    }
    let data: FinetuneDataSpec;
    try {
      data = this.dataSpec();
    } catch (e) {
      this.error = `${errLine(e)}.`;
      return;
    }
    this.offer = null;
    this.resetRun();
    this.app.finetuned = null;
    this.phase = 'starting';
    this.running = subject;
    const id = `ft-${Date.now().toString(36)}`;
    this.runId = id;
    const teacher = exportFiles(subject.teacher);
    const student = exportFiles(subject.student);
    const now = Date.now();
    const meta: FinetuneMeta = {
      id,
      version: 1,
      createdAt: now,
      updatedAt: now,
      teacher: { name: subject.teacher.source, fingerprint: modelFingerprint(subject.teacher) },
      studentLabel: subject.label,
      data: dataChoiceOf(data),
      epochs: this.epochs,
      epochsDone: 0,
      history: [],
      bestEpoch: 0,
      stopReason: null,
      elapsedMs: 0,
    };
    try {
      // Copies: the worker takes the buffers it is sent.
      await saveFinetuneStart(meta, { teacher, student: { ...student, weights: student.weights.slice(0) } }, data.kind === 'images' ? { ...data, images: data.images.slice(), labels: data.labels?.slice() } : data);
      this.storageError = null;
    } catch (e) {
      this.storageError = `This fine-tune is not saved in this browser (${errLine(e)}): a reload loses it.`;
    }
    this.launch({
      type: 'start',
      id,
      teacher: { ...teacher, weights: teacher.weights.slice(0) },
      student,
      data,
      config: { epochs: this.epochs },
      resume: null,
      meta: this.storageError ? null : meta,
      ...(this.backendChoice !== 'auto' ? { backend: this.backendChoice } : {}),
      run: true,
    });
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

  /** Ends the run; the best epoch so far is the result. */
  stop(): void {
    if (!this.worker || this.phase === 'done' || this.phase === 'stopping') return;
    this.phase = 'stopping';
    this.post({ type: 'stop' });
  }

  /** Forgets the run on screen (the panel goes back to the app's pruned model). */
  close(): void {
    if (this.busy) return;
    this.closeWorker();
    this.app.finetuned = null;
    this.resetRun();
    this.running = null;
    this.phase = 'idle';
  }

  private resetRun(): void {
    this.info = null;
    this.history = [];
    this.bestEpoch = 0;
    this.epochBackends = {};
    this.stopReason = null;
    this.step = null;
    this.elapsedMs = 0;
    this.saved = false;
    this.error = null;
    this.notice = null;
    this.result = null;
    this.resultEpoch = 0;
    this.outcome.reset();
  }

  private launch(msg: Extract<ToFinetune, { type: 'start' }>): void {
    this.closeWorker();
    let w: Worker;
    try {
      w = this.createWorker();
    } catch (e) {
      this.fail(`Could not start the fine-tune worker: ${errLine(e)}.`);
      return;
    }
    this.worker = w;
    w.onmessage = (e: MessageEvent<FromFinetune>) => {
      if (w === this.worker) this.onMessage(e.data);
    };
    w.onerror = (e) => {
      if (w === this.worker) this.fail(`The fine-tune worker failed: ${e.message || 'unknown error'}.`);
    };
    this.worker.postMessage(msg, transferOf(msg));
    this.info = null;
    this.trainedOn = msg.meta?.data ?? dataChoiceOf(msg.data);
    this.pendingData = dataText(this.trainedOn);
  }

  private pendingData = '';
  /** The images the run on screen trains on. */
  trainedOn: FinetuneDataChoice | null = null;

  private post(msg: ToFinetune): void {
    this.worker?.postMessage(msg, transferOf(msg));
  }

  private closeWorker(): void {
    this.worker?.terminate();
    this.worker = null;
  }

  private fail(message: string): void {
    this.closeWorker();
    this.error = message;
    this.phase = this.result ? 'done' : 'error';
  }

  /** Applies one message from the worker (public for tests). */
  onMessage(m: FromFinetune): void {
    switch (m.type) {
      case 'ready':
        this.info = {
          backend: m.backend,
          stepsPerEpoch: m.stepsPerEpoch,
          epochs: m.epochs,
          config: m.config,
          trainImages: m.trainImages,
          heldOutImages: m.heldOutImages,
          labeled: m.labeled,
          data: this.pendingData,
        };
        this.epochs = m.epochs;
        this.history = m.history;
        this.bestEpoch = m.bestEpoch;
        this.elapsedMs = m.elapsedMs;
        this.epochBackends = m.epochBackends;
        if (this.phase === 'starting') this.phase = 'running';
        break;
      case 'step':
        this.step = { epoch: m.epoch, done: m.done, total: m.total, loss: m.loss, epochMs: m.epochMs };
        break;
      case 'epoch':
        this.history = [...this.history, m.log];
        this.epochBackends = { ...this.epochBackends, [m.log.epoch]: m.backend };
        this.bestEpoch = m.bestEpoch;
        this.saved = m.saved;
        this.elapsedMs = m.elapsedMs;
        this.step = null;
        break;
      case 'status':
        this.elapsedMs = m.elapsedMs;
        this.stopReason = m.stopReason;
        if (m.status === 'done') {
          this.phase = 'done';
          this.closeWorker();
          void this.outcome.evaluate();
        } else if (m.status === 'paused') {
          if (this.phase !== 'stopping') this.phase = 'paused';
        } else if (this.phase !== 'stopping' && this.phase !== 'pausing') this.phase = 'running';
        break;
      case 'result':
        this.result = fromModelPayload(m.model);
        this.resultEpoch = m.bestEpoch;
        if (this.running) this.app.finetuned = { student: this.running.student, epoch: m.bestEpoch };
        this.outcome.onResult(this.phase === 'done');
        break;
      case 'error':
        if (m.fatal) this.fail(`Fine-tuning failed: ${m.message}`);
        else this.notice = m.message;
        break;
    }
  }

  dispose(): void {
    this.closeWorker();
  }
}
