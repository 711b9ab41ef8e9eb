/**
 * `amc eval`: top-1/top-5 accuracy of a model on a split of the demo dataset or on a folder of
 * images (JPEG, PNG, WebP...) in class subfolders, and its fidelity (top-1 agreement, mean KL divergence) to a
 * reference model on the same images. A folder of loose images (no class subfolders) is scored by
 * fidelity only, so it needs --reference.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { CHANNELS, generateDataset, IMAGE_SIZE, isSplit, NUM_CLASSES, SPLITS, SPLIT_SIZES, type Split } from '../core/data/procedural';
import { labelSourceText, labelsOf, type DataPlan } from '../core/data/folders';
import { defaultScaling, inputSpecOf, isScalingName, metadataImageSize, SCALING_LABELS, SCALINGS, type ImageSet, type ScalingName } from '../core/data/images';
import { loadImageDir } from '../core/data/node-images';
import { evaluateAccuracy, evaluateFidelity, type AccuracyResult, type FidelityResult } from '../core/measure/accuracy';
import { initBackend } from '../core/measure/backends';
import { ModelError } from '../core/model/errors';
import { DEFAULT_INPUT_SIZE } from '../core/model/graph';
import { loadModel } from '../core/model/load';
import { filesFromPath } from '../core/model/node-files';
import { instantiate } from '../core/model/tfjs-model';
import type { LoadedModel } from '../core/model/types';
import { bytesFlag, intFlag, UsageError, type ParsedArgs } from './args';

const DATA_VALUES = SPLITS.map((s) => `demo:${s}`);

/** A demo split for --data (commands that take the demo dataset only). */
export function parseDataFlag(v: string | true | undefined): Split {
  if (v === undefined || v === true) throw new UsageError(`--data is needed: one of ${DATA_VALUES.join(', ')}.`);
  const m = /^demo:(.*)$/.exec(v);
  if (!m || !isSplit(m[1])) throw new UsageError(`--data '${v}' is not a dataset this command knows: use one of ${DATA_VALUES.join(', ')}.`);
  return m[1];
}

export type DataSource = { kind: 'demo'; split: Split } | { kind: 'dir'; dir: string };

/** --data demo:SPLIT or a folder path. */
export function parseDataSource(v: string | true | undefined): DataSource {
  if (v === undefined || v === true) throw new UsageError(`--data is needed: ${DATA_VALUES.join(', ')}, or a folder of images.`);
  if (v.startsWith('demo:')) return { kind: 'demo', split: parseDataFlag(v) };
  return { kind: 'dir', dir: v };
}

export function parseScalingFlag(v: string | true | undefined): ScalingName | undefined {
  if (v === undefined) return undefined;
  if (v === true || !isScalingName(v)) {
    throw new UsageError(`--scaling '${v === true ? '' : v}' is not one of ${SCALINGS.map((s) => `${s} (${SCALING_LABELS[s]})`).join(', ')}.`);
  }
  return v;
}

async function runnable(path: string, maxBytes: number | undefined): Promise<{ loaded: LoadedModel; model: tf.LayersModel }> {
  const loaded = await loadModel(filesFromPath(path), undefined, { maxBytes });
  try {
    return { loaded, model: await instantiate(loaded) };
  } catch (e) {
    throw new ModelError(path, `cannot be built by TensorFlow.js (${String((e as Error).message ?? e).split('\n')[0]}).`, 'Check that it is a LayersModel export that loads with tf.loadLayersModel.');
  }
}

function outputClasses(model: tf.LayersModel): number | undefined {
  const shape = model.outputs[0].shape;
  return shape.length === 2 ? (shape[1] ?? undefined) : undefined;
}

function outputShapeText(model: tf.LayersModel): string {
  return `[${model.outputs[0].shape.map((d) => d ?? '?').join(', ')}]`;
}

interface Prepared {
  set: ImageSet;
  label: string;
  plan?: DataPlan;
  /** Images in the folder (set.n may be smaller: --limit or the memory cap). */
  total: number;
}

async function prepareData(source: DataSource, path: string, loaded: LoadedModel, model: tf.LayersModel, limit: number | undefined, inputSize: number | undefined): Promise<Prepared> {
  const classes = outputClasses(model);
  if (source.kind === 'demo') {
    const { split } = source;
    if (classes !== NUM_CLASSES) {
      throw new ModelError(
        path,
        `outputs ${classes === undefined ? `shape ${outputShapeText(model)}` : `${classes} classes`}, but demo:${split} has ${NUM_CLASSES} classes.`,
        'Evaluate a model trained on the demo dataset (models/plain-cnn, models/resnet-like, models/mobilenet-like), or give --data a folder of your own images.',
      );
    }
    const count = Math.min(limit ?? SPLIT_SIZES[split], SPLIT_SIZES[split]);
    const d = generateDataset(split, { count });
    return {
      set: { images: d.images, n: d.N, height: IMAGE_SIZE, width: IMAGE_SIZE, channels: CHANNELS, labels: d.labels, classNames: d.classNames, names: [] },
      label: `demo:${split}`,
      total: SPLIT_SIZES[split],
    };
  }
  if (classes === undefined) {
    throw new ModelError(path, `has output shape ${outputShapeText(model)}; evaluation needs a classifier with output [batch, classes].`, 'Evaluate an image classifier.');
  }
  let spec;
  try {
    spec = inputSpecOf(model.inputs[0].shape, inputSize ?? metadataImageSize(loaded.sidecars) ?? DEFAULT_INPUT_SIZE);
  } catch (e) {
    throw new ModelError(path, String((e as Error).message), 'Evaluate an image classifier (input [batch, height, width, 1 or 3]).');
  }
  const { plan, set, total } = await loadImageDir(source.dir, spec, { modelLabels: labelsOf(loaded.sidecars['metadata.json']), numOutputs: classes });
  if (limit !== undefined && limit < set.n) {
    const per = set.height * set.width * set.channels;
    set.images = set.images.subarray(0, limit * per);
    set.labels = set.labels?.subarray(0, limit);
    set.names = set.names.slice(0, limit);
    set.n = limit;
  }
  return { set, label: source.dir, plan, total };
}

const pct = (r: number) => `${(r * 100).toFixed(2)}%`;

export async function runEval(args: ParsedArgs): Promise<void> {
  const path = args.positional[0];
  if (!path) throw new UsageError('eval needs the path of a model.json.');
  const source = parseDataSource(args.flags.get('data'));
  if (source.kind === 'dir' && !existsSync(source.dir)) {
    throw new UsageError(`--data '${source.dir}' is neither one of ${DATA_VALUES.join(', ')} nor a folder that exists.`);
  }
  const limit = intFlag(args, 'limit');
  const batchSize = intFlag(args, 'batch') ?? 100;
  const inputSize = intFlag(args, 'input-size');
  const maxBytes = bytesFlag(args, 'max-bytes');
  const scalingFlag = parseScalingFlag(args.flags.get('scaling'));
  const referencePath = args.flags.get('reference');
  if (referencePath === true) throw new UsageError('--reference needs the path of the original model.json.');

  const backend = await initBackend('wasm');
  const { loaded, model } = await runnable(path, maxBytes);
  let data: Prepared;
  try {
    data = await prepareData(source, path, loaded, model, limit, inputSize);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const { set, plan } = data;
  const scaling = scalingFlag ?? defaultScaling(loaded.sidecars);
  const labeled = set.labels !== undefined;
  if (!labeled && typeof referencePath !== 'string') {
    model.dispose();
    throw new ModelError(
      source.kind === 'dir' ? source.dir : path,
      `holds ${set.n} loose image${set.n === 1 ? '' : 's'} and no class folders: without labels only fidelity to the original model can be measured.`,
      'Add --reference original/model.json, or put the images in one subfolder per class.',
    );
  }
  const opts = { batchSize, scaling, imageSize: [set.height, set.width] as [number, number], channels: set.channels };
  const t0 = performance.now();
  let accuracy: AccuracyResult | undefined;
  let fidelity: FidelityResult | undefined;
  try {
    if (labeled) accuracy = await evaluateAccuracy(model, set.images, set.labels!, opts);
    if (typeof referencePath === 'string') {
      const reference = await runnable(referencePath, maxBytes);
      try {
        fidelity = await evaluateFidelity(reference.model, model, set.images, opts);
      } finally {
        reference.model.dispose();
      }
    }
  } finally {
    model.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;

  const skippedBy = new Map<string, number>();
  for (const s of plan?.skipped ?? []) skippedBy.set(s.reason, (skippedBy.get(s.reason) ?? 0) + 1);

  if (args.flags.has('json')) {
    const out = {
      model: path,
      data: data.label,
      kind: labeled ? 'labeled' : 'unlabeled',
      n: set.n,
      ...(plan ? { total: data.total } : {}),
      classes: set.classNames ?? [],
      ...(plan?.kind === 'labeled' ? { counts: plan.counts, labelSource: plan.labelSource, unmatchedFolders: plan.unmatched } : {}),
      ...(plan ? { skipped: plan.skipped } : {}),
      input: [set.height, set.width, set.channels],
      scaling,
      backend: backend.name,
      ...(accuracy ? { top1: accuracy.top1, top5: accuracy.top5 } : {}),
      ...(fidelity ? { reference: referencePath, agreement: fidelity.agreement, meanKL: fidelity.meanKL } : {}),
      seconds,
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  const lines = [`model      ${path}`];
  if (source.kind === 'demo') lines.push(`data       ${data.label} (${set.n} images, ${NUM_CLASSES} classes)`);
  else if (plan?.kind === 'labeled') {
    lines.push(`data       ${data.label} (${set.n}${set.n < data.total ? ` of ${data.total}` : ''} images, ${plan.classNames.length} classes; ${labelSourceText(plan)})`);
    lines.push(`per class  ${plan.classNames.map((c, i) => `${c} ${plan.counts[i]}`).join(', ')}`);
    if (plan.unmatched.length) lines.push(`unmatched  folders with no class label, skipped: ${plan.unmatched.join(', ')}`);
  } else lines.push(`data       ${data.label} (${set.n}${set.n < data.total ? ` of ${data.total}` : ''} unlabeled images: fidelity only)`);
  if (skippedBy.size) lines.push(`skipped    ${[...skippedBy].map(([why, n]) => `${n} ${why}`).join(', ')}`);
  lines.push(`input      ${set.height}x${set.width}x${set.channels}, scaled to ${SCALING_LABELS[scaling]}${scalingFlag ? '' : ' (default; --scaling to change)'}`);
  lines.push(`backend    ${backend.name}`);
  if (accuracy) lines.push(`top-1      ${pct(accuracy.top1)}`, `top-5      ${pct(accuracy.top5)}`);
  if (fidelity) {
    lines.push(`reference  ${referencePath}`, `agreement  ${pct(fidelity.agreement)} (top-1 same as the reference)`, `mean KL    ${fidelity.meanKL.toFixed(5)} nats`);
  }
  lines.push(`time       ${seconds.toFixed(1)} s`);
  process.stdout.write(lines.join('\n') + '\n');
}
