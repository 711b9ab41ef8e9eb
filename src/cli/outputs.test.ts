import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everyLayerOutputNet, exportModel } from '../testing/fixtures';
import { loadModel } from '../core/model/load';
import { filesFromPath } from '../core/model/node-files';
import { instantiate } from '../core/model/tfjs-model';

let dir: string;

function amc(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l && !/nodedir|tfjs-node|Hi, looks|====/.test(l)) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amc-outputs-'));
  const e = await exportModel(everyLayerOutputNet());
  writeFileSync(join(dir, 'model.json'), JSON.stringify(e.modelJson));
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(e.shards['weights.bin']));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('amc --outputs (a model that exposes every layer as an output)', () => {
  it('prune refuses, saying the outputs freeze every group and naming the flag, and writes nothing', () => {
    const out = join(dir, 'refused');
    const r = amc('prune', join(dir, 'model.json'), '--policy', 'uniform:0.5', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/model\.json: every channel group is frozen because it reaches one of the model's 6 outputs .* Keep only the outputs you need with --outputs \(e\.g\. --outputs logits; the model's outputs: c1,r1,c2,bn,gap,logits\)/);
    expect(existsSync(join(out, 'model.json'))).toBe(false);
  }, 60_000);

  it('inspect says why in a note; with --outputs the groups are free', () => {
    const before = amc('inspect', join(dir, 'model.json'));
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/groups +0 prunable/);
    expect(before.stdout).toMatch(/note +every channel group is frozen because it reaches one of the model's 6 outputs/);
    const after = amc('inspect', join(dir, 'model.json'), '--outputs', 'logits', '--json');
    expect(after.code).toBe(0);
    const j = JSON.parse(after.stdout);
    expect(j.outputs).toHaveLength(1);
    expect(j.notes).toContain("kept the output 'logits' of 6; dropped 'c1', 'r1', 'c2', 'bn', 'gap'");
    expect(j.groups.filter((g: { prunable: boolean }) => g.prunable).map((g: { id: string }) => g.id)).toEqual(['c1', 'c2']);
    expect(j.outputFreeze).toBeNull();
  }, 60_000);

  it('prune --outputs logits writes a smaller one-output model that tfjs loads', async () => {
    const out = join(dir, 'pruned');
    const r = amc('prune', join(dir, 'model.json'), '--policy', 'uniform:0.5', '--round-to', '1', '--outputs', 'logits', '--out', out);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.pruned.macs).toBeLessThan(report.original.macs);
    const m = await instantiate(await loadModel(filesFromPath(join(out, 'model.json'))));
    expect(m.outputs.map((o) => o.shape)).toEqual([[null, 3]]);
    m.dispose();
  }, 60_000);

  it('search refuses the same way before anything is timed or scored', () => {
    const out = join(dir, 'searched');
    const r = amc('search', join(dir, 'model.json'), '--out', out, '--episodes', '2');
    expect(r.code).toBe(1);
    expect(r.stderr.at(-1)).toMatch(/every channel group is frozen because it reaches one of the model's 6 outputs .* --outputs/);
    expect(existsSync(join(out, 'model.json'))).toBe(false);
  }, 60_000);

  it('refuses an unknown output name in one line, listing the outputs', () => {
    const r = amc('inspect', join(dir, 'model.json'), '--outputs', 'logit');
    expect(r.code).toBe(1);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/has no output named 'logit'; its outputs are 'c1', 'r1', 'c2', 'bn', 'gap', 'logits'\. Name one or more/);
  }, 60_000);
});
