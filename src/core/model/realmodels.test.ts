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
    it(`${name}: ${refused[name] ? 'refused with a clear message' : 'loads, analyzes and runs in tfjs with the same parameter count'}`, async () => {
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
      tf.dispose([...inputs, ...outputs]);
      model.dispose();
    }, 120_000);
  }
});
