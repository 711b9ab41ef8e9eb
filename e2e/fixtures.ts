/**
 * Fixture models for the browser journeys, built with tfjs in Node and written as a user's
 * export would be: model.json + weights.bin (+ metadata.json, as Teachable Machine writes it).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FixtureModel {
  dir: string;
  /** Absolute paths of every file of the export. */
  files: string[];
  modelJson: string;
  weights: string;
  params: number;
  /** Expected MACs of the layers whose cost is unambiguous, by layer name. */
  macs: Record<string, number>;
  outputShape: number[];
  layerNames: string[];
}

export interface CnnOptions {
  size: number;
  channels: number;
  filters: number;
  classes: number;
  /** File name of the model JSON (content, not the name, makes it the model). */
  modelFile?: string;
  metadata?: boolean;
}

const madeDirs: string[] = [];
process.on('exit', () => madeDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A temporary folder for a test's files, removed when the test process exits. */
export function fixtureDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `amc-e2e-${prefix}-`));
  madeDirs.push(dir);
  return dir;
}

/** A Sequential conv + BatchNorm + flatten + dense classifier, saved to `dir`. */
export async function writeSequentialCnn(dir: string, o: CnnOptions): Promise<FixtureModel> {
  await tf.setBackend('cpu');
  mkdirSync(dir, { recursive: true });
  const model = tf.sequential({
    name: 'fixture_cnn',
    layers: [
      tf.layers.conv2d({
        name: 'conv1',
        inputShape: [o.size, o.size, o.channels],
        filters: o.filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
      }),
      tf.layers.batchNormalization({ name: 'bn1' }),
      tf.layers.activation({ name: 'relu1', activation: 'relu' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ name: 'logits', units: o.classes, activation: 'softmax' }),
    ],
  });
  const hw = o.size * o.size;
  const fixture = await saveModel(model, dir, o.modelFile ?? 'model.json', {
    conv1: hw * 9 * o.channels * o.filters,
    logits: hw * o.filters * o.classes,
  });
  if (o.metadata) {
    const meta = {
      tfjsVersion: tf.version.tfjs,
      tmVersion: '2.4.10',
      packageVersion: '0.8.4-alpha2',
      packageName: '@teachablemachine/image',
      modelName: 'fixture',
      labels: Array.from({ length: o.classes }, (_, i) => `class ${i + 1}`),
      imageSize: o.size,
    };
    const metaPath = join(dir, 'metadata.json');
    writeFileSync(metaPath, JSON.stringify(meta));
    fixture.files.push(metaPath);
  }
  return fixture;
}

/** A fully convolutional classifier with unknown height and width ([null, null, null, 3]). */
export async function writeDynamicCnn(dir: string): Promise<FixtureModel> {
  await tf.setBackend('cpu');
  mkdirSync(dir, { recursive: true });
  const model = tf.sequential({
    name: 'dynamic_cnn',
    layers: [
      tf.layers.conv2d({ name: 'conv1', inputShape: [null, null, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ name: 'logits', units: 2 }),
    ],
  });
  return saveModel(model, dir, 'model.json', {
    conv1: 224 * 224 * 9 * 3 * 8,
    logits: 8 * 2,
  });
}

async function saveModel(model: tf.LayersModel, dir: string, modelFile: string, macs: Record<string, number>): Promise<FixtureModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.weightData || !artifacts.weightSpecs) throw new Error('tfjs gave no weights');
  const data = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs }],
  };
  const files = [join(dir, modelFile), join(dir, 'weights.bin')];
  writeFileSync(files[0], JSON.stringify(modelJson));
  writeFileSync(files[1], new Uint8Array(data));
  const out = model.outputs[0].shape.map((d) => d ?? 1);
  const fixture: FixtureModel = {
    dir,
    files,
    modelJson: files[0],
    weights: files[1],
    params: model.countParams(),
    macs,
    outputShape: out,
    layerNames: model.layers.map((l) => l.name),
  };
  model.dispose();
  return fixture;
}

/** A GraphModel model.json (what tensorflowjs_converter writes for a SavedModel): must be refused. */
export function writeGraphModel(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const json = {
    format: 'graph-model',
    generatedBy: '2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '4' }] } } } },
        { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' } } },
        { name: 'y', op: 'MatMul', input: ['x', 'w'] },
      ],
      library: {},
      versions: { producer: 1 },
    },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'w', shape: [4, 2], dtype: 'float32' }] }],
  };
  const files = [join(dir, 'model.json'), join(dir, 'group1-shard1of1.bin')];
  writeFileSync(files[0], JSON.stringify(json));
  writeFileSync(files[1], new Uint8Array(32));
  return files;
}
