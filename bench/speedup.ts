/**
 * Speedup: the original model, the best uniform policy, AMC's MACs-constrained and AMC's
 * latency-constrained pruned models, timed interleaved in one run (measureInterleaved: A B C D A
 * B C D ...), in Node on WASM here and in Chromium on WASM by bench/browser.ts. Speedup =
 * original median / pruned median; efficiency = speedup / MACs reduction (1 when latency falls
 * exactly as fast as MACs).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportFiles, MODEL_FILE, WEIGHTS_FILE } from '../src/core/export/files';
import { burnIn } from '../src/core/measure/burn-in';
import { measureInterleaved, type LatencyOptions, type LatencyStats } from '../src/core/measure/latency';
import { analyzeModel } from '../src/core/model/analyze';
import { loadModel } from '../src/core/model/load';
import { filesFromPath } from '../src/core/model/node-files';
import { instantiate } from '../src/core/model/tfjs-model';
import type { LoadedModel } from '../src/core/model/types';
import { pruneModel } from '../src/core/prune/prune';
import { bestUniform } from '../src/core/search/baselines';
import { ENV_DEFAULTS } from '../src/core/search/config';
import { PruningEnv } from '../src/core/search/env';
import { runDir, runName, type RunOutcome, type RunSpec, type SearchSettings } from './runs';
import { modelPath } from './util';

export type Timed = Omit<LatencyStats, 'flags'>;

export interface Variant {
  key: 'original' | 'uniform' | 'amc-macs' | 'amc-latency';
  label: string;
  /** Where the model came from (a run folder, or how it was made). */
  from: string;
  macs: number;
  params: number;
  macsRatio: number;
  /** Served to the browser from here (relative to the runs folder). */
  files: string;
  node?: Timed;
  browser?: Timed;
  /** Chromium on WebGPU, only when the adapter is real hardware. */
  webgpu?: Timed;
}

export interface SpeedupRow {
  model: string;
  /** The input's shape (height x width x channels). */
  input: string;
  variants: Variant[];
  /** The latency-constrained search's own end-to-end figures (Node, measured at its end). */
  latencySearch?: { target: number; bestRatioMeasured: number; measured?: NonNullable<NonNullable<import('./runs').SearchReport['search']['latency']>['measured']> };
  timing: LatencyOptions;
  skipped?: string;
}

export function speedupSpecs(models: readonly string[], settings: SearchSettings): RunSpec[] {
  return models.map((model) => ({ model, resource: 'latency', target: 0.5, agent: 'ddpg', seed: 1, ...settings }));
}

/** The MACs-constrained AMC run the speedup table uses: 50% MACs, seed 1 (from the policy runs). */
export const macsSpec = (model: string, settings: SearchSettings): RunSpec => ({ model, resource: 'macs', target: 0.5, agent: 'ddpg', seed: 1, ...settings });

/**
 * When a latency target cannot be met (the layers no policy can shrink take more than the target
 * of the original's latency, which happens on small nets), `amc search` says the floor it measured.
 * The bench then searches at the floor + 5 points, rounded up to a multiple of 5%, and says so.
 */
export function latencyFallback(spec: RunSpec, runs: string): { spec: RunSpec; floor: number } | undefined {
  const file = join(runDir(runs, spec), 'search.log');
  if (!existsSync(file)) return undefined;
  const m = /Choose a target of at least ([\d.]+)%/.exec(readFileSync(file, 'utf8'));
  if (!m) return undefined;
  const floor = Number(m[1]) / 100;
  return { spec: { ...spec, target: Math.min(0.95, Math.ceil((floor + 0.05) * 20 - 1e-9) / 20) }, floor };
}

/** The best policy's pruned model of a run: its exported model, or (an imported report alone) the policy rebuilt, since latency depends on shapes only. */
async function bestModel(original: LoadedModel, o: RunOutcome): Promise<{ model: LoadedModel; from: string }> {
  const file = join(o.dir, MODEL_FILE);
  if (existsSync(file) && existsSync(join(o.dir, WEIGHTS_FILE))) return { model: await loadModel(filesFromPath(file)), from: file };
  const analysis = analyzeModel(original);
  return { model: pruneModel(original, analysis, o.report!.policy, { roundTo: o.report!.options.roundTo }).model, from: `${o.dir}/report.json policy, rebuilt (sliced)` };
}

export async function speedupNode(
  models: readonly string[],
  outcomes: RunOutcome[],
  settings: SearchSettings,
  runs: string,
  timing: LatencyOptions,
  log: (s: string) => void,
): Promise<SpeedupRow[]> {
  const rows: SpeedupRow[] = [];
  for (const name of models) {
    const find = (spec: RunSpec) => outcomes.find((o) => runName(o.spec) === runName(spec) && o.report);
    const macsRun = find(macsSpec(name, settings));
    const latencyRun = outcomes.find((o) => o.spec.model === name && o.spec.resource === 'latency' && o.report);
    const original = await loadModel(filesFromPath(modelPath(name)));
    const analysis = analyzeModel(original);
    const env = new PruningEnv(analysis, { ...ENV_DEFAULTS, roundTo: settings.roundTo, target: 0.5 });
    const uniform = bestUniform(env);
    const candidates: { key: Variant['key']; label: string; model: LoadedModel; from: string }[] = [
      { key: 'original', label: 'original', model: original, from: modelPath(name) },
      { key: 'uniform', label: `uniform ${(uniform.ratio * 100).toFixed(0)}% width (50% MACs)`, model: pruneModel(original, analysis, Object.fromEntries(uniform.keep), { roundTo: settings.roundTo }).model, from: 'best uniform policy at 50% MACs, sliced' },
    ];
    const latencyLabel = `AMC, ${Math.round((latencyRun?.spec.target ?? 0.5) * 100)}% latency`;
    for (const [key, label, run] of [['amc-macs', 'AMC, 50% MACs', macsRun], ['amc-latency', latencyLabel, latencyRun]] as const) {
      if (!run) {
        log(`${name}: no finished ${label} search: left out of the speedup table`);
        continue;
      }
      candidates.push({ key, label, ...(await bestModel(original, run)) });
    }
    const variants: Variant[] = [];
    for (const c of candidates) {
      const cost = analyzeModel(c.model).cost;
      const files = join('speedup', name, c.key);
      const dir = join(runs, files);
      mkdirSync(dir, { recursive: true });
      const f = exportFiles(c.model);
      writeFileSync(join(dir, MODEL_FILE), f.modelJson);
      writeFileSync(join(dir, WEIGHTS_FILE), new Uint8Array(f.weights));
      variants.push({ key: c.key, label: c.label, from: c.from, macs: cost.totalMacs, params: cost.totalParams, macsRatio: cost.totalMacs / analysis.cost.totalMacs, files });
    }
    const nets = await Promise.all(candidates.map((c) => instantiate(c.model)));
    await burnIn(nets, analysis.graph.inputSize);
    const stats = await measureInterleaved(nets, timing, analysis.graph.inputSize);
    nets.forEach((n) => n.dispose());
    stats.forEach((s, i) => {
      const { flags: _flags, ...rest } = s;
      variants[i].node = rest;
    });
    log(`${name}: Node ${stats[0].backend}, median ms ${variants.map((v) => `${v.key} ${v.node!.medianMs.toFixed(2)}`).join(', ')}`);
    const ls = latencyRun?.report?.search;
    const shape = analysis.graph.tensors.get(analysis.graph.inputs[0])!.shape;
    rows.push({
      model: name,
      input: shape.slice(1).map((d) => d ?? analysis.graph.inputSize).join('x'),
      variants,
      latencySearch: ls ? { target: ls.config.env.target, bestRatioMeasured: ls.best.resourceRatio, measured: ls.latency?.measured } : undefined,
      timing,
    });
  }
  return rows;
}
