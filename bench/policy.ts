/**
 * Policy quality: AMC (DDPG) against uniform and random search at the same MACs target, accuracy
 * on demo:test without fine-tuning, over seeds; the paper's CIFAR-10 table beside it.
 */
import { generateDataset, SPLIT_SIZES } from '../src/core/data/procedural';
import { evaluateAccuracy } from '../src/core/measure/accuracy';
import { loadModel } from '../src/core/model/load';
import { filesFromPath } from '../src/core/model/node-files';
import { instantiate } from '../src/core/model/tfjs-model';
import type { RunOutcome, RunSpec, SearchSettings } from './runs';
import { mean, modelPath, sd } from './util';

export const POLICY_TARGETS = [0.5, 0.25] as const;

export function policySpecs(models: readonly string[], seeds: readonly number[], settings: SearchSettings): RunSpec[] {
  const specs: RunSpec[] = [];
  for (const model of models)
    for (const target of POLICY_TARGETS)
      for (const seed of seeds) for (const agent of ['ddpg', 'random'] as const) specs.push({ model, resource: 'macs', target, agent, seed, ...settings });
  return specs;
}

export interface Spread {
  mean: number;
  sd: number;
  min: number;
  max: number;
  n: number;
  values: number[];
}

const spread = (values: number[]): Spread | null =>
  values.length ? { mean: mean(values), sd: sd(values), min: Math.min(...values), max: Math.max(...values), n: values.length, values } : null;

export interface PolicyRow {
  model: string;
  target: number;
  /** Top-1 on demo:test of the unpruned model. */
  original: number;
  /** demo:test top-1 of the best uniform policy meeting the target, per seed (the refit samples positions by seed). */
  uniform: Spread | null;
  random: Spread | null;
  amc: Spread | null;
  /** MACs of the policies found, as a fraction of the original's (they must all be at or under the target). */
  amcMacs: Spread | null;
  /** 1-based episode at which AMC's best policy was found, and in which phase, per seed. */
  amcFoundAt: { episode: number; phase: string }[];
  episodes: number;
  warmup: number;
  rewardImages: number;
  testImages: number;
  seeds: number[];
}

/** demo:test top-1 of each unpruned model (the reference the paper's "original" column is). */
export async function originalAccuracy(models: readonly string[]): Promise<Record<string, number>> {
  const test = generateDataset('test', { count: SPLIT_SIZES.test });
  const out: Record<string, number> = {};
  for (const name of models) {
    const net = await instantiate(await loadModel(filesFromPath(modelPath(name))));
    out[name] = (await evaluateAccuracy(net, test.images, test.labels, { imageSize: 32, batchSize: 100 })).top1;
    net.dispose();
  }
  return out;
}

export function policyRows(outcomes: RunOutcome[], original: Record<string, number>): PolicyRow[] {
  const rows: PolicyRow[] = [];
  const keys = [...new Set(outcomes.map((o) => `${o.spec.model}|${o.spec.target}`))];
  for (const key of keys) {
    const [model, t] = key.split('|');
    const target = Number(t);
    const mine = outcomes.filter((o) => o.spec.model === model && o.spec.target === target && o.report?.search.test);
    if (!mine.length) continue;
    const uniformBySeed = new Map(mine.map((o) => [o.spec.seed, o.report!.search.test!.uniform.top1!]));
    const top1 = (agent: string) => mine.filter((o) => o.spec.agent === agent).map((o) => o.report!.search.test!.best.top1!);
    const amc = mine.filter((o) => o.spec.agent === 'ddpg');
    const s = mine[0].spec;
    rows.push({
      model,
      target,
      original: original[model],
      uniform: spread([...uniformBySeed.values()]),
      random: spread(top1('random')),
      amc: spread(top1('ddpg')),
      amcMacs: spread(amc.map((o) => o.report!.search.best.resourceRatio)),
      amcFoundAt: amc.map((o) => ({ episode: o.report!.search.best.episode + 1, phase: o.report!.search.best.phase })),
      episodes: s.episodes,
      warmup: s.warmup ?? 100,
      rewardImages: s.rewardImages,
      testImages: mine[0].report!.search.test!.images,
      seeds: [...new Set(mine.map((o) => o.spec.seed))].sort((a, b) => a - b),
    });
  }
  return rows;
}
