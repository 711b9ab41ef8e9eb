/**
 * Scoring data from the procedural demo dataset, built the same way for the search worker and the
 * CLI: the same bytes everywhere, so a search on a demo model gives the same log in both.
 */
import { generateDataset, IMAGE_SIZE, type Scaling, type Split } from '../data/procedural';
import type { ScoringData } from './scorer';

export interface DemoDataOptions {
  /** Score by accuracy on the labels (default), or by fidelity to the original without them. */
  labeled?: boolean;
  /** Images for the refit (0 or absent: no refit). */
  calibration?: number;
  /** How the model expects pixels scaled (default: the evaluator's). */
  scaling?: Scaling;
}

/** `count` images of `split` that score the episodes, and the refit's calibration images. */
export function demoScoringData(split: Split, count: number, options: DemoDataOptions = {}): ScoringData {
  const { labeled = true, calibration, scaling } = options;
  const d = generateDataset(split, { count });
  return {
    images: d.images,
    labels: labeled ? d.labels : undefined,
    eval: { imageSize: IMAGE_SIZE, batchSize: 100, ...(scaling !== undefined ? { scaling } : {}) },
    // Calibration comes from the training split, never from the images that score policies.
    calibration: calibration ? generateDataset('train', { count: calibration }).images : undefined,
  };
}
