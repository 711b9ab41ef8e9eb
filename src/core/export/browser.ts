/**
 * Export in the browser: the files of a pruned model as Blobs the page can download, a save into
 * the browser's IndexedDB through tfjs, and the lines of code that load either back. No DOM: the
 * page starts the download itself (src/app/lib/download.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { LoadedModel } from '../model/types';
import { disposeModel, instantiate } from '../model/tfjs-model';
import { exportFiles, MODEL_FILE, REPORT_FILE, WEIGHTS_FILE, type ExportOptions } from './files';

export { MODEL_FILE, REPORT_FILE };
import type { PruneReport } from './report';


export interface ExportFile {
  name: string;
  blob: Blob;
  bytes: number;
}

export interface ExportNames {
  model: string;
  weights: string;
  report: string;
}

/**
 * The names of an export's files: `<name>.json` and `<name>.weights.bin`, as tf.io's
 * `downloads://<name>` names them (the JSON's manifest points at the weights by that name), and
 * `<name>.report.json`; model.json, model.weights.bin and report.json without a name.
 */
export function exportNames(name?: string): ExportNames {
  return name ? { model: `${name}.json`, weights: `${name}.weights.bin`, report: `${name}.report.json` } : { model: MODEL_FILE, weights: WEIGHTS_FILE, report: REPORT_FILE };
}

/**
 * The model JSON, its weights and report.json, ready to download, named by `options.name`
 * (exportNames); `options.quantize` stores float16/uint8 weights.
 */
export function exportBlobs(model: Pick<LoadedModel, 'modelJson' | 'weights'>, report?: PruneReport, options: ExportOptions & { name?: string } = {}): ExportFile[] {
  const { name, ...rest } = options;
  const names = exportNames(name);
  const { modelJson, weights } = exportFiles(model, { ...rest, weightsFile: names.weights });
  const files: ExportFile[] = [
    { name: names.model, blob: new Blob([modelJson], { type: 'application/json' }), bytes: 0 },
    { name: names.weights, blob: new Blob([weights], { type: 'application/octet-stream' }), bytes: 0 },
  ];
  if (report) files.push({ name: names.report, blob: new Blob([JSON.stringify(report, null, 2) + '\n'], { type: 'application/json' }), bytes: 0 });
  for (const f of files) f.bytes = f.blob.size;
  return files;
}

/** `amc-<name>`: a model name for indexeddb:// made from where the model came from. */
export function storageName(source: string, suffix = 'pruned'): string {
  return `amc-${modelSlug(source)}${suffix ? `-${suffix}` : ''}`;
}

/** `<name>-pruned`: the name of a download (exportNames) made from the model's name or where it came from. */
export function downloadName(source: string, suffix = 'pruned'): string {
  return `${modelSlug(source)}${suffix ? `-${suffix}` : ''}`;
}

/** A model's name or path as a file name: its folder or file, lower case, letters, digits, - and _. */
function modelSlug(source: string): string {
  const path = source.split(/[?#]/)[0].replace(/\\/g, '/');
  const parts = path.split('/').filter(Boolean);
  if (parts.length && /\.json$/i.test(parts[parts.length - 1])) {
    const file = parts.pop()!;
    if (!parts.length || !/^model\.json$/i.test(file)) parts.push(file.replace(/\.json$/i, ''));
  }
  return (parts[parts.length - 1] ?? 'model').toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
}

export function indexedDbUrl(name: string): string {
  return `indexeddb://${name}`;
}

/**
 * Builds the model in tfjs, saves it to IndexedDB and disposes it again. Returns the URL to load it
 * from and the bytes tfjs stored. Must run where no other tfjs work races it (the app's queue).
 */
export async function saveToIndexedDb(model: Pick<LoadedModel, 'topology' | 'weights'>, name: string): Promise<{ url: string; bytes: number }> {
  const url = indexedDbUrl(name);
  const m = await instantiate(model);
  try {
    const r = await m.save(url);
    const info = r.modelArtifactsInfo;
    return { url, bytes: (info.modelTopologyBytes ?? 0) + (info.weightSpecsBytes ?? 0) + (info.weightDataBytes ?? 0) };
  } finally {
    disposeModel(m);
  }
}

/** True when tfjs lists `url` among the models stored in this browser. */
export async function isStored(url: string): Promise<boolean> {
  const models = await tf.io.listModels();
  return url in models;
}

/** The line of JavaScript that loads the model from `url` (a path to model.json or indexeddb://...). */
export function loadSnippet(url: string): string {
  return `const model = await tf.loadLayersModel('${url.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}');`;
}
