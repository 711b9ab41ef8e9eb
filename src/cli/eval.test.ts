import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { exportModel } from '../testing/fixtures';
import { parseDataFlag } from './eval';
import { UsageError } from './args';

let dir: string;

function amc(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l && !/nodedir|tfjs-node|Hi, looks|====/.test(l)) };
}

function classifier(classes: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 4, kernelSize: 3, strides: 2, activation: 'relu', name: 'conv' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: classes, activation: 'softmax', name: 'classes' }),
    ],
  });
}

async function write(model: tf.LayersModel, sub: string): Promise<string> {
  const e = await exportModel(model);
  const d = join(dir, sub);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'model.json'), JSON.stringify(e.modelJson));
  writeFileSync(join(d, 'weights.bin'), new Uint8Array(e.shards['weights.bin']));
  return join(d, 'model.json');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amc-eval-'));
  await write(classifier(10), 'ten');
  await write(classifier(3), 'three');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('amc eval', () => {
  test('--data accepts demo:train|val|test and refuses anything else with the allowed values', () => {
    expect(parseDataFlag('demo:val')).toBe('val');
    expect(parseDataFlag('demo:train')).toBe('train');
    expect(() => parseDataFlag('demo:nope')).toThrow(UsageError);
    expect(() => parseDataFlag('demo:nope')).toThrow(/demo:train, demo:val, demo:test/);
    expect(() => parseDataFlag(undefined)).toThrow(/--data is needed/);
  });

  test('--json reports top-1, top-5 and fidelity to a reference', () => {
    const model = join(dir, 'ten', 'model.json');
    const r = amc('eval', model, '--data', 'demo:val', '--limit', '40', '--reference', model, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ data: 'demo:val', n: 40, backend: 'wasm', agreement: 1 });
    expect(out.top1).toBeGreaterThanOrEqual(0);
    expect(out.top5).toBeGreaterThanOrEqual(out.top1);
    expect(out.meanKL).toBeLessThan(1e-6);
  }, 60_000);

  test('a bad --data exits 2 naming the allowed values; a model with other classes exits 1 with one line', () => {
    const bad = amc('eval', join(dir, 'ten', 'model.json'), '--data', 'cifar10');
    expect(bad.code).toBe(2);
    expect(bad.stderr[0]).toMatch(/--data 'cifar10' .* demo:train, demo:val, demo:test/);
    const three = amc('eval', join(dir, 'three', 'model.json'), '--data', 'demo:test', '--limit', '10');
    expect(three.code).toBe(1);
    expect(three.stderr).toHaveLength(1);
    expect(three.stderr[0]).toMatch(/outputs 3 classes, but demo:test has 10 classes/);
  }, 60_000);
});
