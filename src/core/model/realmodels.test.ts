/**
 * Compatibility with real exports from public repositories, when ../shared/realmodels is present
 * (a developer machine); skipped elsewhere. The models are never copied into the project.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeModel } from './analyze';
import { ModelError } from './errors';
import { loadModel } from './load';
import { filesFromPath } from './node-files';
import { instantiate } from './tfjs-model';
import { uniformPolicy } from '../prune/policy';
import { pruneModel } from '../prune/prune';

const dir = resolve(__dirname, '../../../../shared/realmodels');
const present = existsSync(dir);
const names = present ? readdirSync(dir).filter((n) => existsSync(join(dir, n, 'model.json'))) : [];
const refused: Record<string, RegExp> = {
  'graph-tfjs-e2e-tiny': /GraphModel/,
  'mini-xception-fer': /matches no layer/,
  'topo-only-keras3-seq-gtsrb': /group1-shard1of2\.bin: is listed in the weightsManifest/,
};

describe.skipIf(!present)('real models in ../shared/realmodels', () => {
  for (const name of names) {
    it(`${name}: ${refused[name] ? 'refused with a clear message' : 'loads, analyzes, runs, and prunes to a smaller model that runs'}`, async () => {
      const files = filesFromPath(join(dir, name, 'model.json'));
      if (refused[name]) {
        await expect(loadModel(files)).rejects.toThrow(refused[name]);
        await expect(loadModel(files)).rejects.toBeInstanceOf(ModelError);
        return;
      }
      const loaded = await loadModel(files);
      const a = analyzeModel(loaded, { inputSize: 16 });
      const model = await instantiate(loaded);
      expect(a.cost.totalParams).toBe(model.countParams());
      expect(a.groups.some((g) => g.prunable)).toBe(true);
      const inputs = a.graph.inputs.map((t) => tf.zeros(a.graph.tensors.get(t)!.shape.map((d) => d ?? 1)));
      const outputs = ([] as tf.Tensor[]).concat(model.predict(inputs.length === 1 ? inputs[0] : inputs) as tf.Tensor | tf.Tensor[]);
      expect(outputs.map((o) => o.shape)).toEqual(a.graph.outputs.map((t) => a.graph.tensors.get(t)!.shape.map((d) => d ?? 1)));
      // Uniform 0.5 pruning gives a model that loads and runs with the same output shapes and fewer MACs.
      const pruned = pruneModel(loaded, a, uniformPolicy(a.groups, 0.5));
      expect(pruned.cost.totalMacs).toBeLessThan(a.cost.totalMacs);
      const small = await instantiate(pruned.model);
      expect(small.countParams()).toBe(pruned.cost.totalParams);
      const prunedOut = ([] as tf.Tensor[]).concat(small.predict(inputs.length === 1 ? inputs[0] : inputs) as tf.Tensor | tf.Tensor[]);
      expect(prunedOut.map((o) => o.shape)).toEqual(outputs.map((o) => o.shape));
      tf.dispose([...inputs, ...outputs, ...prunedOut]);
      model.dispose();
      small.dispose();
    }, 120_000);
  }
});
