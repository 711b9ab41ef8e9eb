/**
 * The weights side of model.json, checked before any shard is read or anything allocates: the
 * weightsManifest's entries, NaN/Infinity in the values read (a warning), and the bytes a model
 * would need to run against a stated, raisable ceiling.
 */
import { ModelError } from './errors';
import { formatBytes } from './format';
import type { WeightArray } from './types';
import { EXPORT_AGAIN, isNatural, isObject, show, showValue } from './validate-values';
import type { ManifestGroup } from './weights';

/** Activations alive at once (batch 1, float32) plus weights a model may need before the loader refuses it: 2 GiB. */
export const DEFAULT_MAX_MODEL_BYTES = 2 * 1024 ** 3;

// ---------------------------------------------------------------------------------------------
// The weightsManifest

const WEIGHT_DTYPES = new Set(['float32', 'int32', 'bool']);
const QUANTIZED_DTYPES = new Set(['uint8', 'uint16', 'float16']);

/** Checks every group and entry of the weightsManifest before any shard is read. */
export function validateManifest(path: string, manifest: unknown): asserts manifest is ManifestGroup[] {
  if (!Array.isArray(manifest)) {
    throw new ModelError(path, 'has no weightsManifest, so it has no weights.', 'Export the model with its weights (model.save() or tensorflowjs_converter).');
  }
  const names = new Set<string>();
  manifest.forEach((g, gi) => {
    const group = `weightsManifest group ${gi + 1}`;
    if (!isObject(g) || !Array.isArray(g.paths) || g.paths.length === 0 || !Array.isArray(g.weights)) {
      throw new ModelError(path, `${group} has no weight file paths or no weights list.`, 'The model.json is damaged: export the model again.');
    }
    g.paths.forEach((p, pi) => {
      if (typeof p !== 'string' || p.trim() === '') {
        throw new ModelError(path, `${group} lists ${showValue(p)} as weight file ${pi + 1}, not a file name.`, 'The model.json is damaged: export the model again.');
      }
    });
    g.weights.forEach((w, wi) => {
      const where = `${group}, weight ${wi + 1}`;
      if (!isObject(w)) throw new ModelError(path, `${where} is ${showValue(w)}, not a weight entry.`, EXPORT_AGAIN);
      if (typeof w.name !== 'string' || w.name === '') throw new ModelError(path, `${where} has name ${showValue(w.name)}; every weight needs its layer/weight name.`, EXPORT_AGAIN);
      const name = w.name;
      if (names.has(name)) throw new ModelError(path, `the weightsManifest lists weight '${show(name)}' twice.`, EXPORT_AGAIN);
      names.add(name);
      if (!Array.isArray(w.shape) || !w.shape.every(isNatural)) {
        throw new ModelError(path, `weight '${show(name)}' has shape ${showValue(w.shape)}; a shape must be a list of non-negative integers.`, EXPORT_AGAIN);
      }
      if (typeof w.dtype !== 'string' || !WEIGHT_DTYPES.has(w.dtype)) {
        throw new ModelError(path, `weight '${show(name)}' has dtype ${showValue(w.dtype)}, which a LayersModel cannot hold.`, 'Re-export with float32 weights (optionally quantized to float16, uint8 or uint16).');
      }
      const q = w.quantization;
      if (q === undefined || q === null) return;
      if (!isObject(q) || typeof q.dtype !== 'string' || !QUANTIZED_DTYPES.has(q.dtype)) {
        throw new ModelError(path, `weight '${show(name)}' has quantization ${showValue(q)}; tfjs reads float16, uint8 or uint16.`, 'Re-export with float32 weights, or quantize again with tensorflowjs_converter.');
      }
      if (q.dtype !== 'float16' && !(Number.isFinite(q.scale) && Number.isFinite(q.min))) {
        throw new ModelError(
          path,
          `weight '${show(name)}' is quantized to ${q.dtype} without a finite scale and min (scale ${showValue(q.scale)}, min ${showValue(q.min)}), so its values cannot be recovered.`,
          'Quantize the model again with tensorflowjs_converter, or export float32 weights.',
        );
      }
    });
  });
}

/** NaN or Infinity in weights: not a refusal (tfjs runs them), a warning naming each weight. */
export function finiteWarnings(weights: readonly WeightArray[]): string[] {
  const out: string[] = [];
  for (const w of weights) {
    if (!(w.values instanceof Float32Array)) continue;
    let bad = 0;
    for (let i = 0; i < w.values.length; i++) if (!Number.isFinite(w.values[i])) bad++;
    if (bad) {
      const layer = w.name.slice(0, w.name.lastIndexOf('/')) || w.name;
      out.push(`warning: layer '${layer}' has ${bad} NaN or infinite value${bad === 1 ? '' : 's'} in weight '${w.name}': its outputs (and the pruned model's) will be NaN; check the training run or the export`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The cost ceiling

export interface CostEstimate {
  activationBytes: number;
  weightBytes: number;
  /** The layer with the largest output, for the message. */
  largest?: { layer: string; bytes: number };
}

/**
 * Refuses a model whose activations (the most layer outputs alive at once at batch 1, float32) plus weights exceed
 * `maxBytes`: computed from the config alone, before anything allocates.
 */
export function checkModelCost(path: string, estimate: CostEstimate, maxBytes = DEFAULT_MAX_MODEL_BYTES, inputNote = ''): void {
  const total = estimate.activationBytes + estimate.weightBytes;
  if (total <= maxBytes) return;
  const largest = estimate.largest ? `, the largest output '${estimate.largest.layer}' ${bytesText(estimate.largest.bytes)}` : '';
  throw new ModelError(
    path,
    `would need ${bytesText(total)} to run (weights ${bytesText(estimate.weightBytes)}; activations of one input${inputNote} up to ${bytesText(estimate.activationBytes)} at once${largest}), over the limit of ${formatBytes(maxBytes)}.`,
    'Check the input shape and layer sizes in model.json; if the model really is this large, raise the limit (maxBytes; --max-bytes in the CLI).',
  );
}

function bytesText(n: number): string {
  return Number.isFinite(n) && n < 2 ** 60 ? formatBytes(n) : 'over 1 EiB';
}
