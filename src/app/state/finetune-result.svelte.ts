/**
 * What a fine-tune gives once its best model is back: the comparison of original, pruned and
 * fine-tuned on the Data panel's evaluation images (only images prepared for the run's original),
 * the accuracy of the quantized download, report.json and the export. One per FinetuneState, which
 * owns the run it reads.
 */
import type { BackendName } from '../../core/measure/backends';
import { loadModel } from '../../core/model/load';
import { downloadName, exportBlobs, type ExportFile } from '../../core/export/browser';
import { downloadBlob } from '../lib/download';
import { exportFiles, type Quantization } from '../../core/export/files';
import type { PruneReport } from '../../core/export/report';
import { errLine } from '../../core/errors';
import { modelFilesAsInput, type PlainEvalOptions } from '../../workers/payload';
import { defaultEvalWorker, startEval, type EvalTask, type EvalWorkerFactory } from '../lib/eval-client';
import type { AppState } from './app.svelte';
import type { DataState, PreparedData } from './data.svelte';
import type { FinetuneState } from './finetune.svelte';

/** Accuracy (labels) or top-1 agreement with the original (no labels) of one model on the evaluation images. */
export interface CompareScore {
  top1?: number;
  agreement?: number;
}

export type CompareStatus =
  | { kind: 'idle' }
  | { kind: 'running'; what: string; fraction: number }
  | {
      kind: 'done';
      original: CompareScore;
      pruned: CompareScore;
      finetuned: CompareScore;
      n: number;
      data: string;
      backend: string;
      labeled: boolean;
      /** The run trained on these very images: the comparison flatters the fine-tuned model. */
      trainingImages: boolean;
    }
  | { kind: 'error'; message: string };

export type QuantCheck =
  | { kind: 'idle' }
  | { kind: 'measuring' }
  | { kind: 'done'; quantize: Quantization; score: CompareScore; bytes: number; float32Bytes: number; backend: string }
  | { kind: 'error'; message: string };

/** "demo:test", or the label of the user's images: how the Data panel's images are named in a run and a report. */
export function dataName(p: PreparedData): string {
  return p.source.kind === 'demo' ? `demo:${p.source.split}` : p.source.label;
}

/** What the comparison's steps score, in the order the worker runs them. */
const STEPS = ['original', 'pruned', 'fine-tuned'];

/** Why there is no comparison: the Data panel has no images prepared for the run's original model. */
const NO_EVAL_IMAGES = (what: string) => `Choose evaluation images for this model in the Data panel to ${what}.`;

/** What the result reads of the run on screen. */
export type FinetuneRun = Pick<
  FinetuneState,
  'running' | 'result' | 'resultEpoch' | 'dataImages' | 'trainedOn' | 'info' | 'history' | 'epochBackends' | 'stopReason' | 'epochs' | 'figures'
>;

export class FinetuneResult {
  compare = $state.raw<CompareStatus>({ kind: 'idle' });
  quantize = $state<'none' | Quantization>('none');
  quantCheck = $state.raw<QuantCheck>({ kind: 'idle' });

  /** Makes the evaluation worker (tests run one in process). */
  evalWorker: EvalWorkerFactory = defaultEvalWorker;

  private compareSeq = 0;
  private quantSeq = 0;
  private compareTask: EvalTask | null = null;
  private quantTask: EvalTask | null = null;

  constructor(
    private readonly run: FinetuneRun,
    private readonly app: AppState,
    private readonly data: DataState,
  ) {}

  /** A new run (or none): forgets the comparison and the check, and drops any still under way. */
  reset(): void {
    this.compare = { kind: 'idle' };
    this.quantCheck = { kind: 'idle' };
    this.dropCompare();
    this.dropQuantCheck();
  }

  /** A new best model came back: its quantized check is measured again (at once when the run is done). */
  onResult(done: boolean): void {
    this.dropQuantCheck();
    this.quantCheck = { kind: 'idle' };
    if (this.quantize !== 'none' && done) void this.checkQuantized();
  }

  /**
   * Accuracy (or agreement) of the original, pruned and fine-tuned model on the Data panel's
   * images, in the evaluation worker (src/workers/eval.worker.ts) on the page's backend.
   */
  async evaluate(): Promise<void> {
    const s = this.run.running;
    const fine = this.run.result;
    if (!s || !fine) return;
    // Only images prepared for this run's original: its labels and input size (after "Resume it",
    // "Open it" or another model, the Data panel's images may belong to another model).
    const p = this.run.dataImages;
    if (!p) {
      this.dropCompare();
      this.compare = { kind: 'error', message: NO_EVAL_IMAGES('compare the three models') };
      return;
    }
    this.dropCompare();
    const id = this.compareSeq;
    const set = p.set;
    const labeled = p.kind === 'labeled' && !!set.labels;
    this.compare = { kind: 'running', what: STEPS[0], fraction: 0 };
    // Labeled: the three models' accuracy. Unlabeled: the original's outputs (agreement 1 with
    // itself), then the pruned and fine-tuned models' agreement with them. Three steps either way.
    const task = startEval(
      {
        models: labeled ? [s.teacher, s.student, fine] : [s.student, fine],
        ...(labeled ? { labels: set.labels } : { reference: s.teacher }),
        images: set.images,
        eval: this.evalOptions(p),
      },
      {
        backend: this.pageBackend(),
        factory: this.evalWorker,
        onProgress: (q) => {
          if (id === this.compareSeq) this.compare = { kind: 'running', what: STEPS[q.step] ?? STEPS[2], fraction: (q.step + q.fraction) / q.steps };
        },
      },
    );
    this.compareTask = task;
    try {
      const a = await task.done;
      if (id !== this.compareSeq) return;
      const [original, pruned, finetuned]: CompareScore[] = labeled
        ? a.scores.map((r) => ({ top1: r.top1 }))
        : [{ agreement: 1 }, ...a.scores.map((r) => ({ agreement: r.agreement }))];
      const data = dataName(p);
      const t = this.run.trainedOn;
      const trainingImages = t?.kind === 'images' && t.name === data && t.count === set.n;
      this.compare = { kind: 'done', original, pruned, finetuned, n: set.n, data, backend: a.backend.name, labeled, trainingImages };
      if (this.quantize !== 'none') void this.checkQuantized();
    } catch (e) {
      if (id === this.compareSeq) this.compare = { kind: 'error', message: `Could not compare the models: ${errLine(e)}.` };
    } finally {
      if (this.compareTask === task) this.compareTask = null;
    }
  }

  setQuantize(q: 'none' | Quantization): void {
    this.quantize = q;
    this.quantCheck = { kind: 'idle' };
    if (q !== 'none') void this.checkQuantized();
  }

  /**
   * The quantized fine-tuned model, read back as a download would be, scored on the Data panel's
   * images in the evaluation worker (its top-1, or its agreement with the original).
   */
  async checkQuantized(): Promise<void> {
    const q = this.quantize;
    const fine = this.run.result;
    const s = this.run.running;
    if (q === 'none' || !fine || !s) return;
    const p = this.run.dataImages;
    if (!p) {
      this.dropQuantCheck();
      this.quantCheck = { kind: 'error', message: NO_EVAL_IMAGES('measure the quantized model') };
      return;
    }
    this.dropQuantCheck();
    const id = this.quantSeq;
    this.quantCheck = { kind: 'measuring' };
    try {
      const files = exportFiles(fine, { quantize: q });
      const float32Bytes = exportFiles(fine).weights.byteLength;
      const quantized = await loadModel(modelFilesAsInput(files, `quantized-${q}/model.json`));
      if (id !== this.quantSeq) return;
      const set = p.set;
      const labeled = p.kind === 'labeled' && !!set.labels;
      const task = startEval(
        { models: [quantized], ...(labeled ? { labels: set.labels } : { reference: s.teacher }), images: set.images, eval: this.evalOptions(p) },
        { backend: this.pageBackend(), factory: this.evalWorker },
      );
      this.quantTask = task;
      const a = await task.done.finally(() => {
        if (this.quantTask === task) this.quantTask = null;
      });
      if (id !== this.quantSeq) return;
      const score: CompareScore = labeled ? { top1: a.scores[0].top1 } : { agreement: a.scores[0].agreement };
      this.quantCheck = { kind: 'done', quantize: q, score, bytes: files.weights.byteLength, float32Bytes, backend: a.backend.name };
    } catch (e) {
      if (id === this.quantSeq) this.quantCheck = { kind: 'error', message: `Could not measure the ${q} model: ${errLine(e)}.` };
    }
  }

  /** How the Data panel's images become inputs (its scaling), in batches of 50. */
  private evalOptions(p: PreparedData): PlainEvalOptions {
    return { scaling: this.data.scaling, imageSize: [p.set.height, p.set.width], channels: p.set.channels, batchSize: 50 };
  }

  /** The page's backend, which the evaluation worker uses too. */
  private pageBackend(): BackendName | undefined {
    return this.app.backend?.kind === 'ready' ? this.app.backend.info.name : undefined;
  }

  /** Supersedes the comparison under way: its worker ends and nothing it finds is shown. */
  private dropCompare(): void {
    ++this.compareSeq;
    this.compareTask?.cancel();
    this.compareTask = null;
  }

  private dropQuantCheck(): void {
    ++this.quantSeq;
    this.quantTask?.cancel();
    this.quantTask = null;
  }

  /** report.json of the fine-tuned model: the prune report (when on screen) with the fine-tune's log. */
  report(): PruneReport | undefined {
    const s = this.run.running;
    const info = this.run.info;
    if (!s || !this.run.result) return undefined;
    const base = s.prune?.outcome?.result.model === s.student ? s.prune.outcome.report : undefined;
    const q = this.quantCheck.kind === 'done' && this.quantCheck.quantize === this.quantize ? this.quantCheck : null;
    const c = this.compare.kind === 'done' ? this.compare : null;
    const finetune = {
      student: s.label,
      data: info?.data,
      backend: info?.backend.name,
      epochBackends: this.run.epochBackends,
      epochs: info?.epochs ?? this.run.epochs,
      epochsDone: this.run.history.length - 1,
      bestEpoch: this.run.resultEpoch,
      stopReason: this.run.stopReason,
      // What ran, as the worker set it up (absent when the worker never said: nothing is guessed).
      ...(info ? { config: info.config, images: { train: info.trainImages, heldOut: info.heldOutImages } } : {}),
      history: this.run.history,
      ...(c ? { evaluation: { data: c.data, images: c.n, backend: c.backend, ...(c.trainingImages ? { trainingImages: true } : {}), original: c.original, pruned: c.pruned, finetuned: c.finetuned } } : {}),
      weights: this.quantize === 'none' ? 'float32' : this.quantize,
      ...(q ? { quantized: { weights: q.quantize, score: q.score, bytes: q.bytes, float32Bytes: q.float32Bytes } } : {}),
    };
    const f = this.run.figures;
    const report =
      base ??
      ({
        tool: 'AMC Playground',
        createdAt: new Date().toISOString(),
        source: s.teacher.source,
        ...(this.app.model === s.teacher && this.app.modelName ? { name: this.app.modelName } : {}),
        ...(f ? { original: f.original, pruned: f.pruned, ratios: { macs: f.pruned.macs / f.original.macs, params: f.pruned.params / f.original.params, bytes: f.pruned.bytes / f.original.bytes } } : {}),
      } as unknown as PruneReport);
    return { ...report, finetune } as PruneReport;
  }

  exportFiles(): ExportFile[] {
    const fine = this.run.result;
    if (!fine) return [];
    return exportBlobs(fine, this.report(), { name: this.fileName, ...(this.quantize === 'none' ? {} : { quantize: this.quantize }) });
  }

  /** `<model>-finetuned`, the downloads' names (exportNames): after the original's name, not model.json. */
  get fileName(): string {
    const t = this.run.running?.teacher;
    // A saved run reopened on another model has only its copy of the original ("original/model.json"): plain "model" then.
    return downloadName(t && this.app.model === t && this.app.modelName ? this.app.modelName : 'model', 'finetuned');
  }

  /** Starts the downloads of the fine-tuned model's JSON, its weights and report (`<model>-finetuned.json`, …). */
  download(): void {
    for (const f of this.exportFiles()) downloadBlob(f.blob, f.name);
  }

}
