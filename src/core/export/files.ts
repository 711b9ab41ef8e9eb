/**
 * A LoadedModel as the two files a tfjs export has: model.json and one weights file, with the
 * float32 weights optionally quantized to float16 or uint8 as tensorflowjs_converter writes them.
 */
import type { LoadedModel } from '../model/types';
import { quantizeWeights, type Quantization } from './quantize';

export type { Quantization };

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'model.weights.bin';
export const REPORT_FILE = 'report.json';

export interface ExportOptions {
  /** Store float32 weights as float16 or uint8 (about 2x / 4x smaller); float32 when absent. */
  quantize?: Quantization;
  /** The weights file's name, as the model JSON's manifest refers to it (model.weights.bin when absent). */
  weightsFile?: string;
}

export function exportFiles(model: Pick<LoadedModel, 'modelJson' | 'weights'>, options: ExportOptions = {}): { modelJson: string; weights: ArrayBuffer } {
  const { specs, data } = quantizeWeights(model.weights, options.quantize);
  const { weightsManifest: _old, ...rest } = model.modelJson as Record<string, unknown>;
  const json = { ...rest, format: 'layers-model', weightsManifest: [{ paths: [`./${options.weightsFile ?? WEIGHTS_FILE}`], weights: specs }] };
  return { modelJson: JSON.stringify(json), weights: data };
}
