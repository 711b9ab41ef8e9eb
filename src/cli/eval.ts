/**
 * `amc eval`: top-1/top-5 accuracy of a model on a split of the demo dataset, and optionally its
 * fidelity (top-1 agreement, mean KL divergence) to a reference model on the same images.
 */
import { generateDataset, isSplit, NUM_CLASSES, SPLITS, SPLIT_SIZES, type Split } from '../core/data/procedural';
import { evaluateAccuracy, evaluateFidelity, type AccuracyResult, type FidelityResult } from '../core/measure/accuracy';
import { initBackend } from '../core/measure/backends';
import { ModelError } from '../core/model/errors';
import { loadModel } from '../core/model/load';
import { filesFromPath } from '../core/model/node-files';
import { instantiate } from '../core/model/tfjs-model';
import { intFlag, UsageError, type ParsedArgs } from './args';

const DATA_VALUES = SPLITS.map((s) => `demo:${s}`);

export function parseDataFlag(v: string | true | undefined): Split {
  if (v === undefined || v === true) throw new UsageError(`--data is needed: one of ${DATA_VALUES.join(', ')}.`);
  const m = /^demo:(.*)$/.exec(v);
  if (!m || !isSplit(m[1])) throw new UsageError(`--data '${v}' is not a dataset this command knows: use one of ${DATA_VALUES.join(', ')}.`);
  return m[1];
}

async function runnable(path: string) {
  const loaded = await loadModel(filesFromPath(path));
  try {
    return await instantiate(loaded);
  } catch (e) {
    throw new ModelError(path, `cannot be built by TensorFlow.js (${String((e as Error).message ?? e).split('\n')[0]}).`, 'Check that it is a LayersModel export that loads with tf.loadLayersModel.');
  }
}

function outputClasses(model: Awaited<ReturnType<typeof runnable>>): number | undefined {
  const shape = model.outputs[0].shape;
  return shape.length === 2 ? (shape[1] ?? undefined) : undefined;
}

export async function runEval(args: ParsedArgs): Promise<void> {
  const path = args.positional[0];
  if (!path) throw new UsageError('eval needs the path of a model.json.');
  const split = parseDataFlag(args.flags.get('data'));
  const limit = intFlag(args, 'limit');
  const batchSize = intFlag(args, 'batch') ?? 100;
  const referencePath = args.flags.get('reference');
  if (referencePath === true) throw new UsageError('--reference needs the path of the original model.json.');
  const count = Math.min(limit ?? SPLIT_SIZES[split], SPLIT_SIZES[split]);

  const backend = await initBackend('wasm');
  const model = await runnable(path);
  const classes = outputClasses(model);
  if (classes !== NUM_CLASSES) {
    model.dispose();
    throw new ModelError(
      path,
      `outputs ${classes === undefined ? `shape [${model.outputs[0].shape.map((d) => d ?? '?').join(', ')}]` : `${classes} classes`}, but demo:${split} has ${NUM_CLASSES} classes.`,
      'Evaluate a model trained on the demo dataset (models/plain-cnn, models/resnet-like, models/mobilenet-like).',
    );
  }
  const data = generateDataset(split, { count });
  const t0 = performance.now();
  const accuracy: AccuracyResult = await evaluateAccuracy(model, data.images, data.labels, { batchSize });
  let fidelity: FidelityResult | undefined;
  if (typeof referencePath === 'string') {
    const reference = await runnable(referencePath);
    try {
      fidelity = await evaluateFidelity(reference, model, data.images, { batchSize });
    } finally {
      reference.dispose();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();

  if (args.flags.has('json')) {
    const out = {
      model: path,
      data: `demo:${split}`,
      n: accuracy.n,
      classes: data.classNames,
      backend: backend.name,
      top1: accuracy.top1,
      top5: accuracy.top5,
      ...(fidelity ? { reference: referencePath, agreement: fidelity.agreement, meanKL: fidelity.meanKL } : {}),
      seconds,
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  const pct = (r: number) => `${(r * 100).toFixed(2)}%`;
  const lines = [
    `model      ${path}`,
    `data       demo:${split} (${accuracy.n} images, ${NUM_CLASSES} classes)`,
    `backend    ${backend.name}`,
    `top-1      ${pct(accuracy.top1)}`,
    `top-5      ${pct(accuracy.top5)}`,
  ];
  if (fidelity) {
    lines.push(`reference  ${referencePath}`, `agreement  ${pct(fidelity.agreement)} (top-1 same as the reference)`, `mean KL    ${fidelity.meanKL.toFixed(5)} nats`);
  }
  lines.push(`time       ${seconds.toFixed(1)} s`);
  process.stdout.write(lines.join('\n') + '\n');
}
