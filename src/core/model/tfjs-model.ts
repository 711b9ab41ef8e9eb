/**
 * The bridge to tfjs: LoadedModel -> ModelArtifacts -> a runnable tf.LayersModel.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelError } from './errors';
import { show } from './validate-values';
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

interface EngineInternals {
  state: { registeredVariables: Record<string, tf.Variable>; activeScope: { track: tf.Tensor[] } | null };
  startScope(name?: string): void;
  endScope(result?: tf.TensorContainer): void;
}

/**
 * Builds the model with tfjs. When tfjs fails to build it (a config it refuses, weights that do
 * not fit), everything the attempt made is disposed: the layers' variables and the decoded weight
 * tensors (tfjs itself leaves them behind), and the failure becomes a one-line ModelError.
 *
 * tfjs makes everything synchronously once the artifacts are handed over, so a scope opened at
 * that moment holds this build's tensors; on success they are all handed to the caller's scope
 * untouched (nothing is disposed), on failure they are disposed. Builds run one at a time (callers
 * may start several at once), so one build's scope never closes another's.
 */
export function instantiate(model: Pick<LoadedModel, 'topology' | 'weights'> & { source?: string }): Promise<tf.LayersModel> {
  const run = queue.then(() => build(model));
  queue = run.catch(() => undefined);
  return run;
}

let queue: Promise<unknown> = Promise.resolve();

async function build(model: Pick<LoadedModel, 'topology' | 'weights'> & { source?: string }): Promise<tf.LayersModel> {
  const engine = tf.engine() as unknown as EngineInternals;
  const artifacts = toArtifacts(model);
  const variablesBefore = new Set(Object.keys(engine.state.registeredVariables));
  let scoped = false;
  const handler: tf.io.IOHandler = {
    load: async () => {
      engine.startScope('instantiate');
      scoped = true;
      return artifacts;
    },
  };
  try {
    const built = await tf.loadLayersModel(handler);
    if (scoped) engine.endScope([...(engine.state.activeScope?.track ?? [])]);
    return built;
  } catch (err) {
    if (scoped) engine.endScope();
    for (const [name, v] of Object.entries(engine.state.registeredVariables)) {
      if (!variablesBefore.has(name)) v.dispose();
    }
    const why = show(String((err as Error)?.message ?? err).split('\n')[0].replace(/\s*This may be due to.*$/, ''), 240);
    throw new ModelError(
      model.source ?? 'model.json',
      `describes a model TensorFlow.js cannot build (${why}).`,
      'Export the model again; if it loads in TensorFlow.js elsewhere, report it with the file.',
    );
  }
}

/**
 * Disposes a model and every weight of the models nested in it. tfjs's own dispose() leaves a
 * nested model's weights behind when that model was called more than once (a Teachable Machine
 * export: 4 tensors per load), because it counts the calls before releasing them.
 */
export function disposeModel(model: tf.LayersModel): void {
  const variables = [...model.weights];
  model.dispose();
  for (const v of variables) {
    const val = (v as unknown as { val: tf.Variable }).val;
    if (val && !val.isDisposed) v.dispose();
  }
}
