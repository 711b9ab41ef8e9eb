import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../../testing/fixtures';
import { analyzeModel } from './analyze';
import { flattenModel } from './flatten';
import { loadModel } from './load';
import { instantiate } from './tfjs-model';

describe('flattenModel', () => {
  for (const name of ['teachableMachineLike', 'mobilenetV2Like', 'multiOutputNet'] as const) {
    it(`${name}: the flat functional model computes what the original computes`, async () => {
      const fixture = TOPOLOGY_FIXTURES[name];
      const loaded = await loadModel(asFiles(await exportModel(fixture.build())));
      const analysis = analyzeModel(loaded);
      const [a, b] = [await instantiate(loaded), await instantiate(flattenModel(loaded, analysis))];
      expect(b.layers.some((l) => l.getClassName() === 'Sequential' || l.getClassName() === 'Model')).toBe(false);
      const x = tf.randomUniform([2, ...fixture.input], -1, 1, 'float32', 9);
      const ya = ([] as tf.Tensor[]).concat(a.predict(x) as tf.Tensor);
      const yb = ([] as tf.Tensor[]).concat(b.predict(x) as tf.Tensor);
      ya.forEach((y, i) => expect(tf.max(tf.abs(tf.sub(y, yb[i]))).dataSync()[0]).toBeLessThan(1e-6));
      tf.dispose([x, ...ya, ...yb]);
      a.dispose();
      b.dispose();
    });
  }
});
