/**
 * model.json + weight shards -> LoadedModel, validated.
 * Every refusal is a ModelError naming the file, the problem and the fix.
 */
import { ModelError } from './errors';
import { baseName, dirName, type ModelFile } from './files';
import { buildGraph } from './graph';
import { isModelClass } from './keras-classes';
import { normalizeModelConfig } from './normalize';
import { disposeModel, instantiate } from './tfjs-model';
import type { KerasLayerJson, KerasTopology, LoadedModel, ProgressFn, WeightArray } from './types';
import { validateTopology } from './validate';
import { show, validateJsonDepth } from './validate-values';
import { DEFAULT_MAX_MODEL_BYTES, finiteWarnings, validateManifest } from './validate-weights';
import { decodeWeight, storedBytes } from './weights';

export { DEFAULT_MAX_MODEL_BYTES };

export interface LoadOptions {
  /**
   * The most bytes the model may need to run (activations of one input at float32 plus weights,
   * computed from model.json before anything is read or allocated). Default DEFAULT_MAX_MODEL_BYTES.
   */
  maxBytes?: number;
  /**
   * Build the validated model once with tfjs (and dispose it at once), so that what loads is what
   * tfjs builds: a config tfjs refuses for a reason the checks above do not know (an unknown
   * activation, a layer class the pruner has no handler for whose weights do not fit) is refused
   * here as a ModelError, not later by whatever builds it. Safe after validation: no cycle can hang
   * it and the cost ceiling bounds what it allocates. Default true.
   */
  build?: boolean;
}

const GET_LAYERS_MODEL =
  'Convert the original Keras model with `tensorflowjs_converter --input_format keras --output_format tfjs_layers_model`, or save it from tfjs with model.save().';

function jsonPosition(text: string, err: unknown): string {
  const m = /position (\d+)/.exec(String(err));
  if (!m) return '';
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}`;
}

async function readText(file: ModelFile): Promise<string> {
  return new TextDecoder().decode(await file.read());
}

function parseJson(file: ModelFile, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const why = show(String((err as Error).message ?? err).split('\n')[0]);
    throw new ModelError(
      file.path,
      `is not valid JSON${jsonPosition(text, err)} (${why}).`,
      'The file is damaged or was cut short: export or download it again.',
    );
  }
}

interface ModelJsonFile {
  file: ModelFile;
  json: Record<string, unknown>;
  text: string;
}

/** Finds model.json by its content: Teachable Machine exports also bring metadata.json. */
async function findModelJson(files: ModelFile[]): Promise<{ model: ModelJsonFile; sidecars: Record<string, unknown> }> {
  const jsonFiles = files.filter((f) => /\.json$/i.test(baseName(f.path)));
  if (jsonFiles.length === 0) {
    const names = files.map((f) => baseName(f.path)).join(', ') || 'nothing';
    throw new ModelError(
      names,
      'contains no model.json.',
      'Select model.json together with its weight files (.bin), or drop the whole export folder.',
    );
  }
  const parsed: ModelJsonFile[] = [];
  const broken: { file: ModelFile; text: string }[] = [];
  for (const file of jsonFiles) {
    const text = await readText(file);
    try {
      parsed.push({ file, json: JSON.parse(text) as Record<string, unknown>, text });
    } catch {
      broken.push({ file, text });
    }
  }
  const isModel = (j: unknown) => typeof j === 'object' && j !== null && ('modelTopology' in j || 'weightsManifest' in j);
  const candidates = parsed.filter((p) => isModel(p.json));
  candidates.sort((a, b) => Number(baseName(b.file.path) === 'model.json') - Number(baseName(a.file.path) === 'model.json'));
  if (candidates.length === 0) {
    const suspect = broken.find((b) => /model/i.test(baseName(b.file.path))) ?? broken[0];
    if (suspect) parseJson(suspect.file, suspect.text);
    throw new ModelError(
      jsonFiles.map((f) => baseName(f.path)).join(', '),
      'has no modelTopology: none of these JSON files is a TensorFlow.js model.json.',
      'Select the model.json written by tfjs or tensorflowjs_converter (it lists modelTopology and weightsManifest).',
    );
  }
  const model = candidates[0];
  const sidecars: Record<string, unknown> = {};
  for (const p of parsed) if (p !== model) sidecars[baseName(p.file.path)] = p.json;
  return { model, sidecars };
}

function refuseGraphModel(path: string, json: Record<string, unknown>, topology: unknown): void {
  const isGraph =
    json.format === 'graph-model' ||
    (typeof topology === 'object' && topology !== null && 'node' in topology && !('model_config' in topology));
  if (isGraph) {
    throw new ModelError(
      path,
      'is a TensorFlow.js GraphModel (a frozen TensorFlow graph), not a LayersModel; its layers and channels cannot be pruned.',
      `AMC Playground needs a LayersModel. ${GET_LAYERS_MODEL}`,
    );
  }
}

function rootConfig(path: string, topology: unknown): KerasLayerJson | KerasLayerJson[] {
  if (Array.isArray(topology)) return topology as KerasLayerJson[];
  const t = topology as KerasTopology & KerasLayerJson;
  const config = t?.model_config ?? (t?.class_name ? t : undefined);
  if (!config) {
    throw new ModelError(path, 'has a modelTopology without model_config or class_name.', GET_LAYERS_MODEL);
  }
  return config as KerasLayerJson | KerasLayerJson[];
}

/** Every layer (nested models included) with its class, so unknown classes and weight names can be checked. */
export function walkLayers(root: KerasLayerJson, visit: (layer: KerasLayerJson, depth: number) => void, depth = 0): void {
  visit(root, depth);
  const layers = root.config?.layers;
  if (isModelClass(root.class_name) && Array.isArray(layers)) {
    for (const l of layers as KerasLayerJson[]) walkLayers(l, visit, depth + 1);
  }
}

export function layerName(l: KerasLayerJson): string {
  return String(l.config?.name ?? l.name ?? '');
}

/** Manifest paths are relative to model.json; exports write them with or without './' and '.bin'. */
function resolveShard(path: string, modelPath: string, files: ModelFile[]): ModelFile | undefined {
  let wanted = path.replace(/^\.\//, '');
  try {
    wanted = decodeURIComponent(wanted);
  } catch {
    // keep it as written
  }
  const wantedBase = baseName(wanted);
  const modelDir = dirName(modelPath);
  const byBase = files.filter((f) => baseName(f.path) === wantedBase);
  return (
    byBase.find((f) => f.path === modelDir + wanted) ??
    byBase.find((f) => dirName(f.path) === modelDir) ??
    byBase[0] ??
    files.find((f) => baseName(f.path).toLowerCase() === wantedBase.toLowerCase())
  );
}

/** tfjs matches weights to layers by `layer/weight`; scoped names (`outer/layer/weight`) are shortened the same way. */
function matchWeightName(name: string, layerNames: Set<string>): string | undefined {
  const tokens = name.split('/');
  const weight = tokens[tokens.length - 1];
  const candidates = [tokens.slice(0, -1).join('/'), tokens[tokens.length - 2], tokens.slice(0, -2).join('/')];
  const layer = candidates.find((c) => c !== undefined && layerNames.has(c));
  return layer === undefined ? undefined : `${layer}/${weight}`;
}

/**
 * Reads and validates a model: model.json first (JSON depth, topology, config ranges, manifest, and
 * every layer config against its weights' shapes and a cost ceiling, all before any weight file is
 * read or anything allocated), then the shards (sizes, decoding), then a NaN/Infinity scan.
 */
export async function loadModel(files: ModelFile[], onProgress?: ProgressFn, options: LoadOptions = {}): Promise<LoadedModel> {
  onProgress?.(0, 'reading model.json');
  const { model, sidecars } = await findModelJson(files);
  const path = model.file.path;
  const json = model.json;
  validateJsonDepth(path, json);
  const topology = json.modelTopology;
  refuseGraphModel(path, json, topology);
  if (topology === undefined || topology === null) {
    throw new ModelError(path, 'has a weightsManifest but no modelTopology (weights only).', 'Select the full model.json that also describes the layers.');
  }
  const { config, changed } = normalizeModelConfig(rootConfig(path, topology));
  validateTopology(path, config);
  const normalizedTopology: KerasTopology =
    typeof topology === 'object' && !Array.isArray(topology) && 'model_config' in (topology as object)
      ? { ...(topology as KerasTopology), model_config: config }
      : { model_config: config };
  const notes = changed.map((c) => `normalized: ${c}`);

  const layerNames = new Set<string>();
  walkLayers(config, (l) => layerNames.add(layerName(l)));

  const manifest = json.weightsManifest;
  validateManifest(path, manifest);
  // Weight names as tfjs matches them to layers, then the whole graph built from shapes alone:
  // configs against the manifest's shapes and dtypes, and the cost ceiling, before any shard is read.
  const canonicalNames = manifest.map((g) =>
    g.weights.map((w) => {
      const canonical = matchWeightName(w.name, layerNames);
      if (canonical === undefined) throw unmatchedWeight(path, w.name, layerNames);
      return canonical;
    }),
  );
  const skeleton: WeightArray[] = manifest.flatMap((g, gi) =>
    g.weights.map((w, wi) => ({
      name: canonicalNames[gi][wi],
      shape: [...w.shape],
      dtype: w.dtype === 'int32' ? 'int32' : w.dtype === 'bool' ? 'bool' : 'float32',
      values: new Float32Array(0),
      storedAs: w.quantization?.dtype ?? w.dtype,
    })),
  );
  const skeletonByName = new Map(skeleton.map((w) => [w.name, w]));
  if (skeletonByName.size !== skeleton.length) {
    const seen = new Set<string>();
    const twice = skeleton.find((w) => (seen.has(w.name) ? true : (seen.add(w.name), false)))!;
    throw new ModelError(path, `the weightsManifest has two weights that both belong to '${twice.name}'.`, 'model.json is damaged or merged from two exports: export the model again.');
  }
  const draft = { source: path, topology: { model_config: config }, weights: skeleton, byName: skeletonByName } as LoadedModel;
  buildGraph(draft, { maxBytes: options.maxBytes ?? DEFAULT_MAX_MODEL_BYTES });

  const shardFiles = manifest.map((g) =>
    g.paths.map((p) => {
      const f = resolveShard(p, path, files);
      if (!f) {
        throw new ModelError(
          p,
          `is listed in the weightsManifest of ${baseName(path)} but was not among the files given.`,
          'Select it together with model.json (all files of the export), or drop the whole folder.',
        );
      }
      return f;
    }),
  );
  const knownSizes = shardFiles.flat().reduce((s, f) => s + f.size, 0);
  let bytesRead = 0;
  const weights: WeightArray[] = [];
  for (const [gi, group] of manifest.entries()) {
    const buffers: ArrayBuffer[] = [];
    for (const f of shardFiles[gi]) {
      const buf = await f.read();
      buffers.push(buf);
      bytesRead += buf.byteLength;
      onProgress?.(knownSizes > 0 ? Math.min(1, bytesRead / knownSizes) : 0.5, `reading ${baseName(f.path)}`);
    }
    let expected = 0;
    for (const w of group.weights) {
      const b = storedBytes(w);
      if (b === undefined) {
        throw new ModelError(path, `weight '${w.name}' has dtype '${w.quantization?.dtype ?? w.dtype}', which a LayersModel cannot hold.`, 'Re-export with float32, float16, uint8 or uint16 weights.');
      }
      expected += b;
    }
    const got = buffers.reduce((s, b) => s + b.byteLength, 0);
    if (got !== expected) {
      const names = shardFiles[gi].map((f) => baseName(f.path));
      const last = names.length - 1;
      const others = buffers.slice(0, last).reduce((s, b) => s + b.byteLength, 0);
      const shard = names.length === 1 ? names[0] : `${names[last]} (last of ${names.length} shards: ${names.join(', ')})`;
      throw new ModelError(
        shard,
        `has ${buffers[last].byteLength} bytes but the weightsManifest of ${baseName(path)} needs ${expected - others} (group ${gi + 1}: ${expected} bytes in all, the files hold ${got}).`,
        'The weight files do not belong to this model.json or were cut short: download or export them again.',
      );
    }
    const data = concat(buffers);
    let offset = 0;
    for (const [wi, w] of group.weights.entries()) {
      const canonical = canonicalNames[gi][wi];
      const decoded = decodeWeight(w, data, offset);
      if (canonical !== w.name) decoded.name = canonical;
      weights.push(decoded);
      offset += storedBytes(w)!;
    }
  }
  if (weights.some((w) => w.storedAs !== w.dtype)) {
    const kinds = [...new Set(weights.filter((w) => w.storedAs !== w.dtype).map((w) => w.storedAs))];
    notes.push(`weights stored as ${kinds.join(', ')} were dequantized to float32`);
  }
  notes.push(...finiteWarnings(weights));
  if (options.build !== false) {
    onProgress?.(1, 'checking that TensorFlow.js builds it');
    disposeModel(await instantiate({ source: path, topology: normalizedTopology, weights }));
  }
  onProgress?.(1, 'loaded');
  const byName = new Map(weights.map((w) => [w.name, w]));
  const kerasVersion = (topology as KerasTopology)?.keras_version;
  const producedBy = [json.generatedBy ?? (kerasVersion && (/^\d/.test(kerasVersion) ? `keras v${kerasVersion}` : kerasVersion)), json.convertedBy]
    .filter(Boolean)
    .join(', ');
  return {
    source: path,
    modelJson: { ...json, modelTopology: normalizedTopology },
    topology: normalizedTopology,
    weights,
    byName,
    bytesOnDisk: model.file.size + bytesRead,
    producedBy: producedBy || 'unknown',
    notes,
    sidecars,
  };
}

function unmatchedWeight(path: string, name: string, layerNames: Set<string>): ModelError {
  const named = [...layerNames].slice(1, 4);
  return new ModelError(
    path,
    `weight '${show(name)}' in the weightsManifest matches no layer of the model${named.length ? ` (its layers are named like ${named.join(', ')})` : ''}.`,
    'model.json and its weights come from different models or exports: export both again together.',
  );
}

function concat(buffers: ArrayBuffer[]): ArrayBuffer {
  if (buffers.length === 1) return buffers[0];
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  return out.buffer;
}
