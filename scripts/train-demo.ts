/**
 * Trains the three bundled demo models on the procedural demo dataset, on the WASM backend in
 * Node, and writes models/<name>/{model.json, weights.bin, README.md}.
 *
 *   npm run -s train:demo                     # all three
 *   npm run -s train:demo -- --only resnet-like --epochs 8
 *   npm run -s train:demo -- --measure        # time a few training steps per model, write nothing
 *   npm run -s train:demo -- --limit 640 --epochs 1 --out /tmp/x   # smoke test on 640 training images
 *
 * WASM has no conv backprop-filter or depthwise backprop kernels; src/core/finetune/wasm-gradients.ts
 * supplies them (forward ops only). Single-threaded WASM: two cores gave no speedup.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installWasmGradients } from '../src/core/finetune/wasm-gradients';
import { CLASS_NAMES, datasetChecksum, generateDataset, imagesToTensor, NUM_CLASSES, SPLIT_SIZES, type Dataset } from '../src/core/data/procedural';
import { evaluateAccuracy } from '../src/core/measure/accuracy';
import { analyzeModel } from '../src/core/model/analyze';
import { loadModel } from '../src/core/model/load';
import { filesFromPath } from '../src/core/model/node-files';
import { formatCount } from '../src/core/model/format';
import { instantiate } from '../src/core/model/tfjs-model';
import { mulberry32 } from '../src/core/random';

type Sym = tf.SymbolicTensor;

interface Spec {
  name: string;
  title: string;
  architecture: string;
  epochs: number;
  lr: number;
  seed: number;
  build: () => tf.LayersModel;
}

const BATCH = 32;

function convBnRelu(x: Sym, filters: number, name: string, strides = 1, relu = true): Sym {
  let y = tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', useBias: false, name, kernelInitializer: 'heNormal' }).apply(x) as Sym;
  y = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(y) as Sym;
  if (relu) y = tf.layers.reLU({ name: `${name}_relu` }).apply(y) as Sym;
  return y;
}

function head(x: Sym): Sym {
  const p = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as Sym;
  return tf.layers.dense({ units: NUM_CLASSES, activation: 'softmax', name: 'classes' }).apply(p) as Sym;
}

/** VGG-like plain CNN (spirit of Plain-20): 3 stages of two 3x3 conv-BN-ReLU, max pooling between. */
function plainCnn(w: number[]): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3], name: 'image' });
  let x: Sym = input;
  w.forEach((f, s) => {
    x = convBnRelu(x, f, `conv${s + 1}_1`);
    x = convBnRelu(x, f, `conv${s + 1}_2`);
    if (s < w.length - 1) x = tf.layers.maxPooling2d({ poolSize: 2, name: `pool${s + 1}` }).apply(x) as Sym;
  });
  return tf.model({ inputs: input, outputs: head(x), name: 'plain_cnn' });
}

/** ResNet-like (CIFAR ResNet style): stem, 3 stages of basic blocks with residual Add, strided first conv and 1x1 projection at each new stage. */
function resnetLike(w: number[], blocks: number): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3], name: 'image' });
  let x = convBnRelu(input, w[0], 'stem');
  w.forEach((f, s) => {
    for (let b = 0; b < blocks; b++) {
      const n = `s${s + 1}b${b + 1}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      let y = convBnRelu(x, f, `${n}_conv1`, stride);
      y = convBnRelu(y, f, `${n}_conv2`, 1, false);
      let shortcut = x;
      if (stride !== 1 || (x.shape[3] as number) !== f) {
        shortcut = tf.layers.conv2d({ filters: f, kernelSize: 1, strides: stride, useBias: false, name: `${n}_proj`, kernelInitializer: 'heNormal' }).apply(x) as Sym;
        shortcut = tf.layers.batchNormalization({ name: `${n}_proj_bn` }).apply(shortcut) as Sym;
      }
      x = tf.layers.add({ name: `${n}_add` }).apply([shortcut, y]) as Sym;
      x = tf.layers.reLU({ name: `${n}_relu` }).apply(x) as Sym;
    }
  });
  return tf.model({ inputs: input, outputs: head(x), name: 'resnet_like' });
}

/** MobileNet-v1-like: 3x3 stem, depthwise-separable blocks (DW 3x3 BN ReLU6, PW 1x1 BN ReLU6). */
function mobilenetLike(stem: number, blocks: [number, number][]): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3], name: 'image' });
  let x = tf.layers.conv2d({ filters: stem, kernelSize: 3, padding: 'same', useBias: false, name: 'stem', kernelInitializer: 'heNormal' }).apply(input) as Sym;
  x = tf.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as Sym;
  x = tf.layers.reLU({ maxValue: 6, name: 'stem_relu' }).apply(x) as Sym;
  blocks.forEach(([filters, stride], i) => {
    const n = `block${i + 1}`;
    x = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, name: `${n}_dw`, depthwiseInitializer: 'heNormal' }).apply(x) as Sym;
    x = tf.layers.batchNormalization({ name: `${n}_dw_bn` }).apply(x) as Sym;
    x = tf.layers.reLU({ maxValue: 6, name: `${n}_dw_relu` }).apply(x) as Sym;
    x = tf.layers.conv2d({ filters, kernelSize: 1, useBias: false, name: `${n}_pw`, kernelInitializer: 'heNormal' }).apply(x) as Sym;
    x = tf.layers.batchNormalization({ name: `${n}_pw_bn` }).apply(x) as Sym;
    x = tf.layers.reLU({ maxValue: 6, name: `${n}_pw_relu` }).apply(x) as Sym;
  });
  return tf.model({ inputs: input, outputs: head(x), name: 'mobilenet_like' });
}

const SPECS: Spec[] = [
  {
    name: 'resnet-like',
    title: 'a ResNet-like CNN with residual Add',
    architecture:
      '32x32x3 input; Conv 3x3 stem (16) + BN + ReLU; three stages (16, 32, 64 filters) of two basic blocks each (Conv 3x3 BN ReLU, Conv 3x3 BN, Add with the shortcut, ReLU); the first block of stages 2 and 3 has stride 2 and a 1x1 Conv + BN projection shortcut; GlobalAveragePooling; Dense(10, softmax). A CIFAR ResNet-14.',
    epochs: 4,
    lr: 1.5e-3,
    seed: 202,
    build: () => resnetLike([16, 32, 64], 2),
  },
  {
    name: 'plain-cnn',
    title: 'a plain VGG-like CNN',
    architecture:
      '32x32x3 input; three stages of two Conv 3x3 (no bias) + BN + ReLU, with 32, 64 and 128 filters, 2x2 max pooling between stages; GlobalAveragePooling; Dense(10, softmax). No shortcuts (the spirit of Plain-20).',
    epochs: 4,
    lr: 1.5e-3,
    seed: 101,
    build: () => plainCnn([32, 64, 128]),
  },
  {
    name: 'mobilenet-like',
    title: 'a MobileNet-like CNN with depthwise-separable blocks',
    architecture:
      '32x32x3 input; Conv 3x3 stem (32) + BN + ReLU6; six depthwise-separable blocks (DW 3x3 + BN + ReLU6, then PW 1x1 + BN + ReLU6) with 64/2, 128, 128/2, 256, 256/2, 256 filters (/2: the depthwise conv has stride 2); GlobalAveragePooling; Dense(10, softmax).',
    epochs: 8,
    lr: 3e-3,
    seed: 303,
    build: () =>
      mobilenetLike(32, [
        [64, 2],
        [128, 1],
        [128, 2],
        [256, 1],
        [256, 2],
        [256, 1],
      ]),
  },
];


/** Re-draws every kernel from a seeded He-normal (Box-Muller on mulberry32), so a run is reproducible. */
function seedWeights(model: tf.LayersModel, seed: number): void {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    const values = ws.map((w, i) => {
      const name = layer.weights[i].originalName;
      if (!/kernel$/.test(name)) return w.clone();
      const fanIn = w.shape.slice(0, -1).reduce((a, b) => a * b, 1) / (name.endsWith('depthwise_kernel') ? w.shape[2] : 1);
      const std = Math.sqrt(2 / fanIn) * (layer.name === 'classes' ? 0.5 : 1);
      return tf.tensor(Float32Array.from({ length: w.size }, () => normal() * std), w.shape);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

function batchOf(ds: Dataset, order: Int32Array, start: number, end: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const per = 32 * 32 * 3;
  const bytes = new Uint8Array((end - start) * per);
  const labels = new Int32Array(end - start);
  for (let k = start; k < end; k++) {
    const i = order[k];
    bytes.set(ds.images.subarray(i * per, (i + 1) * per), (k - start) * per);
    labels[k - start] = ds.labels[i];
  }
  const x = imagesToTensor(bytes);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), NUM_CLASSES).toFloat() as tf.Tensor2D);
  return { x, y };
}

function shuffled(n: number, rand: () => number): Int32Array {
  const a = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

async function save(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const modelJson = {
        format: 'layers-model',
        generatedBy: 'AMC Playground scripts/train-demo.ts',
        convertedBy: null,
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

const fmtTime = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`);

async function measure(specs: Spec[], train: Dataset): Promise<void> {
  for (const spec of specs) {
    const model = spec.build();
    model.compile({ optimizer: tf.train.adam(spec.lr), loss: 'categoricalCrossentropy' });
    const order = Int32Array.from({ length: BATCH * 4 }, (_, i) => i);
    const times: number[] = [];
    for (let s = 0; s < 4; s++) {
      const { x, y } = batchOf(train, order, s * BATCH, (s + 1) * BATCH);
      const t0 = performance.now();
      await model.trainOnBatch(x, y);
      times.push((performance.now() - t0) / 1000);
      tf.dispose([x, y]);
    }
    const step = Math.min(...times.slice(1));
    const steps = Math.ceil(SPLIT_SIZES.train / BATCH);
    console.log(
      `${spec.name}: ${model.countParams()} params, step ${step.toFixed(2)} s (batch ${BATCH}; first ${times[0].toFixed(2)} s), epoch ~${fmtTime(step * steps)}, ${spec.epochs} epochs ~${fmtTime(step * steps * spec.epochs)}`,
    );
    model.dispose();
  }
}

async function trainOne(spec: Spec, epochs: number, train: Dataset, val: Dataset, test: Dataset, command: string, outRoot: string): Promise<void> {
  const started = performance.now();
  const model = spec.build();
  seedWeights(model, spec.seed);
  const optimizer = tf.train.adam(spec.lr);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const rand = mulberry32(spec.seed);
  const steps = Math.ceil(train.N / BATCH);
  const total = steps * epochs;
  let step = 0;
  for (let e = 0; e < epochs; e++) {
    const order = shuffled(train.N, rand);
    let lossSum = 0;
    const t0 = performance.now();
    for (let s = 0; s < steps; s++, step++) {
      // Linear warm-up over the first 100 steps, then cosine decay to 2% of the peak.
      const warm = Math.min(1, (step + 1) / 100);
      const cos = 0.5 * (1 + Math.cos((Math.PI * step) / total));
      (optimizer as unknown as { learningRate: number }).learningRate = spec.lr * warm * (0.02 + 0.98 * cos);
      const { x, y } = batchOf(train, order, s * BATCH, Math.min(train.N, (s + 1) * BATCH));
      const loss = (await model.trainOnBatch(x, y)) as number;
      lossSum += loss;
      tf.dispose([x, y]);
      if ((s + 1) % 100 === 0) {
        const peek = await evaluateAccuracy(model, val.images, val.labels, { batchSize: 250, limit: 500 });
        process.stderr.write(`\r${spec.name} epoch ${e + 1}/${epochs} step ${s + 1}/${steps}: loss ${(lossSum / (s + 1)).toFixed(3)}, val[:500] top-1 ${(peek.top1 * 100).toFixed(1)}%\n`);
      } else if ((s + 1) % 20 === 0) process.stderr.write(`\r${spec.name} epoch ${e + 1}/${epochs} step ${s + 1}/${steps} loss ${(lossSum / (s + 1)).toFixed(3)}   `);
    }
    const v = await evaluateAccuracy(model, val.images, val.labels, { batchSize: 250 });
    process.stderr.write(
      `\r${spec.name} epoch ${e + 1}/${epochs}: loss ${(lossSum / steps).toFixed(3)}, val top-1 ${(v.top1 * 100).toFixed(1)}% (${fmtTime((performance.now() - t0) / 1000)})\n`,
    );
  }
  const dir = join(outRoot, spec.name);
  await save(model, dir);
  model.dispose();
  // Figures from the saved files, through the same loader and evaluation as any user's model.
  const loaded = await loadModel(filesFromPath(join(dir, 'model.json')));
  const a = analyzeModel(loaded);
  const runnable = await instantiate(loaded);
  const te = await evaluateAccuracy(runnable, test.images, test.labels, { batchSize: 250 });
  const va = await evaluateAccuracy(runnable, val.images, val.labels, { batchSize: 250 });
  runnable.dispose();
  const minutes = (performance.now() - started) / 60000;
  const prunable = a.groups.filter((g) => g.prunable).length;
  const card = `# ${spec.name}: ${spec.title}

Trained on the procedural demo dataset (\`demo:train\`, ${train.N} images of ${NUM_CLASSES} classes: ${CLASS_NAMES.join(', ')}).
Input: 32x32 RGB scaled to [0, 1]. Output: softmax over the ${NUM_CLASSES} classes in that order.

- Architecture: ${spec.architecture}
- Parameters: ${a.cost.totalParams.toLocaleString('en-US')}. MACs: ${formatCount(a.cost.totalMacs)} (${a.cost.totalMacs.toLocaleString('en-US')}) per image.
- Channel groups: ${prunable} prunable, ${a.groups.length - prunable} frozen.
- Accuracy on \`demo:test\` (${test.N} images): top-1 ${(te.top1 * 100).toFixed(2)}%, top-5 ${(te.top5 * 100).toFixed(2)}%.
  On \`demo:val\` (${val.N} images, the split searches use for rewards): top-1 ${(va.top1 * 100).toFixed(2)}%.
- Training: ${epochs} epochs, batch ${BATCH}, Adam (peak learning rate ${spec.lr}, 100-step warm-up, cosine decay), categorical cross-entropy,
  no augmentation; WASM backend in Node, one thread (${minutes.toFixed(1)} min on this run's machine).
- Seed: ${spec.seed} (weight initialization and batch order). Dataset checksums (FNV-1a): train ${datasetChecksum('train', 1000)} (first 1000),
  val ${datasetChecksum('val')}, test ${datasetChecksum('test')}.
- Made by: \`${command}\` (scripts/train-demo.ts).
- Check: \`npm run -s amc -- eval models/${spec.name}/model.json --data demo:test\`.
`;
  writeFileSync(join(dir, 'README.md'), card);
  console.log(`${spec.name}: test top-1 ${(te.top1 * 100).toFixed(2)}%, top-5 ${(te.top5 * 100).toFixed(2)}%, val top-1 ${(va.top1 * 100).toFixed(2)}%, ${a.cost.totalParams} params, ${a.cost.totalMacs} MACs, ${minutes.toFixed(1)} min`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = flag('only');
  const epochsArg = flag('epochs');
  const specs = only ? SPECS.filter((s) => s.name === only) : SPECS;
  if (specs.length === 0) {
    console.error(`train-demo: --only must be one of ${SPECS.map((s) => s.name).join(', ')}.`);
    process.exitCode = 2;
    return;
  }
  if (epochsArg !== undefined && !(Number.isInteger(Number(epochsArg)) && Number(epochsArg) > 0)) {
    console.error(`train-demo: --epochs needs a positive whole number, got '${epochsArg}'.`);
    process.exitCode = 2;
    return;
  }
  installWasmGradients();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('wasm');
  await tf.ready();
  const t0 = performance.now();
  const limit = flag('limit');
  const train = generateDataset('train', limit ? { count: Number(limit) } : {});
  const val = generateDataset('val');
  const test = generateDataset('test');
  console.error(`dataset: ${train.N}/${val.N}/${test.N} images generated in ${fmtTime((performance.now() - t0) / 1000)}`);
  if (argv.includes('--measure')) {
    await measure(specs, train);
    return;
  }
  for (const spec of specs) {
    const epochs = epochsArg ? Number(epochsArg) : spec.epochs;
    const command = ['npm run -s train:demo --', ...(only ? ['--only', only] : []), ...(epochsArg ? ['--epochs', epochsArg] : [])].join(' ').replace(/ --$/, '');
    await trainOne(spec, epochs, train, val, test, command, flag('out') ?? join(process.cwd(), 'models'));
  }
}

main();
