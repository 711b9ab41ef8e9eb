/**
 * Calibration images for the Prune panel's evaluator: the Data panel's images when they were
 * prepared for this model, else demo:train for a bundled demo model (images of its own kind), else
 * none: BatchNorm statistics or a refit from images unlike the model's data make it worse, not better.
 */
import { evenSubsample } from '../../core/data/decode';
import { generateDataset, IMAGE_SIZE } from '../../core/data/procedural';
import { gatherImages } from '../../core/finetune/batches';
import type { EvalOptions } from '../../core/measure/accuracy';
import type { LoadedModel } from '../../core/model/types';
import { demoLabelsFor, type DataState } from '../state/data.svelte';

export interface CalibrationImages {
  images: Uint8Array;
  n: number;
  eval: EvalOptions;
  /** Where they come from, as evaluatorText() words it: "refit on 64 {source} images". */
  source: string;
}

/** Up to `count` calibration images for `model`, or why there are none. */
export function pruneCalibration(model: LoadedModel, outputs: number | undefined, data: DataState | null, count: number): CalibrationImages | { none: string } {
  const prepared = data?.prepared;
  // The Data panel's demo splits score models; calibration of a demo model comes from demo:train below.
  if (prepared && prepared.model === model && prepared.source.kind === 'files' && prepared.set.n > 0) {
    const { set } = prepared;
    const keep = evenSubsample(set.n, Math.min(count, set.n));
    return {
      images: gatherImages(set.images, keep, set),
      n: keep.length,
      eval: { imageSize: [set.height, set.width], channels: set.channels, scaling: data!.scaling },
      source: 'of your',
    };
  }
  if (demoLabelsFor(model, outputs, data).apply) {
    const d = generateDataset('train', { count });
    return { images: d.images, n: d.N, eval: { imageSize: IMAGE_SIZE, channels: 3, scaling: data?.scaling ?? 'unit' }, source: 'demo:train' };
  }
  return { none: 'Prepare some of your own images in the Data panel to refit or recompute BatchNorm statistics: images unlike the model’s data would make it worse.' };
}
