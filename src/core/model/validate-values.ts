/**
 * Values from a model.json as the validators see them: type guards, how a value from the file is
 * quoted in a one-line message, and the JSON nesting check that runs before anything walks it.
 */
import { ModelError } from './errors';

/** How deep the JSON of model.json may nest (real exports stay under 30). */
export const MAX_JSON_DEPTH = 200;
export const EXPORT_AGAIN = 'The model.json is damaged or was edited by hand: export the model again from Keras or TensorFlow.js.';

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isNatural = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
export const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/** A value from the file, shown in a one-line message: short, printable, quoted. */
export function show(v: unknown, max = 60): string {
  let s: string;
  try {
    s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  s = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/** A value from the file as JSON writes it (strings quoted), for messages about values rather than names. */
export function showValue(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = undefined;
  }
  return show(s ?? String(v));
}

/** The deepest nesting of arrays and objects in a parsed JSON value, counted without recursion. */
export function jsonDepth(root: unknown, stopAt = Infinity): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > stopAt) return max;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (typeof x === 'object' && x !== null) stack.push([x, d + 1]);
  }
  return max;
}

export function validateJsonDepth(path: string, json: unknown): void {
  const depth = jsonDepth(json, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) {
    throw new ModelError(path, `nests its JSON more than ${MAX_JSON_DEPTH} levels deep, which no Keras or TensorFlow.js export does.`, EXPORT_AGAIN);
  }
}
