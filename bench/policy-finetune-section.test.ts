import { describe, expect, it } from 'vitest';
import { loggedEpochs, planCells } from './policy-finetune';
import { policyFinetuneRows, policyFinetuneSection, type PolicyFinetuneCell, type PolicyFinetuneResult } from './policy-finetune-section';

const curve = (...top1: number[]) => top1.map((t, epoch) => ({ epoch, top1: t }));
const cell = (start: PolicyFinetuneCell['start'], top1: number[], extra: Partial<PolicyFinetuneCell> = {}): PolicyFinetuneCell => ({
  model: 'mobilenet-like',
  target: 'macs50',
  start,
  searchSeed: 1,
  seed: 1,
  status: 'ran',
  top1ByEpoch: curve(...top1),
  secondsPerEpoch: 300,
  load: 3,
  finishedAt: '2026-11-30T16:00:00.000Z',
  seconds: 700,
  ...extra,
});

const result = (cells: PolicyFinetuneCell[]): PolicyFinetuneResult => ({
  date: '2026-11-30T17:00:00.000Z',
  command: 'npx tsx bench/policy-finetune.ts',
  plan: { limit: 9000, epochs: 2, seed: 1, searchSeed: 1, jobs: 1, runsDir: 'bench/runs/policy-auto' },
  ran: { from: '2026-11-30T15:00:00.000Z', to: '2026-11-30T16:00:00.000Z' },
  note: 'beside latency searches',
  cells,
  seconds: 3600,
  load: { start: [3, 3, 3], end: [3, 3, 3] },
});

describe('policyFinetuneRows', () => {
  it('reads AMC minus uniform and random at epoch 0 and at the last epoch, and the row means', () => {
    const [row] = policyFinetuneRows(
      result([cell('uniform', [0.79, 0.85, 0.88], { secondsPerEpoch: 200, load: 2 }), cell('random', [0.8, 0.86, 0.9], { secondsPerEpoch: 400, load: 4 }), cell('amc', [0.84, 0.87, 0.89], { secondsPerEpoch: 300, load: 3 })]),
    );
    expect(row.top1.amc).toEqual([0.84, 0.87, 0.89]);
    expect(row.amcMinusUniform.before).toBeCloseTo(0.05);
    expect(row.amcMinusUniform.after).toBeCloseTo(0.01);
    expect(row.amcMinusRandom.before).toBeCloseTo(0.04);
    expect(row.amcMinusRandom.after).toBeCloseTo(-0.01);
    expect(row.secondsPerEpoch).toBeCloseTo(300);
    expect(row.load).toBeCloseTo(3);
    expect(row.unfinished).toEqual([]);
  });

  it('leaves "after" empty and names the start when a fine-tune stopped before the last epoch', () => {
    const [row] = policyFinetuneRows(result([cell('uniform', [0.79, 0.85, 0.88]), cell('random', [0.8, 0.86, 0.9]), cell('amc', [0.84, 0.87], { status: 'partial' })]));
    expect(row.amcMinusUniform.before).toBeCloseTo(0.05);
    expect(row.amcMinusUniform.after).toBeUndefined();
    expect(row.unfinished).toEqual(['amc']);
  });

  it('does not count a cell that trained no epoch in seconds per epoch', () => {
    const [row] = policyFinetuneRows(result([cell('uniform', [0.79], { status: 'partial', secondsPerEpoch: undefined, load: 9 }), cell('amc', [0.84, 0.87, 0.89], { secondsPerEpoch: 250, load: 2 })]));
    expect(row.secondsPerEpoch).toBe(250);
    expect(row.load).toBe(2);
    expect(row.unfinished).toEqual(['uniform', 'random']);
  });
});

describe('policyFinetuneSection', () => {
  it('renders one row per model and target, signed differences, and what did not finish', () => {
    const md = policyFinetuneSection(
      result([
        cell('uniform', [0.79, 0.85, 0.88], { searchTop1: 0.79, macsRatio: 0.498 }),
        cell('random', [0.8, 0.86, 0.9], { macsRatio: 0.5 }),
        cell('amc', [0.84, 0.87, 0.89], { macsRatio: 0.499 }),
        cell('uniform', [0.5], { model: 'resnet-like', status: 'partial' }),
        cell('random', [], { model: 'resnet-like', status: 'not run', top1ByEpoch: undefined }),
        cell('amc', [], { model: 'resnet-like', target: 'latency50', status: 'no search', top1ByEpoch: undefined }),
      ]),
    );
    expect(md).toContain('| mobilenet-like | 50% MACs | 79.0 → 85.0 → 88.0 | 80.0 → 86.0 → 90.0 | 84.0 → 87.0 → 89.0 | +5.0 → +1.0 | +4.0 → −1.0 | 49.8 / 50.0 / 49.9 | 300 | 3.0 |');
    expect(md).toContain("epoch 0 equals the search's own demo:test figure");
    expect(md).toMatch(/Not finished[^\n]*resnet-like 50% MACs: uniform \(stopped after epoch 0 of 2\), random search \(not reached[^)]*\), AMC \(not planned\)/);
    expect(md).toContain('Not run, their searches had not finished: resnet-like 50% latency.');
    expect(md).not.toContain('| resnet-like | 50% latency |');
    expect(md).toContain('beside latency searches');
  });

  it('says how far epoch 0 is from the search\'s figure when it is not the same', () => {
    expect(policyFinetuneSection(result([cell('amc', [0.84, 0.87, 0.89], { searchTop1: 0.8385 })]))).toContain('within 0.15 points');
  });

  it('says "all three" when a whole triple is missing for one reason', () => {
    const md = policyFinetuneSection(result([cell('uniform', [0.79, 0.85, 0.88]), cell('random', [0.8, 0.86, 0.9]), cell('amc', [0.84, 0.87, 0.89]), ...(['uniform', 'random', 'amc'] as const).map((s) => cell(s, [], { model: 'plain-cnn', status: 'not run', top1ByEpoch: undefined }))]));
    expect(md).toContain('plain-cnn 50% MACs: all three (not reached in the time this study had)');
    expect(md).toContain('| plain-cnn | 50% MACs | - | - | - | - → - | - → - | - / - / - | - | - |');
  });

  it('says how to run it when there is no result', () => {
    expect(policyFinetuneSection(undefined)).toMatch(/Not run/);
  });
});

describe('planCells', () => {
  it('runs the app model first, each target as a whole uniform, random, AMC triple', () => {
    const order = planCells(['plain-cnn', 'mobilenet-like', 'resnet-like'], ['macs50', 'latency50'], 1, 1).map((c) => `${c.model} ${c.target} ${c.start}`);
    expect(order.slice(0, 6)).toEqual(['mobilenet-like macs50 uniform', 'mobilenet-like macs50 random', 'mobilenet-like macs50 amc', 'mobilenet-like latency50 uniform', 'mobilenet-like latency50 random', 'mobilenet-like latency50 amc']);
    expect(order[6]).toBe('resnet-like macs50 uniform');
    expect(order.at(-1)).toBe('plain-cnn latency50 amc');
  });
});

describe('loggedEpochs', () => {
  const plan = { limit: 9000, epochs: 2, seed: 1, labels: false };
  const log = [
    'fine-tune  x/model.json from models/m/model.json on demo:train (9000 images, labels not used), backend wasm',
    '           8100 training / 900 held-out images, 254 steps an epoch, up to 2 epochs',
    'epoch 0    held-out agreement 91.56%, distillation loss 1.8235, demo:test top-1 85.05%',
    '\repoch 1    loss 1.3527, held-out agreement 93.33%, held-out distillation 1.1237, demo:test top-1 90.05% (12 min 27 s)',
  ].join('\n');

  it('reads the epochs a stopped fine-tune logged and their time', () => {
    expect(loggedEpochs(log, plan)).toEqual({ top1ByEpoch: curve(0.8505, 0.9005), secondsPerEpoch: 747 });
  });

  it('ignores a log of another plan', () => {
    expect(loggedEpochs(log, { ...plan, epochs: 5 })).toBeUndefined();
    expect(loggedEpochs(log, { ...plan, limit: 3000 })).toBeUndefined();
  });
});
