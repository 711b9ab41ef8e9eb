/**
 * Scores a policy the way AMC does: prune (no fine-tuning), make the pruned model ready with the
 * evaluator (sliced, BatchNorm statistics recomputed, the least-squares refit, or both), build the
 * model, evaluate it on held-out data, dispose it. With labels the error is
 * 1 - top-1 accuracy; without labels it is 1 - top-1 agreement with the original model (the
 * original's outputs are computed once).
 *
 * Latency, when asked for, is timed interleaved with the original (A B A B ..., measureInterleaved)
 * in every episode: on a shared or heating device the absolute median drifts by 10-30% between
 * measurements a minute apart, while the ratio of two models timed side by side stays within a few
 * percent (bench/repeatability.ts, BENCHMARKS.md). The episode's latency is that paired ratio times
 * the original's latency at the start, so every episode is on one scale.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ModelAnalysis } from '../model/analyze';
import type { LoadedModel } from '../model/types';
import { disposeModel, instantiate } from '../model/tfjs-model';
import { evaluateAccuracy, evaluateFidelity, inputTensor, referenceOutputs, type EvalOptions, type ReferenceOutputs } from '../measure/accuracy';
import type { ImportanceCriterion } from '../prune/importance';
import { batchNormUnsupported } from '../prune/batchnorm';
import { makeReady, type ReadyModel } from '../prune/evaluate';
import { usesBatchNorm, withoutBatchNorm, type Evaluator } from '../prune/config';
import { groupImportance, pruneModel, type PruneResult } from '../prune/prune';
import type { FeatureCache } from '../prune/refit';
import { trimGpuPool } from '../measure/gpu-pool';
import { measureInterleaved, measureLatency, type LatencyOptions } from '../measure/latency';
import { SEARCH_TIMING } from './config';
import type { Score, Scorer } from './search';

export interface ScoringData {
  /** Raw RGB bytes, NHWC, `eval.imageSize` square. */
  images: Uint8Array;
  /** Class per image; absent for unlabeled data (fidelity). */
  labels?: Int32Array | number[];
  eval: EvalOptions;
  /** Calibration images of the evaluator (the refit, BatchNorm statistics), as raw bytes like `images`; absent: sliced only. */
  calibration?: Uint8Array;
}

export interface ScorerOptions {
  criterion?: ImportanceCriterion;
  roundTo?: number;
  seed?: number;
  /** Also measure each pruned model's end-to-end latency on the current backend, paired with the original's. */
  latency?: LatencyOptions;
  /**
   * How each pruned model is made ready to score (core/prune/config.ts). Default: `refit` when the
   * data has calibration images, else `slice` (what searches saved before evaluators existed ran).
   */
  evaluator?: Evaluator;
}

/** The evaluator a scorer really runs: the one asked for, less BatchNorm where the model has none. */
export function effectiveEvaluator(analysis: ModelAnalysis, data: Pick<ScoringData, 'calibration'>, asked?: Evaluator): { evaluator: Evaluator; note?: string } {
  const wanted = asked ?? (data.calibration ? 'refit' : 'slice');
  if (wanted !== 'slice' && !data.calibration?.length) throw new Error(`The ${wanted} evaluator needs calibration images, and none were given: give some (amc search --calibration N, or your images in the Data panel), or score policies sliced (--evaluate slice).`);
  const unsupported = usesBatchNorm(wanted) ? batchNormUnsupported(analysis) : undefined;
  if (!unsupported) return { evaluator: wanted };
  const evaluator = withoutBatchNorm(wanted);
  return { evaluator, note: `BatchNorm statistics are not recomputed (${unsupported}): policies are scored ${evaluator === 'slice' ? 'sliced' : 'with the refit alone'}.` };
}

/** Each episode's paired timing: SEARCH_TIMING.episode (config.ts, where its noise figures are). */
export const EPISODE_LATENCY: LatencyOptions = SEARCH_TIMING.episode;

export interface PrunedCandidate extends ReadyModel {
  result: PruneResult;
}

export class EpisodeScorer implements Scorer {
  private readonly importance: Map<string, Float64Array>;
  private reference?: ReferenceOutputs;
  private readonly originalFeatures: FeatureCache = new Map();
  private calibration?: tf.Tensor4D;
  /** The unpruned model, built once, timed beside every episode's model. */
  private original?: tf.LayersModel;
  /** The unpruned model's measured latency at the start, when the scorer measures latency. */
  originalLatencyMs?: number;
  /** The evaluator it runs (effectiveEvaluator), and why it differs from the one asked for. */
  readonly evaluator: Evaluator;
  readonly evaluatorNote?: string;

  private constructor(
    readonly model: LoadedModel,
    readonly analysis: ModelAnalysis,
    readonly data: ScoringData,
    readonly options: ScorerOptions,
  ) {
    this.importance = groupImportance(model, analysis, options.criterion);
    ({ evaluator: this.evaluator, note: this.evaluatorNote } = effectiveEvaluator(analysis, data, options.evaluator));
  }

  static async create(model: LoadedModel, analysis: ModelAnalysis, data: ScoringData, options: ScorerOptions = {}): Promise<EpisodeScorer> {
    const scorer = new EpisodeScorer(model, analysis, data, options);
    if (!data.labels || options.latency) {
      const original = await instantiate(model);
      try {
        if (!data.labels) scorer.reference = await referenceOutputs(original, data.images, data.eval);
        if (options.latency) scorer.originalLatencyMs = (await measureLatency(original, options.latency, analysis.graph.inputSize)).medianMs;
      } finally {
        if (options.latency) scorer.original = original;
        else disposeModel(original);
      }
    }
    return scorer;
  }

  /** The pruned model for a policy of kept counts, made ready by the scorer's evaluator. */
  async prune(keep: ReadonlyMap<string, number>): Promise<PrunedCandidate> {
    const result = pruneModel(this.model, this.analysis, Object.fromEntries(keep), {
      roundTo: this.options.roundTo,
      importance: this.importance,
    });
    if (this.evaluator === 'slice') return { result, model: result.model };
    const { graph } = this.analysis;
    // Built once: every episode is evaluated on the same calibration batch.
    this.calibration ??= inputTensor(graph.tensors.get(graph.inputs[0])!.shape, this.data.calibration!, { ...this.data.eval, limit: undefined });
    const ready = await makeReady(this.model, this.analysis, result, this.evaluator, this.calibration, { seed: this.options.seed, originalFeatures: this.originalFeatures });
    return { result, ...ready };
  }

  /** Frees what the scorer keeps: the calibration batch and, for latency, the original model. */
  dispose(): void {
    this.calibration?.dispose();
    this.calibration = undefined;
    if (this.original) disposeModel(this.original);
    this.original = undefined;
  }

  async score(keep: ReadonlyMap<string, number>): Promise<Score> {
    const t0 = performance.now();
    const candidate = await this.prune(keep);
    const refitMs = candidate.refitMs ?? 0;
    const batchNormMs = candidate.batchNormMs ?? 0;
    const net = await instantiate(candidate.model);
    const t1 = performance.now();
    try {
      let score: Score;
      if (this.data.labels) {
        const a = await evaluateAccuracy(net, this.data.images, this.data.labels, this.data.eval);
        score = { error: 1 - a.top1, top1: a.top1, top5: a.top5 };
      } else {
        const f = await evaluateFidelity(this.reference!, net, this.data.images, this.data.eval);
        score = { error: 1 - f.agreement, agreement: f.agreement, meanKL: f.meanKL };
      }
      const t2 = performance.now();
      if (this.original && this.originalLatencyMs) {
        const [original, pruned] = await measureInterleaved([this.original, net], this.options.latency, this.analysis.graph.inputSize);
        score.latencyMs = (pruned.medianMs / original.medianMs) * this.originalLatencyMs;
        score.originalNowMs = original.medianMs;
      }
      // prune = selection, rebuild and building the tfjs model; refit and BatchNorm are reported on their own.
      const timings: Record<string, number> = { prune: t1 - t0 - refitMs - batchNormMs, evaluate: t2 - t1 };
      if (candidate.refit) timings.refit = refitMs;
      if (candidate.batchNorm) timings.batchNorm = batchNormMs;
      if (this.options.latency) timings.latency = performance.now() - t2;
      return { ...score, timings };
    } finally {
      disposeModel(net);
      // Every episode's new shapes leave GPU buffers in tfjs's pool that no later episode reuses.
      trimGpuPool();
    }
  }
}
