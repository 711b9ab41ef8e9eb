import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildReferenceModel, REFERENCE_MODEL } from './reference-model';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('reference model', () => {
  it('is the same network every time: fixed shape, parameters and outputs', async () => {
    const a = buildReferenceModel();
    const b = buildReferenceModel();
    expect(a.inputs[0].shape).toEqual([null, ...REFERENCE_MODEL.inputShape]);
    expect(a.outputs[0].shape).toEqual([null, 10]);
    expect(a.countParams()).toBe(b.countParams());
    expect(a.countParams()).toBeGreaterThan(50_000);
    expect(a.countParams()).toBeLessThan(100_000);
    const x = tf.randomUniform([1, ...REFERENCE_MODEL.inputShape], 0, 1, 'float32', 3);
    const ya = a.predict(x) as tf.Tensor;
    const yb = b.predict(x) as tf.Tensor;
    expect(Array.from(await ya.data())).toEqual(Array.from(await yb.data()));
    // Seeded weights, not zeros: the outputs differ between classes.
    const v = await ya.data();
    expect(Math.max(...v) - Math.min(...v)).toBeGreaterThan(1e-4);
    tf.dispose([x, ya, yb]);
    a.dispose();
    b.dispose();
  });
});
