/**
 * Which Keras classes TensorFlow.js can run: asked of tfjs-layers' own registry, so the answer
 * always matches the tfjs version the app ships.
 */
import { serialization } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

export function isModelClass(className: unknown): boolean {
  return typeof className === 'string' && MODEL_CLASSES.has(className);
}

/** Own-property lookup: `constructor`, `toString` or `__proto__` are unknown classes, not prototype members. */
export function knownLayerClass(className: string): boolean {
  return isModelClass(className) || Object.hasOwn(serialization.SerializationMap.getMap().classNameMap, className);
}
