/**
 * The bridge to tfjs: LoadedModel -> ModelArtifacts -> a runnable tf.LayersModel.
 */
import * as tf from '@tensorflow/tfjs';
import type { LoadedModel } from './types';
import { encodeWeights } from './weights';

export function toArtifacts(model: Pick<LoadedModel, 'topology' | 'weights'>): tf.io.ModelArtifacts {
  const { specs, data } = encodeWeights(model.weights);
  return {
    modelTopology: model.topology as unknown as tf.io.ModelArtifacts['modelTopology'],
    format: 'layers-model',
    weightSpecs: specs as tf.io.WeightsManifestEntry[],
    weightData: data,
  };
}

export async function instantiate(model: Pick<LoadedModel, 'topology' | 'weights'>): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory(toArtifacts(model)));
}
