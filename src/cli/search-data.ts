/**
 * What `amc search` scores episodes on, from --data: a demo split (the demo models' own labels), or
 * a folder of the user's images: in class subfolders (accuracy on them) or loose (agreement with
 * the original, no labels needed). The calibration images of the evaluator come from the same
 * folder, from images the reward does not use while there are enough, as the page does.
 */
import { existsSync } from 'node:fs';
import { evenSubsample } from '../core/data/decode';
import { labelsOf } from '../core/data/folders';
import { defaultScaling, inputSpecOf, metadataImageSize } from '../core/data/images';
import { loadImageDir } from '../core/data/node-images';
import { NUM_CLASSES, SPLIT_SIZES, type Split } from '../core/data/procedural';
import { gatherImages } from '../core/finetune/batches';
import type { FinetuneData } from '../core/finetune/distiller';
import type { ModelAnalysis } from '../core/model/analyze';
import { ModelError } from '../core/model/errors';
import { DEFAULT_INPUT_SIZE } from '../core/model/graph';
import type { LoadedModel } from '../core/model/types';
import { demoScoringData } from '../core/search/demo-data';
import type { ScoringData } from '../core/search/scorer';
import { UsageError } from './args';
import type { DataSource } from './eval';

export interface SearchData {
  scoring: ScoringData;
  /** "demo:val (1000 images)", "photos/ (120 labeled images)". */
  label: string;
  /** Where calibration images come from, for the log. */
  calibrationLabel: string;
  /** The demo split, when the data is the demo dataset (then demo:test scores the results too). */
  split?: Split;
  /** The user's folder as fine-tuning data (all of it), when the data is a folder. */
  finetune?: FinetuneData;
}

/** Smallest folder a search can rank policies on at all (core/measure/noise.ts says how noisy it is). */
const MIN_IMAGES = 8;

export async function searchData(source: DataSource, modelPath: string, model: LoadedModel, analysis: ModelAnalysis, rewardImages: number, calibration: number): Promise<SearchData> {
  const outShape = (analysis.graph.tensors.get(analysis.graph.outputs[0])?.shape ?? []) as (number | null)[];
  if (source.kind === 'demo') {
    if (outShape.length !== 2 || outShape[1] !== NUM_CLASSES) {
      throw new ModelError(modelPath, `has output shape [${outShape.map((d) => d ?? '?').join(', ')}], but demo:${source.split} has ${NUM_CLASSES} classes.`, 'Search a model trained on the demo dataset (models/plain-cnn, models/resnet-like, models/mobilenet-like), or give --data a folder of your own images.');
    }
    const count = Math.min(rewardImages, SPLIT_SIZES[source.split]);
    return { scoring: demoScoringData(source.split, count, { calibration }), label: `demo:${source.split} (${count} images)`, calibrationLabel: 'demo:train', split: source.split };
  }
  if (!existsSync(source.dir)) throw new UsageError(`--data '${source.dir}' is neither demo:train|val|test nor a folder that exists.`);
  const inputShape = analysis.graph.tensors.get(analysis.graph.inputs[0])!.shape;
  let spec;
  try {
    spec = inputSpecOf(inputShape, metadataImageSize(model.sidecars) ?? DEFAULT_INPUT_SIZE);
  } catch (e) {
    throw new ModelError(modelPath, String((e as Error).message), 'Search an image classifier (input [batch, height, width, 1 or 3]) on a folder of images.');
  }
  const { set } = await loadImageDir(source.dir, spec, { modelLabels: labelsOf(model.sidecars['metadata.json']), numOutputs: outShape[1] ?? undefined });
  if (set.n < MIN_IMAGES) throw new ModelError(source.dir, `holds ${set.n} usable image${set.n === 1 ? '' : 's'}; a search cannot tell policies apart on so few.`, 'Give a folder with more images of the kind the model sees (hundreds are better).');
  const layout = { height: set.height, width: set.width, channels: set.channels };
  const reward = evenSubsample(set.n, Math.min(rewardImages, set.n));
  const used = new Set(reward);
  const rest = [...Array(set.n).keys()].filter((i) => !used.has(i));
  // Calibration prefers images the reward does not use; a small folder has to share them.
  const pool = rest.length >= Math.min(calibration, 16) ? rest : [...Array(set.n).keys()];
  const calib = calibration ? evenSubsample(pool.length, Math.min(calibration, pool.length)).map((i) => pool[i]) : [];
  const scaling = defaultScaling(model.sidecars);
  const labels = set.labels ? Int32Array.from(reward, (i) => set.labels![i]) : undefined;
  const kind = labels ? 'labeled' : 'unlabeled: agreement with the original';
  return {
    scoring: {
      images: gatherImages(set.images, reward, layout),
      ...(labels ? { labels } : {}),
      eval: { imageSize: [set.height, set.width], channels: set.channels, scaling, batchSize: 50 },
      ...(calib.length ? { calibration: gatherImages(set.images, calib, layout) } : {}),
    },
    label: `${source.dir} (${reward.length} images, ${kind})`,
    calibrationLabel: `${source.dir}${pool === rest ? '' : ' (shared with the reward: the folder is small)'}`,
    finetune: { images: set.images, ...(set.labels ? { labels: set.labels } : {}), layout, scaling },
  };
}
