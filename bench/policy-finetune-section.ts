/** BENCHMARKS.md's subsection after section 9: its start points before and after `amc finetune` (bench/policy-finetune.ts). */
import type { FinetuneFigures, RecoveryResult } from './recovery';
import { sd } from './util';

export const STARTS = ['uniform', 'random', 'amc'] as const;
export type Start = (typeof STARTS)[number];
const START_LABEL: Record<Start, string> = { uniform: 'uniform', random: 'random search', amc: 'AMC' };

export interface PolicyFinetuneCell extends FinetuneFigures {
  model: string;
  /** The search's target as its folder names it: macs50, latency50, … */
  target: string;
  start: Start;
  /** The search seed the policy came from, and the fine-tune's seed. */
  searchSeed: number;
  seed: number;
  /**
   * ran / reused: the whole fine-tune finished; partial: stopped before its last epoch (the epochs
   * its log shows); not run: never started or nothing logged; no search: the search it needs has no report yet.
   */
  status: 'ran' | 'reused' | 'partial' | 'not run' | 'failed' | 'no search';
  error?: string;
  /** The search folder the policy came from, and which of its policies. */
  source?: string;
  /** The start point's demo:test top-1 as the search reported it (search.test), which epoch 0 should reproduce. */
  searchTop1?: number;
  macsRatio?: number;
  /** Mean 1-minute load average sampled while the fine-tune ran (its own process included). */
  load?: number;
}

export interface PolicyFinetuneResult {
  date: string;
  command: string;
  plan: { limit: number; epochs: number; seed: number; searchSeed: number; jobs: number; runsDir: string };
  /** When the cells' fine-tunes ran, and what shared the machine, as the operator says (--note). */
  ran?: { from: string; to: string };
  note?: string;
  cells: PolicyFinetuneCell[];
  seconds: number;
  load: { start: number[]; end: number[] };
}

export interface PolicyFinetuneRow {
  model: string;
  target: string;
  /** Per start: demo:test top-1 by epoch (index = epoch, 0 = before fine-tuning); undefined where not measured. */
  top1: Record<Start, (number | undefined)[]>;
  amcMinusUniform: { before?: number; after?: number };
  amcMinusRandom: { before?: number; after?: number };
  /** Mean over the row's cells that trained at least one epoch. */
  secondsPerEpoch?: number;
  load?: number;
  /** MACs of each start point over the original's (a latency target lands each policy at its own MACs). */
  macsRatio: Record<Start, number | undefined>;
  /** Starts whose fine-tune did not reach the plan's last epoch. */
  unfinished: Start[];
}

const atEpoch = (c: PolicyFinetuneCell | undefined, e: number) => c?.top1ByEpoch?.find((t) => t.epoch === e)?.top1;
const diff = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? a - b : undefined);
const meanOf = (xs: (number | undefined)[]) => {
  const v = xs.filter((x): x is number => x !== undefined);
  return v.length ? v.reduce((s, x) => s + x, 0) / v.length : undefined;
};

/** One row per (model, target), in the order the cells ran. "after" is the plan's last epoch. */
export function policyFinetuneRows(r: PolicyFinetuneResult): PolicyFinetuneRow[] {
  const keys = [...new Set(r.cells.map((c) => `${c.model}|${c.target}`))];
  return keys.map((key) => {
    const [model, target] = key.split('|');
    const of = (s: Start) => r.cells.find((c) => c.model === model && c.target === target && c.start === s);
    const top1 = Object.fromEntries(STARTS.map((s) => [s, Array.from({ length: r.plan.epochs + 1 }, (_, e) => atEpoch(of(s), e))])) as PolicyFinetuneRow['top1'];
    const last = r.plan.epochs;
    const trained = STARTS.map(of).filter((c) => c?.secondsPerEpoch !== undefined && (c.top1ByEpoch?.length ?? 0) > 1);
    return {
      model,
      target,
      top1,
      macsRatio: Object.fromEntries(STARTS.map((s) => [s, of(s)?.macsRatio])) as PolicyFinetuneRow['macsRatio'],
      amcMinusUniform: { before: diff(top1.amc[0], top1.uniform[0]), after: diff(top1.amc[last], top1.uniform[last]) },
      amcMinusRandom: { before: diff(top1.amc[0], top1.random[0]), after: diff(top1.amc[last], top1.random[last]) },
      secondsPerEpoch: meanOf(trained.map((c) => c!.secondsPerEpoch)),
      load: meanOf(trained.map((c) => c!.load)),
      unfinished: STARTS.filter((s) => top1[s][last] === undefined),
    };
  });
}

const pct = (x: number | undefined) => (x === undefined ? '-' : (x * 100).toFixed(1));
const points = (x: number | undefined) => (x === undefined ? '-' : `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`);
const targetText = (t: string) => t.replace(/^([a-z]+)(\d+)$/, (_, res: string, n: string) => `${n}% ${res === 'macs' ? 'MACs' : res}`);
const hhmm = (iso: string) => iso.slice(11, 16);
const epochs = (n: number) => `${n} epoch${n === 1 ? '' : 's'}`;

function whyUnfinished(c: PolicyFinetuneCell | undefined, epochs: number): string {
  if (!c) return 'not planned';
  if (c.status === 'no search') return 'its search has not finished';
  if (c.status === 'failed') return `failed: ${c.error ?? '?'}`;
  if (c.status === 'partial') return `stopped after epoch ${Math.max(...(c.top1ByEpoch ?? [{ epoch: 0 }]).map((t) => t.epoch))} of ${epochs}`;
  return 'not reached in the time this study had';
}

export function policyFinetuneSection(r: PolicyFinetuneResult | undefined, recovery?: RecoveryResult): string {
  const title = "### 9b. Section 9's policies before and after fine-tuning";
  if (!r) return `${title}\n\n_Not run (\`npx tsx bench/policy-finetune.ts --publish\`)._`;
  const cellOf = (x: { model: string; target: string }, s: Start) => r.cells.find((c) => c.model === x.model && c.target === x.target && c.start === s);
  const all = policyFinetuneRows(r);
  // A (model, target) none of whose searches has finished is said in a line, not shown as an empty row.
  const noSearch = all.filter((x) => STARTS.every((s) => !cellOf(x, s) || cellOf(x, s)!.status === 'no search'));
  const rows = all.filter((x) => !noSearch.includes(x));
  const E = r.plan.epochs;
  const curve = (xs: (number | undefined)[]) => (xs.every((x) => x === undefined) ? '-' : xs.map(pct).join(' → '));
  const table = [
    `| model | target | uniform (${Array.from({ length: E + 1 }, (_, e) => e).join(' → ')}) | random search | AMC | AMC − uniform, before → after | AMC − random, before → after | MACs %: uniform / random / AMC | s / epoch | load |`,
    '|---|---|---|---|---|---:|---:|---:|---:|---:|',
    ...rows.map((x) =>
      [
        x.model,
        targetText(x.target),
        curve(x.top1.uniform),
        curve(x.top1.random),
        curve(x.top1.amc),
        `${points(x.amcMinusUniform.before)} → ${points(x.amcMinusUniform.after)}`,
        `${points(x.amcMinusRandom.before)} → ${points(x.amcMinusRandom.after)}`,
        STARTS.map((s) => pct(x.macsRatio[s])).join(' / '),
        x.secondsPerEpoch !== undefined ? x.secondsPerEpoch.toFixed(0) : '-',
        x.load !== undefined ? x.load.toFixed(1) : '-',
      ].join(' | '),
    ).map((line) => `| ${line} |`),
  ].join('\n');
  const starts = r.cells.filter((c) => c.top1ByEpoch?.length && c.searchTop1 !== undefined);
  const drift = starts.length ? Math.max(...starts.map((c) => Math.abs(atEpoch(c, 0)! - c.searchTop1!))) : undefined;
  const lines = [
    title,
    '',
    `How it was measured: for each model and target of section 9, search seed ${r.plan.searchSeed}, three start points, each fine-tuned by one \`npm run -s amc -- finetune <start> --teacher models/<model>/model.json --data demo:train --limit ${r.plan.limit} --epochs ${E} --patience ${E} --seed ${r.plan.seed} --distill-only --eval demo:test\` child process (\`${r.command}\`, ${r.plan.jobs} at a time, finished cells reused): AMC's best (the DDPG search's model.json in \`${r.plan.runsDir}/<model>-<target>-ddpg-${r.plan.searchSeed}/\`), random search's best (the random search's model.json), and the uniform policy (the DDPG search's \`search.uniform.keep\`, pruned and made ready by the library's EpisodeScorer with the search's evaluator and calibration images, as the search scored it: BatchNorm statistics recomputed on 256 demo:train images). Distillation only, as in section 7. Each cell shows demo:test top-1 (%, 2,000 images) after epochs ${Array.from({ length: E + 1 }, (_, e) => e).join(', ')} of the same run (0: the start point as the search left it)${drift === undefined ? '' : drift < 5e-5 ? "; epoch 0 equals the search's own demo:test figure (`search.test`) on every cell that ran" : `; epoch 0 reproduces the search's own demo:test figure (\`search.test\`) within ${(drift * 100).toFixed(2)} points on every cell that ran`}. "After" is epoch ${E}. Seconds per epoch (mean of the row's cells) include the held-out and demo:test scoring; load is the 1-minute load average sampled every 15 s during each fine-tune (its own process included), mean of the row.`,
    '',
    `When and beside what: ${r.ran ? `the fine-tunes ran between ${hhmm(r.ran.from)} and ${hhmm(r.ran.to)} UTC on ${r.ran.from.slice(0, 10)}` : 'no fine-tune has finished an epoch yet'} on the 2-core machine${r.note ? `, ${r.note}` : ''}.`,
    '',
    table,
  ];
  if (rows.some((x) => !x.target.startsWith('macs'))) lines.push('', "Under a latency target each policy lands at its own MACs (the MACs column): those rows compare policies that met the same latency budget as each search measured it, not models of equal MACs.");
  const missing = rows
    .filter((x) => x.unfinished.length)
    .map((x) => {
      const why = x.unfinished.map((s) => whyUnfinished(cellOf(x, s), E));
      const what = why.every((w) => w === why[0]) ? `${x.unfinished.length === STARTS.length ? 'all three' : x.unfinished.map((s) => START_LABEL[s]).join(' and ')} (${why[0]})` : x.unfinished.map((s, i) => `${START_LABEL[s]} (${why[i]})`).join(', ');
      return `${x.model} ${targetText(x.target)}: ${what}`;
    });
  if (missing.length) lines.push('', `Not finished (the table shows the epochs they reached): ${missing.join('; ')}.`);
  if (noSearch.length) lines.push('', `Not run, their searches had not finished: ${noSearch.map((x) => `${x.model} ${targetText(x.target)}`).join(', ')}.`);
  const seedSpread = recovery?.cells.filter((c) => c.model === 'mobilenet-like' && c.start === 'amc-macs50' && !c.labels && c.top1ByEpoch);
  const sds =
    seedSpread && seedSpread.length > 1
      ? Array.from({ length: recovery!.plan.epochs }, (_, i) => i + 1)
          .map((e) => seedSpread.map((c) => c.top1ByEpoch!.find((t) => t.epoch === e)?.top1).filter((x): x is number => x !== undefined))
          .filter((xs) => xs.length > 1)
          .map((xs) => sd(xs) * 100)
      : [];
  lines.push(
    '',
    `One search seed and one fine-tune seed per cell: ${sds.length ? `section 7 measured the spread over fine-tune seeds on mobilenet-like (AMC 50% MACs, ${seedSpread!.length} seeds) at sd ${Math.min(...sds).toFixed(1)}-${Math.max(...sds).toFixed(1)} points over epochs 1-${recovery!.plan.epochs}` : 'section 7 measures the spread over fine-tune seeds'}, so a difference of a few tenths is within noise; section 9's table gives the spread over its three search seeds before fine-tuning.`,
  );
  if (recovery) {
    const cmp = recovery.cells.filter((c) => c.seed === 1 && !c.labels && c.start !== 'amc-latency50' && c.top1ByEpoch?.some((t) => t.epoch === recovery.plan.epochs));
    const gain = (c: (typeof cmp)[number], e: number) => (c.top1ByEpoch!.find((t) => t.epoch === e)?.top1 ?? NaN) - c.top1ByEpoch!.find((t) => t.epoch === 0)!.top1;
    lines.push(
      '',
      `How it relates to section 7: there, section 1's policies are fine-tuned for ${recovery.plan.epochs} epochs of ${recovery.plan.limit} images; here the same recipe stops after ${epochs(E)} of ${r.plan.limit}, so "after" is part-way along section 7's curves${cmp.length && E < recovery.plan.epochs ? ` (there, gain over the start after ${epochs(E)} → after ${recovery.plan.epochs}, points: ${cmp.map((c) => `${c.model} ${c.start.startsWith('amc') ? 'AMC' : 'uniform'} ${(gain(c, E) * 100).toFixed(1)} → ${(gain(c, recovery.plan.epochs) * 100).toFixed(1)}`).join('; ')})` : ''}. The start points differ too: section 9's searches make every policy ready by recomputing BatchNorm statistics, section 1's by the least-squares refit.`,
    );
  }
  return lines.join('\n');
}
