import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportModel, mobilenetV2Like } from '../testing/fixtures';
import { loadModel } from '../core/model/load';
import { filesFromPath } from '../core/model/node-files';
import { analyzeModel } from '../core/model/analyze';

let dir: string;

function amc(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l && !/nodedir|tfjs-node|Hi, looks|====/.test(l)) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amc-cli-'));
  const e = await exportModel(mobilenetV2Like());
  writeFileSync(join(dir, 'model.json'), JSON.stringify(e.modelJson));
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(e.shards['weights.bin']));
  writeFileSync(join(dir, 'nobin.json'), JSON.stringify({ ...e.modelJson, weightsManifest: [{ paths: ['gone.bin'], weights: e.modelJson.weightsManifest[0].weights }] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('amc CLI', () => {
  it('inspect --json prints the layers, groups and totals', () => {
    const r = amc('inspect', join(dir, 'model.json'), '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.totals.params).toBeGreaterThan(0);
    expect(out.groups.find((g: { id: string }) => g.id === 'stem').producers).toEqual(['stem', 'project']);
    expect(out.layers.map((l: { layer: string }) => l.layer)).toContain('residual');
  }, 60_000);

  it('a bad input exits non-zero with one line naming the file, the problem and the fix', () => {
    const r = amc('inspect', join(dir, 'nobin.json'));
    expect(r.code).toBe(1);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/gone\.bin: is listed in the weightsManifest .* Select it together with model\.json/);
    const missing = amc('inspect', join(dir, 'nothing-here.json'));
    expect(missing.code).toBe(1);
    expect(missing.stderr[0]).toMatch(/nothing-here\.json: does not exist/);
  }, 60_000);

  it('prune writes a model that loads, with report.json', async () => {
    const out = join(dir, 'pruned');
    const r = amc('prune', join(dir, 'model.json'), '--policy', 'uniform:0.5', '--round-to', '1', '--out', out);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.policy).toEqual({ stem: 4, expand: 8, head: 6 });
    expect(report.pruned.macs).toBeLessThan(report.original.macs);
    const reloaded = analyzeModel(await loadModel(filesFromPath(join(out, 'model.json'))));
    expect(reloaded.cost.totalMacs).toBe(report.pruned.macs);
    const bad = amc('prune', join(dir, 'model.json'), '--policy-file', join(dir, 'model.json'), '--out', join(dir, 'pruned-bad'));
    expect(bad.code).toBe(1);
    expect(bad.stderr[0]).toMatch(/is not a group of this model/);
  }, 60_000);
});

describe('amc CLI argument mistakes', () => {
  it('a bad uniform ratio and a boolean flag before the path give usage lines, not stack traces', () => {
    const bad = amc('prune', join(dir, 'model.json'), '--policy', 'uniform:1.5', '--out', join(dir, 'x'));
    expect(bad.code).toBe(2);
    expect(bad.stderr[0]).toMatch(/uniform:RATIO with a ratio in \(0, 1\]/);
    const refit = amc('prune', '--refit', join(dir, 'model.json'), '--policy', 'uniform:0.5', '--out', join(dir, 'x'));
    expect(refit.code).toBe(2);
    expect(refit.stderr[0]).toMatch(/--data is needed/);
  }, 60_000);

  it('search runs the AMC loop on a demo model and writes the best model with the search log', async () => {
    const out = join(dir, 'searched');
    const r = amc('search', 'models/resnet-like/model.json', '--episodes', '3', '--warmup', '2', '--reward-images', '40', '--round-to', '1', '--seed', '5', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stderr.some((l) => /^uniform +ratio/.test(l))).toBe(true);
    expect(r.stderr.some((l) => /^episode +3\/3/.test(l))).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.search.log.map((e: { phase: string }) => e.phase)).toEqual(['warm-up', 'warm-up', 'learning']);
    expect(report.search.config.ddpg.actorLr).toBe(1e-4);
    expect(report.search.test.images).toBe(2000);
    expect(report.pruned.macs).toBeLessThanOrEqual(0.5 * report.original.macs);
    const reloaded = analyzeModel(await loadModel(filesFromPath(join(out, 'model.json'))));
    expect(reloaded.cost.totalMacs).toBe(report.pruned.macs);
    expect(report.policy).toEqual(report.search.best.keep);
  }, 240_000);

  it('search --evaluate bn scores with BatchNorm statistics recomputed and writes them into the best model', async () => {
    const out = join(dir, 'searched-bn');
    const r = amc('search', 'models/mobilenet-like/model.json', '--episodes', '2', '--warmup', '1', '--reward-images', '40', '--evaluate', 'bn', '--calibration', '32', '--round-to', '1', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stderr.some((l) => /BatchNorm statistics recomputed on 32 demo:train images/.test(l))).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.search.config.evaluator).toBe('bn');
    expect(report.refit).toBeUndefined();
    expect(report.batchNorm.layers).toBeGreaterThan(0);
    // The written model carries statistics of its own, not the original's sliced.
    const original = await loadModel(filesFromPath('models/mobilenet-like/model.json'));
    const written = await loadModel(filesFromPath(join(out, 'model.json')));
    const name = written.weights.find((w) => w.name.endsWith('/moving_mean'))!.name;
    const kept: number[] = Array.from(written.byName.get(name)!.values);
    const before: number[] = Array.from(original.byName.get(name)!.values);
    expect(kept.every((v) => before.some((b) => Math.abs(b - v) < 1e-7))).toBe(false);
    const bogus = amc('search', 'models/mobilenet-like/model.json', '--evaluate', 'bnn', '--out', join(dir, 'y'));
    expect(bogus.stderr[0]).toMatch(/--evaluate must be one of auto, slice, bn, refit, refit\+bn/);
  }, 240_000);

  it('search refuses an impossible target and a malformed one with one line', () => {
    const tiny = amc('search', 'models/resnet-like/model.json', '--target', 'macs:0.01', '--out', join(dir, 'x'));
    expect(tiny.code).toBe(1);
    expect(tiny.stderr).toHaveLength(1);
    expect(tiny.stderr[0]).toMatch(/model\.json: a macs target of 1\.0% cannot be met.*Choose a target of at least/);
    const bad = amc('search', 'models/resnet-like/model.json', '--target', 'flops=half', '--out', join(dir, 'x'));
    expect(bad.code).toBe(2);
    expect(bad.stderr[0]).toMatch(/--target 'flops=half' is not understood/);
    const wrong = amc('search', join(dir, 'model.json'), '--out', join(dir, 'x'));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr[0]).toMatch(/has output shape \[\?, \d+\], but demo:val has 10 classes/);
  }, 120_000);
});
