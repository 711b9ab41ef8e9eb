/**
 * The bench's AMC searches: each one is `amc search` (the CLI users run) in a child process, with
 * its report in `<runs>/<model>-<target>-<agent>-<seed>/report.json` and its progress in
 * `search.log` beside it. A finished report whose settings match is reused (unless --fresh), so a
 * run of many hours can stop and go on, and searches run elsewhere can be imported.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelPath } from './util';

export interface SearchSettings {
  episodes: number;
  /** DDPG warm-up episodes; undefined: the CLI's default (the paper's 100). */
  warmup?: number;
  rewardImages: number;
  calibration: number;
  roundTo: number;
  /** `--evaluate` (auto: what the app runs); absent: the refit on `calibration` images, or sliced when 0 (the suite's searches before evaluators). */
  evaluate?: string;
  /** `--finetune EPOCHS --finetune-images N`: the best and the uniform policy recovered by distillation after the search. */
  finetune?: { epochs: number; images: number };
}

export interface RunSpec extends SearchSettings {
  model: string;
  resource: 'macs' | 'latency';
  target: number;
  agent: 'ddpg' | 'random';
  seed: number;
}

/** What the bench reads from a search's report.json. */
export interface SearchReport {
  source: string;
  original: { macs: number; params: number };
  pruned: { macs: number; params: number };
  ratios: { macs: number };
  policy: Record<string, number>;
  options: { roundTo: number; refit: boolean };
  search: {
    config: { agent: 'ddpg' | 'random'; seed: number; episodes: number; evaluator?: string; env: { resource: string; target: number; roundTo: number }; ddpg: { warmupEpisodes: number } };
    data: string;
    rewardImages: number;
    backend: string;
    seconds: number;
    best: { episode: number; phase: string; reward: number; resourceRatio: number; score: { top1?: number }; keep: Record<string, number> };
    uniform: { ratio: number; resourceRatio: number; score: { top1?: number }; keep: Record<string, number> };
    test?: { images: number; best: { top1?: number }; uniform: { top1?: number } };
    calibration?: number;
    finetune?: { epochs: number; best?: { testBefore?: number; testAfter?: number }; uniform?: { testBefore?: number; testAfter?: number } };
    latency?: { measured?: { originalMs: number; bestMs: number; uniformMs: number; speedup: number; uniformSpeedup: number; runs: number; originalSpread?: { min: number; max: number; offShare?: number; busy: boolean } } };
    log: { episode: number; phase: string; reward: number; resourceRatio: number; ms: Record<string, number> }[];
  };
}

export const targetLabel = (resource: string, target: number) => `${resource}${Math.round(target * 100)}`;
export const runName = (s: Pick<RunSpec, 'model' | 'resource' | 'target' | 'agent' | 'seed'>) => `${s.model}-${targetLabel(s.resource, s.target)}-${s.agent}-${s.seed}`;
export const runDir = (runs: string, s: RunSpec) => join(runs, runName(s));

export function readReport(dir: string): SearchReport | undefined {
  const file = join(dir, 'report.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SearchReport;
  } catch {
    return undefined;
  }
}

/** Why a finished report does not answer `spec` (undefined when it does). Calibration count is not in the report, so it is not checked. */
export function mismatch(r: SearchReport, spec: RunSpec): string | undefined {
  const c = r.search.config;
  const checks: [string, unknown, unknown][] = [
    ['model', /models\/([^/]+)\//.exec(r.source)?.[1], spec.model],
    ['agent', c.agent, spec.agent],
    ['seed', c.seed, spec.seed],
    ['resource', c.env.resource, spec.resource],
    ['target', c.env.target, spec.target],
    ['episodes', c.episodes, spec.episodes],
    ['round-to', c.env.roundTo, spec.roundTo],
    ['reward images', r.search.rewardImages, spec.rewardImages],
    ...(spec.evaluate ? [] : [['refit', r.options.refit, spec.calibration > 0] as [string, unknown, unknown]]),
    // The CLI labels its data with the count it used: "demo:val (1000 images)".
    ['data', r.search.data.replace(/ \(.*\)$/, ''), 'demo:val'],
  ];
  // `auto` resolves per model: any evaluator recorded answers it; a named one must be the one that ran.
  if (spec.evaluate) checks.push(['evaluator', c.evaluator && (spec.evaluate === 'auto' || c.evaluator === spec.evaluate) ? spec.evaluate : c.evaluator, spec.evaluate]);
  // A report with a fine-tune also answers a spec without one (the search is the same).
  if (spec.finetune) checks.push(['fine-tune epochs', r.search.finetune?.epochs, spec.finetune.epochs]);
  if (spec.agent === 'ddpg') checks.push(['warm-up', c.ddpg.warmupEpisodes, spec.warmup ?? 100]);
  const bad = checks.filter(([, a, b]) => a !== b);
  return bad.length ? bad.map(([k, a, b]) => `${k} ${String(a)} (want ${String(b)})`).join(', ') : undefined;
}

function cliArgs(spec: RunSpec, out: string): string[] {
  return [
    'src/cli/main.ts', 'search', modelPath(spec.model),
    '--agent', spec.agent,
    '--target', `${spec.resource}:${spec.target}`,
    '--episodes', String(spec.episodes),
    // Always given: the CLI's defaults are the app's (a warm-up of a third of the budget, the refit on), not the suite's.
    '--warmup', String(spec.warmup ?? 100),
    '--round-to', String(spec.roundTo),
    ...(spec.evaluate ? ['--evaluate', spec.evaluate] : spec.calibration > 0 ? ['--refit', '--calibration', String(spec.calibration)] : ['--no-refit']),
    ...(spec.finetune ? ['--finetune', String(spec.finetune.epochs), '--finetune-images', String(spec.finetune.images)] : []),
    '--reward-images', String(spec.rewardImages),
    '--seed', String(spec.seed),
    // One scorer: the suite runs --jobs searches side by side, and each episode's phases are timed from the log.
    '--workers', '1',
    // The suite owns its run folders: a search it runs again (--fresh, or settings changed) replaces the last one's model.
    '--out', out, '--force',
  ];
}

/** The command line a spec runs, as a user would type it. */
export const commandLine = (spec: RunSpec, out: string) => `npm run -s amc -- ${cliArgs(spec, out).slice(1).join(' ')}`;

function runChild(spec: RunSpec, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'search.log');
  const log = createWriteStream(logFile);
  const tsx = join('node_modules', '.bin', 'tsx');
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, cliArgs(spec, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', reject);
    child.on('close', (code) => {
      log.end();
      if (code === 0 && existsSync(join(dir, 'report.json'))) resolve();
      else reject(new Error(`${commandLine(spec, dir)} exited with ${code}: see ${logFile}`));
    });
  });
}

export interface RunOutcome {
  spec: RunSpec;
  dir: string;
  report?: SearchReport;
  /** 'reused' (finished before), 'ran' (this bench), 'failed' (see error), 'missing' (not run: --reuse-only). */
  status: 'reused' | 'ran' | 'failed' | 'missing';
  error?: string;
}

/** Runs the searches not yet done, `jobs` at a time; returns every spec's report. */
/**
 * Claims a run folder for this process (`claim.pid`, created exclusively), so two bench processes
 * sharing a runs folder never run one search twice at once. A claim whose process has ended is
 * taken over. Returns the release function, or null when a live process holds it.
 */
export function claimRun(dir: string): (() => void) | null {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'claim.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8'));
      if (alive(pid)) return null;
      rmSync(file, { force: true });
    }
  }
  return null;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function runSearches(specs: RunSpec[], runs: string, opts: { jobs: number; fresh: boolean; reuseOnly?: boolean }, log: (s: string) => void): Promise<RunOutcome[]> {
  const outcomes: RunOutcome[] = specs.map((spec) => ({ spec, dir: runDir(runs, spec), status: 'reused' }));
  const todo: RunOutcome[] = [];
  for (const o of outcomes) {
    const r = opts.fresh ? undefined : readReport(o.dir);
    const why = r && mismatch(r, o.spec);
    if (r && !why) {
      o.report = r;
      continue;
    }
    if (why) log(`${runName(o.spec)}: the report there has other settings (${why}): running it again`);
    todo.push(o);
  }
  if (outcomes.length - todo.length) log(`${outcomes.length - todo.length} of ${outcomes.length} searches reused from ${runs}/ (--fresh runs them again)`);
  if (opts.reuseOnly) {
    for (const o of todo) o.status = 'missing';
    if (todo.length) log(`--reuse-only: ${todo.length} searches with no finished report not run: ${todo.map((o) => runName(o.spec)).join(', ')}`);
    return outcomes;
  }
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < todo.length) {
      const o = todo[next++];
      const t0 = performance.now();
      // Another bench process sharing the folder may have finished it or be running it since the list was made.
      const release = claimRun(o.dir);
      const since = readReport(o.dir);
      if (!release || (since && !mismatch(since, o.spec))) {
        release?.();
        o.report = since && !mismatch(since, o.spec) ? since : undefined;
        o.status = o.report ? 'reused' : 'missing';
        done++;
        log(`${runName(o.spec)}: ${o.report ? 'finished by another process: reused' : 'another process is running it: skipped here'}`);
        continue;
      }
      log(`${runName(o.spec)}: started (${commandLine(o.spec, o.dir)})`);
      try {
        if (existsSync(join(o.dir, 'report.json'))) rmSync(join(o.dir, 'report.json'));
        await runChild(o.spec, o.dir);
        o.report = readReport(o.dir);
        o.status = 'ran';
        writeFileSync(join(o.dir, 'bench-run.json'), JSON.stringify({ spec: o.spec, command: commandLine(o.spec, o.dir), finished: new Date().toISOString() }, null, 2) + '\n');
      } catch (e) {
        o.status = 'failed';
        o.error = (e as Error).message;
      } finally {
        release();
      }
      done++;
      log(`${runName(o.spec)}: ${o.status} in ${((performance.now() - t0) / 60000).toFixed(1)} min (${done}/${todo.length} to run)${o.error ? `: ${o.error}` : ''}`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, todo.length)) }, worker));
  return outcomes;
}

/**
 * Copies finished searches from `from/<model>-<agent>-<seed>/` (report.json, and the pruned model
 * when it is there) into the runs folder, named by the target their report says.
 */
export function importRuns(from: string, runs: string, log: (s: string) => void): number {
  if (!existsSync(from)) throw new Error(`--import ${from}: no such folder.`);
  let n = 0;
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const m = /^(.+)-(ddpg|random)-(\d+)$/.exec(entry.name);
    if (!entry.isDirectory() || !m) continue;
    const src = join(from, entry.name);
    const r = readReport(src);
    if (!r) {
      log(`import: ${src} has no finished report.json, skipped`);
      continue;
    }
    const c = r.search.config;
    if (c.agent !== m[2] || c.seed !== Number(m[3])) {
      log(`import: ${src}: its report says ${c.agent} seed ${c.seed}, not what the folder name says: skipped`);
      continue;
    }
    const dest = join(runs, runName({ model: m[1], resource: c.env.resource as 'macs', target: c.env.target, agent: c.agent, seed: c.seed }));
    mkdirSync(dest, { recursive: true });
    for (const f of ['report.json', 'model.json', 'model.weights.bin']) if (existsSync(join(src, f))) copyFileSync(join(src, f), join(dest, f));
    if (existsSync(`${src}.log`)) copyFileSync(`${src}.log`, join(dest, 'search.log'));
    writeFileSync(join(dest, 'bench-run.json'), JSON.stringify({ importedFrom: src, imported: new Date().toISOString() }, null, 2) + '\n');
    log(`import: ${src} -> ${dest}`);
    n++;
  }
  return n;
}
