/**
 * The flat layer graph: nested Sequential/Model layers expanded in place, tensors as edges,
 * every layer call a node with unique id, shapes inferred with the user's input size.
 */
import { ModelError } from './errors';
import { isModelClass } from './keras-classes';
import { layerHandler, type LayerHandler, type Shape } from './layers';
import { prod } from './layers/handler';
import { tfjsOutputShape } from './tfjs-shape';
import { layerName } from './load';
import type { KerasLayerJson, LoadedModel } from './types';
import { firstCallNode } from './validate';
import { checkModelCost, DEFAULT_MAX_MODEL_BYTES } from './validate-weights';
import { elementCount } from './weights';

export interface GraphLayer {
  /** Unique in the graph: the Keras name, made unique with its model's name or the call index when needed. */
  id: string;
  /** The Keras layer name (what weights are named after). */
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** undefined for classes tfjs runs but the pruner does not know. */
  handler: LayerHandler | undefined;
  inputs: string[];
  output: string;
  inputShapes: Shape[];
  outputShape: Shape;
  /** Full weight names (`conv1/kernel`) in Keras order. */
  weights: string[];
  /** Parameters as stored in the weight files; what cost uses for classes without a handler. */
  storedParams: number;
  /** Index of this call among the calls of a shared layer (0 for most layers). */
  call: number;
  /** Names of the nested models this layer sat in, outermost first. */
  path: string[];
}

export interface GraphTensor {
  id: string;
  shape: Shape;
  producer: string;
}

export interface ModelGraph {
  layers: GraphLayer[];
  byId: Map<string, GraphLayer>;
  tensors: Map<string, GraphTensor>;
  inputs: string[];
  outputs: string[];
  /** What was assumed to get concrete shapes (e.g. null height/width set to 224). */
  assumptions: string[];
  /** Input size used for dynamic spatial dimensions. */
  inputSize: number;
  /**
   * Layers of nested models whose config declares an input shape for a tensor that an outer
   * model feeds (tfjs checks it on load, so pruning must rewrite its channel count).
   */
  declaredInputs: { layer: string; tensor: string }[];
}

export interface GraphOptions {
  /** Height and width used where the model's input has null spatial sizes. Default 224. */
  inputSize?: number;
  /**
   * The most bytes (activations of one input, float32, plus weights) a model may need; over it the
   * graph is refused before anything allocates. Default DEFAULT_MAX_MODEL_BYTES (2 GiB).
   */
  maxBytes?: number;
}

export const DEFAULT_INPUT_SIZE = 224;

type Ref = [string, number, number];

function inputShapeOf(cfg: Record<string, unknown>): Shape | undefined {
  if (Array.isArray(cfg.batch_input_shape)) return cfg.batch_input_shape as Shape;
  if (Array.isArray(cfg.input_shape)) return [null, ...(cfg.input_shape as Shape)];
  return undefined;
}

class GraphBuilder {
  layers: GraphLayer[] = [];
  tensors = new Map<string, GraphTensor>();
  assumptions: string[] = [];
  declaredInputs: { layer: string; tensor: string }[] = [];
  private usedIds = new Set<string>();
  private callCount = new Map<string, number>();

  constructor(
    private model: LoadedModel,
    readonly inputSize: number,
  ) {}

  private uniqueId(name: string, path: string[], call: number): string {
    const candidates = [call === 0 ? name : `${name}#${call}`, [...path, name].join('/') + (call ? `#${call}` : '')];
    for (const c of candidates) if (!this.usedIds.has(c)) return this.claim(c);
    let i = 2;
    while (this.usedIds.has(`${candidates[1]}~${i}`)) i++;
    return this.claim(`${candidates[1]}~${i}`);
  }

  private claim(id: string): string {
    this.usedIds.add(id);
    return id;
  }

  /** Creates the model input tensor, with dynamic sizes made concrete. */
  addInput(layer: KerasLayerJson, path: string[]): string {
    const name = layerName(layer);
    let shape = inputShapeOf(layer.config);
    if (!shape) {
      throw new ModelError(this.model.source, `input layer '${name}' has no input shape.`, 'Export the model with a fixed input shape (set input_shape on the first layer).');
    }
    shape = shape.map((d, i) => {
      if (i === 0 || d !== null) return d;
      const spatial = shape!.length === 4 && (i === 1 || i === 2);
      const value = spatial ? this.inputSize : 1;
      const note = spatial
        ? `input '${name}' has a dynamic ${i === 1 ? 'height' : 'width'}: assumed ${value}`
        : `input '${name}' dimension ${i} is dynamic: assumed 1`;
      if (!this.assumptions.includes(note)) this.assumptions.push(note);
      return value;
    });
    return this.addLayer({ ...layer, class_name: 'InputLayer' }, path, [], [shape]);
  }

  addLayer(layer: KerasLayerJson, path: string[], inputs: string[], inputShapesOverride?: Shape[]): string {
    const name = layerName(layer);
    const call = this.callCount.get(name) ?? 0;
    this.callCount.set(name, call + 1);
    const id = this.uniqueId(name, path, call);
    const handler = layerHandler(layer.class_name);
    const inputShapes = inputShapesOverride ?? inputs.map((t) => this.tensors.get(t)!.shape);
    const config = layer.config as Record<string, unknown>;
    let outputShape: Shape;
    if (handler) {
      outputShape = handler.outputShape(config, inputShapes);
    } else {
      // Never a guess: the shape tfjs-layers itself computes for this config, or a refusal naming the layer.
      const shape = tfjsOutputShape(layer.class_name, config, inputShapes);
      if (typeof shape === 'string') {
        throw new ModelError(
          this.model.source,
          `layer '${name}' (${layer.class_name}) is not one the pruner knows, and its output shape cannot be worked out: ${shape}.`,
          'Export the model without this layer, or report the layer class so that support for it can be added.',
        );
      }
      outputShape = shape;
    }
    this.checkOutputShape(layer, inputShapes, outputShape);
    const weights = handler ? handler.weights(config, inputShapes).map((w) => `${name}/${w}`) : this.weightsByPrefix(name);
    if (handler && call === 0) this.checkWeights(layer, handler, inputShapes, outputShape, weights);
    const output = `${id}:0`;
    this.tensors.set(output, { id: output, shape: outputShape, producer: id });
    this.layers.push({
      id,
      name,
      className: layer.class_name,
      config,
      handler,
      inputs,
      output,
      inputShapes,
      outputShape,
      weights,
      storedParams: weights.reduce((n, w) => n + elementCount(this.model.byName.get(w)?.shape ?? [0]), 0),
      call,
      path,
    });
    return output;
  }

  /** Every size of an output must be a positive integer: a kernel larger than its input, or a Reshape that does not divide, is refused here. */
  private checkOutputShape(layer: KerasLayerJson, inputs: Shape[], output: Shape): void {
    if (output.every((d, i) => (i === 0 && d === null) || (Number.isInteger(d) && (d as number) > 0) || (i > 0 && d === null))) return;
    const shape = (s: Shape) => `[${s.map((d) => (d === null ? '?' : d)).join(', ')}]`;
    throw new ModelError(
      this.model.source,
      `layer '${layerName(layer)}' (${layer.class_name}) would turn its input ${inputs.map(shape).join(' and ')} into ${shape(output)}, which is not a shape.`,
      'Its kernel, strides, padding or target shape do not fit its input: correct them in model.json, or export the model again.',
    );
  }

  /** The weights in the manifest must be the ones this layer's config makes tfjs create: names, shapes, dtypes. */
  private checkWeights(layer: KerasLayerJson, handler: LayerHandler, inputs: Shape[], output: Shape, weights: string[]): void {
    const name = layerName(layer);
    const source = this.model.source;
    const label = `layer '${name}' (${layer.class_name})`;
    const shape = (s: readonly (number | null)[]) => `[${s.map((d) => d ?? '?').join(', ')}]`;
    for (const w of weights) {
      if (!this.model.byName.has(w)) {
        throw new ModelError(source, `${label} needs the weight '${w}', which the weightsManifest does not have.`, 'model.json and its weights come from different exports: export both again together.');
      }
    }
    const extra = this.model.weights.filter((w) => w.name.startsWith(`${name}/`) && !weights.includes(w.name) && !w.name.slice(name.length + 1).includes('/'));
    if (extra.length) {
      throw new ModelError(
        source,
        `${label} has the weight '${extra[0].name}' in the weightsManifest, which its config does not create (it creates ${weights.map((w) => `'${w}'`).join(', ') || 'none'}).`,
        'The config (e.g. use_bias) and the weights disagree: restore model.json, or export the model again.',
      );
    }
    const expected = handler.weightShapes?.(layer.config, inputs, output) ?? {};
    for (const w of weights) {
      const stored = this.model.byName.get(w)!;
      const want = expected[w.slice(name.length + 1)];
      if (want && want.every((d) => d !== null) && (want.length !== stored.shape.length || want.some((d, i) => d !== stored.shape[i]))) {
        const widths = ['filters', 'units', 'kernel_size', 'depth_multiplier', 'input_dim', 'output_dim']
          .filter((k) => Object.hasOwn(layer.config, k))
          .map((k) => `${k} ${JSON.stringify(layer.config[k])}`);
        const why = [...widths, `input ${shape(inputs[0] ?? [])}`].join(', ');
        throw new ModelError(
          source,
          `${label} makes a weight '${w}' of shape ${shape(want)} from its config (${why}), but the weightsManifest gives ${shape(stored.shape)}.`,
          'The layer config and its weights disagree: restore the original model.json, or export the model again.',
        );
      }
      if (stored.dtype !== 'float32') {
        throw new ModelError(
          source,
          `${label} holds float32 weights, but the weightsManifest gives '${w}' as ${stored.dtype}.`,
          'Set the weight\'s dtype back to float32 in model.json, or export the model again.',
        );
      }
    }
  }

  private weightsByPrefix(name: string): string[] {
    return this.model.weights.filter((w) => w.name.startsWith(`${name}/`)).map((w) => w.name);
  }

  /** Expands a (possibly nested) model; `incoming` feeds its inputs when it is called from an outer model. */
  expand(model: KerasLayerJson, path: string[], incoming?: string[]): string[] {
    const cfg = model.config as Record<string, unknown>;
    const layers = (cfg.layers ?? []) as KerasLayerJson[];
    const inner = [...path, layerName(model)];
    if (model.class_name === 'Sequential') return this.expandSequential(layers, inner, incoming, cfg);
    return this.expandFunctional(model, layers, inner, incoming);
  }

  private expandSequential(layers: KerasLayerJson[], path: string[], incoming: string[] | undefined, cfg: Record<string, unknown>): string[] {
    let current: string | undefined = incoming?.[0];
    for (const layer of layers) {
      if (layer.class_name === 'InputLayer') {
        if (current === undefined) current = this.addInput(layer, path);
        else this.declaredInputs.push({ layer: layerName(layer), tensor: current });
        continue;
      }
      if (current !== undefined && inputShapeOf(layer.config)) this.declaredInputs.push({ layer: layerName(layer), tensor: current });
      if (current === undefined) {
        if (isModelClass(layer.class_name)) {
          current = this.expand(layer, path)[0];
          continue;
        }
        // Keras 2 Sequential: the first layer carries batch_input_shape; tfjs names the input `<name>_input`.
        const shape = inputShapeOf(layer.config) ?? inputShapeOf(cfg);
        current = this.addInput({ class_name: 'InputLayer', config: { name: `${layerName(layer)}_input`, batch_input_shape: shape } }, path);
      }
      current = isModelClass(layer.class_name) ? this.expand(layer, path, [current])[0] : this.addLayer(layer, path, [current]);
    }
    if (current === undefined) throw new ModelError(this.model.source, `model '${path.at(-1)}' has no layers.`, 'Export a model with at least one layer.');
    return [current];
  }

  private expandFunctional(model: KerasLayerJson, layers: KerasLayerJson[], path: string[], incoming?: string[]): string[] {
    const cfg = model.config as Record<string, unknown>;
    const produced = new Map<string, string[]>(); // `${name}|${node}` -> output tensors of that call
    const key = (name: string, node: number) => `${name}|${node}`;
    const inputRefs = (cfg.input_layers ?? []) as Ref[];
    const calls = new Map<string, number>(); // calls made so far per layer name, numbered as tfjs numbers them
    inputRefs.forEach(([name, node], i) => {
      const layer = layers.find((l) => layerName(l) === name);
      if (!layer) throw new ModelError(this.model.source, `model '${path.at(-1)}' names input '${name}', which is not one of its layers.`, 'The model.json is inconsistent: export it again.');
      const t = incoming?.[i] ?? this.addInput(layer, path);
      if (incoming?.[i]) this.declaredInputs.push({ layer: name, tensor: t });
      produced.set(key(name, node), [t]);
    });
    // Layers are usually listed in topological order; loop until every call has its inputs.
    const pending = layers
      .filter((l) => l.class_name !== 'InputLayer')
      .flatMap((l) => (l.inbound_nodes ?? []).map((node) => ({ layer: l, node })));
    let progressed = true;
    while (pending.length && progressed) {
      progressed = false;
      for (let i = 0; i < pending.length; i++) {
        const { layer, node } = pending[i];
        const refs = node.map(([n, ni, ti]) => produced.get(key(n, ni))?.[ti]);
        if (refs.some((r) => r === undefined)) continue;
        const ins = refs as string[];
        const outs = isModelClass(layer.class_name) ? this.expand(layer, path, ins) : [this.addLayer(layer, path, ins)];
        // tfjs numbers calls as it makes them; a nested model's node 0 is its own inner graph (validate.ts).
        const made = calls.get(layerName(layer)) ?? 0;
        calls.set(layerName(layer), made + 1);
        produced.set(key(layerName(layer), firstCallNode(layer.class_name) + made), outs);
        pending.splice(i--, 1);
        progressed = true;
      }
    }
    if (pending.length) {
      const { layer, node } = pending[0];
      const missing = node.map(([n]) => n).join(', ');
      throw new ModelError(this.model.source, `layer '${layerName(layer)}' takes inputs from ${missing}, which never get computed.`, 'The model.json is inconsistent: export it again.');
    }
    return ((cfg.output_layers ?? []) as Ref[]).map(([name, node, index]) => {
      const t = produced.get(key(name, node))?.[index];
      if (!t) throw new ModelError(this.model.source, `model '${path.at(-1)}' names output '${name}', which is never computed.`, 'The model.json is inconsistent: export it again.');
      return t;
    });
  }
}

export function buildGraph(model: LoadedModel, options: GraphOptions = {}): ModelGraph {
  const root = model.topology.model_config!;
  const b = new GraphBuilder(model, options.inputSize ?? DEFAULT_INPUT_SIZE);
  const outputs = b.expand(root, []);
  const inputs = b.layers.filter((l) => l.className === 'InputLayer').map((l) => l.output);
  // The ceiling, from shapes alone: the most activation bytes alive at once (batch 1, float32; a
  // tensor lives from its layer to its last reader, outputs to the end) plus the weights.
  const lastUse = new Map<string, number>();
  b.layers.forEach((l, i) => l.inputs.forEach((t) => lastUse.set(t, i)));
  for (const t of outputs) lastUse.set(t, Infinity);
  let live = 0;
  let activationBytes = 0;
  let largest = { layer: '', bytes: 0 };
  const freeAt = new Map<number, number>();
  b.layers.forEach((l, i) => {
    const bytes = 4 * prod(l.outputShape);
    if (bytes > largest.bytes) largest = { layer: l.id, bytes };
    live += bytes;
    activationBytes = Math.max(activationBytes, live);
    const end = lastUse.get(l.output) ?? i;
    freeAt.set(end, (freeAt.get(end) ?? 0) + bytes);
    live -= freeAt.get(i) ?? 0;
  });
  const weightBytes = model.weights.reduce((n, w) => n + 4 * elementCount(w.shape), 0);
  const dynamic = b.assumptions.some((a) => a.startsWith('input ')) ? `, with dynamic sizes taken as ${b.inputSize}` : '';
  checkModelCost(model.source, { activationBytes, weightBytes, largest }, options.maxBytes ?? DEFAULT_MAX_MODEL_BYTES, dynamic);
  return { layers: b.layers, byId: new Map(b.layers.map((l) => [l.id, l])), tensors: b.tensors, inputs, outputs, assumptions: b.assumptions, inputSize: b.inputSize, declaredInputs: b.declaredInputs };
}
