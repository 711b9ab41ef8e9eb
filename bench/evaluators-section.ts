/** BENCHMARKS.md's evaluator section, from bench/evaluators.ts's study (results.json `evaluators`). */
import type { EvaluatorStudy } from './evaluators';

const EVALUATOR_WORDS: Record<string, string> = {
  slice: 'slice (kept channels as they are)',
  bn: 'bn (BatchNorm statistics recomputed)',
  refit: 'refit (least squares, AMC)',
  'refit+bn': 'refit+bn',
};

const r2 = (x: number) => x.toFixed(2);
const interval = (c: { value: number; low: number; high: number }) => `${r2(c.value)} [${r2(c.low)}, ${r2(c.high)}]`;

/** Which evaluator ordered policies of one size best on each model, and at what time against the refit's. */
function verdict(s: EvaluatorStudy): string {
  const per = s.models.map((m) => {
    const best = [...m.rows].sort((a, b) => b.atEqualMacs.value - a.atEqualMacs.value)[0];
    const bn = m.rows.find((r) => r.evaluator === 'bn')!;
    const refit = m.rows.find((r) => r.evaluator === 'refit')!;
    return `${m.model}: best ${best.evaluator} (ρ ${r2(best.atEqualMacs.value)}); bn ${r2(bn.atEqualMacs.value)} vs refit ${r2(refit.atEqualMacs.value)}, bn's episode ${Math.round((bn.secondsPerEpisode / refit.secondsPerEpisode) * 100)}% of the refit's`;
  });
  return `At equal MACs, ${per.join('; ')}. The intervals overlap at n = ${s.plan.policies}, so this ranks the evaluators, it does not separate them with confidence. The search's default (\`auto\`, core/search/config.ts) follows it: bn where the model has BatchNorm and its calibration images are of its own kind, the refit otherwise.`;
}

export function evaluatorsSection(s: EvaluatorStudy | undefined): string {
  const title = '## 8. Evaluators: which cheap score ranks policies as fine-tuning does';
  if (!s) return `${title}\n\n_Not run (\`npx tsx bench/evaluators.ts\`)._`;
  const p = s.plan;
  const rows = s.models.flatMap((m) => [
    ...m.rows.map((r) => `| ${m.model} | ${EVALUATOR_WORDS[r.evaluator]} | ${p.calibration[r.evaluator] || '-'} | ${interval(r.spearman)} | ${interval(r.kendall)} | ${interval(r.atEqualMacs)} | ${r.secondsPerEpisode.toFixed(2)} |`),
    `| ${m.model} | _MACs alone (no evaluation)_ | - | ${interval(m.macsAlone)} | - | - | 0 |`,
  ]);
  const ranges = s.models.map((m) => `${m.model} ${(m.fineTunedRange[0] * 100).toFixed(1)}–${(m.fineTunedRange[1] * 100).toFixed(1)}%`).join(', ');
  return [
    title,
    '',
    `How it was measured (\`${s.command}\`, ${s.date.slice(0, 16).replace('T', ' ')} UTC, ${s.backend.toUpperCase()} in Node${s.note ? `; ${s.note}` : `; load average ${s.load.start[0].toFixed(1)} at the start, ${s.load.end[0].toFixed(1)} at the end`}): per demo model, ${p.policies} random policies spread evenly over 25-75% of the original's MACs (five 10% bins), each scored by every evaluator exactly as a search scores an episode (top-1 on ${p.rewardImages} demo:val images; calibration images from demo:train), and fine-tuned by distillation for ${p.finetuneEpochs} epoch of ${p.finetuneImages} demo:train images from its sliced weights with BatchNorm statistics recomputed, then scored on the 2,000 demo:test images: the ground truth. The table gives Spearman's ρ and Kendall's τ between each evaluator's score and that fine-tuned accuracy, with 95% intervals for n = ${p.policies}; \"ρ at equal MACs\" is Spearman's ρ with the policies' MACs held fixed (partial correlation of ranks), which is what a search needs: its episodes all end near the target, so the evaluator must order policies of one size, and over a 25-75% spread MACs alone already rank them (the last row per model). Then the seconds an episode took with it (prune, evaluator and the reward evaluation, side by side in one process; absolute seconds carry the machine's load, their ratios do not). Fine-tuned top-1 ranged ${ranges}.`,
    '',
    '| model | evaluator | calibration images | Spearman ρ [95%] | Kendall τ [95%] | ρ at equal MACs [95%] | s / episode |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    verdict(s),
    '',
    'The fine-tune starts from the bn evaluator\'s weights (sliced, statistics recomputed), so a short fine-tune favours bn a little; the refit\'s rank is measured against a start it did not make.',
  ].join('\n');
}
