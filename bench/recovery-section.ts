/** BENCHMARKS.md's recovery section, from bench/recovery.ts's result and the paper's after-fine-tuning figures. */
import { PAPER, PAPER_CIFAR } from './paper';
import type { RecoveryCell, RecoveryResult } from './recovery';
import { mean, sd } from './util';

const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : (x * 100).toFixed(1));
const START_LABEL: Record<RecoveryCell['start'], string> = { 'uniform-macs50': 'uniform, 50% MACs', 'amc-macs50': 'AMC, 50% MACs', 'amc-latency50': 'AMC, 50% latency' };

function table(header: string[], align: string, rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${align.split('').map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const at = (c: RecoveryCell, epoch: number) => c.top1ByEpoch?.find((t) => t.epoch === epoch)?.top1;

export function recoverySection(r: RecoveryResult | undefined): string {
  if (!r) return '## 7. Recovery: fine-tuning by distillation\n\n_Not run (`npx tsx bench/recovery.ts`)._';
  const checkpoints = [0, 1, 3, 5].filter((e) => e <= r.plan.epochs);
  // splitHeldOut's rule: 10%, at least 32, at most 1000.
  const heldOut = Math.min(1000, Math.max(32, Math.round(r.plan.limit * 0.1)));
  const main = r.cells.filter((c) => c.seed === 1 && !c.labels);
  const rows = main.map((c) => {
    const original = r.originals[c.model];
    const last = at(c, r.plan.epochs);
    return [
      c.model,
      START_LABEL[c.start],
      c.macsRatio !== undefined ? pct(c.macsRatio) : '-',
      pct(original),
      ...checkpoints.map((e) => pct(at(c, e))),
      last !== undefined ? (last - original >= 0 ? '+' : '−') + Math.abs((last - original) * 100).toFixed(1) : c.status === 'no start point' ? 'search not run' : c.status === 'failed' ? `failed: ${c.error}` : '-',
      c.secondsPerEpoch !== undefined ? `${c.secondsPerEpoch.toFixed(0)} s` : '-',
      c.source ?? '-',
    ];
  });
  const seeds = r.cells.filter((c) => c.model === 'mobilenet-like' && c.start === 'amc-macs50' && !c.labels && c.top1ByEpoch);
  const spread = checkpoints.map((e) => {
    const xs = seeds.map((c) => at(c, e)).filter((x): x is number => x !== undefined);
    return xs.length ? `${pct(mean(xs))} ± ${pct(sd(xs))} (n=${xs.length})` : '-';
  });
  const labeled = r.cells.find((c) => c.labels);
  const noLabels = r.cells.find((c) => c.model === labeled?.model && c.start === labeled?.start && c.seed === labeled?.seed && !c.labels);
  const gaps = main.filter((c) => c.start !== 'amc-latency50' && at(c, r.plan.epochs) !== undefined).map((c) => r.originals[c.model] - at(c, r.plan.epochs)!);
  const order = (model: string, e: number) => {
    const u = at(main.find((c) => c.model === model && c.start === 'uniform-macs50')!, e);
    const a = at(main.find((c) => c.model === model && c.start === 'amc-macs50')!, e);
    return u !== undefined && a !== undefined ? a - u : undefined;
  };
  const models = [...new Set(main.map((c) => c.model))];
  const flips = models.map((m) => ({ m, before: order(m, 0), after: order(m, r.plan.epochs) })).filter((x) => x.before !== undefined && x.after !== undefined);
  const lines = [
    '## 7. Recovery: fine-tuning by distillation',
    '',
    `How it was measured: each cell is one \`npm run -s amc -- finetune <pruned> --teacher <original> --data demo:train --limit ${r.plan.limit} --epochs ${r.plan.epochs} --distill-only --eval demo:test\` run on WASM in Node (\`${r.command}\` runs the missing ones, ${r.plan.jobs} at a time, and reuses finished ones)${r.ran ? `; these ran between ${r.ran.from.slice(11, 16)} and ${r.ran.to.slice(11, 16)} UTC on ${r.ran.from.slice(0, 10)}${r.ran.note ? ` (${r.ran.note})` : ''}` : ''}. The student learns the original's softened outputs (T = 4), no labels, Adam with warm-up and cosine decay over the ${r.plan.epochs} epochs, the demo's shift and flip augmentation. An epoch is one pass over ${r.plan.limit >= 9000 ? `the whole demo:train split (${r.plan.limit - heldOut} images trained on, ${heldOut} held out)` : `${r.plan.limit} demo:train images (${r.plan.limit - heldOut} trained on, ${heldOut} held out), part of the 9,000-image split, to fit this 2-core machine`}; the demo models themselves trained 4-8 epochs. Columns 0/1/3/5 are demo:test top-1 (%, 2,000 images) of the same run after that many epochs (0: the pruned model as the search scored it, refit included). ${r.plan.heldOut}. Seconds per epoch include the held-out and demo:test scoring and vary with what else ran.`,
    '',
    table(['model', 'start', 'MACs %', 'original', ...checkpoints.map((e) => `after ${e}`), `Δ after ${r.plan.epochs} vs original`, 's / epoch', 'policy from'], 'llrr' + checkpoints.map(() => 'r').join('') + 'rrl', rows),
    '',
    `Beside it, the paper (${PAPER}), CIFAR-10 at 50% MACs, after fine-tuning: ${PAPER_CIFAR.map((p) => `${p.model} ${p.amc} → ${p.amcFineTuned} of ${p.original} (${(p.amcFineTuned - p.original).toFixed(1)})`).join('; ')}.`,
  ];
  if (seeds.length > 1) lines.push('', `Spread over fine-tuning seeds (mobilenet-like, AMC 50% MACs, seeds ${seeds.map((c) => c.seed).join(', ')}): ${checkpoints.map((e, i) => `after ${e}: ${spread[i]}`).join('; ')}.`);
  if (labeled?.top1ByEpoch && noLabels?.top1ByEpoch) {
    lines.push('', `What labels add (${labeled.model}, ${START_LABEL[labeled.start]}, seed ${labeled.seed}; loss 0.7 × distillation + 0.3 × cross-entropy): ${checkpoints.map((e) => `after ${e}: ${pct(at(labeled, e))} with labels vs ${pct(at(noLabels, e))} without`).join('; ')}.`);
  }
  const macsCells = main.filter((c) => c.start !== 'amc-latency50' && at(c, r.plan.epochs) !== undefined);
  if (macsCells.length) {
    const gapText = (c: RecoveryCell) => `${c.model} ${START_LABEL[c.start].split(',')[0]} ${((r.originals[c.model] - at(c, r.plan.epochs)!) * 100).toFixed(1)}`;
    lines.push('', `The aim was every 50%-MACs model within 1 point of its original after at most 5 epochs: ${gaps.filter((g) => g <= 0.01).length} of ${gaps.length} cells reach it (points under the original after ${r.plan.epochs} epochs, negative is above: ${macsCells.map(gapText).join('; ')}).`);
  }
  if (r.backends) {
    const rows = r.backends.rows.map((b) => [b.model, `${b.where} ${(b.used ?? b.requested ?? '?').toUpperCase()}`, String(b.images), b.secondsPer1000 !== undefined ? b.secondsPer1000.toFixed(1) : '-', b.load.toFixed(1), b.error ? `failed: ${b.error.slice(0, 120)}` : (b.note ?? '')]);
    lines.push('', `Time per 1000 training images by backend (\`${r.backends.command}\`, ${r.backends.date.slice(0, 16).replace('T', ' ')} UTC; the same Distiller, uniformly pruned models, batch 32, the epoch after a warm-up epoch, steps only; the load average shows what shared the 2 cores; no GPU here, so WebGL and WebGPU are SwiftShader):`, '', table(['model', 'backend', 'images', 's / 1000 images', 'load', 'note'], 'llrrrl', rows));
  }
  const spreadAt = seeds.map((c) => at(c, r.plan.epochs)).filter((x): x is number => x !== undefined);
  const noise = spreadAt.length > 1 ? sd(spreadAt) : undefined;
  if (flips.length) {
    const flipText = (f: (typeof flips)[number]) => `${f.m} ${(f.before! * 100).toFixed(1)} → ${(f.after! * 100).toFixed(1)}${Math.sign(f.before!) !== Math.sign(f.after!) && Math.abs(f.after!) > 0.002 ? ' (the ranking flips)' : ''}`;
    lines.push('', `AMC minus uniform (points), before → after fine-tuning: ${flips.map(flipText).join('; ')}. One fine-tuning seed per cell${noise !== undefined ? `; the seed spread on mobilenet-like (sd ${(noise * 100).toFixed(1)} points after ${r.plan.epochs} epochs) puts differences of a few tenths within noise` : ''}, and each policy comes from one search seed.`);
  }
  return lines.join('\n');
}
