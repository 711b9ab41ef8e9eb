import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../core/data/procedural';
import { pngBytes } from '../core/data/node-images';
import { exportModel } from '../testing/fixtures';

let dir: string;

function amc(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l && !/nodedir|tfjs-node|Hi, looks|====/.test(l)) };
}

/** A 3-class model with BatchNorm: not a demo model, so demo labels would be meaningless for it. */
function threeClasses(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 16, kernelSize: 3, strides: 2, name: 'conv' }),
      tf.layers.batchNormalization({ name: 'bn' }),
      tf.layers.reLU({ name: 'relu' }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, name: 'conv2', activation: 'relu' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'classes' }),
    ],
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amc-search-data-'));
  const e = await exportModel(threeClasses());
  mkdirSync(join(dir, 'model'));
  writeFileSync(join(dir, 'model', 'model.json'), JSON.stringify(e.modelJson));
  writeFileSync(join(dir, 'model', 'weights.bin'), new Uint8Array(e.shards['weights.bin']));
  const ds = generateDataset('val', { count: 24 });
  const per = 32 * 32 * 3;
  for (const c of ['cat', 'dog', 'fox']) mkdirSync(join(dir, 'labeled', c), { recursive: true });
  mkdirSync(join(dir, 'loose'));
  for (let i = 0; i < 24; i++) {
    const png = pngBytes(ds.images.subarray(i * per, (i + 1) * per), 32, 32, 3);
    writeFileSync(join(dir, 'labeled', ['cat', 'dog', 'fox'][i % 3], `${i}.png`), png);
    writeFileSync(join(dir, 'loose', `${i}.png`), png);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('amc search --data DIR', () => {
  it('searches on loose images of the user by agreement with the original, calibrating on the same folder', () => {
    const out = join(dir, 'out-loose');
    const r = amc('search', join(dir, 'model', 'model.json'), '--data', join(dir, 'loose'), '--episodes', '2', '--warmup', '1', '--reward-images', '16', '--evaluate', 'bn', '--round-to', '1', '--out', out);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.stderr.some((l) => /reward on .*loose \(16 images, unlabeled: agreement with the original\)/.test(l))).toBe(true);
    expect(r.stderr.some((l) => /BatchNorm statistics recomputed on 24 .*loose \(shared with the reward: the folder is small\) images/.test(l))).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.search.best.score.agreement).toBeGreaterThanOrEqual(0);
    expect(report.search.best.score.top1).toBeUndefined();
    expect(report.search.test).toBeUndefined();
  }, 180_000);

  it('searches on a labeled folder by accuracy on its own labels', () => {
    const out = join(dir, 'out-labeled');
    const r = amc('search', join(dir, 'model', 'model.json'), '--data', join(dir, 'labeled'), '--episodes', '2', '--warmup', '1', '--no-refit', '--round-to', '1', '--out', out);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.search.best.score.top1).toBeGreaterThanOrEqual(0);
    expect(report.search.data).toMatch(/labeled \(24 images, labeled\)/);
  }, 180_000);

  it('refuses a folder too small to rank policies, naming it', () => {
    mkdirSync(join(dir, 'tiny'));
    writeFileSync(join(dir, 'tiny', 'a.png'), readFileSync(join(dir, 'loose', '0.png')));
    const r = amc('search', join(dir, 'model', 'model.json'), '--data', join(dir, 'tiny'), '--out', join(dir, 'out-tiny'));
    expect(r.code).toBe(1);
    expect(r.stderr[r.stderr.length - 1]).toMatch(/tiny.*holds 1 usable image.*more images/);
  }, 60_000);
});
