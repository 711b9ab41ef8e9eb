/**
 * A pruned model made ready to use without fine-tuning, by an evaluator (config.ts): the refit
 * (refit.ts), BatchNorm statistics recomputed (batchnorm.ts), both, or neither. What a search does
 * to every episode's model and what the page's Prune panel does to a policy chosen by hand.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ModelAnalysis } from '../model/analyze';
import type { LoadedModel } from '../model/types';
import { recalibrateBatchNorm, type BatchNormReport } from './batchnorm';
import { usesBatchNorm, usesRefit, type Evaluator } from './config';
import { analyzePruned, type PruneResult } from './prune';
import { refitPruned, type RefitOptions, type RefitReport } from './refit';

export interface ReadyModel {
  model: LoadedModel;
  refit?: RefitReport;
  refitMs?: number;
  batchNorm?: BatchNormReport;
  batchNormMs?: number;
}

/** `result`'s model made ready by `evaluator` on `calibration` (a batch laid out as the model's input). */
export async function makeReady(
  original: LoadedModel,
  analysis: ModelAnalysis,
  result: PruneResult,
  evaluator: Evaluator,
  calibration: tf.Tensor | undefined,
  refitOptions: RefitOptions = {},
): Promise<ReadyModel> {
  const ready: ReadyModel = { model: result.model };
  if (evaluator === 'slice') return ready;
  if (!calibration) throw new Error(`The ${evaluator} evaluator needs calibration images, and none were given.`);
  if (usesRefit(evaluator)) {
    const t0 = performance.now();
    const { model, report } = await refitPruned(original, analysis, result, calibration as tf.Tensor4D, refitOptions);
    Object.assign(ready, { model, refit: report, refitMs: performance.now() - t0 });
  }
  if (usesBatchNorm(evaluator)) {
    const t0 = performance.now();
    const { model, report } = await recalibrateBatchNorm(ready.model, analyzePruned(result, analysis), calibration);
    Object.assign(ready, { model, batchNorm: report, batchNormMs: performance.now() - t0 });
  }
  return ready;
}
