/**
 * `amc finetune`: recover a pruned model by distillation from its original, on WASM in Node.
 * Writes the best epoch's model (optionally float16/uint8) and report.json with the epoch log;
 * progress goes to stderr.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { labelsOf } from '../core/data/folders';
import { defaultScaling, inputSpecOf, metadataImageSize, type ImageSet } from '../core/data/images';
import { loadImageDir } from '../core/data/node-images';
import { generateDataset, NUM_CLASSES, SPLIT_SIZES, type Split } from '../core/data/procedural';
import { exportFiles, MODEL_FILE, REPORT_FILE, WEIGHTS_FILE } from '../core/export/files';
import type { Quantization } from '../core/export/quantize';
import { DEMO_AUGMENT, FINETUNE_DEFAULTS, type FinetuneConfig } from '../core/finetune/config';
import { testTop1 } from '../core/finetune/after-search';
import { gatherImages, splitHeldOut } from '../core/finetune/batches';
import { FinetuneError, type EpochLog, type FinetuneData } from '../core/finetune/distiller';
import { recover, type Recovery } from '../core/finetune/recover';
import { evaluateFidelity } from '../core/measure/accuracy';
import { initBackend } from '../core/measure/backends';
import { ModelError } from '../core/model/errors';
import { DEFAULT_INPUT_SIZE } from '../core/model/graph';
import { loadModel } from '../core/model/load';
import { filesFromPath } from '../core/model/node-files';
import { instantiate } from '../core/model/tfjs-model';
import type { LoadedModel } from '../core/model/types';
import { bytesFlag, intFlag, UsageError, type ParsedArgs } from './args';
import { parseDataSource } from './eval';
import { outFolder, writeOutputs } from './out-dir';

const QUANTIZATIONS: readonly Quantization[] = ['float16', 'uint8'];

function numberFlag(args: ParsedArgs, name: string, lo: number, hi: number): number | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v === true || !(n > lo && n < hi)) throw new UsageError(`--${name} needs a number in (${lo}, ${hi}), got '${v === true ? '' : v}'.`);
  return n;
}

interface TrainingData {
  data: FinetuneData;
  label: string;
  /** The demo split the user may evaluate on after each epoch, when the data is the demo dataset. */
  demo: boolean;
}

async function trainingData(args: ParsedArgs, teacherPath: string, teacher: LoadedModel, classes: number, inputShape: readonly (number | null)[]): Promise<TrainingData> {
  const source = parseDataSource(args.flags.get('data') ?? 'demo:train');
  const limit = intFlag(args, 'limit');
  const distillOnly = args.flags.has('distill-only');
  if (source.kind === 'demo') {
    if (classes !== NUM_CLASSES) {
      throw new ModelError(teacherPath, `outputs ${classes} classes, but demo:${source.split} has ${NUM_CLASSES}.`, 'Fine-tune a demo model on demo data, or give --data a folder of your own images.');
    }
    const d = generateDataset(source.split, { count: Math.min(limit ?? SPLIT_SIZES[source.split], SPLIT_SIZES[source.split]) });
    return {
      data: { images: d.images, ...(distillOnly ? {} : { labels: d.labels }), layout: { height: 32, width: 32, channels: 3 }, scaling: 'unit' },
      label: `demo:${source.split} (${d.N} images${distillOnly ? ', labels not used' : ''})`,
      demo: true,
    };
  }
  if (!existsSync(source.dir)) throw new UsageError(`--data '${source.dir}' is neither demo:train|val|test nor a folder that exists.`);
  let spec;
  try {
    spec = inputSpecOf(inputShape, metadataImageSize(teacher.sidecars) ?? DEFAULT_INPUT_SIZE);
  } catch (e) {
    throw new ModelError(teacherPath, String((e as Error).message), 'Fine-tune an image classifier (input [batch, height, width, 1 or 3]).');
  }
  const { set } = await loadImageDir(source.dir, spec, { modelLabels: labelsOf(teacher.sidecars['metadata.json']), numOutputs: classes });
  const s: ImageSet = set;
  if (limit !== undefined && limit < s.n) {
    // Images come sorted by folder (class): an even spread keeps every class's share, the first N would not.
    const keep = Array.from({ length: limit }, (_, i) => Math.floor((i * s.n) / limit));
    s.images = gatherImages(s.images, keep, s);
    s.labels = s.labels ? Int32Array.from(keep, (i) => s.labels![i]) : undefined;
    s.n = limit;
  }
  if (s.n < 2) throw new ModelError(source.dir, `holds ${s.n} usable image${s.n === 1 ? '' : 's'}.`, 'Give a folder with more images of the kind the model sees (tens at least, hundreds are better).');
  const labels = distillOnly ? undefined : s.labels;
  return {
    data: { images: s.images, ...(labels ? { labels } : {}), layout: { height: s.height, width: s.width, channels: s.channels }, scaling: defaultScaling(teacher.sidecars) },
    label: `${source.dir} (${s.n} images, ${labels ? 'labeled' : 'unlabeled: distillation only'})`,
    demo: false,
  };
}

function parseEvalSplit(args: ParsedArgs): Split | undefined {
  const v = args.flags.get('eval');
  if (v === undefined) return undefined;
  const src = parseDataSource(v);
  if (src.kind !== 'demo') throw new UsageError(`--eval takes a demo split (demo:test, demo:val), got '${v}'.`);
  return src.split;
}

const pct = (r: number | undefined) => (r === undefined ? '-' : `${(r * 100).toFixed(2)}%`);
const secs = (ms: number) => (ms >= 60_000 ? `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s` : `${(ms / 1000).toFixed(1)} s`);

export async function runFinetune(args: ParsedArgs): Promise<void> {
  const path = args.positional[0];
  if (!path) throw new UsageError('finetune needs the path of the pruned model.json.');
  const teacherPath = args.flags.get('teacher');
  if (typeof teacherPath !== 'string') throw new UsageError('finetune needs --teacher original/model.json (the model before pruning).');
  const out = args.flags.get('out');
  if (typeof out !== 'string') throw new UsageError('finetune needs --out DIR.');
  const outDir = outFolder(out, 'finetune', [path, teacherPath], args.flags.has('force'));
  const quantizeFlag = args.flags.get('quantize');
  if (quantizeFlag !== undefined && !QUANTIZATIONS.includes(quantizeFlag as Quantization)) throw new UsageError(`--quantize must be one of ${QUANTIZATIONS.join(', ')}.`);
  const quantize = quantizeFlag as Quantization | undefined;
  const evalSplit = parseEvalSplit(args);
  const overrides: Partial<FinetuneConfig> = {
    epochs: intFlag(args, 'epochs') ?? FINETUNE_DEFAULTS.epochs,
    seed: intFlag(args, 'seed') ?? FINETUNE_DEFAULTS.seed,
    ...(intFlag(args, 'batch') ? { batchSize: intFlag(args, 'batch') } : {}),
    ...(numberFlag(args, 'lr', 0, 1) ? { learningRate: numberFlag(args, 'lr', 0, 1) } : {}),
    ...(args.flags.has('patience') ? { patience: intFlag(args, 'patience') } : {}),
  };
  const json = args.flags.has('json');

  const backend = await initBackend('wasm');
  const maxBytes = bytesFlag(args, 'max-bytes');
  const student = await loadModel(filesFromPath(path), undefined, { maxBytes });
  const teacher = await loadModel(filesFromPath(teacherPath), undefined, { maxBytes });
  const teacherModel = await instantiate(teacher);
  const outShape = teacherModel.outputs[0].shape;
  const inputShape = teacherModel.inputs[0].shape;
  teacherModel.dispose();
  const classes = outShape[1];
  if (outShape.length !== 2 || typeof classes !== 'number') throw new ModelError(teacherPath, `has output shape [${outShape.join(', ')}]; fine-tuning needs a classifier.`, 'Fine-tune an image classifier.');
  const { data, label, demo } = await trainingData(args, teacherPath, teacher, classes, inputShape);
  if (evalSplit && !demo) throw new UsageError('--eval demo:SPLIT needs demo training data (--data demo:train).');
  if (evalSplit && label.startsWith(`demo:${evalSplit} `)) throw new UsageError(`--eval demo:${evalSplit} is the split it trains on: its top-1 would flatter the model. Evaluate on another split (demo:test, demo:val).`);
  const augment = demo ? DEMO_AUGMENT : FINETUNE_DEFAULTS.augment;
  const test = evalSplit ? generateDataset(evalSplit) : undefined;
  const testAccuracy = async (m: LoadedModel): Promise<number | undefined> =>
    test ? testTop1(m, { images: test.images, labels: test.labels, name: `demo:${evalSplit}` }, data) : undefined;

  const log = (s: string) => process.stderr.write(s);
  const tests: { epoch: number; top1: number }[] = [];
  const metric = (h: EpochLog) => (h.heldOutAccuracy !== undefined ? `held-out top-1 ${pct(h.heldOutAccuracy)}` : `held-out agreement ${pct(h.heldOutAgreement)}`);
  const t0 = performance.now();
  let started = t0;
  let recovery: Recovery;
  try {
    recovery = await recover(student, teacher, data, { ...overrides, augment }, {
      onStart: async (d) => {
        log(`fine-tune  ${path} from ${teacherPath} on ${label}, backend ${backend.name}\n`);
        log(`           ${d.train.length} training / ${d.heldOut.length} held-out images, ${d.stepsPerEpoch} steps an epoch, up to ${d.config.epochs} epochs\n`);
        const top1 = await testAccuracy(student);
        if (top1 !== undefined) tests.push({ epoch: 0, top1 });
        log(`epoch 0    ${metric(d.history[0])}, distillation loss ${d.history[0].heldOutLoss.toFixed(4)}${top1 !== undefined ? `, demo:${evalSplit} top-1 ${pct(top1)}` : ''}\n`);
        started = performance.now();
      },
      onStep: (done, total, loss) => {
        if (!json && process.stderr.isTTY) log(`\rstep ${done}/${total}, loss ${loss.toFixed(4)}, ${secs(((performance.now() - started) / done) * (total - done))} left in this epoch   `);
      },
      onEpoch: async (h, d) => {
        const top1 = await testAccuracy(await d.currentModel());
        if (top1 !== undefined) tests.push({ epoch: h.epoch, top1 });
        log(`\repoch ${h.epoch}    loss ${h.trainLoss!.toFixed(4)}, ${metric(h)}, held-out distillation ${h.heldOutLoss.toFixed(4)}${top1 !== undefined ? `, demo:${evalSplit} top-1 ${pct(top1)}` : ''} (${secs(h.ms!)})\n`);
        started = performance.now();
      },
    });
  } catch (e) {
    if (e instanceof FinetuneError) throw new ModelError(path, e.message, 'Give the pruned model and the original it was pruned from, with images the model takes.');
    throw e;
  }
  const best = recovery.model;
  const files = exportFiles(best, quantize ? { quantize } : undefined);
  writeOutputs(outDir, [[MODEL_FILE, files.modelJson], [WEIGHTS_FILE, new Uint8Array(files.weights)]]);
  // The quantized model as written, read back through the loader: the figure is the file's, not the float model's.
  let quantized: { dtype: Quantization; bytes: number; demoTop1?: number; heldOutAgreementWithFloat?: number } | undefined;
  if (quantize) {
    const written = await loadModel(filesFromPath(join(out, MODEL_FILE)), undefined, { maxBytes });
    const [fm, qm] = [await instantiate(best), await instantiate(written)];
    const per = data.layout.height * data.layout.width * data.layout.channels;
    const bytes = gatherImages(data.images, splitHeldOut(data.images.length / per, recovery.config).heldOut, data.layout);
    const f = await evaluateFidelity(fm, qm, bytes, { imageSize: [data.layout.height, data.layout.width], channels: data.layout.channels, scaling: data.scaling });
    fm.dispose();
    qm.dispose();
    quantized = { dtype: quantize, bytes: files.modelJson.length + files.weights.byteLength, heldOutAgreementWithFloat: f.agreement, demoTop1: await testAccuracy(written) };
  }
  const report = {
    tool: 'AMC Playground',
    createdAt: new Date().toISOString(),
    student: path,
    teacher: teacherPath,
    data: label,
    backend: backend.name,
    config: recovery.config,
    stopReason: recovery.stopReason,
    bestEpoch: recovery.bestEpoch,
    history: recovery.history,
    ...(evalSplit ? { evaluation: { data: `demo:${evalSplit}`, top1ByEpoch: tests, note: 'top-1 of the model after each epoch (not only the best)' } } : {}),
    trainImages: recovery.trainImages,
    heldOutImages: recovery.heldOutImages,
    seconds: (performance.now() - t0) / 1000,
    ...(quantized ? { quantized } : {}),
  };
  writeOutputs(outDir, [[REPORT_FILE, JSON.stringify(report, null, 2) + '\n']]);
  if (json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  const b = recovery.history[recovery.bestEpoch];
  const first = recovery.history[0];
  const lines = [
    `wrote      ${join(out, MODEL_FILE)}, ${join(out, WEIGHTS_FILE)}, ${join(out, REPORT_FILE)}`,
    `best       epoch ${recovery.bestEpoch} of ${recovery.history.length - 1} (${recovery.stopReason}): ${metric(b)} (before: ${metric(first).replace('held-out ', '')})`,
    ...(tests.length ? [`demo:${evalSplit}  top-1 ${tests.map((t) => `${t.epoch}: ${pct(t.top1)}`).join(', ')} (epoch: top-1)`] : []),
    ...(quantized ? [`quantized  ${quantized.dtype}: agreement with the float model ${pct(quantized.heldOutAgreementWithFloat)} on the held-out images${quantized.demoTop1 !== undefined ? `, demo:${evalSplit} top-1 ${pct(quantized.demoTop1)}` : ''}`] : []),
    `backend    ${backend.name}, ${secs(report.seconds * 1000)}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
