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
    const bad = amc('prune', join(dir, 'model.json'), '--policy-file', join(dir, 'model.json'), '--out', out);
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
});
