/**
 * The data panel's state: which images evaluate the model (a demo split, or the user's files),
 * those images prepared for the current model's input (size, channels), the scaling, and the
 * last evaluation of the original model and, when one exists, its pruned version.
 *
 * One direction: source + model -> plan (classes, skipped files) -> decoded bytes at the model's
 * input -> evaluation. A newer request drops the results of an older one (sequence numbers).
 * Evaluation runs in a worker of its own (src/app/lib/eval-client.ts), so the page's main thread
 * only shows its progress; the worker's tensor count after it is the count before it.
 */
import { Cancelled, decodePlan, evenSubsample, MAX_IMAGE_BYTES } from '../../core/data/decode';
import { labelSourceText, labelsOf, planImageFiles, type DataPlan } from '../../core/data/folders';
import { conformImages, defaultScaling, inputSpecOf, type ImageSet, type InputSpec, type ScalingName } from '../../core/data/images';
import { CLASS_NAMES, generateDataset, NUM_CLASSES, SPLIT_SIZES, IMAGE_SIZE, type Dataset } from '../../core/data/procedural';
import type { ModelAnalysis } from '../../core/model/analyze';
import { ModelError } from '../../core/model/errors';
import type { ModelFile } from '../../core/model/files';
import { DEFAULT_INPUT_SIZE } from '../../core/model/graph';
import type { LoadedModel } from '../../core/model/types';
import { decodeBrowserImage, nextFrame } from '../lib/browser-images';
import { defaultEvalWorker, startEval, type EvalTask, type EvalWorkerFactory } from '../lib/eval-client';
import type { ModelScore } from '../../workers/eval-messages';
import { declaredInputShapes } from '../lib/model-info';
import { parseCardAccuracy, type CardAccuracy, type DemoSplit } from '../lib/model-card';
import { outputsOf, toErrorView, type AppState, type ErrorView, type PrunedModel } from './app.svelte';
import { errLine } from '../../core/errors';
import { demoLabelsApply, type DemoLabels } from '../../core/data/demo-labels';
import { fingerprintOf } from './saved-searches.svelte';

export { DEMO_SPLITS, type DemoSplit } from '../lib/model-card';

export type DataSource = { kind: 'demo'; split: DemoSplit } | { kind: 'files'; label: string; files: ModelFile[] };

export interface PreparedData {
  source: DataSource;
  /** The model these bytes were prepared for. */
  model: LoadedModel;
  spec: InputSpec;
  set: ImageSet;
  /** Images available (set.n is smaller when the memory cap subsampled them). */
  total: number;
  kind: 'labeled' | 'unlabeled';
  /** Class name per output index (labeled). */
  classNames: string[];
  /** Images per output index (labeled). */
  counts: number[];
  plan?: DataPlan;
  /** Where the class order comes from, or why the set is unlabeled. */
  labelText: string;
}

export interface EvalRow extends ModelScore {
  which: 'original' | 'pruned';
}

export interface EvalResult {
  rows: EvalRow[];
  prepared: PreparedData;
  scaling: ScalingName;
  model: LoadedModel;
  pruned: LoadedModel | null;
  backend: string;
  tensorsBefore: number;
  tensorsAfter: number;
}

/**
 * Whether the demo dataset's labels are `model`'s own (core/data/demo-labels.ts): the one question
 * every panel asks before scoring a model on the demo images with labels. Only a 10-output model
 * is hashed (its fingerprint names the bundled demo models); the user's opt-in is the Data panel's,
 * for the model it was given for.
 */
export function demoLabelsFor(model: LoadedModel, outputs: number | undefined, data?: DataState | null): DemoLabels {
  const optIn = !!data && data.demoOptInFor === model;
  return demoLabelsApply(outputs, outputs === NUM_CLASSES ? fingerprintOf(model) : undefined, optIn);
}

export type EvalStatus =
  | { kind: 'idle' }
  | { kind: 'running'; fraction: number; what: string }
  | { kind: 'error'; message: string };

/**
 * Demo splits, generated once per page in slices of at most SLICE_MS (about 0.3 ms an image on a
 * laptop, 4x that on a slow phone), yielding between slices so the page answers taps: slices of 200
 * images made the data step's longest tasks on a phone.
 */
const demoCache = new Map<DemoSplit, Promise<Dataset>>();
const SLICE_MS = 12;
const SLICE_STEP = 8;

function demoSplit(split: DemoSplit, onProgress: (f: number) => void): Promise<Dataset> {
  let p = demoCache.get(split);
  if (!p) {
    p = (async () => {
      const size = SPLIT_SIZES[split];
      const whole = generateDataset(split, { count: 0 });
      const images = new Uint8Array(size * IMAGE_SIZE * IMAGE_SIZE * 3);
      const labels = new Int32Array(size);
      let offset = 0;
      while (offset < size) {
        const t0 = performance.now();
        while (offset < size && performance.now() - t0 < SLICE_MS) {
          const part = generateDataset(split, { offset, count: Math.min(SLICE_STEP, size - offset) });
          images.set(part.images, offset * IMAGE_SIZE * IMAGE_SIZE * 3);
          labels.set(part.labels, offset);
          offset += part.N;
        }
        onProgress(offset / size);
        await nextFrame();
      }
      return { ...whole, images, labels, N: size };
    })();
    demoCache.set(split, p);
    p.catch(() => demoCache.delete(split));
  }
  return p;
}

/**
 * Images per batch: small enough that one batch takes a fraction of a second (about 600M MACs),
 * so the worker's progress moves, and holds at most about 1.5M input values; at most 100 images.
 */
export function batchSizeFor(spec: InputSpec, macsPerImage = 0): number {
  const byValues = Math.floor(1_500_000 / (spec.height * spec.width * spec.channels));
  const byMacs = macsPerImage > 0 ? Math.floor(6e8 / macsPerImage) : 100;
  return Math.max(1, Math.min(100, byValues, Math.max(4, byMacs)));
}

export class DataState {
  source = $state.raw<DataSource>({ kind: 'demo', split: 'test' });
  prepared = $state.raw<PreparedData | null>(null);
  preparing = $state<{ fraction: number; what: string } | null>(null);
  error = $state<ErrorView | null>(null);
  scaling = $state<ScalingName>('unit');
  /** True while the scaling is the model's default (not chosen by the user). */
  scalingIsDefault = $state(true);
  status = $state<EvalStatus>({ kind: 'idle' });
  result = $state.raw<EvalResult | null>(null);
  card = $state<CardAccuracy | null>(null);
  /** The model the user said was trained on the demo dataset's classes (the Data panel's opt-in). */
  demoOptInFor = $state.raw<LoadedModel | null>(null);

  private model: LoadedModel | null = null;
  private analysis: ModelAnalysis | null = null;
  private seq = 0;
  private evalSeq = 0;
  private evalTask: EvalTask | null = null;

  /** Makes the evaluation worker (tests run one in process). */
  evalWorker: EvalWorkerFactory = defaultEvalWorker;

  constructor(private readonly app: AppState) {
    app.dataSink = (files) => void this.useFiles(files);
  }

  /** The result, if it still describes the data, scaling and models on screen. */
  get currentResult(): EvalResult | null {
    const r = this.result;
    if (!r || r.prepared !== this.prepared || r.scaling !== this.scaling || r.model !== this.app.model) return null;
    if (r.pruned !== (this.prunedModel?.model ?? null)) return null;
    return r;
  }

  /** The app's pruned model, when it belongs to the model on screen. */
  get prunedModel(): PrunedModel | null {
    const p = this.app.pruned;
    return p && p.original === this.app.model ? p : null;
  }

  /** Called by the panel when the model or its analysis changes: prepares the data for it. */
  attach(model: LoadedModel | null, analysis: ModelAnalysis | null): void {
    if (!model) return;
    const newModel = model !== this.model;
    if (!newModel && analysis === this.analysis) return;
    this.model = model;
    this.analysis = analysis;
    if (newModel) {
      this.cancelEvaluation();
      this.scaling = defaultScaling(model.sidecars);
      this.scalingIsDefault = true;
      this.status = { kind: 'idle' };
      this.error = null;
      void this.loadCard();
    }
    void this.prepare(this.source, false);
  }

  /** Whether the demo labels are the current model's, and why (null: no model analyzed yet). */
  get demoLabels(): DemoLabels | null {
    const model = this.app.model;
    if (!model || !this.app.analysis) return null;
    return demoLabelsFor(model, outputsOf(this.app.analysis), this);
  }

  /** The user says (or unsays) that the model on screen was trained on the demo dataset's classes, in its order. */
  setDemoOptIn(on: boolean): Promise<void> {
    const model = this.app.model;
    if (!model) return Promise.resolve();
    this.demoOptInFor = on ? model : null;
    return this.prepare(this.source, false);
  }

  setScaling(s: ScalingName): void {
    this.scaling = s;
    this.scalingIsDefault = this.model ? s === defaultScaling(this.model.sidecars) : false;
  }

  useDemo(split: DemoSplit): Promise<void> {
    return this.prepare({ kind: 'demo', split }, true);
  }

  /** Files from a drop or the data panel's pickers. */
  useFiles(files: ModelFile[]): Promise<void> {
    const label = files.length === 1 ? files[0].path : `${files.length} files`;
    return this.prepare({ kind: 'files', label, files }, true);
  }

  usePicked(list: FileList | File[]): Promise<void> {
    return this.useFiles(
      Array.from(list).map((f) => ({ path: f.webkitRelativePath || f.name, size: f.size, read: () => f.arrayBuffer() })),
    );
  }

  dismissError(): void {
    this.error = null;
  }

  /** The model's image input and output count, from its analysis (assumed sizes filled in). */
  private modelIo(model: LoadedModel, analysis: ModelAnalysis | null): { spec: InputSpec; outputs?: number } {
    const g = analysis?.graph;
    const inShape = g ? g.tensors.get(g.inputs[0])?.shape : undefined;
    const shape = inShape ?? declaredInputShapes(model)[0] ?? [];
    const assumed = g?.inputSize ?? this.app.inputSize ?? DEFAULT_INPUT_SIZE;
    let spec: InputSpec;
    try {
      spec = inputSpecOf(shape, assumed);
    } catch (e) {
      throw new ModelError(model.source, `${errLine(e)}`, 'Evaluation here works for image classifiers; load one to use the data panel.');
    }
    const out = g ? g.tensors.get(g.outputs[0])?.shape : undefined;
    const outputs = out && out.length === 2 && typeof out[1] === 'number' ? out[1] : undefined;
    return { spec, outputs };
  }

  /**
   * Prepares `source` for the current model. A user's new choice (`userChoice`) that fails keeps
   * the data already there and shows the error; a failure for a new model leaves no data.
   */
  private async prepare(source: DataSource, userChoice: boolean): Promise<void> {
    const model = this.model;
    if (!model) {
      // No model yet: remember the choice; it is prepared when a model arrives.
      if (userChoice) this.source = source;
      return;
    }
    const id = ++this.seq;
    const cancelled = () => id !== this.seq;
    const label = source.kind === 'demo' ? `demo:${source.split}` : source.label;
    this.preparing = { fraction: 0, what: source.kind === 'demo' ? `generating demo:${source.split}` : 'reading the files' };
    if (userChoice) this.error = null;
    try {
      const { spec, outputs } = this.modelIo(model, this.analysis);
      const progress = (fraction: number, what: string) => {
        if (!cancelled()) this.preparing = { fraction, what };
      };
      const prepared =
        source.kind === 'demo' ? await this.prepareDemo(source, model, spec, outputs, progress) : await this.prepareFiles(source, model, spec, outputs, progress, cancelled);
      if (cancelled()) return;
      this.source = source;
      this.prepared = prepared;
      this.error = null;
    } catch (e) {
      if (cancelled() || e instanceof Cancelled) return;
      this.error = toErrorView(e, label, 'Check the images and try again; the model and the rest of the app are unchanged.');
      if (!userChoice) this.prepared = null;
    } finally {
      if (!cancelled()) this.preparing = null;
    }
  }

  private async prepareDemo(
    source: Extract<DataSource, { kind: 'demo' }>,
    model: LoadedModel,
    spec: InputSpec,
    outputs: number | undefined,
    progress: (f: number, what: string) => void,
  ): Promise<PreparedData> {
    const ds = await demoSplit(source.split, (f) => progress(f * 0.8, `generating demo:${source.split}`));
    const per = spec.height * spec.width * spec.channels;
    const keep = evenSubsample(ds.N, Math.floor(MAX_IMAGE_BYTES / per));
    let images: Uint8Array;
    let labels: Int32Array;
    if (keep.length === ds.N && spec.height === IMAGE_SIZE && spec.width === IMAGE_SIZE && spec.channels === 3) {
      images = ds.images;
      labels = ds.labels;
    } else {
      images = new Uint8Array(keep.length * per);
      labels = new Int32Array(keep.length);
      const src = IMAGE_SIZE * IMAGE_SIZE * 3;
      for (let k = 0; k < keep.length; k++) {
        const i = keep[k];
        images.set(conformImages(ds.images.subarray(i * src, (i + 1) * src), 1, IMAGE_SIZE, IMAGE_SIZE, 3, spec), k * per);
        labels[k] = ds.labels[i];
        if (k % 10 === 9) {
          progress(0.8 + (0.2 * k) / keep.length, `resizing to ${spec.height}x${spec.width}`);
          await nextFrame();
        }
      }
    }
    const demo = demoLabelsFor(model, outputs, this);
    const labeled = demo.apply;
    const set: ImageSet = {
      images,
      n: keep.length,
      height: spec.height,
      width: spec.width,
      channels: spec.channels,
      labels: labeled ? labels : undefined,
      classNames: labeled ? [...CLASS_NAMES] : undefined,
      names: keep.map((i) => `demo:${source.split} #${i}`),
    };
    const counts = new Array<number>(NUM_CLASSES).fill(0);
    for (const l of labels) counts[l]++;
    return {
      source,
      model,
      spec,
      set,
      total: ds.N,
      kind: labeled ? 'labeled' : 'unlabeled',
      classNames: labeled ? [...CLASS_NAMES] : [],
      counts: labeled ? counts : [],
      labelText: demo.text,
    };
  }

  private async prepareFiles(
    source: Extract<DataSource, { kind: 'files' }>,
    model: LoadedModel,
    spec: InputSpec,
    outputs: number | undefined,
    progress: (f: number, what: string) => void,
    cancelled: () => boolean,
  ): Promise<PreparedData> {
    const identity = this.app.identity?.model === model ? this.app.identity : null;
    const modelLabels = identity?.classNames?.names ?? labelsOf(model.sidecars['metadata.json']);
    const plan = await planImageFiles(source.files, {
      modelLabels,
      modelLabelsFile: identity?.classNames?.from,
      numOutputs: outputs,
      // Folders named after the demo's classes take its order only when its labels are the model's.
      demoClasses: demoLabelsFor(model, outputs, this).apply,
    });
    const { set, total } = await decodePlan(plan, spec, decodeBrowserImage, { onProgress: progress, pause: nextFrame, cancelled });
    const counts = plan.kind === 'labeled' ? new Array<number>(plan.classNames.length).fill(0) : [];
    if (set.labels) for (const l of set.labels) counts[l]++;
    return {
      source,
      model,
      spec,
      set,
      total,
      kind: plan.kind,
      classNames: plan.classNames,
      counts,
      plan,
      labelText: labelSourceText(plan),
    };
  }

  /** The bundled model's card accuracy, to compare with what Evaluate gives. */
  private async loadCard(): Promise<void> {
    this.card = null;
    const demo = this.app.source?.kind === 'builtin' ? this.app.source.demo : undefined;
    if (!demo) return;
    const model = this.model;
    try {
      const url = new URL(import.meta.env.BASE_URL + `models/${demo}/README.md`, globalThis.location?.href).href;
      const res = await fetch(url);
      if (!res.ok || this.model !== model) return;
      const card = parseCardAccuracy(await res.text());
      if (this.model === model && Object.keys(card).length) this.card = card;
    } catch {
      // no card: nothing to compare with
    }
  }

  /**
   * Evaluates the original model and, when one exists, the pruned model on the prepared data, in
   * the evaluation worker (src/workers/eval.worker.ts) on the page's backend: the page only shows
   * the progress.
   */
  async evaluate(): Promise<void> {
    const prepared = this.prepared;
    const model = this.app.model;
    if (!prepared || !model || prepared.model !== model || this.status.kind === 'running') return;
    const pruned = this.prunedModel?.model ?? null;
    const scaling = this.scaling;
    const id = ++this.evalSeq;
    const { set } = prepared;
    const labeled = prepared.kind === 'labeled' && !!set.labels;
    this.status = { kind: 'running', fraction: 0, what: 'starting' };
    // Labeled: the accuracy of each model. Unlabeled: the original's outputs, then the pruned model's fidelity to them.
    const task = startEval(
      {
        models: labeled ? [model, ...(pruned ? [pruned] : [])] : pruned ? [pruned] : [],
        ...(labeled ? { labels: set.labels } : { reference: model }),
        images: set.images,
        eval: { scaling, imageSize: [set.height, set.width], channels: set.channels, batchSize: batchSizeFor(prepared.spec, this.app.analysis?.cost.totalMacs) },
      },
      {
        backend: this.app.backend.kind === 'ready' ? this.app.backend.info.name : undefined,
        factory: this.evalWorker,
        onProgress: (p) => {
          if (id === this.evalSeq) this.status = { kind: 'running', fraction: (p.step + p.fraction) / p.steps, what: `${p.step === 0 ? 'original' : 'pruned'} model: ${p.what}` };
        },
      },
    );
    this.evalTask = task;
    try {
      const a = await task.done;
      if (id !== this.evalSeq) return;
      const rows: EvalRow[] = labeled
        ? a.scores.map((r, i) => ({ which: i === 0 ? 'original' : 'pruned', top1: r.top1, top5: r.top5, n: r.n, ms: r.ms }))
        : [
            { which: 'original', n: a.reference?.n ?? 0, ms: a.reference?.ms ?? 0 },
            ...a.scores.map((f): EvalRow => ({ which: 'pruned', agreement: f.agreement, meanKL: f.meanKL, n: f.n, ms: f.ms })),
          ];
      this.result = { rows, prepared, scaling, model, pruned, backend: a.backend.name, tensorsBefore: a.tensorsBefore, tensorsAfter: a.tensorsAfter };
      this.status = { kind: 'idle' };
    } catch (e) {
      if (id !== this.evalSeq) return;
      // Another model was loaded meanwhile: nothing to report about this one.
      if (this.app.model !== model) this.status = { kind: 'idle' };
      else this.status = { kind: 'error', message: `${errLine(e).replace(/\.$/, '')}. Try another backend or other data; the model is unchanged.` };
    } finally {
      if (this.evalTask === task) this.evalTask = null;
    }
  }

  /** Drops the evaluation under way (a new model came): its worker ends, nothing it finds is shown. */
  private cancelEvaluation(): void {
    ++this.evalSeq;
    this.evalTask?.cancel();
    this.evalTask = null;
  }

  dismissEvalError(): void {
    if (this.status.kind === 'error') this.status = { kind: 'idle' };
  }
}
