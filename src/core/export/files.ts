/**
 * A LoadedModel as the two files a tfjs export has: model.json and one weights file.
 */
import type { LoadedModel } from '../model/types';
import { encodeWeights } from '../model/weights';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'model.weights.bin';
export const REPORT_FILE = 'report.json';

export function exportFiles(model: Pick<LoadedModel, 'modelJson' | 'weights'>): { modelJson: string; weights: ArrayBuffer } {
  const { specs, data } = encodeWeights(model.weights);
  const { weightsManifest: _old, ...rest } = model.modelJson as Record<string, unknown>;
  const json = { ...rest, format: 'layers-model', weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: specs }] };
  return { modelJson: JSON.stringify(json), weights: data };
}
