/**
 * The data every later step (groups, cost, prune, search) works on.
 * Plain data only: no tfjs objects, so it runs the same in Node, pages and workers.
 */

/** A Keras layer entry as it appears in model.json (after normalization to the tfjs-layers dialect). */
export interface KerasLayerJson {
  class_name: string;
  config: Record<string, unknown> & { name?: string; layers?: unknown };
  name?: string;
  /** Keras 2 form: one entry per call; each call is a list of [layerName, nodeIndex, tensorIndex, kwargs]. */
  inbound_nodes?: InboundNode[];
}
export type InboundTensor = [string, number, number, Record<string, unknown>?];
export type InboundNode = InboundTensor[];

/** The `modelTopology` of a LayersModel model.json. */
export interface KerasTopology {
  class_name?: string;
  config?: unknown;
  model_config?: KerasLayerJson;
  keras_version?: string;
  backend?: string;
  training_config?: unknown;
}

export type WeightDtype = 'float32' | 'int32' | 'bool';

/** One weight after loading: dequantized, owned, with its manifest name (e.g. `conv1/kernel`). */
export interface WeightArray {
  name: string;
  shape: number[];
  dtype: WeightDtype;
  values: Float32Array | Int32Array | Uint8Array;
  /** How it was stored in the source files, for the report ("uint8" when quantized). */
  storedAs: string;
}

/** A model as loaded from files: normalized topology and decoded weights, plus where it came from. */
export interface LoadedModel {
  /** File name of model.json as the user knows it (path inside a dropped folder, URL or CLI path). */
  source: string;
  /** The whole model.json object, normalized (Keras 3 -> tfjs dialect); weightsManifest left as in the file. */
  modelJson: Record<string, unknown> & { modelTopology: KerasTopology };
  topology: KerasTopology;
  /** Weights in manifest order, keyed by name in `byName`. */
  weights: WeightArray[];
  byName: Map<string, WeightArray>;
  /** Bytes of model.json + all weight shards, as on disk. */
  bytesOnDisk: number;
  /** Keras version and converter, when the file says. */
  producedBy: string;
  /** Things the loader changed or assumed, shown to the user (e.g. "Keras 3 config normalized"). */
  notes: string[];
  /** Extra JSON files that came along (e.g. Teachable Machine metadata.json), by file name. */
  sidecars: Record<string, unknown>;
}

/** Reports progress of long steps; `fraction` in [0,1]. */
export type ProgressFn = (fraction: number, what: string) => void;
