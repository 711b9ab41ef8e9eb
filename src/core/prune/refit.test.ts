import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../../testing/fixtures';
import { analyzeModel } from '../model/analyze';
import { loadModel } from '../model/load';
import { uniformPolicy } from './policy';
import { pruneModel } from './prune';
import { leastSquares, refitPruned } from './refit';

describe('least squares', () => {
  it('recovers the weights that generated exact data', () => {
    const rows = 50;
    const f = 4;
    const o = 3;
    const W = Float64Array.from({ length: f * o }, (_, i) => Math.sin(i + 1));
    const X = Float64Array.from({ length: rows * f }, (_, i) => Math.cos(i * 1.7) + (i % 5) * 0.1);
    const Y = new Float64Array(rows * o);
    for (let r = 0; r < rows; r++) for (let k = 0; k < o; k++) for (let i = 0; i < f; i++) Y[r * o + k] += X[r * f + i] * W[i * o + k];
    const got = leastSquares(X, Y, rows, f, o, 1e-12);
    got.forEach((v, i) => expect(v).toBeCloseTo(W[i], 6));
  });
});

describe('refit of pruned consumers', () => {
  for (const name of ['sequentialCnn', 'mobilenetV1Like', 'mobilenetV2Like', 'concatNet', 'teachableMachineLike'] as const) {
    it(`${name}: output error after refit is at most the error of slicing alone`, async () => {
      const fixture = TOPOLOGY_FIXTURES[name];
      const original = await loadModel(asFiles(await exportModel(fixture.build())));
      const analysis = analyzeModel(original);
      const result = pruneModel(original, analysis, uniformPolicy(analysis.groups, 0.5), { roundTo: 1 });
      const calibration = tf.randomUniform([32, ...fixture.input], -1, 1, 'float32', 3);
      const { report } = await refitPruned(original, analysis, result, calibration, { seed: 1 });
      calibration.dispose();
      expect(report.layers.length).toBeGreaterThan(0);
      expect(report.outputErrorRefit).toBeLessThanOrEqual(report.outputErrorSliced);
      for (const l of report.layers.filter((x) => x.applied)) expect(l.errorRefit).toBeLessThan(l.errorSliced);
    });
  }

  it('lowers the error of a 1x1 consumer substantially when inputs are redundant', async () => {
    const fixture = TOPOLOGY_FIXTURES.mobilenetV1Like;
    const original = await loadModel(asFiles(await exportModel(fixture.build())));
    const analysis = analyzeModel(original);
    const result = pruneModel(original, analysis, { stem: 6 }, { roundTo: 1 });
    const calibration = tf.randomUniform([64, ...fixture.input], -1, 1, 'float32', 5);
    const { report } = await refitPruned(original, analysis, result, calibration, { seed: 2 });
    calibration.dispose();
    const pw = report.layers.find((l) => l.layer === 'pw1')!;
    expect(pw.applied).toBe(true);
    expect(pw.errorRefit).toBeLessThan(0.9 * pw.errorSliced);
    expect(report.applied).toBe(true);
    expect(report.outputErrorRefit).toBeLessThan(report.outputErrorSliced);
  });
});
