/** The model the search tests score: a fixture topology exported and loaded as a user's files would be, on WASM. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { analyzeModel, type ModelAnalysis } from '../core/model/analyze';
import { loadModel } from '../core/model/load';
import type { LoadedModel } from '../core/model/types';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from './fixtures';

export async function searchFixture(topology: keyof typeof TOPOLOGY_FIXTURES = 'mobilenetV2Like', seed = 3): Promise<{ model: LoadedModel; analysis: ModelAnalysis }> {
  await tf.setBackend('wasm');
  const model = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES[topology].build(), seed)));
  return { model, analysis: analyzeModel(model) };
}
