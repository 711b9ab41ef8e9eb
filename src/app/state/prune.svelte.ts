/**
 * The prune panel's state for one model and its analysis: the policy being edited (a kept count per
 * prunable group), the live cost of that policy, and the last pruned result with its comparison
 * and export files. A new model or a new analysis makes a new PruneState (the panel is keyed on it).
 *
 * tfjs work (running both models on the sample input, saving to IndexedDB) goes through the app's
 * queue; every tensor and tfjs model made here is disposed before the step ends.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelAnalysis } from '../../core/model/analyze';
import { computeCost, type ModelCost } from '../../core/model/cost';
import type { ChannelGroup } from '../../core/model/groups';
import type { LoadedModel } from '../../core/model/types';
import { disposeModel, instantiate } from '../../core/model/tfjs-model';
import { pruneModel, type PruneOptions, type PruneResult } from '../../core/prune/prune';
import { batchNormUnsupported } from '../../core/prune/batchnorm';
import { evaluatorText, type Evaluator } from '../../core/prune/config';
import { makeReady } from '../../core/prune/evaluate';
import { inputTensor } from '../../core/measure/accuracy';
import { calibrationImages } from '../../core/search/config';
import { pruneCalibration } from '../lib/prune-calibration';
import type { DataState } from './data.svelte';
import { roundChannels, DEFAULT_ROUND_TO, type Policy } from '../../core/prune/policy';
import type { ImportanceCriterion } from '../../core/prune/importance';
import { pruneReport, type PruneReport } from '../../core/export/report';
import { downloadBlob } from '../lib/download';
import { downloadName, exportBlobs, exportNames, isStored, loadSnippet, saveToIndexedDb, storageName, type ExportFile, type ExportNames } from '../../core/export/browser';
import { maxAbsDiff, sampleInputs, summarizeOutput, type OutputSummary } from '../lib/sample-input';
import { snapKeep } from '../lib/snap';
import { backendChoices, compareLatency, latencyReport, type LatencyComparison } from '../lib/latency-view';
import type { BackendName } from '../../core/measure/backends';
import { COMPARE_OPTIONS, type CompareRow, type ModelsTiming } from '../../workers/latency-messages';
import type { AppState } from './app.svelte';
import { DeviceState } from './device.svelte';
import { errLine } from '../../core/errors';

export const RATIO_MIN = 0.2;
export const RATIO_MAX = 1;
export const RATIO_STEP = 0.05;

export interface PruneOutcome {
  result: PruneResult;
  report: PruneReport;
  files: ExportFile[];
  /** Object URLs of `files`, by name, for the download links; revoked when the outcome goes. */
  urls: Record<string, string>;
  original: OutputSummary[];
  pruned: OutputSummary[];
  maxAbsDiff: number;
  inputShapes: number[][];
  backend: string;
  /** tf.memory().numTensors once the step finished. */
  tensors: number;
  ms: number;
}

/** The measured latency of the original and the pruned model, timed side by side in the timing worker. */
export type LatencyStatus =
  | { kind: 'idle' }
  | { kind: 'measuring'; what: string }
  | { kind: 'done'; timing: ModelsTiming; comparison: LatencyComparison }
  | { kind: 'error'; message: string };

/** Both models timed on each backend in turn ("compare backends"). */
export type BackendsStatus =
  | { kind: 'idle' }
  | { kind: 'running'; fraction: number; what: string }
  | { kind: 'done'; rows: CompareRow[]; restored: string }
  | { kind: 'error'; message: string };

export type PruneStatus = { kind: 'idle' } | { kind: 'pruning' } | { kind: 'error'; message: string };
export type SaveStatus = { kind: 'idle' } | { kind: 'saving' } | { kind: 'saved'; url: string; bytes: number } | { kind: 'error'; message: string };

export class PruneState {
  readonly model: LoadedModel;
  readonly analysis: ModelAnalysis;
  readonly prunable: ChannelGroup[];

  ratio = $state(RATIO_MAX);
  roundTo8 = $state(true);
  criterion = $state<ImportanceCriterion>('l1');
  /** How the pruned model is made ready before it is compared and exported (core/prune/config.ts). */
  evaluator = $state<Evaluator>('slice');
  /** Kept channels per prunable group id. */
  keep = $state<Record<string, number>>({});
  status = $state<PruneStatus>({ kind: 'idle' });
  outcome = $state.raw<PruneOutcome | null>(null);
  save = $state<SaveStatus>({ kind: 'idle' });
  latency = $state.raw<LatencyStatus>({ kind: 'idle' });
  backends = $state.raw<BackendsStatus>({ kind: 'idle' });
  /** Backends ticked for "compare backends" (unset: the choice's default). */
  backendPick = $state<Partial<Record<BackendName, boolean>>>({});

  readonly roundTo = $derived(this.roundTo8 ? DEFAULT_ROUND_TO : 1);
  /** Cost of the policy as edited: no rebuild, just shapes. */
  readonly liveCost: ModelCost = $derived.by(() => computeCost(this.analysis.graph, this.analysis.groupAnalysis, this.keep));
  readonly changed = $derived.by(() => this.prunable.some((g) => this.keep[g.id] !== g.channels));
  readonly storageName: string;
  /** `<model>-pruned`: the downloads are `<model>-pruned.json`, `.weights.bin` and `.report.json` (exportNames). */
  readonly fileName: string;
  readonly fileNames: ExportNames;
  /** Where the pruned models shown here come from (the search names its picked episode). */
  sourceLabel = 'Prune panel';

  private disposed = false;
  /** The comparison under way (see settled()). */
  private running: Promise<void> | null = null;
  private seq = 0;
  private latencySeq = 0;
  private backendsSeq = 0;

  constructor(
    private readonly app: AppState,
    model: LoadedModel,
    analysis: ModelAnalysis,
    private readonly data: DataState | null = null,
  ) {
    this.model = model;
    this.analysis = analysis;
    this.prunable = analysis.groups.filter((g) => g.prunable);
    this.keep = Object.fromEntries(this.prunable.map((g) => [g.id, g.channels]));
    // indexeddb://amc-<the model's name>-pruned and <the model's name>-pruned.json, not amc-model-pruned and model.json for every model.
    const named = app.source?.kind === 'builtin' ? (app.source.demo ?? 'builtin') : app.model === model && app.modelName ? app.modelName : model.source;
    this.storageName = storageName(named);
    this.fileName = downloadName(named, 'pruned');
    this.fileNames = exportNames(this.fileName);
  }

  /** Every prunable group at `ratio`, rounded as the pruner rounds. */
  setRatio(ratio: number): void {
    if (!Number.isFinite(ratio)) return;
    const r = Math.min(Math.max(ratio, RATIO_MIN), RATIO_MAX);
    this.ratio = r;
    const keep: Record<string, number> = {};
    for (const g of this.prunable) keep[g.id] = r >= 1 ? g.channels : roundChannels(r * g.channels, g.channels, this.roundTo);
    this.keep = keep;
  }

  setKeep(id: string, value: number): void {
    const g = this.prunable.find((x) => x.id === id);
    if (!g || !Number.isFinite(value)) return;
    this.keep[id] = snapKeep(value, g.channels, this.roundTo);
  }

  setRounding(on: boolean): void {
    this.roundTo8 = on;
    if (on) for (const g of this.prunable) this.keep[g.id] = snapKeep(this.keep[g.id], g.channels, DEFAULT_ROUND_TO);
  }

  reset(): void {
    this.setRatio(RATIO_MAX);
  }

  /**
   * The policy as the pruner takes it: whole kept counts for the groups that shrink. Groups kept
   * whole are left out (the pruner would round e.g. 100 of 100 down to 96).
   */
  policy(): Policy {
    return Object.fromEntries(this.prunable.filter((g) => this.keep[g.id] < g.channels).map((g) => [g.id, this.keep[g.id]]));
  }

  /** Why BatchNorm statistics cannot be recomputed for this model, if they cannot. */
  get batchNormProblem(): string | undefined {
    return batchNormUnsupported(this.analysis);
  }

  /** The calibration images the evaluator would use, or why there are none (read when the panel renders). */
  calibrationFor(evaluator: Evaluator) {
    const outputs = this.analysis.graph.tensors.get(this.analysis.graph.outputs[0])?.shape.at(-1) ?? undefined;
    return pruneCalibration(this.model, outputs ?? undefined, this.data, calibrationImages(evaluator));
  }

  async prune(): Promise<void> {
    const options = { roundTo: this.roundTo, criterion: this.criterion };
    const policy = this.policy();
    const evaluator = this.evaluator;
    const extra: Record<string, unknown> = {};
    return this.compare(async () => {
      const result = pruneModel(this.model, this.analysis, policy, options);
      if (evaluator === 'slice') return result;
      const source = this.calibrationFor(evaluator);
      if ('none' in source) throw new Error(source.none);
      const x = inputTensor(this.analysis.graph.tensors.get(this.analysis.graph.inputs[0])!.shape, source.images, source.eval);
      try {
        const ready = await makeReady(this.model, this.analysis, result, evaluator, x, { seed: 1 });
        Object.assign(extra, { evaluator, evaluated: evaluatorText(evaluator, source.n, source.source), refit: ready.refit, batchNorm: ready.batchNorm });
        return { ...result, model: ready.model };
      } finally {
        x.dispose();
      }
    }, options, extra);
  }

  /**
   * Compares and exports a model pruned elsewhere, as Prune does with its own: the search worker
   * prunes an episode's policy exactly as it scored it. `extra` joins report.json (the search summary).
   */
  showPruned(result: PruneResult, options: PruneOptions, extra: Record<string, unknown> = {}): Promise<void> {
    return this.compare(() => result, options, extra);
  }

  /** Resolves once no comparison is under way (each one awaited in turn: no polling). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private compare(make: () => PruneResult | Promise<PruneResult>, options: PruneOptions, extra: Record<string, unknown> = {}): Promise<void> {
    if (this.status.kind === 'pruning') return Promise.resolve();
    const run = this.compareNow(make, options, extra).finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  private async compareNow(make: () => PruneResult | Promise<PruneResult>, options: PruneOptions, extra: Record<string, unknown>): Promise<void> {
    const id = ++this.seq;
    this.status = { kind: 'pruning' };
    // Let "Pruning…" paint before the synchronous work.
    await new Promise((r) => setTimeout(r, 0));
    let outcome: PruneOutcome | null = null;
    try {
      const t0 = performance.now();
      const result = await make();
      const report: PruneReport = { ...pruneReport(this.model, this.analysis, result, options, this.app.model === this.model ? this.app.modelName : undefined), ...extra };
      const compared = await this.app.withTfModel(this.model, async (original, inputShapes) => {
        const pruned = await instantiate(result.model);
        try {
          return { inputShapes, original: await predictSample(original, inputShapes), pruned: await predictSample(pruned, inputShapes) };
        } finally {
          disposeModel(pruned);
        }
      });
      const files = exportBlobs(result.model, report, { name: this.fileName });
      outcome = {
        result,
        report,
        files,
        urls: Object.fromEntries(files.map((f) => [f.name, URL.createObjectURL(f.blob)])),
        original: compared.original,
        pruned: compared.pruned,
        maxAbsDiff: maxAbsDiff(compared.original, compared.pruned),
        inputShapes: compared.inputShapes,
        backend: tf.getBackend() ?? 'none',
        tensors: tf.memory().numTensors,
        ms: performance.now() - t0,
      };
    } catch (e) {
      if (!this.disposed && id === this.seq) this.status = { kind: 'error', message: `${errLine(e)}. Try a milder policy or another backend; the original model is unchanged.` };
      return;
    }
    if (this.disposed || id !== this.seq) {
      revoke(outcome);
      return;
    }
    revoke(this.outcome);
    this.outcome = outcome;
    const macs = `${(outcome.report.ratios.macs * 100).toFixed(1)}% of MACs`;
    this.app.pruned = { original: this.model, model: outcome.result.model, label: `${this.sourceLabel}, ${macs}`, prune: this };
    this.save = { kind: 'idle' };
    this.status = { kind: 'idle' };
    this.latency = { kind: 'idle' };
    this.backends = { kind: 'idle' };
    void this.measureLatency();
  }

  /** The fine-tune panel's model trained from the pruned model shown here, if any. */
  get finetunedVersion(): { epoch: number } | null {
    const f = this.app.finetuned;
    return f && this.outcome && f.student === this.outcome.result.model ? f : null;
  }

  /** The backends "compare backends" can time, and whether each is ticked. */
  get backendOptions() {
    const info = this.app.backend.kind === 'ready' ? this.app.backend.info : null;
    return backendChoices(info).map((c) => ({ ...c, picked: c.available && (this.backendPick[c.name] ?? c.defaultOn) }));
  }

  setBackendPick(name: BackendName, on: boolean): void {
    this.backendPick[name] = on;
  }

  /**
   * Times the original and the pruned model side by side (interleaved runs, median after warm-up)
   * on the page's backend, in the timing worker, and adds the figures to report.json.
   */
  async measureLatency(): Promise<void> {
    const o = this.outcome;
    if (!o || this.disposed) return;
    const id = ++this.latencySeq;
    const device = DeviceState.of(this.app);
    this.latency = { kind: 'measuring', what: 'timing the original and the pruned model' };
    try {
      const timing = await device.client.measure([this.model, o.result.model], this.analysis.graph.inputSize, device.backendName, COMPARE_OPTIONS, (_f, what) => {
        if (id === this.latencySeq) this.latency = { kind: 'measuring', what };
      });
      if (this.disposed || id !== this.latencySeq || this.outcome?.result !== o.result) return;
      this.latency = { kind: 'done', timing, comparison: compareLatency(timing.stats, o.report.ratios.macs) };
      this.updateReport();
    } catch (e) {
      if (!this.disposed && id === this.latencySeq) this.latency = { kind: 'error', message: `Could not time the models: ${errLine(e)}.` };
    }
  }

  /** Times both models on every ticked backend, then goes back to the page's backend. */
  async compareBackends(): Promise<void> {
    const o = this.outcome;
    if (!o || this.disposed || this.backends.kind === 'running') return;
    const picked = this.backendOptions.filter((c) => c.picked).map((c) => c.name);
    if (!picked.length) {
      this.backends = { kind: 'error', message: 'Tick at least one backend to compare.' };
      return;
    }
    const id = ++this.backendsSeq;
    const device = DeviceState.of(this.app);
    this.backends = { kind: 'running', fraction: 0, what: 'starting' };
    try {
      const r = await device.client.compare([this.model, o.result.model], this.analysis.graph.inputSize, picked, device.backendName, COMPARE_OPTIONS, (fraction, what) => {
        if (id === this.backendsSeq) this.backends = { kind: 'running', fraction, what };
      });
      if (this.disposed || id !== this.backendsSeq || this.outcome?.result !== o.result) return;
      this.backends = { kind: 'done', rows: r.rows, restored: r.backend.name };
      this.updateReport();
    } catch (e) {
      if (!this.disposed && id === this.backendsSeq) this.backends = { kind: 'error', message: `Could not compare the backends: ${errLine(e)}.` };
    }
  }

  /** report.json again, with the latency measured since (the other files stay as they are). */
  private updateReport(): void {
    const o = this.outcome;
    if (!o || this.latency.kind !== 'done') return;
    const rows = this.backends.kind === 'done' ? this.backends.rows : [];
    const report = { ...o.report, latency: latencyReport(this.latency.timing, o.report.ratios.macs, rows) } as PruneReport;
    const blob = new Blob([JSON.stringify(report, null, 2) + '\n'], { type: 'application/json' });
    const name = this.fileNames.report;
    const fresh = { name, blob, bytes: blob.size };
    const old = o.urls[name];
    const files = o.files.map((f) => (f.name === name ? fresh : f));
    const urls = { ...o.urls, [name]: URL.createObjectURL(fresh.blob) };
    if (old) URL.revokeObjectURL(old);
    this.outcome = { ...o, report, files, urls };
  }

  dismissError(): void {
    if (this.status.kind === 'error') this.status = { kind: 'idle' };
  }

  /** Starts the downloads of the model JSON, its weights and the report (fileNames). */
  downloadAll(): void {
    const o = this.outcome;
    if (!o) return;
    for (const f of o.files) downloadBlob(f.blob, f.name);
  }

  async saveToBrowser(): Promise<void> {
    const o = this.outcome;
    if (!o || this.save.kind === 'saving') return;
    this.save = { kind: 'saving' };
    try {
      const saved = await this.app.exclusive(async () => {
        const r = await saveToIndexedDb(o.result.model, this.storageName);
        if (!(await isStored(r.url))) throw new Error(`${r.url} is not listed by tf.io.listModels() after saving.`);
        return r;
      });
      // A newer prune replaced the outcome meanwhile: its save state is its own.
      // (The outcome object is replaced when latency joins report.json: same result, same save.)
      this.save = this.outcome?.result === o.result ? { kind: 'saved', ...saved } : { kind: 'idle' };
    } catch (e) {
      this.save = this.outcome?.result === o.result ? { kind: 'error', message: `Could not save to browser storage: ${errLine(e)}` } : { kind: 'idle' };
    }
  }

  get fileSnippet(): string {
    return loadSnippet(this.fileNames.model);
  }

  get dbSnippet(): string {
    return loadSnippet(`indexeddb://${this.storageName}`);
  }

  get modelFile(): string {
    return this.fileNames.model;
  }

  get weightsFile(): string {
    return this.fileNames.weights;
  }

  dispose(): void {
    this.disposed = true;
    if (this.outcome && this.app.pruned?.model === this.outcome.result.model) this.app.pruned = null;
    revoke(this.outcome);
  }
}

function revoke(o: PruneOutcome | null): void {
  if (o) for (const u of Object.values(o.urls)) URL.revokeObjectURL(u);
}

/** Runs `m` on the fixed sample input; disposes inputs and outputs. */
async function predictSample(m: tf.LayersModel, shapes: number[][]): Promise<OutputSummary[]> {
  const values = sampleInputs(shapes);
  const inputs = shapes.map((s, i) => tf.tensor(values[i], s, 'float32'));
  let outputs: tf.Tensor[] = [];
  try {
    const out = m.predict(inputs.length === 1 ? inputs[0] : inputs);
    outputs = Array.isArray(out) ? out : [out];
    const summaries: OutputSummary[] = [];
    for (const o of outputs) summaries.push(summarizeOutput(o.shape.slice(), await o.data()));
    return summaries;
  } finally {
    tf.dispose(outputs);
    tf.dispose(inputs);
  }
}
