/**
 * Gathers the report.json files of `amc search` runs (DDPG and random search, several seeds) into
 * one table of demo:test top-1 without fine-tuning: uniform, random search and AMC, mean and spread
 * over seeds. Every figure comes from the reports given; nothing is typed in.
 *
 *   npx tsx bench/search-table.ts runs/*\/report.json
 */
import { readFileSync } from 'node:fs';

interface SearchReport {
  source?: string;
  search: {
    config: { agent: 'ddpg' | 'random'; seed: number; episodes: number; env: { resource: string; target: number } };
    seconds: number;
    best: { episode: number; phase: string; resourceRatio: number };
    test?: { best: { top1?: number }; uniform: { top1?: number } };
  };
}

export interface SearchRow {
  model: string;
  target: string;
  /** Uniform's top-1 per seed (the refit samples positions by seed, so uniform moves a little with it). */
  uniformBySeed: Map<number, number>;
  uniform: number[];
  random: number[];
  amc: number[];
  /** Episode (1-based) at which AMC's best policy was found, per seed. */
  amcFoundAt: number[];
  episodes: number;
  secondsPerEpisode: number[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => (xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)) : 0);

export function gather(files: string[]): SearchRow[] {
  const rows = new Map<string, SearchRow>();
  for (const file of files) {
    const r = JSON.parse(readFileSync(file, 'utf8')) as SearchReport & { model?: { name?: string } };
    const s = r.search;
    if (!s.test) continue;
    const model = /models\/([^/]+)\//.exec(JSON.stringify(r.source ?? file))?.[1] ?? /([a-z-]+)-(ddpg|random)-\d+/.exec(file)?.[1] ?? file;
    const target = `${s.config.env.resource} ${Math.round(s.config.env.target * 100)}%`;
    const key = `${model} ${target}`;
    const row: SearchRow = rows.get(key) ?? { model, target, uniformBySeed: new Map(), uniform: [], random: [], amc: [], amcFoundAt: [], episodes: s.config.episodes, secondsPerEpisode: [] };
    rows.set(key, row);
    row.uniformBySeed.set(s.config.seed, s.test.uniform.top1!);
    row.uniform = [...row.uniformBySeed.values()];
    if (s.config.agent === 'random') row.random.push(s.test.best.top1!);
    else {
      row.amc.push(s.test.best.top1!);
      row.amcFoundAt.push(s.best.episode + 1);
    }
    row.secondsPerEpisode.push(s.seconds / s.config.episodes);
  }
  return [...rows.values()];
}

export function searchMarkdown(rows: SearchRow[]): string {
  const f = (xs: number[]) => (xs.length ? `${(mean(xs) * 100).toFixed(1)} ± ${(sd(xs) * 100).toFixed(1)} (n=${xs.length})` : '-');
  return [
    '| model | target | uniform | random search | AMC (DDPG) | AMC - uniform | AMC best found at episode |',
    '|---|---|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.target} | ${(mean(r.uniform) * 100).toFixed(1)} | ${f(r.random)} | ${f(r.amc)} | ${r.amc.length ? ((mean(r.amc) - mean(r.uniform)) * 100).toFixed(1) : '-'} | ${r.amcFoundAt.join(', ') || '-'} of ${r.episodes} |`,
    ),
  ].join('\n');
}

if (process.argv[1]?.endsWith('search-table.ts')) {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error('usage: npx tsx bench/search-table.ts DIR/report.json ...');
    process.exit(2);
  }
  console.log(searchMarkdown(gather(files)));
}
