/**
 * BENCHMARKS.md's section on search speed, from bench/search-speed.json (bench/search-speed.ts).
 * Nothing measured here and nothing heavy imported (no Playwright, no tfjs), so bench/markdown.ts
 * renders it from `readSearchSpeed()` whenever it regenerates the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Evaluator } from '../src/core/prune/config';
import type { SpeedPlan, SpeedRun } from './search-speed/episodes';

/** WASM threads in the page: 'off' (flag false), 'app' (left to tfjs, as the app runs), 'forced' (the page told more cores). */
export type ThreadsMode = 'node' | 'off' | 'app' | 'forced';

export interface LoadSnapshot {
  uptime: string;
  load: number[];
  top: string[];
}

export interface SearchSpeedResult {
  date: string;
  command: string;
  /** The commit checked out when the run started (others' uncommitted edits may have been in the tree). */
  commit?: string;
  note?: string;
  /** What the numbers say, written after the run (kept in the JSON so a regenerated section keeps it). */
  reading?: string;
  plan: { episodes: number; warmup: number; rewardImages: number; calibration: Record<Evaluator, number>; tmEpisodes: number; tmImages: number; cores: number };
  node: { version: string; backend: string };
  chromium?: { version: string; userAgent: string; flags: Record<string, unknown>; buildSeconds: number };
  /** The evaluator `auto` gives each demo model with its own demo:train calibration images. */
  defaults?: Record<string, Evaluator>;
  demo: SpeedRun[];
  tm: { plan?: SpeedPlan; skipped?: string; runs: { mode: ThreadsMode; flags?: Record<string, unknown>; run: SpeedRun }[] };
  before: LoadSnapshot;
  after: LoadSnapshot;
  seconds: number;
}

/** A subsection of section 3 (search cost): no number of its own to collide with other sections'. */
export const SEARCH_SPEED_TITLE = '### Episodes per second: Node and Chromium';

const EVALUATOR_WORDS: Record<Evaluator, string> = { slice: 'slice', bn: 'bn', refit: 'refit', 'refit+bn': 'refit+bn' };
const ms = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(0));
const eps = (r: SpeedRun | undefined) => (r ? r.episodesPerSecond.toFixed(2) : '-');
const episodeMs = (r: SpeedRun) => r.totalMs / r.episodes;

/**
 * Images run through a network per episode: the reward images once, the calibration images once
 * for BatchNorm statistics (one pass, layer after layer) and once for the refit (the original's
 * features are cached, the pruned layers' inputs are not). What bounds an episode from below.
 */
export function imagesPerEpisode(r: Pick<SpeedRun, 'evaluator' | 'rewardImages' | 'calibration'>): number {
  const passes = (r.evaluator === 'refit' || r.evaluator === 'refit+bn' ? 1 : 0) + (r.evaluator === 'bn' || r.evaluator === 'refit+bn' ? 1 : 0);
  return r.rewardImages + passes * r.calibration;
}

/** Multiply-accumulates of one episode, in G: its images through a net of the policy's MACs (the calibration passes counted at the pruned net's size). */
export function gmacsPerEpisode(r: Pick<SpeedRun, 'evaluator' | 'rewardImages' | 'calibration' | 'macsRatio' | 'originalMacs'>): number {
  return (r.macsRatio * r.originalMacs * imagesPerEpisode(r)) / 1e9;
}

/** How fast the reward evaluation computed, GMAC/s (batched predict on the backend). */
export function evaluateRate(r: SpeedRun): number {
  return (r.macsRatio * r.originalMacs * r.rewardImages) / 1e9 / ((r.phases.evaluate ?? NaN) / 1000);
}

function minutes(seconds: number): string {
  return seconds < 90 ? `${seconds.toFixed(0)} s` : `${(seconds / 60).toFixed(1)} min`;
}

const MODE_WORDS: Record<ThreadsMode, string> = {
  node: 'Node WASM (no threads in Node)',
  off: 'Chromium WASM, threads off (plain SIMD build)',
  app: 'Chromium WASM, threads as the app leaves them',
  forced: 'Chromium WASM, 2 threads',
};

function demoTables(r: SearchSpeedResult): string[] {
  const models = [...new Set(r.demo.map((x) => x.model))];
  const find = (model: string, evaluator: Evaluator, where: string) => r.demo.find((x) => x.model === model && x.asked === evaluator && x.where === where);
  const summary: string[] = [];
  const phases: string[] = [];
  for (const model of models) {
    for (const evaluator of [...new Set(r.demo.filter((x) => x.model === model).map((x) => x.asked))]) {
      const n = find(model, evaluator, 'Node WASM');
      const c = find(model, evaluator, 'Chromium WASM');
      const any = (n ?? c)!;
      const isDefault = r.defaults?.[model] === evaluator;
      const ratio = n && c ? (c.episodesPerSecond / n.episodesPerSecond).toFixed(2) : '-';
      const search = [n, c].filter((x): x is SpeedRun => Boolean(x)).map((x) => minutes(300 / x.episodesPerSecond)).join(' / ');
      summary.push(`| ${model} | ${EVALUATOR_WORDS[evaluator]}${any.evaluator !== evaluator ? ` (runs ${any.evaluator})` : ''}${isDefault ? ' **(default)**' : ''} | ${any.calibration || '-'} | ${imagesPerEpisode(any)} | ${any.originalMacs ? gmacsPerEpisode(any).toFixed(1) : '-'} | ${eps(n)} | ${eps(c)} | ${ratio} | ${search} |`);
      for (const x of [n, c]) {
        if (!x) continue;
        phases.push(`| ${model} | ${EVALUATOR_WORDS[evaluator]} | ${x.where} | ${ms(x.phases.prune)} | ${ms(x.phases.refit)} | ${ms(x.phases.batchNorm)} | ${ms(x.phases.evaluate)} | ${ms(x.phases.agent)} | ${ms(episodeMs(x))} | ${(x.macsRatio * 100).toFixed(0)}% |`);
      }
    }
  }
  return [
    '| model | evaluator | calibration images | images through the net per episode | GMACs per episode | Node WASM episodes/s | Chromium WASM episodes/s | Chromium / Node | 300 random episodes (Node / Chromium) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...summary,
    '',
    'Where the time goes, mean ms per timed episode (*prune* = channel selection, rebuild and building the tfjs model; *refit* = least squares on the calibration images; *BatchNorm* = statistics recomputed on them; *evaluate* = top-1 on the reward images; *agent* = the random actions and the env; MACs = mean MACs of the episodes\' policies against the original):',
    '',
    '| model | evaluator | where | prune | refit | BatchNorm | evaluate | agent | episode | MACs |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...phases,
  ];
}

/** Whether each demo model reached `aim` episodes/s with its default evaluator, in Node and in Chromium. */
function verdict(r: SearchSpeedResult, aim = 2): string {
  if (!r.defaults) return '';
  const parts = Object.entries(r.defaults).map(([model, evaluator]) => {
    const at = (where: string) => r.demo.find((x) => x.model === model && x.asked === evaluator && x.where === where);
    const n = at('Node WASM');
    const c = at('Chromium WASM');
    const reached = [n, c].filter((x): x is SpeedRun => Boolean(x)).map((x) => `${x.where} ${x.episodesPerSecond.toFixed(2)} ${x.episodesPerSecond >= aim ? '(reached)' : `(${Math.round((x.episodesPerSecond / aim) * 100)}% of it)`}`);
    const ref = c ?? n;
    let bound = '';
    if (ref) {
      bound = `; of its ${ms(episodeMs(ref))} ms in ${ref.where}, ${ms(ref.phases.evaluate)} ms evaluate the ${ref.rewardImages} reward images and ${ms((ref.phases.batchNorm ?? 0) + (ref.phases.refit ?? 0))} ms go to the ${ref.calibration} calibration images`;
      if (ref.originalMacs) {
        const g = gmacsPerEpisode(ref);
        const rate = Math.max(...[n, c].filter((x): x is SpeedRun => Boolean(x)).map(evaluateRate));
        bound += `; an episode computes ${g.toFixed(1)} GMACs (${imagesPerEpisode(ref)} images at ${(ref.macsRatio * 100).toFixed(0)}% of ${(ref.originalMacs / 1e6).toFixed(1)} MMACs), so ${aim} episodes/s needs ${(aim * g).toFixed(1)} GMAC/s, ${((aim * g) / rate).toFixed(1)}x the ${rate.toFixed(1)} GMAC/s the reward evaluation reached here at best`;
      }
    }
    return `${model} with ${evaluator}: ${reached.join(', ')}${bound}`;
  });
  return `The aim of ${aim} episodes/s with the default evaluator: ${parts.join('. ')}.`;
}

function tmTable(r: SearchSpeedResult): string[] {
  if (r.tm.skipped || !r.tm.runs.length) return [`_The 224x224 model: ${r.tm.skipped ?? 'not run'}._`];
  const p = r.tm.plan!;
  const off = r.tm.runs.find((x) => x.mode === 'off')?.run;
  const rows = r.tm.runs.map(({ mode, flags, run }) => {
    const threads = mode === 'node' ? '-' : `${flags?.wasmThreads ?? '?'}${flags?.cores !== undefined ? ` (${flags.cores} cores reported)` : ''}`;
    const s = episodeMs(run) / 1000;
    return `| ${MODE_WORDS[mode]} | ${threads} | ${s.toFixed(2)} | ${ms(run.phases.prune)} | ${ms(run.phases.refit)} | ${ms(run.phases.batchNorm)} | ${ms(run.phases.evaluate)} | ${off && mode !== 'node' ? `${(episodeMs(off) / episodeMs(run)).toFixed(2)}x` : '-'} |`;
  });
  return [
    `The 224x224 model: the Teachable Machine export (MobileNetV2 at 224x224, ../shared/realmodels/tm-image-asl, read from there), scored by top-1 agreement with the original on ${p.rewardImages} procedural demo:val images (32x32, resized bilinearly to 224x224 by the scorer, scaled to [-1, 1] as its metadata says), with its automatic evaluator: ${p.evaluator} on ${p.calibration} demo:train images (BatchNorm statistics of images unlike its own lower agreement, core/search/config.ts). ${p.warmup} untimed then ${p.episodes} timed random episodes per row, each row in a fresh page; ms per phase are means per episode.`,
    '',
    '| where | tfjs WASM threads | s / episode | prune ms | refit ms | BatchNorm ms | evaluate ms | speedup over threads off |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ];
}

export function searchSpeedSection(r: SearchSpeedResult | undefined): string {
  if (!r) return `${SEARCH_SPEED_TITLE}\n\n_Not run (\`npx tsx bench/search-speed.ts\`)._`;
  const p = r.plan;
  const flags = r.chromium?.flags ?? {};
  const chromium = r.chromium
    ? `headless Chromium ${r.chromium.version} on a page built with the app's Vite config and served cross-origin isolated (${flags.crossOriginIsolated ? 'isolated' : 'NOT isolated'}; WASM SIMD ${flags.wasmSimd ? 'on' : 'off'}, ${flags.wasmThreads ?? '?'} tfjs thread${flags.wasmThreads === 1 ? '' : 's'} on ${flags.cores ?? '?'} reported cores: threads left to tfjs as the app does)`
    : 'Chromium not run';
  return [
    SEARCH_SPEED_TITLE,
    '',
    `How it was measured (\`${r.command}\`${r.commit ? ` at ${r.commit}` : ''}, ${r.date.slice(0, 16).replace('T', ' ')} UTC, ${minutes(r.seconds)} in all; Node ${r.node.version} WASM beside ${chromium}): per demo model and evaluator, a search with the random agent (warm-up-like episodes: random actions under the 50% MACs wall, no DDPG updates) scored exactly as \`amc search\` and the page score a demo model: top-1 on ${p.rewardImages} demo:val images, calibration images from demo:train in the default counts (bn ${p.calibration.bn}, refit ${p.calibration.refit}, refit+bn ${p.calibration['refit+bn']}). ${p.warmup} untimed episodes, then ${p.episodes} timed ones, each timed around \`runEpisode()\`; episodes/s = ${p.episodes} / their total time. The same code (bench/search-speed/episodes.ts) ran in Node and in the page, one after the other for each model and evaluator (the order alternating), so the machine's load hits both alike; absolute figures carry that load (load average ${r.before.load[0].toFixed(1)} at the start, ${r.after.load[0].toFixed(1)} at the end), their ratios less. A 300-episode search is extrapolated from these random episodes: a DDPG search's 200 learning episodes add the agent's updates on top (about 0.4-0.8 s each, section 3).${r.note ? ` ${r.note}` : ''}`,
    '',
    ...demoTables(r),
    '',
    verdict(r),
    '',
    ...tmTable(r),
    ...(r.reading ? ['', r.reading] : []),
  ].join('\n');
}

export const SEARCH_SPEED_JSON = 'bench/search-speed.json';

/** The last run's result, for BENCHMARKS.md generation (undefined when the bench never ran). */
export function readSearchSpeed(file = SEARCH_SPEED_JSON): SearchSpeedResult | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SearchSpeedResult) : undefined;
}
