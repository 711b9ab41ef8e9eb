/**
 * Which Keras classes TensorFlow.js can run: asked of tfjs-layers' own registry, so the answer
 * always matches the tfjs version the app ships.
 */
import { serialization } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

export function isModelClass(className: string): boolean {
  return MODEL_CLASSES.has(className);
}

export function knownLayerClass(className: string): boolean {
  return isModelClass(className) || className in serialization.SerializationMap.getMap().classNameMap;
}
