/**
 * Keras 3 writes model.json in a dialect tfjs-layers 4.22 cannot read. This is the one place that
 * translates it into the Keras 2 form (and the only place that knows both dialects):
 *  - InputLayer `batch_shape` -> `batch_input_shape`
 *  - `dtype: {class_name: "DTypePolicy", config: {name}}` -> `dtype: name`
 *  - `module` / `registered_name` keys on serialized objects -> dropped
 *  - inbound nodes `{args: [KerasTensor...], kwargs}` -> `[[layer, node, tensor, kwargs], ...]`
 *  - `input_layers` / `output_layers` given as one `[name, 0, 0]` triple -> a list of triples
 * and the camelCase keys tfjs-layers also accepts (it camelCases every key on load, so a hand-patched
 * `batchInputShape` or `className` loads there) -> snake_case, with tfjs-layers' own toSnakeCase rule;
 * where a key is given both ways, the snake_case one is kept.
 */
import type { InboundNode, InboundTensor, KerasLayerJson } from './types';

export interface NormalizeResult {
  changed: string[];
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isKerasTensor(v: Json): v is { class_name: string; config: { keras_history: [string, number, number] } } {
  return isObject(v) && v.class_name === '__keras_tensor__' && isObject(v.config) && Array.isArray(v.config.keras_history);
}

/** Every keras tensor in a Keras 3 call's args, in order (args may nest lists, e.g. Add([a, b])). */
function collectTensors(v: Json, out: InboundTensor[]): void {
  if (isKerasTensor(v)) {
    const [layer, node, index] = v.config.keras_history;
    out.push([layer, node, index, {}]);
  } else if (Array.isArray(v)) {
    for (const x of v) collectTensors(x, out);
  }
}

function normalizeInboundNodes(nodes: Json[], changed: Set<string>): InboundNode[] {
  return nodes.map((node) => {
    if (isObject(node) && 'args' in node) {
      changed.add('inbound nodes in the Keras 3 {args} form');
      const tensors: InboundTensor[] = [];
      collectTensors(node.args, tensors);
      return tensors;
    }
    return node as InboundNode;
  });
}

function normalizeIoList(v: Json, changed: Set<string>): Json {
  if (Array.isArray(v) && v.length === 3 && typeof v[0] === 'string' && typeof v[1] === 'number') {
    changed.add('single input/output given as a bare triple');
    return [v];
  }
  return v;
}

/** tfjs-layers' toSnakeCase (utils/generic_utils): `batchInputShape` -> `batch_input_shape`. */
export function toSnakeCase(name: string): string {
  const snake = name
    .replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
  return snake[0] === '_' ? `private${snake}` : snake;
}

/** The object with its camelCase keys in snake_case (a key given both ways keeps the snake_case one). */
function snakeKeys(v: Record<string, Json>, changed: Set<string>): Record<string, Json> {
  if (!Object.keys(v).some((k) => /[A-Z]/.test(k))) return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) {
    const snake = /[A-Z]/.test(k) ? toSnakeCase(k) : k;
    if (snake !== k) {
      changed.add('camelCase keys (e.g. batchInputShape -> batch_input_shape)');
      if (Object.hasOwn(v, snake)) continue;
    }
    Object.defineProperty(out, snake, { value: x, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function normalizeValue(value: Json, changed: Set<string>, key = ''): Json {
  if (Array.isArray(value)) return value.map((x) => normalizeValue(x, changed));
  if (!isObject(value)) return value;
  let v = snakeKeys(value, changed);
  if (v.class_name === 'DTypePolicy' || v.class_name === 'Policy') {
    changed.add('DTypePolicy objects');
    const cfg = isObject(v.config) ? v.config : {};
    return typeof cfg.name === 'string' ? cfg.name : 'float32';
  }
  if (v.class_name === 'Sequential' && Array.isArray(v.config)) {
    // Old Sequential configs keep the layer list directly as `config`.
    changed.add('Sequential stored as a bare layer list');
    v = { ...v, config: { name: typeof v.name === 'string' ? v.name : 'sequential', layers: v.config } };
  }
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) {
    if ((k === 'module' || k === 'registered_name') && 'class_name' in v) {
      changed.add('module/registered_name keys');
      continue;
    }
    if (k === 'batch_shape' && key === 'config') {
      changed.add('batch_shape');
      out.batch_input_shape = x;
      continue;
    }
    if (k === 'inbound_nodes' && Array.isArray(x)) {
      out.inbound_nodes = normalizeInboundNodes(x, changed);
      continue;
    }
    if ((k === 'input_layers' || k === 'output_layers') && key === 'config') {
      out[k] = normalizeIoList(x, changed);
      continue;
    }
    // A key from the file is data: `__proto__` becomes an own property, never the copy's prototype.
    Object.defineProperty(out, k, { value: normalizeValue(x, changed, k), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Returns a normalized deep copy of a model_config (or of a bare Sequential layer list). */
export function normalizeModelConfig(config: KerasLayerJson | KerasLayerJson[]): { config: KerasLayerJson; changed: string[] } {
  const changed = new Set<string>();
  let root: Json = config;
  if (Array.isArray(config)) {
    changed.add('Sequential stored as a bare layer list');
    root = { class_name: 'Sequential', config: { name: 'sequential', layers: config } };
  }
  const normalized = normalizeValue(root, changed) as KerasLayerJson;
  return { config: normalized, changed: [...changed] };
}
