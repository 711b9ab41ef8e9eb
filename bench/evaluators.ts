/**
 * Which evaluator ranks policies the way fine-tuning ranks them, per unit of time
 * (`npx tsx bench/evaluators.ts [--policies 30] [--finetune-images 2000] [--models a,b] [--note "..."]`).
 *
 * Per demo model: `--policies` random policies spread evenly over 25-75% of the original's MACs
 * (stratified in five 10% bins), each scored by every evaluator on the reward images exactly as a
 * search scores an episode, and fine-tuned by a short distillation (one epoch of
 * `--finetune-images` demo:train images, the recovery issue's core) from its sliced weights with
 * BatchNorm statistics recomputed, to get its demo:test top-1: the ground truth. Reported: Spearman and Kendall correlation of each evaluator's score with
 * the fine-tuned top-1 (95% intervals from n), and each evaluator's seconds per episode, all
 * measured side by side in this one process.
 *
 * Every finished policy is saved in bench/runs/evaluators/<model>/<i>.json and reused by a rerun with
 * the same plan, so a run stopped half-way goes on where it stopped. The table goes into
 * bench/results.json (`evaluators`) and BENCHMARKS.md (section 8, bench/evaluators-section.ts) with `--publish`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { generateDataset, SPLIT_SIZES } from '../src/core/data/procedural';
import { recoverPolicy } from '../src/core/finetune/after-search';
import { initBackend } from '../src/core/measure/backends';
import { analyzeModel, type ModelAnalysis } from '../src/core/model/analyze';
import { loadModel } from '../src/core/model/load';
import { filesFromPath } from '../src/core/model/node-files';
import type { LoadedModel } from '../src/core/model/types';
import { EVALUATORS, type Evaluator } from '../src/core/prune/config';
import { pruneModel } from '../src/core/prune/prune';
import { Rng } from '../src/core/random';
import { demoScoringData } from '../src/core/search/demo-data';
import { EpisodeScorer } from '../src/core/search/scorer';
import { correlations, partialSpearman, type Correlation } from './rank';
import { publish } from './results';
import { argValue, DEMO_MODELS, logger, modelPath } from './util';

export interface StudyPlan {
  policies: number;
  rewardImages: number;
  /** Calibration images per evaluator (the refit's default 64; BatchNorm statistics on 256, as the issue measured). */
  calibration: Record<Evaluator, number>;
  finetuneImages: number;
  finetuneEpochs: number;
  seed: number;
}

export interface StudyPoint {
  index: number;
  keep: Record<string, number>;
  macsRatio: number;
  /** Each evaluator's reward (top-1 on the reward images) and its seconds for this episode. */
  scores: Record<Evaluator, { top1: number; seconds: number }>;
  /** demo:test top-1 where the fine-tune starts (sliced, BatchNorm statistics recomputed), and after it. */
  testStart: number;
  testFinetuned: number;
  finetuneSeconds: number;
}

export interface EvaluatorRow {
  evaluator: Evaluator;
  spearman: Correlation;
  kendall: Correlation;
  /** Spearman's rho with the policies' MACs held fixed: how well it orders policies of one size (what a constrained search needs). */
  atEqualMacs: Correlation;
  secondsPerEpisode: number;
}

export interface EvaluatorStudy {
  date: string;
  command: string;
  plan: StudyPlan;
  models: { model: string; points: number; rows: EvaluatorRow[]; macsAlone: Correlation; fineTunedRange: [number, number] }[];
  load: { start: number[]; end: number[] };
  note?: string;
  backend: string;
}

const argv = process.argv.slice(2);
const log = logger('evaluators');

const PLAN: StudyPlan = {
  policies: Number(argValue(argv, 'policies') ?? 30),
  rewardImages: 500,
  calibration: { slice: 0, bn: 256, refit: 64, 'refit+bn': 64 },
  finetuneImages: Number(argValue(argv, 'finetune-images') ?? 2000),
  finetuneEpochs: 1,
  seed: 1,
};

/** `n` policies of uniform random per-group ratios in [0.2, 1], kept when their MACs fall in [25%, 75%], evenly over five bins. */
function spreadPolicies(model: LoadedModel, analysis: ModelAnalysis, n: number, seed: number): { keep: Record<string, number>; macsRatio: number }[] {
  const rng = new Rng(seed);
  const bins: { keep: Record<string, number>; macsRatio: number }[][] = [[], [], [], [], []];
  const perBin = Math.ceil(n / bins.length);
  const total = analysis.cost.totalMacs;
  for (let tries = 0; tries < 200_000 && bins.some((b) => b.length < perBin); tries++) {
    // A per-try width scale spreads the MACs: uniform ratios alone cluster near 50%.
    const scale = 0.35 + 0.65 * rng.next();
    const keep: Record<string, number> = {};
    for (const g of analysis.groups.filter((g) => g.prunable)) keep[g.id] = Math.max(1, Math.round(g.channels * scale * (0.7 + 0.3 * rng.next())));
    const r = pruneModel(model, analysis, keep, { roundTo: 1 }).cost.totalMacs / total;
    const bin = Math.floor((r - 0.25) / 0.1);
    if (bin >= 0 && bin < bins.length && bins[bin].length < perBin) bins[bin].push({ keep, macsRatio: r });
  }
  return bins.flat().slice(0, n);
}

async function studyModel(name: string, root: string): Promise<StudyPoint[]> {
  const model = await loadModel(filesFromPath(modelPath(name)));
  const analysis = analyzeModel(model);
  const policies = spreadPolicies(model, analysis, PLAN.policies, PLAN.seed);
  const scorers = new Map<Evaluator, EpisodeScorer>();
  for (const e of EVALUATORS) {
    const data = demoScoringData('val', PLAN.rewardImages, { calibration: PLAN.calibration[e] });
    scorers.set(e, await EpisodeScorer.create(model, analysis, data, { seed: PLAN.seed, roundTo: 1, evaluator: e }));
  }
  // One episode each before anything is timed (V8, the WASM kernels, the refit's feature cache).
  for (const s of scorers.values()) await s.score(new Map(Object.entries(policies[0].keep)));
  const train = generateDataset('train', { count: Math.min(PLAN.finetuneImages, SPLIT_SIZES.train) });
  const test = generateDataset('test', { count: SPLIT_SIZES.test });
  const testSet = { images: test.images, labels: test.labels, name: `demo:test (${test.N} images)` };
  const data = { images: train.images, layout: { height: 32, width: 32, channels: 3 as const }, scaling: 'unit' as const };
  const points: StudyPoint[] = [];
  for (const [index, p] of policies.entries()) {
    const file = join(root, `${index}.json`);
    const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StudyPoint) : undefined;
    if (saved && JSON.stringify(saved.keep) === JSON.stringify(p.keep)) {
      points.push(saved);
      continue;
    }
    const keep = new Map(Object.entries(p.keep));
    const scores = {} as StudyPoint['scores'];
    for (const [e, s] of scorers) {
      const t0 = performance.now();
      const score = await s.score(keep);
      scores[e] = { top1: score.top1!, seconds: (performance.now() - t0) / 1000 };
    }
    // The fine-tune starts from the sliced weights with BatchNorm statistics recomputed: with the
    // original's stale statistics a one-epoch fine-tune's moving averages (momentum 0.99, ~60 steps)
    // never catch up, and its accuracy says more about that than about the policy.
    const start = (await scorers.get('bn')!.prune(keep)).model;
    const r = await recoverPolicy(model, start, data, { overrides: { epochs: PLAN.finetuneEpochs, seed: PLAN.seed, patience: PLAN.finetuneEpochs + 1 }, test: testSet });
    const point: StudyPoint = { index, keep: p.keep, macsRatio: p.macsRatio, scores, testStart: r.report.testBefore!, testFinetuned: r.report.testAfter!, finetuneSeconds: r.report.seconds };
    writeFileSync(file, JSON.stringify(point));
    points.push(point);
    log(`${name} #${index} MACs ${(p.macsRatio * 100).toFixed(0)}%: ${EVALUATORS.map((e) => `${e} ${(scores[e].top1 * 100).toFixed(1)}`).join(', ')} -> fine-tuned ${(point.testFinetuned * 100).toFixed(1)} (${point.finetuneSeconds.toFixed(0)} s; load ${loadavg()[0].toFixed(1)})`);
  }
  for (const s of scorers.values()) s.dispose();
  return points;
}

export function summarize(points: StudyPoint[]): EvaluatorRow[] {
  const truth = points.map((p) => p.testFinetuned);
  const macs = points.map((p) => p.macsRatio);
  return EVALUATORS.map((evaluator) => {
    const score = points.map((p) => p.scores[evaluator].top1);
    const { spearman, kendall } = correlations(score, truth);
    const secondsPerEpisode = points.reduce((a, p) => a + p.scores[evaluator].seconds, 0) / points.length;
    return { evaluator, spearman, kendall, atEqualMacs: partialSpearman(score, truth, macs), secondsPerEpisode };
  });
}

/** How far MACs alone rank the policies (the floor every evaluator must beat to be worth its time). */
export function macsAlone(points: StudyPoint[]): Correlation {
  return correlations(points.map((p) => p.macsRatio), points.map((p) => p.testFinetuned)).spearman;
}

async function main() {
  const load = loadavg();
  const backend = await initBackend('wasm');
  const names = (argValue(argv, 'models')?.split(',') ?? [...DEMO_MODELS]).filter((m) => (DEMO_MODELS as readonly string[]).includes(m));
  const plan = JSON.stringify(PLAN);
  const study: EvaluatorStudy = { date: new Date().toISOString(), command: `npx tsx bench/evaluators.ts ${argv.filter((a, i) => a !== '--note' && argv[i - 1] !== '--note' && a !== '--publish').join(' ')}`.trim(), plan: PLAN, models: [], load: { start: load, end: [] }, note: argValue(argv, 'note'), backend: backend.name };
  for (const name of names) {
    const root = join('bench', 'runs', 'evaluators', name);
    mkdirSync(root, { recursive: true });
    const planFile = join(root, 'plan.json');
    // Points from another plan would mix two studies: start over.
    if (existsSync(planFile) && readFileSync(planFile, 'utf8') !== plan) for (let i = 0; existsSync(join(root, `${i}.json`)); i++) writeFileSync(join(root, `${i}.json`), '{}');
    writeFileSync(planFile, plan);
    const points = await studyModel(name, root);
    const truth = points.map((p) => p.testFinetuned);
    study.models.push({ model: name, points: points.length, rows: summarize(points), macsAlone: macsAlone(points), fineTunedRange: [Math.min(...truth), Math.max(...truth)] });
    log(`${name}: ${summarize(points).map((r) => `${r.evaluator} rho ${r.spearman.value.toFixed(2)} tau ${r.kendall.value.toFixed(2)} ${r.secondsPerEpisode.toFixed(2)} s`).join('; ')}`);
  }
  study.load.end = loadavg();
  writeFileSync(join('bench', 'runs', 'evaluators', 'study.json'), JSON.stringify(study, null, 1));
  if (argv.includes('--publish')) {
    publish('evaluators', study);
    log('wrote bench/results.json and BENCHMARKS.md section 8');
  } else log('wrote bench/runs/evaluators/study.json (--publish also writes bench/results.json and BENCHMARKS.md)');
}

if (process.argv[1]?.endsWith('evaluators.ts')) void main();
