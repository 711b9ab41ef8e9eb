/** BENCHMARKS.md's section on policy quality with the app's default evaluator (bench/policy-study.ts). */
import { mean, sd } from './util';
import type { RunOutcome, RunSpec, SearchReport, SearchSettings } from './runs';

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
  /** Absent in studies from before latency targets: those were all MACs. */
  resource?: RunSpec['resource'];
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
  /**
   * The best policy's top-1 on the reward images minus its top-1 on demo:test, mean over seeds: how
   * much of "best" is the reward's noise picked out by taking a maximum (the winner's curse).
   */
  optimism: { amc: number; random: number };
  /**
   * Latency targets: each policy's latency over the original's, as the search measured them at its
   * end (interleaved, median of the runs), so the wall's prediction is checked against the device.
   */
  latency?: { uniform: Cell | null; random: Cell | null; amc: Cell | null; busy?: { searches: number; of: number; maxSpread: number } };
  seeds: number[];
}

export interface PolicyStudy {
  date: string;
  command: string;
  settings: SearchSettings;
  load: { start: number[]; end: number[] };
  minutes: number;
  /** Wall time of the searches the tables read, summed (they ran several at once). */
  searchHours?: number;
  rows: PolicyStudyRow[];
  failed: string[];
  /** The reading of the figures, written after looking at them (--note). */
  note?: string;
}

const optimism = (searches: { best: { score: { top1?: number } }; test?: { best: { top1?: number } } }[]) =>
  searches.length ? mean(searches.map((s) => (s.best.score.top1 ?? NaN) - (s.test?.best.top1 ?? NaN))) : NaN;

/** How many of a row's latency searches saw the device's load change (the CLI's originalSpread), and the widest spread. */
function busyOf(searches: SearchReport['search'][]): { searches: number; of: number; maxSpread: number } {
  const spreads = searches.map((s) => s.latency?.measured?.originalSpread).filter((x) => x !== undefined);
  return { searches: spreads.filter((x) => x.busy).length, of: spreads.length, maxSpread: spreads.length ? Math.max(...spreads.map((x) => x.max)) : NaN };
}

export function policyStudyRows(outcomes: RunOutcome[], original: Record<string, number>): PolicyStudyRow[] {
  const rows: PolicyStudyRow[] = [];
  for (const key of [...new Set(outcomes.map((o) => `${o.spec.model}|${o.spec.resource}|${o.spec.target}`))]) {
    const [model, resource, t] = key.split('|') as [string, RunSpec['resource'], string];
    const mine = outcomes.filter((o) => o.spec.model === model && o.spec.resource === resource && o.spec.target === Number(t) && o.report?.search.test);
    if (!mine.length) continue;
    const of = (agent: 'ddpg' | 'random') => mine.filter((o) => o.spec.agent === agent).map((o) => o.report!.search);
    const amc = of('ddpg');
    const random = of('random');
    const all = mine.map((o) => o.report!.search);
    const rewardMean = (entries: { reward: number }[]) => (entries.length ? mean(entries.map((e) => e.reward)) : NaN);
    const measured = (searches: SearchReport['search'][], which: 'bestMs' | 'uniformMs') =>
      cell(searches.map((s) => s.latency?.measured).map((m) => (m ? m[which] / m.originalMs : undefined)));
    rows.push({
      model,
      resource,
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
      optimism: { amc: optimism(amc), random: optimism(random) },
      ...(resource === 'latency' ? { latency: { uniform: measured(amc, 'uniformMs'), random: measured(random, 'bestMs'), amc: measured(amc, 'bestMs'), busy: busyOf(all) } } : {}),
      seeds: [...new Set(mine.map((o) => o.spec.seed))].sort(),
    });
  }
  return rows;
}

const pct = (x: number) => (x * 100).toFixed(1);
// NaN (nothing to average) comes back from results.json as null.
const num = (x: number | null, digits: number) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-');
const points = (x: number | null) => num(typeof x === 'number' ? x * 100 : null, 1);
// One seed has no spread to show.
const cellText = (c: Cell | null) => (!c ? '-' : c.n === 1 ? `${pct(c.mean)} (n=1)` : `${pct(c.mean)} ± ${pct(c.sd)} (n=${c.n})`);
const busyText = (b: { searches: number; of: number; maxSpread: number } | undefined) =>
  !b || !b.of ? '-' : `${b.searches} of ${b.of}${b.searches ? ` (the original up to ${b.maxSpread.toFixed(1)}x its start)` : ''}`;
const targetText = (r: PolicyStudyRow) => `${Math.round(r.target * 100)}% ${r.resource === 'latency' ? 'latency' : 'MACs'}`;
const diff = (a: Cell | null, b: Cell | null) => (a && b ? `${a.mean >= b.mean ? '+' : '−'}${pct(Math.abs(a.mean - b.mean))}` : '-');

/** Mean over rows of AMC minus another column, in points, and on how many rows AMC is ahead. */
function margin(rows: PolicyStudyRow[], when: 'before' | 'after', other: 'uniform' | 'random'): { mean: number; ahead: number; of: number } {
  const pairs = rows.filter((r) => r[when].amc && r[when][other]).map((r) => r[when].amc!.mean - r[when][other]!.mean);
  return { mean: pairs.length ? mean(pairs) : NaN, ahead: pairs.filter((d) => d > 0).length, of: pairs.length };
}

export function policyStudySection(s: PolicyStudy | undefined): string {
  const title = '## 9. Policy quality with the default evaluator';
  if (!s) return `${title}\n\n_Not run (\`npx tsx bench/policy-study.ts\`)._`;
  const st = s.settings;
  const ft = st.finetune;
  const before = (r: PolicyStudyRow) => `${cellText(r.before.uniform)} | ${cellText(r.before.random)} | ${cellText(r.before.amc)} | ${diff(r.before.amc, r.before.uniform)} | ${diff(r.before.amc, r.before.random)}`;
  const after = (r: PolicyStudyRow) => ` | ${cellText(r.after.uniform)} | ${cellText(r.after.random)} | ${cellText(r.after.amc)} | ${diff(r.after.amc, r.after.uniform)} | ${diff(r.after.amc, r.after.random)}`;
  const rows = s.rows.map((r) => `| ${r.model} (${pct(r.original)}) | ${targetText(r)} | ${r.evaluator ?? '-'} | ${before(r)}${ft ? after(r) : ''} |`);
  const found = s.rows.map((r) => `${r.model} ${targetText(r)}: ${r.amcFoundAt.map((f) => `${f.episode} (${f.phase})`).join(', ')}`);
  const rewards = s.rows
    .filter((r) => r.rewards)
    .map((r) => `| ${r.model} | ${targetText(r)} | ${num(r.rewards!.warmup, 3)} | ${num(r.rewards!.lastLearning, 3)} | ${num(r.rewards!.random, 3)} | ${points(r.optimism.amc)} | ${points(r.optimism.random)} |`);
  const line = (when: 'before' | 'after') => {
    const u = margin(s.rows, when, 'uniform');
    const rs = margin(s.rows, when, 'random');
    return `${when} fine-tuning, AMC − uniform ${u.mean >= 0 ? '+' : '−'}${pct(Math.abs(u.mean))} points on average (ahead in ${u.ahead} of ${u.of} rows), AMC − random search ${rs.mean >= 0 ? '+' : '−'}${pct(Math.abs(rs.mean))} (ahead in ${rs.ahead} of ${rs.of})`;
  };
  const latencyRows = s.rows.filter((r) => r.latency);
  const latency = latencyRows.length
    ? [
        '',
        "Latency targets: each policy's latency as a share of the original's (%), as the search measured them at its end (original, best and uniform interleaved in one run, median of the runs, Node WASM on this machine). The wall stops each episode by the per-layer table's prediction, refitted on every episode's measured latency; these columns check where the policies really landed. The last column counts the searches during which more than 10% of the original's own paired timings were more than 25% away from its latency at the start (the CLI warns of it): on a busy device short runs are interrupted less, so pruned models look faster than they are.",
        '',
        '| model | target | uniform | random | AMC | load changed during the search |',
        '|---|---:|---|---|---|---|',
        ...latencyRows.map((r) => `| ${r.model} | ${targetText(r)} | ${cellText(r.latency!.uniform)} | ${cellText(r.latency!.random)} | ${cellText(r.latency!.amc)} | ${busyText(r.latency!.busy)} |`),
      ]
    : [];
  const learnedTotal = s.rows.flatMap((r) => r.amcFoundAt);
  const learned = learnedTotal.filter((f) => f.phase === 'learning').length;
  return [
    title,
    '',
    `How it was measured (\`${s.command}\`, ${s.date.slice(0, 16).replace('T', ' ')} UTC${s.searchHours ? `; the searches took ${s.searchHours.toFixed(1)} h of wall time in all, several at once, beside other work` : ''}): every cell is \`amc search\` on a demo model at a MACs or latency target with the app's default evaluator (\`--evaluate ${st.evaluate}\`: on these models, BatchNorm statistics recomputed on 256 demo:train images), rewarded on ${st.rewardImages} demo:val images, ${st.episodes} episodes (${st.warmup} warm-up, ${st.episodes - (st.warmup ?? 0)} learning), channels not rounded${ft ? `; then its best policy and the uniform one recovered by ${ft.epochs} epoch of distillation on ${ft.images} demo:train images (\`--finetune\`)` : ''}. Top-1 (%) on the 2000 demo:test images${ft ? '' : ', without fine-tuning'}; mean ± sample standard deviation over seeds ${[...new Set(s.rows.flatMap((r) => r.seeds))].join(', ')} (n = seeds that finished). The random search has the same budget, wall and evaluator${ft ? '; its best policy is fine-tuned the same way' : ''}. Section 1's table is the earlier study (refit evaluator, 300 reward images, 200 episodes).`,
    '',
    `| model (original) | target | evaluator | uniform | random | AMC | AMC − uniform | AMC − random${ft ? ' | uniform, fine-tuned | random, fine-tuned | AMC, fine-tuned | AMC − uniform | AMC − random' : ''} |`,
    `|---|---:|---|---|---|---|---:|---:${ft ? '|---|---|---|---:|---:' : ''}|`,
    ...rows,
    ...latency,
    '',
    `In short: ${line('before')}${ft ? `; ${line('after')}` : ''}. The issue's aim was AMC ahead of uniform by 3 points or more on average and ahead of random search on every demo model. AMC's best policy came from its learning episodes in ${learned} of ${learnedTotal.length} searches (${found.join('; ')}).`,
    '',
    'Does the agent learn? Mean reward (−error on the reward images) of AMC\'s warm-up episodes (random actions), its last 20 learning episodes, and all of random search\'s episodes; then how far each best policy\'s top-1 on the reward images stood above its demo:test top-1 (points; the maximum of noisy scores is optimistic, and more so over many distinct candidates):',
    '',
    '| model | target | AMC warm-up | AMC last 20 learning | random search | AMC best: reward set − test | random best: reward set − test |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rewards,
    ...(s.note ? ['', s.note] : []),
    ...(s.failed.length ? ['', `Failed: ${s.failed.join('; ')}`] : []),
  ].join('\n');
}

/**
 * The study at another budget (`--episodes 300`, the CLI's default) beside the main study's rows
 * for the same model and target, so what the longer search bought is read off one row.
 */
export function policyBudgetSection(s: PolicyStudy | undefined, main: PolicyStudy | undefined): string {
  if (!s) return '';
  const st = s.settings;
  const same = (r: PolicyStudyRow) => main?.rows.find((m) => m.model === r.model && (m.resource ?? 'macs') === (r.resource ?? 'macs') && m.target === r.target);
  const rows = s.rows.map((r) => {
    const m = same(r);
    const at = (x: PolicyStudyRow | undefined) => (x ? `${cellText(x.before.random)} | ${cellText(x.before.amc)} | ${diff(x.before.amc, x.before.random)}` : '- | - | -');
    return `| ${r.model} | ${targetText(r)} | ${cellText(r.before.uniform)} | ${at(m)} | ${at(r)} | ${r.rewards ? `${num(r.rewards.warmup, 3)} → ${num(r.rewards.lastLearning, 3)}` : '-'} | ${r.amcFoundAt.map((f) => `${f.episode} (${f.phase})`).join(', ')} |`;
  });
  const mainEpisodes = main?.settings.episodes ?? '-';
  return [
    `### 9a. The default budget: ${st.episodes} episodes`,
    '',
    `How it was measured (\`${s.command}\`, ${s.date.slice(0, 16).replace('T', ' ')} UTC${s.searchHours ? `; ${s.searchHours.toFixed(1)} h of search wall time, beside other work` : ''}): the same searches as the table above with ${st.episodes} episodes (${st.warmup} warm-up, ${st.episodes - (st.warmup ?? 0)} learning), the CLI's and the app's default budget, for the rows where random search led at ${mainEpisodes}; demo:test top-1 (%) without fine-tuning, seeds ${[...new Set(s.rows.flatMap((r) => r.seeds))].join(', ')}. The mean reward of AMC's warm-up against its last 20 learning episodes says whether the longer search kept learning.`,
    '',
    `| model | target | uniform | random, ${mainEpisodes} | AMC, ${mainEpisodes} | AMC − random, ${mainEpisodes} | random, ${st.episodes} | AMC, ${st.episodes} | AMC − random, ${st.episodes} | AMC reward: warm-up → last 20 | AMC best found at |`,
    '|---|---:|---|---|---|---:|---|---|---:|---|---|',
    ...rows,
    ...(s.note ? ['', s.note] : []),
    ...(s.failed.length ? ['', `Failed: ${s.failed.join('; ')}`] : []),
  ].join('\n');
}
