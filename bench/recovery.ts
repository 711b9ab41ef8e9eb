/**
 * Recovery by distillation (`npx tsx bench/recovery.ts [--jobs 2] [--limit 3000] [--epochs 5]`):
 * demo:test top-1 of each demo model's pruned versions before fine-tuning and after every epoch of
 * `amc finetune` (the CLI users run, one child process per cell), from one run per cell
 * (checkpoints 1, 3, 5 are the same run's epochs). Starting points, all at 50%:
 *   - uniform, 50% MACs: the uniform baseline of the AMC search (its keep counts), refit as the search scored it;
 *   - AMC, 50% MACs: the best policy of the section-1 search with seed 1 (bench/runs/<model>-macs50-ddpg-1);
 *   - AMC, 50% latency: the Node latency-constrained search (bench/runs/<model>-latency50-ddpg-1), where it exists.
 * Distillation only (labels unused) unless a cell says "labels". A finished cell whose settings
 * match is reused (`--reuse-only`: nothing new runs, the table shows what has finished; `--note` says
 * what shared the machine while the cells ran); the result goes into bench/results.json (`recovery`) and BENCHMARKS.md section 7.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { publish } from './results';
import { readReport } from './runs';
import { argValue, DEMO_MODELS, logger, modelPath } from './util';

export type StartPoint = 'uniform-macs50' | 'amc-macs50' | 'amc-latency50';

export interface RecoveryCell {
  model: string;
  start: StartPoint;
  seed: number;
  labels: boolean;
  /** MACs of the start point over the original's. */
  macsRatio?: number;
  /** Which search the starting policy came from. */
  source?: string;
  /** When its fine-tune ended and how long it took (from its report). */
  finishedAt?: string;
  seconds?: number;
  status: 'ran' | 'reused' | 'failed' | 'no start point';
  error?: string;
  /** demo:test top-1 after each epoch of the run; epoch 0 = before fine-tuning. */
  top1ByEpoch?: { epoch: number; top1: number }[];
  bestEpoch?: number;
  /** Held-out pick: the epoch `amc finetune` exports. */
  exportedTop1?: number;
  secondsPerEpoch?: number;
  imagesPerEpoch?: number;
  backend?: string;
}

/** One row of bench/finetune-backends.ts's timing (the same Distiller, per backend, Node and Chromium). */
export interface BackendTiming {
  model: string;
  where: string;
  /** Null when the run failed before a backend was up. */
  used: string | null;
  requested?: string;
  images: number;
  secondsPer1000?: number;
  load: number;
  error?: string;
  note?: string;
}

export interface RecoveryResult {
  date: string;
  command: string;
  plan: { limit: number; epochs: number; jobs: number; heldOut: string };
  /** When the cells' fine-tunes ran (from their reports), and what shared the machine, as the operator says (--note). */
  ran?: { from: string; to: string; note?: string };
  originals: Record<string, number>;
  cells: RecoveryCell[];
  seconds: number;
  load: { start: number[]; end: number[] };
  /** From bench/finetune-backends.json, when it exists: time per 1000 training images per backend. */
  backends?: { command: string; date: string; rows: BackendTiming[] };
}

function backendTimings(): RecoveryResult['backends'] {
  const b = readJson<{ started: string; rows: BackendTiming[] }>('bench/finetune-backends.json');
  if (!b) return undefined;
  const rows = b.rows.filter((r) => r.images > 0).map(({ model, where, used, requested, images, secondsPer1000, load, error, note }) => ({ model, where, used, requested, images, secondsPer1000, load, error, note }));
  return { command: 'npx tsx bench/finetune-backends.ts --gl 128', date: b.started, rows };
}

export interface FinetuneReport {
  backend: string;
  bestEpoch: number;
  config: { epochs: number; seed: number };
  data: string;
  history: { epoch: number; ms?: number; steps?: number }[];
  trainImages?: number;
  createdAt: string;
  seconds: number;
  evaluation?: { top1ByEpoch: { epoch: number; top1: number }[] };
}

const tsx = join('node_modules', '.bin', 'tsx');

/** One `amc` command (the CLI users run) as a child process, its stdout and stderr into `logFile`. */
function child(args: string[], logFile: string): Promise<void> {
  const out = createWriteStream(logFile);
  return new Promise((ok, fail) => {
    const c = spawn(tsx, ['src/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout.pipe(out, { end: false });
    c.stderr.pipe(out, { end: false });
    c.on('error', fail);
    c.on('close', (code) => {
      out.end();
      if (code === 0) ok();
      else fail(new Error(`amc ${args.join(' ')} exited with ${code}: see ${logFile}`));
    });
  });
}

export const readJson = <T>(file: string): T | undefined => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
};

/** Prunes `model` to `keep` (no rounding, refit on 64 demo:train images with `seed`, as the searches score a policy) into `dir`, once. */
async function pruneTo(dir: string, model: string, keep: Record<string, number>, seed: number): Promise<{ path: string; macsRatio: number }> {
  if (!existsSync(join(dir, 'model.json'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(keep));
    await child(['prune', modelPath(model), '--policy-file', join(dir, 'policy.json'), '--round-to', '1', '--refit', '--data', 'demo:train', '--calibration', '64', '--seed', String(seed), '--out', dir], join(dir, 'prune.log'));
  }
  const pruned = readJson<{ ratios: { macs: number } }>(join(dir, 'report.json'));
  return { path: join(dir, 'model.json'), macsRatio: pruned!.ratios.macs };
}

/**
 * The pruned model a cell starts from, made if needed, and where its policy came from; undefined
 * when no search has produced it. A 50% latency policy comes from the Node latency search if one
 * ran, else from the on-device search in Chromium (bench/device-run.json), which had the machine to itself.
 */
async function startModel(root: string, runs: string, model: string, start: StartPoint): Promise<{ path: string; macsRatio: number; source: string } | undefined> {
  const name = `${model}-${start === 'amc-latency50' ? 'latency50' : 'macs50'}-ddpg-1`;
  const report = readReport(join(runs, name));
  if (report && start !== 'uniform-macs50') return { path: join(runs, name, 'model.json'), macsRatio: report.ratios.macs, source: `${name}: best policy` };
  if (report) return { ...(await pruneTo(join(root, `${model}-uniform-macs50-start`), model, report.search.uniform.keep, report.search.config.seed)), source: `${name}: its uniform baseline` };
  if (start !== 'amc-latency50') return undefined;
  const device = readJson<{ search: { model: string; plan: { seed: number }; searches: { resource: string; target: number; best: { keep: Record<string, number> } }[] } }>('bench/device-run.json');
  const found = device?.search.model === model ? device.search.searches.find((x) => x.resource === 'latency' && x.target === 0.5) : undefined;
  if (!found) return undefined;
  return { ...(await pruneTo(join(root, `${model}-amc-latency50-start`), model, found.best.keep, device!.search.plan.seed)), source: 'bench/device-run.json: the on-device latency search in Chromium' };
}

function cellName(c: Pick<RecoveryCell, 'model' | 'start' | 'seed' | 'labels'>): string {
  return `${c.model}-${c.start}-seed${c.seed}${c.labels ? '-labels' : ''}`;
}

/** What a cell reads from its fine-tune's report.json. */
export type FinetuneFigures = Pick<RecoveryCell, 'top1ByEpoch' | 'bestEpoch' | 'exportedTop1' | 'secondsPerEpoch' | 'imagesPerEpoch' | 'backend' | 'finishedAt' | 'seconds'>;

export interface FinetunePlan {
  limit: number;
  epochs: number;
  seed: number;
  labels: boolean;
}

/** Whether a fine-tune's report in a cell's folder was run with `plan` (so the cell can be reused). */
export function finetuneMatches(r: FinetuneReport | undefined, plan: FinetunePlan): r is FinetuneReport {
  return !!r && r.config.epochs === plan.epochs && r.config.seed === plan.seed && r.data.includes(`(${plan.limit} images`) && r.data.includes('labels not used') === !plan.labels;
}

/**
 * `amc finetune` of the pruned model `start` from its original `model` into `dir` (report.json,
 * finetune.log): every epoch kept (patience = epochs), demo:test top-1 after each.
 */
export function runFinetune(start: string, model: string, dir: string, plan: FinetunePlan): Promise<void> {
  mkdirSync(dir, { recursive: true });
  return child(
    ['finetune', start, '--teacher', modelPath(model), '--data', 'demo:train', '--limit', String(plan.limit), '--epochs', String(plan.epochs), '--patience', String(plan.epochs), '--seed', String(plan.seed), ...(plan.labels ? [] : ['--distill-only']), '--eval', 'demo:test', '--out', dir, '--force'],
    join(dir, 'finetune.log'),
  );
}

export function summarize(cell: FinetuneFigures, r: FinetuneReport): void {
  const epochs = r.history.filter((h) => h.epoch > 0 && h.ms !== undefined);
  const images = /\((\d+) images/.exec(r.data)?.[1];
  cell.top1ByEpoch = r.evaluation?.top1ByEpoch;
  cell.bestEpoch = r.bestEpoch;
  cell.exportedTop1 = r.evaluation?.top1ByEpoch.find((t) => t.epoch === r.bestEpoch)?.top1;
  cell.secondsPerEpoch = epochs.reduce((s, h) => s + h.ms!, 0) / 1000 / Math.max(1, epochs.length);
  cell.imagesPerEpoch = r.trainImages ?? (images ? Number(images) - Math.min(1000, Math.max(32, Math.round(Number(images) * 0.1))) : undefined);
  cell.backend = r.backend;
  cell.finishedAt = r.createdAt;
  cell.seconds = r.seconds;
}

export async function recoveryBench(opts: { runs: string; limit: number; epochs: number; jobs: number; models: readonly string[]; reuseOnly?: boolean; note?: string }, log: (s: string) => void): Promise<RecoveryResult> {
  const t0 = performance.now();
  const start = loadavg();
  const root = join(opts.runs, 'finetune');
  mkdirSync(root, { recursive: true });
  const plan: Omit<RecoveryCell, 'status'>[] = [];
  for (const model of opts.models) for (const s of ['uniform-macs50', 'amc-macs50', 'amc-latency50'] as const) plan.push({ model, start: s, seed: 1, labels: false });
  // The spread over fine-tuning seeds, and what labels add, on the model the app opens with.
  plan.push({ model: 'mobilenet-like', start: 'amc-macs50', seed: 2, labels: false }, { model: 'mobilenet-like', start: 'amc-macs50', seed: 3, labels: false });
  plan.push({ model: 'mobilenet-like', start: 'amc-macs50', seed: 1, labels: true });
  const cells: RecoveryCell[] = plan.filter((p) => opts.models.includes(p.model)).map((p) => ({ ...p, status: 'no start point' }));
  const originals: Record<string, number> = {};
  for (const model of opts.models) {
    const card = readFileSync(join('models', model, 'README.md'), 'utf8');
    originals[model] = Number(/demo:test`[^:]*: top-1 ([\d.]+)%/.exec(card)?.[1]) / 100;
  }
  const queue = [...cells];
  const worker = async () => {
    for (let cell = queue.shift(); cell; cell = queue.shift()) {
      const name = cellName(cell);
      const dir = join(root, name);
      try {
        const from = await startModel(root, opts.runs, cell.model, cell.start);
        if (!from) {
          log(`${name}: no search report to start from (run its search first)`);
          continue;
        }
        cell.macsRatio = from.macsRatio;
        cell.source = from.source;
        const plan = { limit: opts.limit, epochs: opts.epochs, seed: cell.seed, labels: cell.labels };
        const matches = finetuneMatches(readJson<FinetuneReport>(join(dir, 'report.json')), plan);
        if (!matches && opts.reuseOnly) {
          log(`${name}: not run (--reuse-only)`);
          continue;
        }
        if (!matches) {
          log(`${name}: fine-tuning ${opts.epochs} epochs on ${opts.limit} demo:train images`);
          await runFinetune(from.path, cell.model, dir, plan);
        }
        cell.status = matches ? 'reused' : 'ran';
        summarize(cell, readJson<FinetuneReport>(join(dir, 'report.json'))!);
        log(`${name}: demo:test top-1 ${cell.top1ByEpoch?.map((t) => `${t.epoch}: ${(t.top1 * 100).toFixed(1)}`).join(', ')} (${cell.secondsPerEpoch?.toFixed(0)} s an epoch)`);
      } catch (e) {
        cell.status = 'failed';
        cell.error = (e as Error).message.split('\n')[0];
        log(`${name}: failed: ${cell.error}`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.jobs }, worker));
  const done = cells.filter((c) => c.finishedAt && c.seconds !== undefined);
  const starts = done.map((c) => Date.parse(c.finishedAt!) - c.seconds! * 1000);
  const ends = done.map((c) => Date.parse(c.finishedAt!));
  return {
    date: new Date().toISOString(),
    command: `npx tsx bench/recovery.ts --jobs ${opts.jobs} --limit ${opts.limit} --epochs ${opts.epochs}`,
    plan: { limit: opts.limit, epochs: opts.epochs, jobs: opts.jobs, heldOut: 'The held-out images (10%, at least 32, at most 1000, never more than half) pick the exported epoch; the columns show every epoch' },
    originals,
    cells,
    seconds: (performance.now() - t0) / 1000,
    load: { start, end: loadavg() },
    backends: backendTimings(),
    ...(done.length ? { ran: { from: new Date(Math.min(...starts)).toISOString(), to: new Date(Math.max(...ends)).toISOString(), ...(opts.note ? { note: opts.note } : {}) } } : {}),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const num = (name: string, fallback: number) => Number(argValue(argv, name) ?? fallback);
  const models = argValue(argv, 'models')?.split(',') ?? [...DEMO_MODELS];
  const result = await recoveryBench({ runs: 'bench/runs', limit: num('limit', 3000), epochs: num('epochs', 5), jobs: num('jobs', 1), models, reuseOnly: argv.includes('--reuse-only'), note: argValue(argv, 'note') }, logger('recovery'));
  publish('recovery', result);
  process.stderr.write(`recovery: wrote bench/results.json and BENCHMARKS.md (${(result.seconds / 60).toFixed(1)} min)\n`);
}
