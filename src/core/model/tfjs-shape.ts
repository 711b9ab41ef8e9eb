/**
 * The output shape of a layer class the registry (layers.ts) has no handler for, asked of
 * tfjs-layers itself: the layer is made from its config with the class tfjs registered under that
 * name (nothing is built, no weight is allocated) and its computeOutputShape called on the input
 * shapes. The analysis never guesses a shape: when tfjs cannot say, the caller refuses the model.
 */
import { serialization } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import type { Shape } from './layers';

/** tfjs-layers' own snake_case -> camelCase rule (utils/generic_utils toCamelCase). */
function toCamelCase(key: string): string {
  if (key.length <= 1 || !key.includes('_')) return key;
  return key.replace(/[_]+(\w|$)/g, (_, c: string) => c.toUpperCase());
}

/**
 * A Keras config as tfjs's layer constructors take it: keys and string values camelCased, as
 * tfjs-layers' convertPythonicToTs does on load (a `name` keeps its value).
 */
function toTs(value: unknown, key = ''): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'string') return key === 'name' ? value : toCamelCase(value);
  if (Array.isArray(value)) return value.map((v) => toTs(v, key));
  if (typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const tsKey = toCamelCase(k);
    Object.defineProperty(out, tsKey, { value: k === 'name' && typeof v === 'string' ? v : toTs(v, tsKey), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

type LayerLike = { computeOutputShape(shape: Shape | Shape[]): Shape | Shape[] };
type Registered = [serialization.SerializableConstructor<serialization.Serializable>, serialization.FromConfigMethod<serialization.Serializable>];

/**
 * The output shape tfjs computes for one call of `className` with `config` on `inputs`, or a
 * string saying why there is none (the class is not registered, tfjs throws, or the layer has
 * several outputs, which the flat graph does not represent).
 */
export function tfjsOutputShape(className: string, config: Record<string, unknown>, inputs: Shape[]): Shape | string {
  const map = serialization.SerializationMap.getMap().classNameMap;
  if (!Object.hasOwn(map, className)) return 'TensorFlow.js has no layer of this class';
  const [cls, fromConfig] = map[className] as Registered;
  let shape: Shape | Shape[];
  try {
    const layer = fromConfig(cls, toTs(config) as serialization.ConfigDict) as unknown as LayerLike;
    shape = layer.computeOutputShape(inputs.length === 1 ? [...inputs[0]] : inputs.map((s) => [...s]));
  } catch (err) {
    return `TensorFlow.js cannot compute its output shape (${String((err as Error)?.message ?? err).split('\n')[0].slice(0, 160)})`;
  }
  if (!Array.isArray(shape) || shape.length === 0) return 'TensorFlow.js gives it no output shape';
  if (shape.every((s) => Array.isArray(s))) {
    if (shape.length !== 1) return `it has ${shape.length} outputs, which the analysis does not handle`;
    shape = shape[0] as Shape;
  }
  const dims = shape as unknown[];
  if (!dims.every((d) => d === null || typeof d === 'number')) return 'TensorFlow.js gives it no output shape';
  return dims as Shape;
}
