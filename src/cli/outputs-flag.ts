/**
 * `--outputs name1,name2` (inspect, prune, search): keep only these outputs of the model, right
 * after loading (core/model/outputs.ts), and the refusal when the outputs leave nothing to prune.
 */
import type { ModelAnalysis } from '../core/model/analyze';
import { ModelError } from '../core/model/errors';
import { keepOutputs, outputFreeze } from '../core/model/outputs';
import type { LoadedModel } from '../core/model/types';
import { UsageError, type ParsedArgs } from './args';

export function applyOutputsFlag(model: LoadedModel, args: ParsedArgs): LoadedModel {
  const v = args.flags.get('outputs');
  if (v === undefined) return model;
  if (typeof v !== 'string') throw new UsageError('--outputs needs the names of the outputs to keep: --outputs name1,name2.');
  return keepOutputs(model, v.split(','));
}

/** The hint that goes with an output freeze: which flag frees the groups. */
export function outputsHint(outputs: string[]): string {
  return `Keep only the outputs you need with --outputs (e.g. --outputs ${outputs[outputs.length - 1]}; the model's outputs: ${outputs.join(',')}).`;
}

/** Refuses a model whose outputs freeze every group: pruning it would write the same model. */
export function refuseFrozenByOutputs(model: LoadedModel, analysis: ModelAnalysis): void {
  const why = outputFreeze(model, analysis);
  if (why?.nothing) throw new ModelError(model.source, why.message, outputsHint(why.outputs));
}
