/**
 * What a fine-tune gives once its best model is back: the comparison of original, pruned and
 * fine-tuned on the Data panel's evaluation images (only images prepared for the run's original),
 * the accuracy of the quantized download, report.json and the export. One per FinetuneState, which
 * owns the run it reads.
 */
import * as tf from '@tensorflow/tfjs';
import { evaluateAccuracy, evaluateFidelity, referenceOutputs, type EvalOptions } from '../../core/measure/accuracy';
import { disposeModel, instantiate } from '../../core/model/tfjs-model';
import { loadModel } from '../../core/model/load';
import type { LoadedModel } from '../../core/model/types';
import { downloadName, exportBlobs, type ExportFile } from '../../core/export/browser';
import { downloadBlob } from '../lib/download';
import { exportFiles, type Quantization } from '../../core/export/files';
import type { PruneReport } from '../../core/export/report';
import { errLine } from '../../core/errors';
import { modelFilesAsInput } from '../../workers/payload';
import { nextFrame } from '../lib/browser-images';
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

  private compareSeq = 0;
  private quantSeq = 0;

  constructor(
    private readonly run: FinetuneRun,
    private readonly app: AppState,
    private readonly data: DataState,
  ) {}

  /** A new run (or none): forgets the comparison and the check, and drops any still under way. */
  reset(): void {
    this.compare = { kind: 'idle' };
    this.quantCheck = { kind: 'idle' };
    ++this.compareSeq;
    ++this.quantSeq;
  }

  /** A new best model came back: its quantized check is measured again (at once when the run is done). */
  onResult(done: boolean): void {
    ++this.quantSeq;
    this.quantCheck = { kind: 'idle' };
    if (this.quantize !== 'none' && done) void this.checkQuantized();
  }

  /** Accuracy (or agreement) of the original, pruned and fine-tuned model on the Data panel's images. */
  async evaluate(): Promise<void> {
    const s = this.run.running;
    const fine = this.run.result;
    if (!s || !fine) return;
    // Only images prepared for this run's original: its labels and input size (after "Resume it",
    // "Open it" or another model, the Data panel's images may belong to another model).
    const p = this.run.dataImages;
    if (!p) {
      ++this.compareSeq;
      this.compare = { kind: 'error', message: NO_EVAL_IMAGES('compare the three models') };
      return;
    }
    const id = ++this.compareSeq;
    const set = p.set;
    const labeled = p.kind === 'labeled' && !!set.labels;
    const opts: EvalOptions = { scaling: this.data.scaling, imageSize: [set.height, set.width], channels: set.channels, batchSize: 50, pause: nextFrame };
    const models: [keyof Pick<Extract<CompareStatus, { kind: 'done' }>, 'original' | 'pruned' | 'finetuned'>, LoadedModel][] = [
      ['original', s.teacher],
      ['pruned', s.student],
      ['finetuned', fine],
    ];
    this.compare = { kind: 'running', what: 'original', fraction: 0 };
    try {
      const scores = await this.app.exclusive(async () => {
        const out: Record<string, CompareScore> = {};
        let ref: Awaited<ReturnType<typeof referenceOutputs>> | null = null;
        for (let i = 0; i < models.length; i++) {
          const [which, model] = models[i];
          if (id !== this.compareSeq) throw new Error('superseded');
          this.compare = { kind: 'running', what: which === 'finetuned' ? 'fine-tuned' : which, fraction: i / models.length };
          const m = await instantiate(model);
          try {
            if (labeled) out[which] = { top1: (await evaluateAccuracy(m, set.images, set.labels!, opts)).top1 };
            else if (!ref) {
              ref = await referenceOutputs(m, set.images, opts);
              out[which] = { agreement: 1 };
            } else out[which] = { agreement: (await evaluateFidelity(ref, m, set.images, opts)).agreement };
          } finally {
            disposeModel(m);
          }
        }
        return out;
      });
      if (id !== this.compareSeq) return;
      const data = dataName(p);
      const t = this.run.trainedOn;
      const trainingImages = t?.kind === 'images' && t.name === data && t.count === set.n;
      this.compare = { kind: 'done', original: scores.original, pruned: scores.pruned, finetuned: scores.finetuned, n: set.n, data, backend: tf.getBackend() ?? 'none', labeled, trainingImages };
      if (this.quantize !== 'none') void this.checkQuantized();
    } catch (e) {
      if (id === this.compareSeq) this.compare = { kind: 'error', message: `Could not compare the models: ${errLine(e)}.` };
    }
  }

  setQuantize(q: 'none' | Quantization): void {
    this.quantize = q;
    this.quantCheck = { kind: 'idle' };
    if (q !== 'none') void this.checkQuantized();
  }

  /** The quantized fine-tuned model, read back as a download would be, scored on the Data panel's images. */
  async checkQuantized(): Promise<void> {
    const q = this.quantize;
    const fine = this.run.result;
    const s = this.run.running;
    if (q === 'none' || !fine || !s) return;
    const p = this.run.dataImages;
    if (!p) {
      ++this.quantSeq;
      this.quantCheck = { kind: 'error', message: NO_EVAL_IMAGES('measure the quantized model') };
      return;
    }
    const id = ++this.quantSeq;
    this.quantCheck = { kind: 'measuring' };
    try {
      const files = exportFiles(fine, { quantize: q });
      const float32Bytes = exportFiles(fine).weights.byteLength;
      const quantized = await loadModel(modelFilesAsInput(files, `quantized-${q}/model.json`));
      const set = p.set;
      const labeled = p.kind === 'labeled' && !!set.labels;
      const opts: EvalOptions = { scaling: this.data.scaling, imageSize: [set.height, set.width], channels: set.channels, batchSize: 50, pause: nextFrame };
      const score = await this.app.exclusive(async (): Promise<CompareScore> => {
        const m = await instantiate(quantized);
        try {
          if (labeled) return { top1: (await evaluateAccuracy(m, set.images, set.labels!, opts)).top1 };
          const t = await instantiate(s.teacher);
          try {
            return { agreement: (await evaluateFidelity(t, m, set.images, opts)).agreement };
          } finally {
            disposeModel(t);
          }
        } finally {
          disposeModel(m);
        }
      });
      if (id !== this.quantSeq) return;
      this.quantCheck = { kind: 'done', quantize: q, score, bytes: files.weights.byteLength, float32Bytes, backend: tf.getBackend() ?? 'none' };
    } catch (e) {
      if (id === this.quantSeq) this.quantCheck = { kind: 'error', message: `Could not measure the ${q} model: ${errLine(e)}.` };
    }
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
