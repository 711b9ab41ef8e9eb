import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '../core/data/node-images';
import { analyzeModel } from '../core/model/analyze';
import { loadModel } from '../core/model/load';
import { filesFromPath } from '../core/model/node-files';
import { exportModel, mobilenetV2Like, randomImages } from '../testing/fixtures';

let dir: string;

function amc(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l && !/nodedir|tfjs-node|Hi, looks|====|already registered/.test(l)) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amc-finetune-'));
  const e = await exportModel(mobilenetV2Like());
  mkdirSync(join(dir, 'original'));
  writeFileSync(join(dir, 'original', 'model.json'), JSON.stringify(e.modelJson));
  writeFileSync(join(dir, 'original', 'weights.bin'), new Uint8Array(e.shards['weights.bin']));
  // Loose images, no class folders: the fine-tune can only distill.
  const { images } = randomImages(48, 8, 4, 21);
  mkdirSync(join(dir, 'images'));
  for (let i = 0; i < 48; i++) writeFileSync(join(dir, 'images', `${i}.png`), pngBytes(images.subarray(i * 192, (i + 1) * 192), 8, 8, 3));
  expect(amc('prune', join(dir, 'original', 'model.json'), '--policy', 'uniform:0.5', '--round-to', '1', '--out', join(dir, 'pruned')).code).toBe(0);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('amc finetune', () => {
  it('distills a pruned model from its original on unlabeled images and writes the best epoch, quantized, with its log', async () => {
    const out = join(dir, 'tuned');
    const r = amc('finetune', join(dir, 'pruned', 'model.json'), '--teacher', join(dir, 'original', 'model.json'), '--data', join(dir, 'images'), '--epochs', '2', '--batch', '8', '--lr', '0.005', '--quantize', 'float16', '--out', out);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.history.map((h: { epoch: number }) => h.epoch)).toEqual([0, 1, 2]);
    expect(report.data).toMatch(/unlabeled: distillation only/);
    expect(report.history[2].heldOutLoss).toBeLessThan(report.history[0].heldOutLoss);
    expect(report.quantized.dtype).toBe('float16');
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].weights[0].quantization.dtype).toBe('float16');
    const tuned = analyzeModel(await loadModel(filesFromPath(join(out, 'model.json'))));
    const pruned = analyzeModel(await loadModel(filesFromPath(join(dir, 'pruned', 'model.json'))));
    expect(tuned.cost.totalMacs).toBe(pruned.cost.totalMacs);
  }, 120_000);

  it('refuses to write over the original or the pruned model, and names what is missing', () => {
    const over = amc('finetune', join(dir, 'pruned', 'model.json'), '--teacher', join(dir, 'original', 'model.json'), '--data', join(dir, 'images'), '--out', join(dir, 'original'));
    expect(over.code).toBe(1);
    expect(over.stderr).toHaveLength(1);
    expect(over.stderr[0]).toMatch(/original: is the folder of the input model .*original.*model\.json \(it holds model\.json, weights\.bin\): writing there would replace that model\. Give --out a new folder.* or add --force/);
    expect(JSON.parse(readFileSync(join(dir, 'original', 'model.json'), 'utf8')).weightsManifest[0].paths).toEqual(['weights.bin']);
    // The model given as its folder, and --out naming that folder: still refused.
    const asFolder = amc('finetune', join(dir, 'pruned'), '--teacher', join(dir, 'original', 'model.json'), '--data', join(dir, 'images'), '--out', join(dir, 'pruned'));
    expect(asFolder.code).toBe(1);
    expect(asFolder.stderr[0]).toMatch(/is the folder of the input model .*pruned \(it holds model\.json, model\.weights\.bin, report\.json\): writing there would replace that model/);
    const noTeacher = amc('finetune', join(dir, 'pruned', 'model.json'), '--out', join(dir, 'x'));
    expect(noTeacher.code).toBe(2);
    expect(noTeacher.stderr[0]).toMatch(/--teacher/);
    const wrongData = amc('finetune', join(dir, 'pruned', 'model.json'), '--teacher', join(dir, 'original', 'model.json'), '--data', 'demo:train', '--out', join(dir, 'y'));
    expect(wrongData.code).toBe(1);
    expect(wrongData.stderr[0]).toMatch(/outputs 4 classes, but demo:train has 10/);
  }, 120_000);

  it('search --finetune ends with the best and the uniform model distilled, and writes the fine-tuned best', async () => {
    const out = join(dir, 'searched');
    const r = amc('search', 'models/mobilenet-like/model.json', '--episodes', '3', '--warmup', '2', '--reward-images', '20', '--finetune', '1', '--finetune-images', '64', '--out', out);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const ft = report.search.finetune;
    expect(ft.epochs).toBe(1);
    for (const which of ['best', 'uniform']) {
      expect(ft[which].history.map((h: { epoch: number }) => h.epoch)).toEqual([0, 1]);
      expect(ft[which].testBefore).toBeCloseTo(which === 'best' ? report.search.test.best.top1 : report.search.test.uniform.top1, 6);
      expect(ft[which].testAfter).toBeGreaterThan(0);
    }
    // The written model keeps the best policy's architecture.
    const written = await loadModel(filesFromPath(join(out, 'model.json')));
    expect(analyzeModel(written).cost.totalMacs).toBe(report.pruned.macs);
  }, 300_000);
});
