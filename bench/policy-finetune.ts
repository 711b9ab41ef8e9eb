/**
 * Section 9's policies before and after fine-tuning (issue 16):
 *
 *   npx tsx bench/policy-finetune.ts [--models a,b] [--targets macs50,latency50] [--search-seed 1] [--seed 1]
 *     [--epochs 2] [--limit 9000] [--jobs 1] [--reuse-only] [--publish] [--note TEXT]
 *
 * For each model and target, three start points from the searches in bench/runs/policy-auto/:
 * uniform (the DDPG search's uniform policy, made ready as the search scored it), random search's
 * best and AMC's best (each search's model.json), each fine-tuned by one `amc finetune` child
 * process (bench/recovery.ts's machinery). Cells run model by model, uniform, random, AMC, so a study
 * cut short has whole triples; a finished cell is reused, so the study can stop and go on.
 * --reuse-only runs nothing and reads what has finished, and the epochs a stopped cell's log shows.
 * --publish writes `policyFinetune` into bench/results.json and regenerates BENCHMARKS.md.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { exportFiles, MODEL_FILE, WEIGHTS_FILE } from '../src/core/export/files';
import { initBackend } from '../src/core/measure/backends';
import { analyzeModel } from '../src/core/model/analyze';
import { loadModel } from '../src/core/model/load';
import { filesFromPath } from '../src/core/model/node-files';
import type { Evaluator } from '../src/core/prune/config';
import { demoScoringData } from '../src/core/search/demo-data';
import { EpisodeScorer } from '../src/core/search/scorer';
import { STARTS, type PolicyFinetuneCell, type PolicyFinetuneResult, type Start } from './policy-finetune-section';
import { finetuneMatches, readJson, runFinetune, summarize, type FinetunePlan, type FinetuneReport } from './recovery';
import { publish } from './results';
import { readReport, type SearchReport } from './runs';
import { argValue, logger, modelPath } from './util';

const RUNS = 'bench/runs/policy-auto';
const ROOT = join(RUNS, 'finetune');
/** The app's model first: a study cut short still answers for the model users open. */
const MODEL_ORDER = ['mobilenet-like', 'resnet-like', 'plain-cnn'];

/** What a cell's folder records beside the fine-tune: the policy it started from (a search run again gives another) and the load while it ran. */
interface CellRecord {
  keep: Record<string, number>;
  plan: FinetunePlan;
  load?: number;
}

/**
 * The uniform start point: the search's uniform keep counts, pruned and made ready by the same
 * scorer the search used (its evaluator, calibration count and seed), exported once into `dir`.
 */
async function uniformStart(dir: string, model: string, report: SearchReport): Promise<{ path: string; macsRatio: number }> {
  const s = report.search;
  const keep = s.uniform.keep;
  const made = readJson<{ keep: Record<string, number>; macsRatio: number }>(join(dir, 'start.json'));
  if (made && JSON.stringify(made.keep) === JSON.stringify(keep) && existsSync(join(dir, MODEL_FILE))) return { path: join(dir, MODEL_FILE), macsRatio: made.macsRatio };
  if (!s.config.evaluator || s.calibration === undefined) throw new Error(`${model}: the search's report says no evaluator or calibration count, so the uniform policy cannot be made ready as it scored it`);
  await initBackend('wasm');
  const original = await loadModel(filesFromPath(modelPath(model)));
  const analysis = analyzeModel(original);
  // Scoring images are not used by prune(); the calibration images are the first of demo:train, as the search's.
  const scorer = await EpisodeScorer.create(original, analysis, demoScoringData('test', 1, { calibration: s.calibration }), { seed: s.config.seed, roundTo: s.config.env.roundTo, evaluator: s.config.evaluator as Evaluator });
  try {
    const ready = await scorer.prune(new Map(Object.entries(keep)));
    const files = exportFiles(ready.model);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, MODEL_FILE), files.modelJson);
    writeFileSync(join(dir, WEIGHTS_FILE), new Uint8Array(files.weights));
    const macsRatio = ready.result.cost.totalMacs / analysis.cost.totalMacs;
    writeFileSync(join(dir, 'start.json'), JSON.stringify({ keep, macsRatio, evaluator: scorer.evaluator, calibration: s.calibration, seed: s.config.seed }, null, 1) + '\n');
    return { path: join(dir, MODEL_FILE), macsRatio };
  } finally {
    scorer.dispose();
  }
}

/** Epochs a stopped fine-tune logged ("epoch N … demo:test top-1 X% (T)"), when its log is of this plan. */
export function loggedEpochs(log: string, plan: FinetunePlan): { top1ByEpoch: { epoch: number; top1: number }[]; secondsPerEpoch?: number } | undefined {
  if (!log.includes(`(${plan.limit} images`) || !log.includes(`up to ${plan.epochs} epochs`)) return undefined;
  const top1ByEpoch: { epoch: number; top1: number }[] = [];
  const seconds: number[] = [];
  for (const m of log.matchAll(/^\r?epoch (\d+) .*demo:test top-1 ([\d.]+)%(?: \((?:(\d+) min )?([\d.]+) s\))?/gm)) {
    top1ByEpoch.push({ epoch: Number(m[1]), top1: Math.round(Number(m[2]) * 100) / 10000 });
    if (m[4] !== undefined && Number(m[1]) > 0) seconds.push(Number(m[3] ?? 0) * 60 + Number(m[4]));
  }
  return top1ByEpoch.length ? { top1ByEpoch, ...(seconds.length ? { secondsPerEpoch: seconds.reduce((a, b) => a + b, 0) / seconds.length } : {}) } : undefined;
}

interface Options {
  models: string[];
  targets: string[];
  searchSeed: number;
  plan: FinetunePlan;
  jobs: number;
  reuseOnly: boolean;
}

async function runCell(cell: PolicyFinetuneCell, opts: Options, log: (s: string) => void): Promise<void> {
  const search = (agent: 'ddpg' | 'random') => `${cell.model}-${cell.target}-${agent}-${cell.searchSeed}`;
  const from = search(cell.start === 'random' ? 'random' : 'ddpg');
  const report = readReport(join(RUNS, from));
  if (!report || !existsSync(join(RUNS, from, MODEL_FILE))) {
    log(`${from}: no finished search yet, ${cell.start} skipped`);
    return;
  }
  const dir = join(ROOT, `${cell.model}-${cell.target}-${cell.start}-search${cell.searchSeed}-seed${cell.seed}`);
  const keep = cell.start === 'uniform' ? report.search.uniform.keep : report.search.best.keep;
  cell.source = `${from}: ${cell.start === 'uniform' ? 'its uniform policy' : 'best policy'}`;
  cell.searchTop1 = cell.start === 'uniform' ? report.search.test?.uniform.top1 : report.search.test?.best.top1;
  const made = readJson<{ keep: Record<string, number>; macsRatio: number }>(join(ROOT, `${cell.model}-${cell.target}-uniform-search${cell.searchSeed}-start`, 'start.json'));
  cell.macsRatio = cell.start !== 'uniform' ? report.ratios.macs : made && JSON.stringify(made.keep) === JSON.stringify(keep) ? made.macsRatio : undefined;
  cell.status = 'not run';
  const record = readJson<CellRecord>(join(dir, 'cell.json'));
  const sameStart = record && JSON.stringify(record.keep) === JSON.stringify(keep) && JSON.stringify(record.plan) === JSON.stringify(opts.plan);
  const prior = readJson<FinetuneReport>(join(dir, 'report.json'));
  if (sameStart && finetuneMatches(prior, opts.plan)) {
    cell.status = 'reused';
    cell.load = record.load;
    summarize(cell, prior);
    return;
  }
  if (opts.reuseOnly) {
    const logged = sameStart && existsSync(join(dir, 'finetune.log')) ? loggedEpochs(readFileSync(join(dir, 'finetune.log'), 'utf8'), opts.plan) : undefined;
    if (logged) Object.assign(cell, { status: 'partial', load: record?.load }, logged);
    return;
  }
  const start = cell.start === 'uniform' ? await uniformStart(join(ROOT, `${cell.model}-${cell.target}-uniform-search${cell.searchSeed}-start`), cell.model, report) : { path: join(RUNS, from, MODEL_FILE), macsRatio: report.ratios.macs };
  cell.macsRatio = start.macsRatio;
  mkdirSync(dir, { recursive: true });
  // Written before the run: a stopped cell's log is then known to be of this start and plan.
  writeFileSync(join(dir, 'cell.json'), JSON.stringify({ keep, plan: opts.plan } satisfies CellRecord, null, 1) + '\n');
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(loadavg()[0]), 15_000);
  log(`${dir}: fine-tuning ${cell.start} (${cell.source}), ${opts.plan.epochs} epochs of ${opts.plan.limit} demo:train images`);
  try {
    await runFinetune(start.path, cell.model, dir, opts.plan);
  } finally {
    clearInterval(timer);
  }
  cell.load = samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : loadavg()[0];
  writeFileSync(join(dir, 'cell.json'), JSON.stringify({ keep, plan: opts.plan, load: cell.load } satisfies CellRecord, null, 1) + '\n');
  cell.status = 'ran';
  summarize(cell, readJson<FinetuneReport>(join(dir, 'report.json'))!);
}

/** Model by model (the app's model first), each target's uniform, random, AMC together. */
export function planCells(models: readonly string[], targets: readonly string[], searchSeed: number, seed: number): PolicyFinetuneCell[] {
  const ordered = [...models].sort((a, b) => (MODEL_ORDER.indexOf(a) + 1 || 99) - (MODEL_ORDER.indexOf(b) + 1 || 99));
  return ordered.flatMap((model) => targets.flatMap((target) => STARTS.map((start: Start) => ({ model, target, start, searchSeed, seed, status: 'no search' as const }))));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const log = logger('policy-ft');
  const t0 = performance.now();
  const load = loadavg();
  const num = (name: string, fallback: number) => Number(argValue(argv, name) ?? fallback);
  const opts: Options = {
    models: argValue(argv, 'models')?.split(',') ?? MODEL_ORDER,
    targets: argValue(argv, 'targets')?.split(',') ?? ['macs50', 'latency50'],
    searchSeed: num('search-seed', 1),
    plan: { limit: num('limit', 9000), epochs: num('epochs', 2), seed: num('seed', 1), labels: false },
    jobs: num('jobs', 1),
    reuseOnly: argv.includes('--reuse-only'),
  };
  const cells = planCells(opts.models, opts.targets, opts.searchSeed, opts.plan.seed);
  const queue = [...cells];
  const worker = async () => {
    for (let cell = queue.shift(); cell; cell = queue.shift()) {
      try {
        await runCell(cell, opts, log);
        if (cell.top1ByEpoch) log(`${cell.model} ${cell.target} ${cell.start}: ${cell.status}, demo:test top-1 ${cell.top1ByEpoch.map((t) => `${t.epoch}: ${(t.top1 * 100).toFixed(1)}`).join(', ')}${cell.secondsPerEpoch ? ` (${cell.secondsPerEpoch.toFixed(0)} s an epoch, load ${cell.load?.toFixed(1)})` : ''}`);
      } catch (e) {
        cell.status = 'failed';
        cell.error = (e as Error).message.split('\n')[0];
        log(`${cell.model} ${cell.target} ${cell.start}: failed: ${cell.error}`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.jobs }, worker));
  const timed = cells.filter((c) => c.finishedAt && c.seconds !== undefined);
  const result: PolicyFinetuneResult = {
    date: new Date().toISOString(),
    command: `npx tsx bench/policy-finetune.ts --epochs ${opts.plan.epochs} --limit ${opts.plan.limit} --jobs ${opts.jobs} --targets ${opts.targets.join(',')}`,
    plan: { limit: opts.plan.limit, epochs: opts.plan.epochs, seed: opts.plan.seed, searchSeed: opts.searchSeed, jobs: opts.jobs, runsDir: RUNS },
    ...(timed.length
      ? { ran: { from: new Date(Math.min(...timed.map((c) => Date.parse(c.finishedAt!) - c.seconds! * 1000))).toISOString(), to: new Date(Math.max(...timed.map((c) => Date.parse(c.finishedAt!)))).toISOString() } }
      : {}),
    note: argValue(argv, 'note'),
    cells,
    seconds: (performance.now() - t0) / 1000,
    load: { start: load, end: loadavg() },
  };
  mkdirSync(ROOT, { recursive: true });
  writeFileSync(join(ROOT, 'study.json'), JSON.stringify(result, null, 1) + '\n');
  if (argv.includes('--publish')) {
    publish('policyFinetune', result);
    log('wrote bench/results.json and BENCHMARKS.md');
  } else log(`wrote ${ROOT}/study.json (--publish also writes bench/results.json and BENCHMARKS.md)`);
}

if (process.argv[1]?.endsWith('policy-finetune.ts')) void main();
