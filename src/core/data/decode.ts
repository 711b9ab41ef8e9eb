/**
 * A data plan -> an ImageSet at the model's input size, with the platform's image decoder
 * injected (canvas in browsers, the PNG decoder in Node). Every failure names the file.
 */
import { ModelError } from '../model/errors';
import type { ModelFile } from '../model/files';
import type { ProgressFn } from '../model/types';
import type { DataPlan } from './folders';
import type { ImageSet, InputSpec } from './images';

/** Reads one image file as `spec.height x spec.width x spec.channels` bytes; throws with a one-sentence reason. */
export type ImageDecoder = (file: ModelFile, spec: InputSpec) => Promise<Uint8Array>;

/** At most this many bytes of decoded images are kept (about 1700 images at 224x224 RGB). */
export const MAX_IMAGE_BYTES = 256 * 1024 * 1024;

export interface DecodeOptions {
  onProgress?: ProgressFn;
  /** Called between images so a page can repaint (browsers); default: none. */
  pause?: () => Promise<void>;
  /** Decoded bytes kept at most (default MAX_IMAGE_BYTES): larger sets are subsampled evenly. */
  maxBytes?: number;
  /** Stop early (a newer request replaced this one). */
  cancelled?: () => boolean;
}

export interface DecodedPlan {
  set: ImageSet;
  /** Images in the plan; more than set.n when the memory cap subsampled it. */
  total: number;
}

export class Cancelled extends Error {}

/** Evenly spaced indices of `keep` out of `total` (all when keep >= total). */
export function evenSubsample(total: number, keep: number): number[] {
  if (keep >= total) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: keep }, (_, k) => Math.floor((k * total) / keep));
}

export async function decodePlan(plan: DataPlan, spec: InputSpec, decode: ImageDecoder, opts: DecodeOptions = {}): Promise<DecodedPlan> {
  const per = spec.height * spec.width * spec.channels;
  const cap = Math.max(1, Math.floor((opts.maxBytes ?? MAX_IMAGE_BYTES) / per));
  const chosen = evenSubsample(plan.images.length, cap).map((i) => plan.images[i]);
  const n = chosen.length;
  const images = new Uint8Array(n * per);
  const labels = plan.kind === 'labeled' ? new Int32Array(n) : undefined;
  const names: string[] = [];
  opts.onProgress?.(0, 'decoding images');
  for (let i = 0; i < n; i++) {
    if (opts.cancelled?.()) throw new Cancelled('cancelled');
    const { file, label } = chosen[i];
    let bytes: Uint8Array;
    try {
      bytes = await decode(file, spec);
    } catch (e) {
      if (e instanceof ModelError) throw e;
      const pf = e as { problem?: unknown; fix?: unknown };
      if (typeof pf?.problem === 'string' && typeof pf.fix === 'string') throw new ModelError(file.path, pf.problem, pf.fix);
      const why = String((e as Error)?.message ?? e).split('\n')[0].replace(/\.$/, '');
      throw new ModelError(file.path, `could not be read as an image (${why}).`, 'Re-save it as a PNG or JPEG, or remove it from the folder.');
    }
    if (bytes.length !== per) throw new Error(`the decoder gave ${bytes.length} bytes for ${file.path}, not ${per}.`);
    images.set(bytes, i * per);
    if (labels) labels[i] = label;
    names.push(file.path);
    if ((i + 1) % 8 === 0 || i === n - 1) {
      opts.onProgress?.((i + 1) / n, 'decoding images');
      await opts.pause?.();
    }
  }
  const set: ImageSet = {
    images,
    n,
    height: spec.height,
    width: spec.width,
    channels: spec.channels,
    labels,
    classNames: plan.kind === 'labeled' ? plan.classNames : undefined,
    names,
  };
  return { set, total: plan.images.length };
}
