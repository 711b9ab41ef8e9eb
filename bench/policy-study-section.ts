/** BENCHMARKS.md's section on policy quality with the app's default evaluator (bench/policy-study.ts). */
import { mean, sd } from './util';
import type { RunOutcome, SearchSettings } from './runs';

export interface Cell {
  mean: number;
  sd: number;
  n: number;
  values: number[];
}

const cell = (values: (number | undefined)[]): Cell | null => {
  const v = values.filter((x): x is number => typeof x === 'number');
  return v.length ? { mean: mean(v), sd: sd(v), n: v.length, values: v } : null;
};

export interface PolicyStudyRow {
  model: string;
  target: number;
  original: number;
  evaluator?: string;
  /** demo:test top-1 without fine-tuning (as the search left each policy, made ready by its evaluator). */
  before: { uniform: Cell | null; random: Cell | null; amc: Cell | null };
  /** demo:test top-1 after the short distillation the study gives every best and uniform policy. */
  after: { uniform: Cell | null; random: Cell | null; amc: Cell | null };
  /** Per seed: AMC's best episode (1-based) and its phase. */
  amcFoundAt: { seed: number; episode: number; phase: string }[];
  /** Mean reward (on the reward images) of AMC's warm-up episodes, its last 20 learning episodes, and random search's episodes. */
  rewards: { warmup: number; lastLearning: number; random: number } | null;
  seeds: number[];
}

export interface PolicyStudy {
  date: string;
  command: string;
  settings: SearchSettings;
  load: { start: number[]; end: number[] };
  minutes: number;
  rows: PolicyStudyRow[];
  failed: string[];
}

export function policyStudyRows(outcomes: RunOutcome[], original: Record<string, number>): PolicyStudyRow[] {
  const rows: PolicyStudyRow[] = [];
  for (const key of [...new Set(outcomes.map((o) => `${o.spec.model}|${o.spec.target}`))]) {
    const [model, t] = key.split('|');
    const mine = outcomes.filter((o) => o.spec.model === model && o.spec.target === Number(t) && o.report?.search.test);
    if (!mine.length) continue;
    const of = (agent: 'ddpg' | 'random') => mine.filter((o) => o.spec.agent === agent).map((o) => o.report!.search);
    const amc = of('ddpg');
    const random = of('random');
    const all = mine.map((o) => o.report!.search);
    const rewardMean = (entries: { reward: number }[]) => (entries.length ? mean(entries.map((e) => e.reward)) : NaN);
    rows.push({
      model,
      target: Number(t),
      original: original[model],
      evaluator: all[0].config.evaluator,
      before: {
        uniform: cell(amc.map((s) => s.test!.uniform.top1)),
        random: cell(random.map((s) => s.test!.best.top1)),
        amc: cell(amc.map((s) => s.test!.best.top1)),
      },
      after: {
        uniform: cell(amc.map((s) => s.finetune?.uniform?.testAfter)),
        random: cell(random.map((s) => s.finetune?.best?.testAfter)),
        amc: cell(amc.map((s) => s.finetune?.best?.testAfter)),
      },
      amcFoundAt: amc.map((s) => ({ seed: s.config.seed, episode: s.best.episode + 1, phase: s.best.phase })),
      rewards: amc.length
        ? {
            warmup: mean(amc.map((s) => rewardMean(s.log.filter((e) => e.phase === 'warm-up')))),
            lastLearning: mean(amc.map((s) => rewardMean(s.log.filter((e) => e.phase === 'learning').slice(-20)))),
            random: random.length ? mean(random.map((s) => rewardMean(s.log))) : NaN,
          }
        : null,
      seeds: [...new Set(mine.map((o) => o.spec.seed))].sort(),
    });
  }
  return rows;
}
