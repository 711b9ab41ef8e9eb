import { describe, expect, it } from 'vitest';
import { policyBudgetSection, policyStudyRows, policyStudySection, type PolicyStudy } from './policy-study-section';
import type { RunOutcome, SearchReport } from './runs';
import { budgetStudy, parseTargets, STUDY_DIR, STUDY_FINETUNE, STUDY_SETTINGS, studySpecs } from './policy-study';

function outcome(agent: 'ddpg' | 'random', seed: number, best: number, test: number, uniform: number, after: number, resource: 'macs' | 'latency' = 'macs'): RunOutcome {
  const log = [
    { episode: 0, phase: agent === 'ddpg' ? 'warm-up' : 'random', reward: -0.4, resourceRatio: 0.5, ms: {} },
    { episode: 1, phase: agent === 'ddpg' ? 'learning' : 'random', reward: -0.2, resourceRatio: 0.5, ms: {} },
  ];
  const search = {
    config: { agent, seed, episodes: 2, evaluator: 'bn', env: { resource: 'macs', target: 0.5, roundTo: 1 }, ddpg: { warmupEpisodes: 1 } },
    best: { episode: 1, phase: log[1].phase, reward: -0.2, resourceRatio: 0.5, score: { top1: best }, keep: {} },
    uniform: { ratio: 0.7, resourceRatio: 0.49, score: { top1: uniform }, keep: {} },
    test: { images: 2000, best: { top1: test }, uniform: { top1: uniform } },
    finetune: { epochs: 1, best: { testBefore: test, testAfter: after }, uniform: { testBefore: uniform, testAfter: uniform + 0.05 } },
    ...(resource === 'latency' ? { latency: { measured: { originalMs: 2, bestMs: 2 * best - 0.6, uniformMs: 1, speedup: 0, uniformSpeedup: 2, runs: 9, originalSpread: { min: 0.9, max: 1 + best, busy: best > 0.78 } } } } : {}),
    log,
  } as unknown as SearchReport['search'];
  return { spec: { model: 'm', resource, target: 0.5, agent, seed, ...STUDY_SETTINGS }, dir: '', status: 'ran', report: { search } as SearchReport };
}

describe('policy study section', () => {
  const outcomes = [outcome('ddpg', 1, 0.8, 0.75, 0.7, 0.85), outcome('ddpg', 2, 0.82, 0.79, 0.72, 0.87), outcome('random', 1, 0.81, 0.74, 0.7, 0.84)];
  const [row] = policyStudyRows(outcomes, { m: 0.9 });

  it('reads before and after fine-tuning per agent, over the seeds that finished', () => {
    expect(row.before.amc!.mean).toBeCloseTo(0.77, 9);
    expect(row.before.amc!.n).toBe(2);
    expect(row.before.random!.values).toEqual([0.74]);
    expect(row.before.uniform!.mean).toBeCloseTo(0.71, 9);
    expect(row.after.amc!.mean).toBeCloseTo(0.86, 9);
    expect(row.after.uniform!.mean).toBeCloseTo(0.76, 9);
    expect(row.after.random!.values).toEqual([0.84]);
  });

  it('says how optimistic each best was, and how the agent\'s rewards moved', () => {
    expect(row.optimism.amc).toBeCloseTo(0.04, 9);
    expect(row.optimism.random).toBeCloseTo(0.07, 9);
    expect(row.rewards).toEqual({ warmup: -0.4, lastLearning: -0.2, random: expect.closeTo(-0.3, 9) });
    expect(row.amcFoundAt).toEqual([{ seed: 1, episode: 2, phase: 'learning' }, { seed: 2, episode: 2, phase: 'learning' }]);
  });

  it('prints a dash where a column has nothing yet, as read back from results.json (NaN became null)', () => {
    const partial = JSON.parse(JSON.stringify({ ...row, rewards: { ...row.rewards!, random: NaN }, optimism: { amc: 0.04, random: NaN } }));
    const study: PolicyStudy = { date: '2026-11-30T12:00:00Z', command: 'x', settings: STUDY_SETTINGS, load: { start: [1], end: [2] }, minutes: 3, rows: [partial], failed: [] };
    expect(policyStudySection(study)).toContain('| m | 50% MACs | -0.400 | -0.200 | - | 4.0 | - |');
  });

  it('prints the margins it computed, and the fine-tuned columns only for a study that fine-tuned', () => {
    const plain: PolicyStudy = { date: '2026-11-30T12:00:00Z', command: 'x', settings: STUDY_SETTINGS, load: { start: [1], end: [2] }, minutes: 3, rows: [row], failed: [] };
    expect(policyStudySection(plain)).toContain('| m (90.0) | 50% MACs | bn | 71.0 ± 1.4 (n=2) | 74.0 (n=1) | 77.0 ± 2.8 (n=2) | +6.0 | +3.0 |\n');
    expect(policyStudySection(plain)).not.toContain('fine-tuned');
    const study: PolicyStudy = { date: '2026-11-30T12:00:00Z', command: 'x', settings: { ...STUDY_SETTINGS, finetune: STUDY_FINETUNE }, load: { start: [1], end: [2] }, minutes: 3, rows: [row], failed: [] };
    const text = policyStudySection(study);
    expect(text).toContain('| m (90.0) | 50% MACs | bn | 71.0 ± 1.4 (n=2) | 74.0 (n=1) | 77.0 ± 2.8 (n=2) | +6.0 | +3.0 | 76.0 ± 1.4 (n=2) | 84.0 (n=1) | 86.0 ± 1.4 (n=2) | +10.0 | +2.0 |');
    expect(text).toContain('AMC − uniform +6.0 points on average (ahead in 1 of 1 rows), AMC − random search +3.0');
  });

  it('keeps a latency target apart from the MACs one at the same ratio, with where its policies really landed', () => {
    const both = [...outcomes, outcome('ddpg', 1, 0.8, 0.7, 0.6, 0.8, 'latency'), outcome('random', 1, 0.75, 0.65, 0.6, 0.8, 'latency')];
    const rows = policyStudyRows(both, { m: 0.9 });
    expect(rows.map((r) => `${r.resource} ${r.before.amc!.n}`)).toEqual(['macs 2', 'latency 1']);
    expect(rows[0].latency).toBeUndefined();
    expect(rows[1].latency!.amc!.mean).toBeCloseTo(0.5, 9);
    expect(rows[1].latency!.random!.mean).toBeCloseTo(0.45, 9);
    expect(rows[1].latency!.uniform!.mean).toBeCloseTo(0.5, 9);
    const study: PolicyStudy = { date: '2026-11-30T12:00:00Z', command: 'x', settings: STUDY_SETTINGS, load: { start: [1], end: [2] }, minutes: 3, rows, failed: [] };
    const text = policyStudySection(study);
    expect(text).toContain('| m (90.0) | 50% latency | bn | 60.0 (n=1) | 65.0 (n=1) | 70.0 (n=1) | +10.0 | +5.0 |');
    expect(text).toContain('| m | 50% latency | 50.0 (n=1) | 45.0 (n=1) | 50.0 (n=1) | 1 of 2 (the original up to 1.8x its start) |');
  });

  it('reads --targets as the CLI reads --target, a bare ratio being MACs, and refuses the rest', () => {
    expect(parseTargets('0.25,latency:0.5,macs:.5')).toEqual([
      { resource: 'macs', target: 0.25 },
      { resource: 'latency', target: 0.5 },
      { resource: 'macs', target: 0.5 },
    ]);
    expect(() => parseTargets('params:0.5')).toThrow(/params:0.5/);
    expect(() => parseTargets('latency:1.5')).toThrow(/latency:1.5/);
    const specs = studySpecs(['m'], [1], parseTargets('latency:0.5'));
    expect(specs.map((s) => `${s.resource}:${s.target}:${s.agent}`)).toEqual(['latency:0.5:ddpg', 'latency:0.5:random']);
  });

  it('puts a longer budget beside the main study, row by row, in a folder of its own', () => {
    expect(budgetStudy(undefined)).toEqual({ settings: STUDY_SETTINGS, dir: STUDY_DIR });
    const long = budgetStudy(300);
    expect(long.dir).toBe(`${STUDY_DIR}-300`);
    expect(long.settings).toMatchObject({ episodes: 300, warmup: 100, rewardImages: STUDY_SETTINGS.rewardImages });
    const main: PolicyStudy = { date: '2026-11-30T12:00:00Z', command: 'x', settings: STUDY_SETTINGS, load: { start: [1], end: [2] }, minutes: 3, rows: [row], failed: [] };
    const longer = policyStudyRows([outcome('ddpg', 1, 0.9, 0.8, 0.7, 0.9), outcome('random', 1, 0.8, 0.76, 0.7, 0.8)], { m: 0.9 });
    const text = policyBudgetSection({ ...main, settings: long.settings, rows: longer }, main);
    expect(text).toContain('### 9a. The default budget: 300 episodes');
    expect(text).toContain('| m | 50% MACs | 70.0 (n=1) | 74.0 (n=1) | 77.0 ± 2.8 (n=2) | +3.0 | 76.0 (n=1) | 80.0 (n=1) | +4.0 | -0.400 → -0.200 | 2 (learning) |');
    expect(policyBudgetSection(undefined, main)).toBe('');
  });
});
