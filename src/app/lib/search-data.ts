/**
 * Which images score the search's episodes: the one place the search meets the data panel.
 *
 * The user's own images, when the data panel prepared them for the model on screen (labeled:
 * accuracy; unlabeled: agreement with the original model), evenly subsampled to the reward-image
 * count. Otherwise the demo dataset's val split (the split kept for search rewards; test stays for
 * the final comparison), labeled only when its labels are the model's own (a bundled demo model, or
 * the user said so in the Data panel: core/data/demo-labels.ts), else scored by fidelity.
 */
import { evenSubsample } from '../../core/data/decode';
import { NUM_CLASSES, SPLIT_SIZES } from '../../core/data/procedural';
import type { ModelAnalysis } from '../../core/model/analyze';
import type { LoadedModel } from '../../core/model/types';
import type { ScoringSpec } from '../../workers/payload';
import type { DataChoice } from '../../workers/search-store';
import { demoLabelsFor, type DataState } from '../state/data.svelte';
import { calibrationWarning, rewardSetWarning } from '../../core/measure/noise';

export interface SearchData {
  spec: ScoringSpec;
  /** For the panel: where the images come from and what the reward measures. */
  label: string;
}

/** Number of outputs of a classifier's first output ([batch, classes]), if that is its shape. */
export function outputClasses(analysis: ModelAnalysis): number | undefined {
  const g = analysis.graph;
  const shape = g.tensors.get(g.outputs[0])?.shape;
  return shape && shape.length === 2 && typeof shape[1] === 'number' ? shape[1] : undefined;
}

function batchSizeFor(h: number, w: number, c: number): number {
  return Math.max(1, Math.min(100, Math.floor(1_500_000 / (h * w * c))));
}

type Choice =
  | { kind: 'files'; prepared: NonNullable<DataState['prepared']>; keep: number[]; labeled: boolean; name: string; scaling: DataState['scaling']; calibration: number[]; shared: boolean }
  | { kind: 'demo'; count: number; labeled: boolean; scaling: DataState['scaling']; calibration: number };

/** Which images, without copying any. */
function choose(model: LoadedModel, analysis: ModelAnalysis, data: DataState | null | undefined, count: number, calibration = 0): Choice {
  const prepared = data?.prepared;
  if (data && prepared && prepared.model === model && prepared.source.kind === 'files' && prepared.set.n > 0) {
    const keep = evenSubsample(prepared.set.n, Math.max(1, count));
    // Refit calibration prefers images the reward does not use; a small folder has to share them.
    const scored = new Set(keep);
    const rest = [...Array(prepared.set.n).keys()].filter((i) => !scored.has(i));
    const pool = rest.length >= Math.min(calibration, 16) ? rest : [...Array(prepared.set.n).keys()];
    return {
      kind: 'files',
      prepared,
      calibration: calibration ? evenSubsample(pool.length, Math.min(calibration, pool.length)).map((i) => pool[i]) : [],
      shared: calibration > 0 && pool.length === prepared.set.n,
      keep,
      labeled: prepared.kind === 'labeled' && prepared.set.labels !== undefined,
      name: prepared.plan?.root || prepared.source.label,
      scaling: data.scaling,
    };
  }
  const labeled = demoLabelsFor(model, outputClasses(analysis), data).apply;
  return { kind: 'demo', count: Math.max(1, Math.min(count, SPLIT_SIZES.val)), labeled, scaling: data?.scaling ?? 'unit', calibration };
}

/**
 * Whether a search's calibration images are of the model's own kind: the user's images, or the
 * demo's for a model the demo labels belong to (a demo model, or one the user says is). BatchNorm
 * statistics from images unlike the model's data make it worse (core/search/config.ts: autoEvaluator).
 */
export function calibrationOfItsKind(model: LoadedModel, analysis: ModelAnalysis, data: DataState | null | undefined): boolean {
  const c = choose(model, analysis, data, 1);
  return c.kind === 'files' || c.labeled;
}

/** What scores the episodes, in words: for a new search, and for a saved one from what it saved about its data. */
export function dataChoiceLabel(d: DataChoice, analysis: ModelAnalysis | null): string {
  if (d.kind === 'images') return `${d.count} of your images (${d.name}), ${d.labeled ? 'top-1 accuracy' : 'agreement with the original model (no labels)'}`;
  const outputs = analysis ? outputClasses(analysis) : undefined;
  if (d.labeled) return `${d.count} demo:val images, top-1 accuracy`;
  const why = outputs === NUM_CLASSES ? "it is not a bundled demo model, so the demo's labels are not its classes" : `it has ${outputs ?? 'unknown'} outputs, not the demo's ${NUM_CLASSES} classes`;
  return `${d.count} demo:val images, agreement with the original model (${why}; your own images in the Data panel measure it on its data)`;
}

/**
 * Why the reward or calibration set may be too small to separate policies (core/measure/noise.ts),
 * for the search settings; empty when nothing needs saying.
 */
export function searchDataWarnings(model: LoadedModel, analysis: ModelAnalysis, data: DataState | null | undefined, count: number, calibration = 0): string[] {
  const c = choose(model, analysis, data, count, calibration);
  const n = c.kind === 'files' ? c.keep.length : c.count;
  return [rewardSetWarning(n), calibrationWarning(calibrationOf(c), c.kind === 'files' && c.shared)].filter((w): w is string => w !== null);
}

/** How many calibration images the evaluator will really get: a small folder has fewer than asked for. */
export function searchCalibrationCount(model: LoadedModel, analysis: ModelAnalysis, data: DataState | null | undefined, count: number, calibration: number): number {
  return calibrationOf(choose(model, analysis, data, count, calibration));
}

const calibrationOf = (c: Choice): number => (c.kind === 'files' ? c.calibration.length : c.calibration);

function labelOf(c: Choice, analysis: ModelAnalysis): string {
  const d: DataChoice = c.kind === 'files' ? { kind: 'images', name: c.name, count: c.keep.length, labeled: c.labeled } : { kind: 'demo', split: 'val', count: c.count, labeled: c.labeled };
  return dataChoiceLabel(d, analysis);
}

/** What `searchData` would score on, in words (cheap: copies nothing). */
export function searchDataLabel(model: LoadedModel, analysis: ModelAnalysis, data: DataState | null | undefined, count: number): string {
  return labelOf(choose(model, analysis, data, count), analysis);
}

/** The images that score episodes, and `calibration` images for the refit (0: no refit). */
export function searchData(model: LoadedModel, analysis: ModelAnalysis, data: DataState | null | undefined, count: number, calibration = 0): SearchData {
  const c = choose(model, analysis, data, count, calibration);
  const label = labelOf(c, analysis);
  if (c.kind === 'demo') return { spec: { kind: 'demo', split: 'val', count: c.count, labeled: c.labeled, scaling: c.scaling, ...(calibration ? { calibration } : {}) }, label };
  const { set } = c.prepared;
  const per = set.height * set.width * set.channels;
  const images = new Uint8Array(c.keep.length * per);
  c.keep.forEach((i, k) => images.set(set.images.subarray(i * per, (i + 1) * per), k * per));
  const labels = c.labeled ? Int32Array.from(c.keep, (i) => set.labels![i]) : undefined;
  const calib = new Uint8Array(c.calibration.length * per);
  c.calibration.forEach((i, k) => calib.set(set.images.subarray(i * per, (i + 1) * per), k * per));
  return {
    spec: {
      kind: 'images',
      name: c.name,
      images,
      labels,
      eval: { imageSize: [set.height, set.width], channels: set.channels, scaling: c.scaling, batchSize: batchSizeFor(set.height, set.width, set.channels) },
      ...(c.calibration.length ? { calibration: calib } : {}),
    },
    label,
  };
}
