/**
 * Accuracy of each demo model pruned uniformly to 100%, 75%, 50% and 25% of its MACs, without
 * fine-tuning: channels sliced by L1 importance, and with AMC's least-squares refit of the
 * consumers. Scored on the whole demo:test split; the refit calibrates on demo:train images.
 *
 *   npx tsx bench/uniform-sweep.ts [--models resnet-like,mobilenet-like] [--calibration 256] [--json]
 */
import { existsSync } from 'node:fs';
import { generateDataset, SPLIT_SIZES } from '../src/core/data/procedural';
import { initBackend } from '../src/core/measure/backends';
import { analyzeModel } from '../src/core/model/analyze';
import { loadModel } from '../src/core/model/load';
import { filesFromPath } from '../src/core/model/node-files';
import { bestUniform } from '../src/core/search/baselines';
import { ENV_DEFAULTS } from '../src/core/search/config';
import { PruningEnv } from '../src/core/search/env';
import { EpisodeScorer } from '../src/core/search/scorer';

export const DEMO_MODELS = ['plain-cnn', 'resnet-like', 'mobilenet-like'] as const;
export const SWEEP_TARGETS = [1, 0.75, 0.5, 0.25] as const;

export interface SweepRow {
  model: string;
  target: number;
  ratio: number;
  macsRatio: number;
  top1Sliced: number;
  top1Refit: number;
}

export async function uniformSweep(models: readonly string[], calibration = 256, log: (s: string) => void = () => {}): Promise<SweepRow[]> {
  await initBackend('wasm');
  const test = generateDataset('test', { count: SPLIT_SIZES.test });
  const calib = generateDataset('train', { count: calibration }).images;
  const rows: SweepRow[] = [];
  for (const name of models) {
    const path = `models/${name}/model.json`;
    if (!existsSync(path)) {
      log(`uniform sweep: ${path} is missing, skipped (train it with npm run train:demo -- --only ${name})`);
      continue;
    }
    const model = await loadModel(filesFromPath(path));
    const analysis = analyzeModel(model);
    const sliced = await EpisodeScorer.create(model, analysis, { images: test.images, labels: test.labels, eval: { imageSize: 32 } }, { roundTo: 1 });
    const refit = await EpisodeScorer.create(model, analysis, { images: test.images, labels: test.labels, eval: { imageSize: 32 }, calibration: calib }, { roundTo: 1 });
    for (const target of SWEEP_TARGETS) {
      const env = new PruningEnv(analysis, { ...ENV_DEFAULTS, roundTo: 1, target, lbound: 0.01 });
      const u = bestUniform(env);
      const a = await sliced.score(u.keep);
      const b = target === 1 ? a : await refit.score(u.keep);
      rows.push({ model: name, target, ratio: u.ratio, macsRatio: u.resourceRatio, top1Sliced: a.top1!, top1Refit: b.top1! });
      log(`uniform sweep: ${name} ${Math.round(target * 100)}% MACs (ratio ${u.ratio.toFixed(3)}, ${(u.resourceRatio * 100).toFixed(1)}%): top-1 ${(a.top1! * 100).toFixed(2)}% sliced, ${(b.top1! * 100).toFixed(2)}% refit`);
    }
  }
  return rows;
}

export function sweepMarkdown(rows: SweepRow[]): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const header = `| model | ${SWEEP_TARGETS.map((t) => `${pct(t)} MACs`).join(' | ')} |\n|---|${SWEEP_TARGETS.map(() => '---:').join('|')}|`;
  const models = [...new Set(rows.map((r) => r.model))];
  const line = (m: string) =>
    `| ${m} | ${SWEEP_TARGETS.map((t) => {
      const r = rows.find((x) => x.model === m && x.target === t);
      return r ? (t === 1 ? pct(r.top1Sliced) : `${pct(r.top1Sliced)} / ${pct(r.top1Refit)}`) : '-';
    }).join(' | ')} |`;
  return `${header}\n${models.map(line).join('\n')}`;
}

if (process.argv[1]?.endsWith('uniform-sweep.ts')) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const models = arg('models')?.split(',') ?? [...DEMO_MODELS];
  const rows = await uniformSweep(models, Number(arg('calibration') ?? 256), (s) => console.error(s));
  if (process.argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
  else console.log(`top-1 on demo:test, sliced / with refit\n\n${sweepMarkdown(rows)}`);
}
