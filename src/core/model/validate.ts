/**
 * Validation of a model.json before anything is built, allocated or run: what tfjs would refuse,
 * hang on or exhaust memory with is refused here first, with a ModelError naming the file, the
 * problem and the fix. The checks mirror tfjs-layers' own rules (how it numbers the calls of a
 * layer, which names it accepts, which weights it expects), so what passes is what tfjs builds.
 *
 *  - validateJsonDepth: nesting deep enough to overflow a recursive walk (validate-values.ts)
 *  - validateTopology:  the layer graph of every (nested) model: entries, names, classes, inbound
 *                       nodes, references, cycles, self-loops, node indices, duplicate names,
 *                       config values in sane ranges (here)
 *  - validateManifest:  the weightsManifest: paths, names, shapes, dtypes, quantization fields
 *  - finiteWarnings:    NaN/Infinity in weights (a warning naming the layer, not a refusal)
 *  - checkModelCost:    activations + weights in bytes against a stated, raisable ceiling
 *                       (the last three: validate-weights.ts)
 * Config against weights (filters vs kernel, units vs kernel, dtypes) is checked while the graph is
 * built (graph.ts), where every layer's input shape is known.
 *
 * Every name that comes from the file is looked up with own-property lookups or Maps: a class_name
 * of `__proto__`, `constructor` or `toString` is an unknown class, never a walk of a prototype.
 */
import { ModelError } from './errors';
import { isModelClass, knownLayerClass } from './keras-classes';
import type { KerasLayerJson } from './types';
import { EXPORT_AGAIN, isNatural, isObject, isPositiveInt, show, showValue } from './validate-values';

/** How deep models may nest inside models (real exports use 1 to 3). */
export const MAX_MODEL_NESTING = 16;

/** tfjs-layers' rule for layer and weight names (common.ts, isValidTensorName). */
const TFJS_NAME = /^[A-Za-z0-9][-A-Za-z0-9._/]*$/;
const FIX_CONFIG = 'Correct the value in model.json, or export the model again.';

/** Layer classes that may have more than one output tensor per call. */
const MULTI_OUTPUT = new Set(['LSTM', 'GRU', 'SimpleRNN', 'RNN', 'Bidirectional', 'ConvLSTM2D', 'StackedRNNCells']);

// ---------------------------------------------------------------------------------------------
// The layer graph

/** The name a layer entry is referred to by (tfjs keys its layers by the entry's `name`, then the config's). */
function entryName(l: KerasLayerJson): unknown {
  return l.name ?? l.config?.name;
}

function layerLabel(l: KerasLayerJson): string {
  return `layer '${show(entryName(l))}' (${show(l.class_name)})`;
}

/** Checks one layer entry of a model: an object with a known class, a config and a name tfjs accepts. */
function checkEntry(path: string, l: unknown, where: string, index: number, isRoot = false): asserts l is KerasLayerJson {
  if (!isObject(l)) throw new ModelError(path, `layer ${index + 1} of ${where} is ${showValue(l)}, not a layer object.`, EXPORT_AGAIN);
  if (typeof l.class_name !== 'string' || l.class_name === '') {
    throw new ModelError(path, `layer ${index + 1} of ${where} has no class_name.`, EXPORT_AGAIN);
  }
  if (!isObject(l.config)) throw new ModelError(path, `layer ${index + 1} of ${where} (${show(l.class_name)}) has no config object.`, EXPORT_AGAIN);
  const name = l.name ?? l.config.name;
  // The outermost model makes no tensors of its own: tfjs needs no name for it, nor checks one.
  if (isRoot && (name === undefined || (typeof name === 'string' && !TFJS_NAME.test(name)))) return checkClass(path, l as unknown as KerasLayerJson, String(name ?? 'model'));
  if (typeof name !== 'string' || name === '') {
    throw new ModelError(path, `layer ${index + 1} of ${where} (${show(l.class_name)}) has no name.`, EXPORT_AGAIN);
  }
  if (l.name !== undefined && l.config.name !== undefined && l.name !== l.config.name) {
    throw new ModelError(path, `layer '${show(l.name)}' of ${where} is named '${show(l.config.name)}' in its config.`, 'Give the layer one name in both places, or export the model again.');
  }
  if (!TFJS_NAME.test(name)) {
    throw new ModelError(
      path,
      `layer name '${show(name)}' in ${where} is not one TensorFlow.js accepts (letters, digits, '-', '.', '_' and '/', starting with a letter or digit).`,
      'Rename the layer (in Keras before converting, or in model.json and in the weightsManifest alike).',
    );
  }
  checkClass(path, l as unknown as KerasLayerJson, name);
}

function checkClass(path: string, l: KerasLayerJson, name: string): void {
  if (!knownLayerClass(l.class_name)) {
    throw new ModelError(
      path,
      `layer '${show(name)}' is of class '${show(l.class_name)}', a custom layer that TensorFlow.js does not know.`,
      'Replace it with built-in Keras layers before converting, or remove it from the model.',
    );
  }
}

const POSITIVE_INTS = ['filters', 'units', 'depth_multiplier', 'input_dim', 'output_dim', 'n', 'groups'];
const POSITIVE_TUPLES = ['kernel_size', 'strides', 'pool_size', 'dilation_rate', 'size'];
const NATURAL_TUPLES = ['cropping'];

function checkShape(path: string, l: KerasLayerJson, key: string, v: unknown): void {
  const bad = (what: string) =>
    new ModelError(path, `${layerLabel(l)} has ${key} ${showValue(v)}: ${what}.`, FIX_CONFIG);
  if (!Array.isArray(v)) throw bad('a shape must be a list of sizes');
  if (v.length === 0) throw bad('the shape is empty');
  v.forEach((d, i) => {
    if (d === null) return;
    if (!isPositiveInt(d)) throw bad(`dimension ${i} must be a positive integer or null`);
  });
}

/** Sizes, strides, kernels and shapes in a layer's config: positive integers where tfjs needs them. */
function checkConfigRanges(path: string, l: KerasLayerJson): void {
  const cfg = l.config;
  const own = (k: string) => (Object.hasOwn(cfg, k) ? cfg[k] : undefined);
  for (const k of POSITIVE_INTS) {
    const v = own(k);
    if (v !== undefined && v !== null && !isPositiveInt(v)) {
      throw new ModelError(path, `${layerLabel(l)} has ${k} ${showValue(v)}; it must be a positive integer.`, FIX_CONFIG);
    }
  }
  for (const k of POSITIVE_TUPLES) {
    const v = own(k);
    if (v === undefined || v === null) continue;
    const parts = Array.isArray(v) ? v : [v];
    if (parts.length === 0 || !parts.every(isPositiveInt)) {
      throw new ModelError(path, `${layerLabel(l)} has ${k} ${showValue(v)}; sizes, strides and kernels must be positive integers.`, FIX_CONFIG);
    }
  }
  for (const k of NATURAL_TUPLES) {
    const v = own(k);
    if (v === undefined || v === null) continue;
    const flat = Array.isArray(v) ? v.flat() : [v];
    if (!flat.every(isNatural)) throw new ModelError(path, `${layerLabel(l)} has ${k} ${showValue(v)}; it must be non-negative integers.`, FIX_CONFIG);
  }
  const padding = own('padding');
  if (typeof padding === 'string' && !['valid', 'same', 'causal'].includes(padding)) {
    throw new ModelError(path, `${layerLabel(l)} has padding ${showValue(padding)}; TensorFlow.js knows 'valid', 'same' and 'causal'.`, FIX_CONFIG);
  }
  if (padding !== undefined && padding !== null && typeof padding !== 'string') {
    const flat = Array.isArray(padding) ? padding.flat() : [padding];
    if (!flat.every(isNatural)) throw new ModelError(path, `${layerLabel(l)} has padding ${showValue(padding)}; it must be non-negative integers.`, FIX_CONFIG);
  }
  for (const k of ['batch_input_shape', 'input_shape']) {
    const v = own(k);
    if (v !== undefined && v !== null) checkShape(path, l, k, v);
  }
  const target = own('target_shape');
  if (l.class_name === 'Reshape') {
    if (!Array.isArray(target) || !target.every((d) => d === -1 || isPositiveInt(d)) || target.filter((d) => d === -1).length > 1) {
      throw new ModelError(path, `${layerLabel(l)} has target_shape ${showValue(target)}; it must list positive sizes (at most one -1).`, FIX_CONFIG);
    }
  }
  if (l.class_name === 'Permute') {
    const dims = own('dims');
    const ok = Array.isArray(dims) && dims.every(isPositiveInt) && [...dims].sort().every((d, i) => d === i + 1);
    if (!ok) throw new ModelError(path, `${layerLabel(l)} has dims ${showValue(dims)}; it must be a permutation of 1..n.`, FIX_CONFIG);
  }
  const dtype = own('dtype');
  if (dtype !== undefined && dtype !== null && typeof dtype !== 'string') {
    throw new ModelError(path, `${layerLabel(l)} has dtype ${showValue(dtype)}; it must be a name such as 'float32'.`, FIX_CONFIG);
  }
}

type Ref = [string, number, number];

/** A reference to a layer's output: [layer, node index, tensor index, kwargs?] as Keras writes it. */
function checkRef(path: string, ref: unknown, what: string): Ref {
  const ok =
    Array.isArray(ref) && ref.length >= 3 && ref.length <= 4 && typeof ref[0] === 'string' && isNatural(ref[1]) && isNatural(ref[2]) && (ref[3] === undefined || ref[3] === null || isObject(ref[3]));
  if (!ok) throw new ModelError(path, `${what} is ${showValue(ref)}, not a [layer name, node index, tensor index] reference.`, EXPORT_AGAIN);
  return [ref[0] as string, ref[1] as number, ref[2] as number];
}

/**
 * tfjs numbers the calls of a layer by the order it makes them while loading (container.ts
 * fromConfig): a plain layer's first call is node 0; a nested model (Model, Functional, Sequential)
 * already has node 0 linking its own input to its output when it is created, so its calls in the
 * outer model are nodes 1, 2, ... (tfjs and Keras both save them so). Node 0 of a nested model is
 * its inner graph: an outer layer that reads it is disconnected from the outer inputs.
 */
export function firstCallNode(className: string): number {
  return isModelClass(className) ? 1 : 0;
}

function outputCount(l: KerasLayerJson): number | undefined {
  if (l.class_name === 'Sequential') return 1;
  if (isModelClass(l.class_name)) return Array.isArray(l.config.output_layers) ? l.config.output_layers.length : undefined;
  return MULTI_OUTPUT.has(l.class_name) ? undefined : 1;
}

function checkFunctional(path: string, model: KerasLayerJson, where: string): KerasLayerJson[] {
  const cfg = model.config;
  const layers = cfg.layers as unknown[];
  const byName = new Map<string, KerasLayerJson>();
  layers.forEach((l, i) => {
    checkEntry(path, l, where, i);
    const name = entryName(l) as string;
    if (name in Object.prototype) {
      throw new ModelError(
        path,
        `layer '${name}' of ${where} has a name TensorFlow.js cannot load in a functional model (it clashes with a JavaScript built-in).`,
        'Rename the layer (in Keras before converting, or in model.json and in the weightsManifest alike).',
      );
    }
    if (byName.has(name)) {
      throw new ModelError(path, `${where} has two layers named '${name}' (layers ${layers.indexOf(byName.get(name)) + 1} and ${i + 1}); tfjs needs every layer name once.`, 'Rename one of them (in Keras before converting), or export the model again.');
    }
    byName.set(name, l);
  });

  // Every call: its inbound references, checked for form and for layers that exist.
  const calls = new Map<string, Ref[][]>();
  for (const l of byName.values()) {
    const name = entryName(l) as string;
    const nodes = l.inbound_nodes as unknown;
    if (nodes === undefined || nodes === null) {
      if (l.class_name === 'InputLayer') continue;
      throw new ModelError(path, `${layerLabel(l)} of ${where} has no inbound_nodes, so nothing says what it is called on.`, EXPORT_AGAIN);
    }
    if (!Array.isArray(nodes)) {
      throw new ModelError(path, `${layerLabel(l)} of ${where} has inbound_nodes ${showValue(nodes)}, which is not a list of calls.`, EXPORT_AGAIN);
    }
    if (l.class_name === 'InputLayer' && nodes.length > 0) {
      throw new ModelError(path, `input layer '${name}' of ${where} is called on other layers' outputs; an InputLayer takes no inputs.`, EXPORT_AGAIN);
    }
    const parsed = nodes.map((node, k) => {
      if (!Array.isArray(node) || node.length === 0) {
        throw new ModelError(path, `${layerLabel(l)} of ${where}: call ${k + 1} in inbound_nodes is ${showValue(node)}, not a list of input references.`, EXPORT_AGAIN);
      }
      return node.map((ref, j) => {
        const r = checkRef(path, ref, `${layerLabel(l)}: input ${j + 1} of call ${k + 1}`);
        if (!byName.has(r[0])) {
          throw new ModelError(path, `${layerLabel(l)} of ${where} takes its input from '${show(r[0])}', which is not a layer of that model (a dangling input).`, EXPORT_AGAIN);
        }
        return r;
      });
    });
    calls.set(name, parsed);
  }

  const inputRefs = checkIoList(path, cfg.input_layers, `${where}: input_layers`);
  const outputRefs = checkIoList(path, cfg.output_layers, `${where}: output_layers`);
  if (outputRefs.length === 0) throw new ModelError(path, `${where} lists no output_layers.`, EXPORT_AGAIN);
  for (const [name, node, tensor] of inputRefs) {
    const l = byName.get(name);
    if (!l) throw new ModelError(path, `${where} names input '${show(name)}', which is not one of its layers.`, EXPORT_AGAIN);
    if (l.class_name !== 'InputLayer') throw new ModelError(path, `${where} names '${name}' (${l.class_name}) as an input; model inputs must be InputLayers.`, EXPORT_AGAIN);
    if (node !== 0 || tensor !== 0) throw new ModelError(path, `${where} names input '${name}' at node ${node}, tensor ${tensor}; an InputLayer has only node 0, tensor 0.`, EXPORT_AGAIN);
  }

  // Replay tfjs's loading loop: a call is made once every layer it reads has made the node it names.
  const made = new Map<string, number>();
  for (const l of byName.values()) made.set(entryName(l) as string, l.class_name === 'InputLayer' ? 1 : firstCallNode(l.class_name));
  const nodeRefs = new Map<string, Ref[]>(); // `${layer}|${node}` -> what that node read
  const queue = new Map<string, Ref[][]>([...calls].filter(([, c]) => c.length > 0));
  const readsInner = (r: Ref) => r[1] === 0 && isModelClass(byName.get(r[0])!.class_name);
  for (const [name, nodes] of queue) {
    for (const node of nodes) {
      const inner = node.find(readsInner);
      if (inner) throw innerNodeError(path, where, `layer '${name}'`, inner);
    }
  }
  let progressed = true;
  while (queue.size && progressed) {
    progressed = false;
    for (const name of byName.keys()) {
      const pending = queue.get(name);
      if (!pending) continue;
      const left: Ref[][] = [];
      for (const node of pending) {
        if (node.every(([n, k]) => made.get(n)! > k)) {
          const index = made.get(name)!;
          nodeRefs.set(`${name}|${index}`, node);
          made.set(name, index + 1);
          progressed = true;
        } else left.push(node);
      }
      if (left.length) queue.set(name, left);
      else queue.delete(name);
    }
  }
  if (queue.size) throw stuckError(path, where, byName, queue, made);

  for (const [name, node, tensor] of outputRefs) {
    const l = byName.get(name);
    if (!l) throw new ModelError(path, `${where} names output '${show(name)}', which is not one of its layers.`, EXPORT_AGAIN);
    if (readsInner([name, node, tensor])) throw innerNodeError(path, where, 'output_layers', [name, node, tensor]);
    if (node >= made.get(name)!) throw nodeRangeError(path, where, 'output_layers', [name, node, tensor], l, made.get(name)!);
  }
  for (const [key, node] of nodeRefs) {
    for (const r of node) {
      const count = outputCount(byName.get(r[0])!);
      if (count !== undefined && r[2] >= count) {
        throw new ModelError(path, `layer '${key.split('|')[0]}' of ${where} reads output ${r[2]} of '${r[0]}', which has ${count} output${count === 1 ? '' : 's'}.`, EXPORT_AGAIN);
      }
    }
  }
  for (const [name, , tensor] of outputRefs) {
    const count = outputCount(byName.get(name)!);
    if (count !== undefined && tensor >= count) throw new ModelError(path, `${where} names output ${tensor} of '${name}', which has ${count} output${count === 1 ? '' : 's'}.`, EXPORT_AGAIN);
  }

  // Everything the outputs depend on must start at a listed input (tfjs: "Graph disconnected").
  const listed = new Set(inputRefs.map((r) => r[0]));
  const seen = new Set<string>();
  const stack: Ref[] = [...outputRefs];
  while (stack.length) {
    const [name, node] = stack.pop()!;
    const key = `${name}|${node}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const l = byName.get(name)!;
    if (l.class_name === 'InputLayer' && !listed.has(name)) {
      throw new ModelError(path, `${where} computes its outputs from input layer '${name}', which its input_layers do not list (a disconnected graph).`, EXPORT_AGAIN);
    }
    stack.push(...(nodeRefs.get(key) ?? []));
  }
  return [...byName.values()];
}

function checkIoList(path: string, v: unknown, what: string): Ref[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ModelError(path, `${what} is ${showValue(v)}, not a list of [layer name, node index, tensor index].`, EXPORT_AGAIN);
  return v.map((r, i) => checkRef(path, r, `${what} entry ${i + 1}`));
}

function innerNodeError(path: string, where: string, who: string, [name, node]: Ref): ModelError {
  return new ModelError(
    path,
    `${who} of ${where} reads node ${node} of nested model '${name}', which is that model's own inner graph; its calls in ${where} are nodes 1, 2, ... (tfjs would report a disconnected graph).`,
    'Use node 1 for the first call of a nested model, or export the model again.',
  );
}

function nodeRangeError(path: string, where: string, who: string, [name, node]: Ref, l: KerasLayerJson, made: number): ModelError {
  const first = firstCallNode(l.class_name);
  const callCount = made - first;
  const nested = first ? ` (a nested model: its calls are nodes 1 to ${callCount})` : '';
  return new ModelError(
    path,
    `${who} of ${where} reads node ${node} of '${name}', which is called ${callCount} time${callCount === 1 ? '' : 's'}${nested}: the node index is out of range.`,
    EXPORT_AGAIN,
  );
}

/** Why tfjs's loading loop would never finish: a self-loop, a cycle, or a node that is never made. */
function stuckError(path: string, where: string, byName: Map<string, KerasLayerJson>, queue: Map<string, Ref[][]>, made: Map<string, number>): ModelError {
  const blockedBy = (name: string): Ref | undefined => {
    for (const node of queue.get(name) ?? []) {
      const r = node.find(([n, k]) => made.get(n)! <= k);
      if (r) return r;
    }
    return undefined;
  };
  const [start] = queue.keys();
  const chain: string[] = [start];
  let current = start;
  for (;;) {
    const r = blockedBy(current)!;
    if (r[0] === current && chain.length === 1) {
      return new ModelError(path, `layer '${current}' of ${where} takes its own output as its input (a self-loop), so the model can never be computed.`, EXPORT_AGAIN);
    }
    const at = chain.indexOf(r[0]);
    if (at >= 0) {
      const cycle = [...chain.slice(at), r[0]].join(' -> ');
      return new ModelError(path, `the layers of ${where} form a cycle (${cycle}), so the model can never be computed.`, EXPORT_AGAIN);
    }
    if (!queue.has(r[0])) return nodeRangeError(path, where, `layer '${current}'`, r, byName.get(r[0])!, made.get(r[0])!);
    chain.push(r[0]);
    current = r[0];
  }
}

function checkSequential(path: string, model: KerasLayerJson, where: string): KerasLayerJson[] {
  const layers = model.config.layers as unknown[];
  const names = new Map<string, number>();
  layers.forEach((l, i) => {
    checkEntry(path, l, where, i);
    const name = entryName(l) as string;
    if (names.has(name)) {
      throw new ModelError(path, `${where} has two layers named '${name}' (layers ${names.get(name)! + 1} and ${i + 1}); tfjs needs every layer name once.`, 'Rename one of them (in Keras before converting), or export the model again.');
    }
    names.set(name, i);
    if (isModelClass(l.class_name) && l.class_name !== 'Sequential') {
      const ins = Array.isArray(l.config.input_layers) ? l.config.input_layers.length : 0;
      const outs = outputCount(l);
      if (ins !== 1 || outs !== 1) {
        throw new ModelError(path, `${where} is a Sequential model holding '${name}', a model with ${ins} inputs and ${outs ?? 0} outputs; a Sequential model passes one tensor from layer to layer.`, 'Wrap it in a functional Model instead, or export the model again.');
      }
    }
  });
  return layers as KerasLayerJson[];
}

/**
 * Checks the normalized model_config of model.json (the root and every nested model) before the
 * graph is built: what tfjs would hang on (cycles, self-loops, dangling inputs, node indices out of
 * range), refuse (unknown classes, bad names, duplicate names) or run out of memory with (sizes).
 */
export function validateTopology(path: string, root: unknown): void {
  checkEntry(path, root, 'model.json', 0, true);
  if (!isModelClass(root.class_name)) {
    throw new ModelError(path, `has a model_config of class '${show(root.class_name)}', not a Sequential or functional Model.`, EXPORT_AGAIN);
  }
  const visit = (model: KerasLayerJson, depth: number, outer: string) => {
    const name = show(entryName(model) ?? 'model');
    const where = depth === 0 ? `model '${name}'` : `model '${name}' (inside ${outer})`;
    if (depth > MAX_MODEL_NESTING) {
      throw new ModelError(path, `nests models more than ${MAX_MODEL_NESTING} levels deep (at ${where}).`, EXPORT_AGAIN);
    }
    const layers = model.config.layers;
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new ModelError(path, `${where} has ${Array.isArray(layers) ? 'no layers' : `layers ${showValue(layers)}, not a list of layers`}.`, EXPORT_AGAIN);
    }
    const entries = model.class_name === 'Sequential' ? checkSequential(path, model, where) : checkFunctional(path, model, where);
    for (const l of entries) {
      checkConfigRanges(path, l);
      if (isModelClass(l.class_name)) visit(l, depth + 1, `'${name}'`);
    }
  };
  checkConfigRanges(path, root);
  visit(root, 0, '');
}
