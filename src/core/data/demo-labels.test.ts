import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelFingerprint } from '../hash';
import { loadModel } from '../model/load';
import { filesFromPath } from '../model/node-files';
import { DEMO_MODEL_FINGERPRINTS, demoLabelsApply, demoModelOf } from './demo-labels';

const MODELS = resolve(__dirname, '../../../models');

describe('demo labels belong to the demo models', () => {
  const bundled = readdirSync(MODELS).filter((d) => existsSync(join(MODELS, d, 'model.json')));

  it('knows every bundled model by its fingerprint (retrained models must update the table)', async () => {
    expect(bundled.sort()).toEqual(Object.keys(DEMO_MODEL_FINGERPRINTS).sort());
    for (const name of bundled) {
      const model = await loadModel(filesFromPath(join(MODELS, name, 'model.json')), undefined, { build: false });
      const fp = modelFingerprint(model);
      expect(fp, `models/${name}: set DEMO_MODEL_FINGERPRINTS['${name}'] = '${fp}'`).toBe(DEMO_MODEL_FINGERPRINTS[name]);
      expect(demoModelOf(fp)).toBe(name);
      const d = demoLabelsApply(10, fp, false);
      expect(d).toMatchObject({ apply: true, why: 'demo model', demo: name, canOptIn: false });
    }
  }, 60_000);

  it('a 10-output model that is not a demo model gets no demo labels unless the user opts in', () => {
    const d = demoLabelsApply(10, '12345678-1000', false);
    expect(d).toMatchObject({ apply: false, why: 'not a demo model', canOptIn: true });
    expect(d.text).toMatch(/not one of the bundled demo models/);
    expect(demoLabelsApply(10, undefined, false).apply).toBe(false);
    const opted = demoLabelsApply(10, '12345678-1000', true);
    expect(opted).toMatchObject({ apply: true, why: 'opt-in', canOptIn: true });
    expect(opted.text).toMatch(/you said/);
  });

  it('a model without 10 outputs never gets them, not even by opting in or by a demo fingerprint', () => {
    for (const outputs of [4, 11, undefined]) {
      const d = demoLabelsApply(outputs, DEMO_MODEL_FINGERPRINTS['plain-cnn'], true);
      expect(d).toMatchObject({ apply: false, why: 'outputs', canOptIn: false });
      expect(d.text).toContain(outputs === undefined ? 'unknown' : `${outputs} outputs`);
    }
  });
});
