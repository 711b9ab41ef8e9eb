import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STUDY_SETTINGS } from './policy-study';
import { claimRun, mismatch, type RunSpec, type SearchReport } from './runs';

const spec: RunSpec = { model: 'plain-cnn', resource: 'macs', target: 0.5, agent: 'ddpg', seed: 2, ...STUDY_SETTINGS };

function report(over: { data?: string; evaluator?: string; finetune?: number } = {}): SearchReport {
  return {
    source: 'models/plain-cnn/model.json',
    options: { roundTo: 1, refit: false },
    search: {
      config: { agent: 'ddpg', seed: 2, episodes: 120, evaluator: over.evaluator ?? 'bn', env: { resource: 'macs', target: 0.5, roundTo: 1 }, ddpg: { warmupEpisodes: 40 } },
      data: over.data ?? 'demo:val (1000 images)',
      rewardImages: 1000,
      ...(over.finetune ? { finetune: { epochs: over.finetune } } : {}),
    },
  } as unknown as SearchReport;
}

describe('a finished search answers a spec', () => {
  it('when the CLI labelled its data with the count it used', () => {
    expect(mismatch(report(), spec)).toBeUndefined();
  });

  it('with or without a fine-tune after it, unless the spec asks for one', () => {
    expect(mismatch(report({ finetune: 1 }), spec)).toBeUndefined();
    expect(mismatch(report(), { ...spec, finetune: { epochs: 1, images: 2000 } })).toMatch(/fine-tune epochs/);
  });

  it('not when its data or its evaluator differ', () => {
    expect(mismatch(report({ data: 'photos/ (40 images)' }), spec)).toMatch(/^data photos\//);
    expect(mismatch(report(), { ...spec, evaluate: 'refit' })).toMatch(/evaluator bn \(want refit\)/);
  });
});

describe('a run folder claimed by one bench process', () => {
  it('is not claimed again while that process lives, and is taken over once it has ended', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'amc-claim-')), 'plain-cnn-macs50-ddpg-1');
    const release = claimRun(dir)!;
    expect(readFileSync(join(dir, 'claim.pid'), 'utf8')).toBe(String(process.pid));
    expect(claimRun(dir)).toBeNull();
    release();
    expect(existsSync(join(dir, 'claim.pid'))).toBe(false);
    // A process that has exited leaves its claim behind.
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(dir, 'claim.pid'), ended);
    const again = claimRun(dir);
    expect(again).not.toBeNull();
    again!();
  });
});
