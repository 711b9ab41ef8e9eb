/**
 * The inspector's state: which backend runs, what is loading, the loaded model, its analysis,
 * and the warm-up prediction that proves the model runs here.
 *
 * One direction: files -> loadModel -> analyzeModel -> instantiate + warm-up. Each new load bumps
 * `generation`; results of an older load are dropped. All tfjs work goes through one queue so a
 * backend switch never races a prediction, and every tensor made here is disposed.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, isBackendName, type BackendInfo, type BackendName } from '../../core/measure/backends';
import { ModelError } from '../../core/model/errors';
import { filesFromBrowser, filesFromUrl, type ModelFile } from '../../core/model/files';
import { loadModel } from '../../core/model/load';
import { sidecarsFromUrl } from '../../core/model/url-sidecars';
import { keepOutputs } from '../../core/model/outputs';
import { analyzeModel, type ModelAnalysis } from '../../core/model/analyze';
import { disposeModel, instantiate } from '../../core/model/tfjs-model';
import { checkBackend, isBackendFailure, resetBackend } from '../../core/measure/backend-health';
import { TimeoutError, withTimeout } from '../lib/timeout';
import { DEFAULT_INPUT_SIZE } from '../../core/model/graph';
import type { LoadedModel } from '../../core/model/types';
import { wasmPaths } from '../../workers/wasm-paths';
import { ByteProgress, type ByteCounter } from '../lib/progress';
import { dynamicInputs } from '../lib/model-info';
import { isImageData } from '../lib/drop';
import type { PruneState } from './prune.svelte';
import { errLine } from '../../core/errors';
import { fitClassNames, modelClassNames, modelDisplayName, type ClassNames } from '../../core/model/identity';

/**
 * The bundled model the app opens on: models/<name>/ (trained on the demo dataset, with a card).
 * The one line to change when another demo model should greet users.
 */
export const DEFAULT_DEMO_MODEL = 'mobilenet-like';

/** Bundled models that `?demo=<name>` can open (models/<name>/model.json). */
export const DEMO_MODELS = ['mobilenet-like', 'resnet-like', 'plain-cnn', 'builtin'] as const;
export type DemoModelName = (typeof DEMO_MODELS)[number];

export function isDemoModel(s: unknown): s is DemoModelName {
  return typeof s === 'string' && (DEMO_MODELS as readonly string[]).includes(s);
}

/**
 * The longest a load may take (reading and checking the files, then building the model in
 * TensorFlow.js) and, separately, its first prediction, before it is reported as too slow and
 * dropped. Generous: a large Teachable Machine model takes a few seconds on a phone.
 */
export const LOAD_TIMEOUT_MS = 60_000;

export const demoModelPath = (name: string) => `models/${name}/model.json`;
/** Path of the default model, relative to the app's base URL. */
export const BUILTIN_MODEL_PATH = demoModelPath(DEFAULT_DEMO_MODEL);

export interface ErrorView {
  /** The file named by the error (or where it came from). */
  file: string;
  problem: string;
  fix: string;
  /** The whole one-line message, for copying. */
  message: string;
}

export type LoadState =
  | { kind: 'idle' }
  | { kind: 'loading'; label: string; what: string; fraction: number; bytes: ByteCounter }
  | { kind: 'error'; label: string; error: ErrorView }
  | { kind: 'loaded' };

export type RunState =
  | { kind: 'idle' }
  | { kind: 'running'; backend: string }
  | { kind: 'ok'; backend: string; inputShapes: number[][]; outputShapes: number[][]; ms: number; tensors: number }
  | { kind: 'error'; backend: string; message: string };

export type BackendState =
  | { kind: 'starting'; requested?: BackendName }
  | { kind: 'ready'; info: BackendInfo }
  | { kind: 'error'; message: string };

/** Where the current model came from, for the header of the model view. */
export interface SourceInfo {
  kind: 'builtin' | 'url' | 'files';
  label: string;
  /** The bundled model's name (models/<demo>/), for kind 'builtin'. */
  demo?: string;
  /** The model's name for people (core/model/identity.ts): its folder, Teachable Machine name or URL. */
  name?: string;
}

/** What the loaded model is called, and what its classes are called, from the files that came with it. */
export interface ModelIdentity {
  model: LoadedModel;
  name: string;
  /** From metadata.json `labels`, labels.txt or class_names.txt beside model.json, when their count fits the outputs. */
  classNames?: ClassNames;
  /** Why class names that came with the model are not used. */
  classNamesProblem?: string;
}

/** Number of classes of a classifier's first output ([batch, classes]), if that is its shape. */
export function outputsOf(analysis: ModelAnalysis | null | undefined): number | undefined {
  const g = analysis?.graph;
  const shape = g ? g.tensors.get(g.outputs[0])?.shape : undefined;
  return shape && shape.length === 2 && typeof shape[1] === 'number' ? shape[1] : undefined;
}

/** The latest pruned version of a model, set by the prune panel, for evaluation. */
export interface PrunedModel {
  original: LoadedModel;
  model: LoadedModel;
  /** Where it was made, for the fine-tune panel: "Prune panel, 49.6% of MACs", "search episode 12". */
  label?: string;
  /** The prune panel's state that shows it (its report and measured latency). */
  prune?: PruneState;
}

export function toErrorView(
  e: unknown,
  fallbackFile: string,
  fix = 'Check that these are the files of a TensorFlow.js LayersModel (model.json and its .bin weight files), then try again.',
): ErrorView {
  if (e instanceof ModelError) {
    return { file: e.file, problem: e.problem, fix: e.fix, message: e.message };
  }
  const message = e instanceof Error ? e.message : String(e);
  const firstLine = errLine(e);
  return {
    file: fallbackFile,
    problem: firstLine || 'Unknown error.',
    fix,
    message: `${fallbackFile}: ${firstLine}`,
  };
}

export class AppState {
  backend = $state<BackendState>({ kind: 'starting' });
  load = $state<LoadState>({ kind: 'idle' });
  source = $state<SourceInfo | null>(null);
  /** Large plain data (typed arrays, Maps): not deeply reactive. */
  model = $state.raw<LoadedModel | null>(null);
  analysis = $state.raw<ModelAnalysis | null>(null);
  analysisError = $state<ErrorView | null>(null);
  /** Spatial size used for null height/width; null = the analyzer's default. */
  inputSize = $state<number | null>(null);
  run = $state<RunState>({ kind: 'idle' });
  /** The loaded model's name and class names (set with `model`). */
  identity = $state.raw<ModelIdentity | null>(null);
  /** The pruned version of `model` made last (null when none, or when it belongs to another model). */
  pruned = $state.raw<PrunedModel | null>(null);
  /** The fine-tune panel's best model so far, and the pruned model it was trained from. */
  finetuned = $state.raw<{ student: LoadedModel; epoch: number } | null>(null);

  /** Where dropped or picked image data goes (the data panel), instead of the model loader. */
  dataSink: ((files: ModelFile[]) => void) | null = null;

  /** The model's name for people, wherever it is shown (card, saved searches, exports, reports). */
  get modelName(): string {
    return this.source?.name ?? (this.identity && this.identity.model === this.model ? this.identity.name : undefined) ?? this.model?.source ?? '';
  }

  /** True when the model has unknown spatial dimensions, so an input size is assumed. */
  readonly isDynamic = $derived(this.model ? dynamicInputs(this.model) : false);

  /** LOAD_TIMEOUT_MS; tests may shorten it. */
  loadTimeoutMs = LOAD_TIMEOUT_MS;

  private generation = 0;
  private runSeq = 0;
  private tfQueue: Promise<unknown> = Promise.resolve();
  private tfModel: tf.LayersModel | null = null;
  private tfModelSource: LoadedModel | null = null;

  /** Runs tfjs work one piece at a time. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tfQueue.then(fn, fn);
    this.tfQueue = next.catch(() => undefined);
    return next;
  }

  /** First open: backend from ?backend=, model from ?url=, ?demo=<bundled model> or the default demo model. */
  async start(search: string = globalThis.location?.search ?? ''): Promise<void> {
    const params = new URLSearchParams(search);
    const requested = params.get('backend');
    await this.switchBackend(isBackendName(requested) ? requested : undefined, false);
    const url = params.get('url');
    const demo = params.get('demo');
    if (url) await this.loadUrl(url, 'url');
    else if (this.model === null && this.load.kind !== 'loading') await this.loadBuiltin(isDemoModel(demo) ? demo : DEFAULT_DEMO_MODEL);
  }

  async switchBackend(preferred?: BackendName, rerun = true): Promise<void> {
    this.backend = { kind: 'starting', requested: preferred };
    try {
      const info = await this.exclusive(async () => {
        // Weights live on the old backend: rebuild the tfjs model on the new one.
        this.disposeTfModel();
        return initBackend(preferred, wasmPaths);
      });
      this.backend = { kind: 'ready', info };
    } catch (e) {
      this.backend = { kind: 'error', message: `${errLine(e)}. Pick another backend from the menu.` };
      return;
    }
    if (rerun && this.model) await this.runCheck();
  }

  /** A bundled model (the default demo model unless named). */
  loadBuiltin(name: string = DEFAULT_DEMO_MODEL): Promise<void> {
    const url = new URL(import.meta.env.BASE_URL + demoModelPath(name), globalThis.location?.href).href;
    return this.loadUrl(url, 'builtin', name);
  }

  async loadUrl(url: string, kind: 'url' | 'builtin' = 'url', demo?: string): Promise<void> {
    const gen = ++this.generation;
    const label = kind === 'builtin' ? 'built-in demo model' : url;
    const progress = new ByteProgress((bytes) => this.progress(gen, label, bytes));
    this.startLoading(label, progress.counter);
    let files: ModelFile[];
    // A model from a URL brings its metadata.json / labels.txt / class_names.txt as a dropped folder does;
    // the bundled demo models have none (their classes are the demo dataset's), so nothing is asked for them.
    const sidecars = kind === 'url' ? sidecarsFromUrl(url) : Promise.resolve([]);
    try {
      files = [...(await filesFromUrl(url, progress.fetch)), ...(await sidecars)];
    } catch (e) {
      if (gen === this.generation) this.fail(label, e, url);
      return;
    }
    const source: SourceInfo = kind === 'builtin' ? { kind, label: `Built-in demo: ${demo ?? DEFAULT_DEMO_MODEL}`, demo: demo ?? DEFAULT_DEMO_MODEL } : { kind, label: url };
    await this.finishLoad(gen, label, files, source, progress);
  }

  /** From an <input type=file> (files or a folder). */
  loadPicked(list: FileList | File[]): Promise<void> {
    return this.loadFiles(filesFromBrowser(Array.from(list)));
  }

  async loadFiles(files: ModelFile[]): Promise<void> {
    // Images without weight files are data for the data panel, not a model.
    if (this.dataSink && isImageData(files)) {
      this.dataSink(files);
      return;
    }
    const gen = ++this.generation;
    const label = files.length === 1 ? files[0].path : `${files.length} files`;
    const progress = new ByteProgress((bytes) => this.progress(gen, label, bytes));
    this.startLoading(label, progress.counter);
    if (files.length === 0) {
      this.fail(label, new ModelError('(nothing)', 'No files were dropped or selected.', 'Drop model.json with its .bin weight files, or the folder that holds them.'), label);
      return;
    }
    const wrapped = progress.wrapFiles(files);
    await this.finishLoad(gen, label, wrapped, { kind: 'files', label }, progress);
  }

  /**
   * A model that exposes several outputs (a visualisation export freezes every group that reaches
   * one), cut to the outputs the user keeps: the others, and the layers only they needed, are
   * dropped (core/model/outputs.ts), and the page goes on with that model, as `--outputs` does.
   */
  async keepOnlyOutputs(names: readonly string[]): Promise<void> {
    const current = this.model;
    if (!current) return;
    const gen = ++this.generation;
    const label = this.identity?.name ?? current.source;
    let model: LoadedModel;
    try {
      model = keepOutputs(current, names);
      await this.exclusive(() => this.buildLoaded(gen, model, current.source));
    } catch (e) {
      if (gen === this.generation) this.fail(label, e, current.source);
      await this.recoverBackend(e);
      return;
    }
    if (gen !== this.generation) return;
    this.model = model;
    if (this.identity) this.identity = { ...this.identity, model };
    this.load = { kind: 'loaded' };
    this.analyze(model);
    await this.runCheck();
  }

  async setInputSize(size: number | null): Promise<void> {
    if (size !== null && (!Number.isFinite(size) || size < 1 || size > 4096)) return;
    this.inputSize = size === null ? null : Math.round(size);
    if (!this.model) return;
    this.analyze(this.model);
    await this.runCheck();
  }

  /** An error from outside the loader (e.g. a dropped folder that could not be read). */
  reportError(label: string, e: unknown): void {
    ++this.generation;
    this.fail(label, e, label);
  }

  dismissError(): void {
    if (this.load.kind === 'error') this.load = this.model ? { kind: 'loaded' } : { kind: 'idle' };
  }

  private startLoading(label: string, bytes: ByteCounter): void {
    this.load = { kind: 'loading', label, what: 'starting', fraction: 0, bytes: { ...bytes } };
  }

  private progress(gen: number, label: string, bytes: ByteCounter, what?: string, fraction?: number): void {
    if (gen !== this.generation) return;
    const prev = this.load.kind === 'loading' ? this.load : undefined;
    this.load = {
      kind: 'loading',
      label,
      what: what ?? prev?.what ?? 'reading',
      fraction: fraction ?? prev?.fraction ?? 0,
      bytes,
    };
  }

  private fail(label: string, e: unknown, file: string): void {
    this.load = { kind: 'error', label, error: toErrorView(e, file) };
  }

  private async finishLoad(gen: number, label: string, files: ModelFile[], source: SourceInfo, progress: ByteProgress): Promise<void> {
    let model: LoadedModel;
    let names: Awaited<ReturnType<typeof modelClassNames>>;
    // What a refusal without a file of its own names: the model's JSON among the files, else the drop.
    const named = files.find((f) => /\.json$/i.test(f.path))?.path ?? label;
    try {
      // Everything is checked before anything is allocated (core/model/validate.ts); tfjs builds the
      // model below, once, on the tfjs queue: after the backend is chosen (start() and any switch
      // run there first), never during a switch.
      model = await withTimeout(
        loadModel(files, (fraction, what) => this.progress(gen, label, { ...progress.counter }, what, fraction), { build: false }),
        this.loadTimeoutMs,
        () => this.tooSlow(named, 'to read and check'),
      );
      if (gen !== this.generation) return;
      // Class names beside model.json (labels.txt, class_names.txt) are read before the model shows,
      // so the data panel plans the user's folders with them.
      names = await modelClassNames(files, model.source, model.sidecars).catch(() => ({}) as Awaited<ReturnType<typeof modelClassNames>>);
      if (gen !== this.generation) return;
      this.progress(gen, label, { ...progress.counter }, 'checking that TensorFlow.js builds it', 1);
      await this.exclusive(() => this.buildLoaded(gen, model, named));
    } catch (e) {
      if (gen === this.generation) this.fail(label, e, named);
      await this.recoverBackend(e);
      return;
    }
    if (gen !== this.generation) return;
    // The loader found model.json by content: the name comes from its path, metadata or URL.
    const name = modelDisplayName({ kind: source.kind, path: source.kind === 'files' ? model.source : source.kind === 'url' ? source.label : model.source, sidecars: model.sidecars, demo: source.demo });
    this.model = model;
    this.source = source.kind === 'files' ? { kind: 'files', label: model.source, name } : { ...source, name };
    this.identity = { model, name, ...names };
    this.inputSize = null;
    this.load = { kind: 'loaded' };
    this.analyze(model);
    // Names whose count differs from the outputs would put the wrong name on a class.
    if (this.identity.classNames) {
      const fit = fitClassNames(this.identity.classNames, outputsOf(this.analysis));
      if (fit.problem) this.identity = { model, name, classNamesProblem: fit.problem };
    }
    await this.runCheck();
  }

  /**
   * The trial build, on the tfjs queue: a model tfjs refuses is refused here with a one-line
   * ModelError (what the failed build made is disposed by instantiate); one it builds becomes the
   * page's instance, reused by the warm-up and the panels. A build past the time limit is reported,
   * and disposed when it finally ends.
   */
  private async buildLoaded(gen: number, model: LoadedModel, file: string): Promise<void> {
    const built = await withTimeout(instantiate(model), this.loadTimeoutMs, () => this.tooSlow(file, 'to build in TensorFlow.js'), (late) => this.disposeQuietly(late));
    if (gen !== this.generation) {
      this.disposeQuietly(built);
      return;
    }
    this.disposeTfModel();
    this.tfModel = built;
    this.tfModelSource = model;
  }

  private tooSlow(file: string, what: string): ModelError {
    return new ModelError(
      file,
      `took longer than ${Math.round(this.loadTimeoutMs / 1000)} s ${what}, so loading it was stopped.`,
      'Check the input shape and layer sizes in model.json (a model this slow to load is too slow to prune here), or try another backend from the menu.',
    );
  }

  /**
   * After a failed load or prediction: when the backend in use no longer computes, or the error
   * says the backend itself failed (WASM "memory access out of bounds", a lost GPU device), the
   * broken instance is replaced by a fresh one (or the next backend), so the next model loads.
   */
  private recoverBackend(e: unknown): Promise<void> {
    if (e instanceof TimeoutError) return Promise.resolve();
    return this.exclusive(async () => {
      const problem = (await checkBackend()) ?? (isBackendFailure(e) ? errLine(e) : null);
      if (!problem) return;
      // Weights on the broken instance go with it; the model is built again at its next use.
      this.disposeTfModel();
      try {
        this.backend = { kind: 'ready', info: await resetBackend(problem, wasmPaths) };
      } catch (err) {
        this.backend = { kind: 'error', message: `${errLine(err)}. Pick another backend from the menu, or reload the page.` };
      }
    });
  }

  private disposeQuietly(m: tf.LayersModel): void {
    try {
      disposeModel(m);
    } catch {
      // Its backend is gone or broken: nothing left to free there.
    }
  }

  private analyze(model: LoadedModel): void {
    try {
      this.analysis = analyzeModel(model, this.inputSize === null ? undefined : { inputSize: this.inputSize });
      this.analysisError = null;
    } catch (e) {
      this.analysis = null;
      this.analysisError = toErrorView(e, model.source, 'The model loaded but could not be analyzed: this is a bug in AMC Playground; please report it with the model.json.');
    }
  }

  /**
   * Runs `fn` on the tfjs queue with `model` built in tfjs (the warm-up's instance, reused) and the
   * input shapes the warm-up used. Refuses when another model was loaded meanwhile.
   */
  withTfModel<T>(model: LoadedModel, fn: (m: tf.LayersModel, inputShapes: number[][]) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      if (this.model !== model) throw new Error('Another model was loaded meanwhile; prune it again.');
      if (!this.tfModel || this.tfModelSource !== model) {
        this.disposeTfModel();
        this.tfModel = await instantiate(model);
        this.tfModelSource = model;
      }
      return fn(this.tfModel, this.warmupShapes(this.tfModel));
    });
  }

  private disposeTfModel(): void {
    if (this.tfModel) this.disposeQuietly(this.tfModel);
    this.tfModel = null;
    this.tfModelSource = null;
  }

  /** Input shapes for the warm-up: batch 1, unknown sizes as the analysis assumed them. */
  private warmupShapes(m: tf.LayersModel): number[][] {
    const graph = this.analysis?.graph;
    const graphInputs = graph?.layers.filter((l) => l.className === 'InputLayer') ?? [];
    return m.inputs.map((input, i) => {
      const name = m.inputLayers[i]?.name;
      const known = (graphInputs.find((l) => l.name === name) ?? graphInputs[i])?.outputShape;
      return input.shape.map((d, axis) => {
        if (axis === 0) return 1;
        if (d !== null && d !== undefined) return d;
        const assumed = known?.[axis];
        if (typeof assumed === 'number' && assumed > 0) return assumed;
        return graph?.inputSize ?? this.inputSize ?? DEFAULT_INPUT_SIZE;
      });
    });
  }

  /** Instantiates the model in tfjs and runs one prediction on zeros, on the backend in use. */
  private async runCheck(): Promise<void> {
    const model = this.model;
    if (!model) return;
    const id = ++this.runSeq;
    const current = () => id === this.runSeq && this.model === model;
    this.run = { kind: 'running', backend: tf.getBackend() ?? 'none' };
    let failure: unknown;
    const result = await this.exclusive(async (): Promise<RunState> => {
      const name = tf.getBackend() ?? 'none';
      if (!current()) return { kind: 'idle' };
      const inputs: tf.Tensor[] = [];
      let outputs: tf.Tensor[] = [];
      try {
        if (!this.tfModel || this.tfModelSource !== model) {
          this.disposeTfModel();
          this.tfModel = await instantiate(model);
          this.tfModelSource = model;
        }
        const m = this.tfModel;
        const inputShapes = this.warmupShapes(m);
        for (const s of inputShapes) inputs.push(tf.zeros(s));
        // Let the page paint "running" before a possibly long first prediction on the main thread.
        await new Promise((r) => setTimeout(r, 0));
        const t0 = performance.now();
        const out = m.predict(inputs.length === 1 ? inputs[0] : inputs);
        outputs = Array.isArray(out) ? out : [out];
        const made = outputs;
        await withTimeout(
          Promise.all(made.map((o) => o.data())),
          this.loadTimeoutMs,
          () => new TimeoutError(`one prediction took longer than ${Math.round(this.loadTimeoutMs / 1000)} s, so it was stopped`),
          () => tf.dispose(made),
        );
        const ms = performance.now() - t0;
        const outputShapes = outputs.map((o) => o.shape.slice());
        tf.dispose(outputs);
        tf.dispose(inputs);
        outputs = [];
        return { kind: 'ok', backend: name, inputShapes, outputShapes, ms, tensors: tf.memory().numTensors };
      } catch (e) {
        // Outputs still being read are disposed when the read ends (withTimeout's late).
        if (!(e instanceof TimeoutError)) tf.dispose(outputs);
        tf.dispose(inputs);
        failure = e;
        return { kind: 'error', backend: name, message: `${errLine(e)}. Try another backend from the menu, or a smaller input size.` };
      }
    });
    if (current() && result.kind !== 'idle') this.run = result;
    if (failure !== undefined) await this.recoverBackend(failure);
  }
}
