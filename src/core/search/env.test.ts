import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asFiles, exportModel, TOPOLOGY_FIXTURES } from '../../testing/fixtures';
import { analyzeModel, type ModelAnalysis } from '../model/analyze';
import { computeCost } from '../model/cost';
import { loadModel } from '../model/load';
import { Rng } from '../random';
import { bestUniform } from './baselines';
import { ENV_DEFAULTS, type EnvConfig } from './config';
import { channelChoices, PruningEnv, SearchError, STATE_SIZE } from './env';
import { MeasuredLatency } from './latency-resource';

async function analyzed(model: tf.LayersModel, seed = 1): Promise<ModelAnalysis> {
  const loaded = await loadModel(asFiles(await exportModel(model, seed)));
  model.dispose();
  return analyzeModel(loaded);
}

/** A random plain or residual CNN with random widths (8..64), so the wall meets many shapes. */
function randomCnn(rng: Rng): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  let x = input as tf.SymbolicTensor;
  const stages = 2 + rng.int(3);
  for (let s = 0; s < stages; s++) {
    const filters = 8 + rng.int(57);
    const y = tf.layers.conv2d({ filters, kernelSize: rng.next() < 0.5 ? 1 : 3, padding: 'same', strides: rng.next() < 0.3 ? 2 : 1 }).apply(x) as tf.SymbolicTensor;
    if (rng.next() < 0.4) {
      const z = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same' }).apply(y) as tf.SymbolicTensor;
      x = tf.layers.add().apply([y, z]) as tf.SymbolicTensor;
    } else if (rng.next() < 0.3) {
      x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }).apply(y) as tf.SymbolicTensor;
    } else x = y;
  }
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function runEpisode(env: PruningEnv, actions: () => number): { states: Float32Array[]; ratios: number[] } {
  const states = [env.reset()];
  const ratios: number[] = [];
  while (!env.done) {
    const r = env.step(actions());
    ratios.push(r.ratio);
    if (r.next) states.push(r.next);
  }
  return { states, ratios };
}

describe('channel choices', () => {
  it('are the rounded counts from lbound up', () => {
    expect(channelChoices(64, 0.2, 8)).toEqual([16, 24, 32, 40, 48, 56, 64]);
    expect(channelChoices(10, 0.2, 1)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Groups narrower than the rounding unit are not rounded (the pruner's rule).
    expect(channelChoices(6, 0.2, 8)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('the action wall', () => {
  it('meets the target for any sequence of actions, on random models, targets and resources', async () => {
    const rng = new Rng(7);
    // Every case is counted: a refused target skips its episodes, so the test says how many were really checked.
    let cases = 0;
    let refused = 0;
    let episodes = 0;
    for (let m = 0; m < 12; m++) {
      const analysis = await analyzed(randomCnn(rng), m);
      for (const resource of ['macs', 'params'] as const) {
        for (const roundTo of [1, 8]) {
          const config: EnvConfig = { ...ENV_DEFAULTS, resource, roundTo, target: 0.2 + 0.7 * rng.next() };
          cases++;
          let env: PruningEnv;
          try {
            env = new PruningEnv(analysis, config);
          } catch (e) {
            // Only an infeasible target may be refused, and the message says what is possible.
            expect(e).toBeInstanceOf(SearchError);
            expect(String(e)).toMatch(/Choose a target of at least/);
            refused++;
            continue;
          }
          for (let k = 0; k < 15; k++) {
            const mode = k % 3;
            runEpisode(env, () => (mode === 0 ? 1 : mode === 1 ? rng.next() : rng.next() < 0.5 ? 0 : 1));
            const cost = computeCost(analysis.graph, analysis.groupAnalysis, env.policy);
            const value = resource === 'macs' ? cost.totalMacs : cost.totalParams;
            expect(value).toBeLessThanOrEqual(env.budget);
            episodes++;
          }
        }
      }
    }
    // 12 models x 2 resources x 2 roundings; with seed 7 one target is refused, the other 47 run 15 episodes each.
    expect({ cases, refused, episodes }).toEqual({ cases: 48, refused: 1, episodes: 47 * 15 });
  });

  it('keeps what the agent asks when the target allows it, and all channels when asked for 1.0 with target 1', async () => {
    const analysis = await analyzed(TOPOLOGY_FIXTURES.mobilenetV2Like.build());
    const env = new PruningEnv(analysis, { ...ENV_DEFAULTS, roundTo: 1, target: 1 });
    const { ratios } = runEpisode(env, () => 1);
    expect(ratios.every((r) => r === 1)).toBe(true);
    const half = runEpisode(env, () => 0.5).ratios;
    env.steps.forEach((s, i) => expect(half[i]).toBeCloseTo(Math.max(1, Math.round(0.5 * s.group.channels)) / s.group.channels, 6));
  });

  it('lowers an action only as far as the target needs', async () => {
    const analysis = await analyzed(TOPOLOGY_FIXTURES.mobilenetV2Like.build());
    const env = new PruningEnv(analysis, { ...ENV_DEFAULTS, roundTo: 1, target: 0.6 });
    runEpisode(env, () => 1);
    const policy = env.policy;
    expect(env.resource.of(policy)).toBeLessThanOrEqual(env.budget);
    let walled = 0;
    env.steps.forEach((step, t) => {
      const kept = policy.get(step.group.id)!;
      if (kept === step.group.channels) return;
      walled++;
      // One more channel here, with every later group at its minimum, would break the budget.
      const trial = new Map(policy);
      trial.set(step.group.id, step.choices[step.choices.indexOf(kept) + 1]);
      for (const later of env.steps.slice(t + 1)) trial.set(later.group.id, later.choices[0]);
      expect(env.resource.of(trial)).toBeGreaterThan(env.budget);
    });
    expect(walled).toBeGreaterThan(0);
  });

  it('refuses a target that frozen layers make impossible, saying the smallest possible one', async () => {
    const analysis = await analyzed(TOPOLOGY_FIXTURES.sequentialCnn.build());
    expect(() => new PruningEnv(analysis, { ...ENV_DEFAULTS, target: 0.01 })).toThrow(/cannot be met.*at least \d+\.\d%/);
  });

  it('has no wall in the accuracy-guaranteed protocol', async () => {
    const analysis = await analyzed(TOPOLOGY_FIXTURES.mobilenetV1Like.build());
    const env = new PruningEnv(analysis, { ...ENV_DEFAULTS, protocol: 'accuracy-guaranteed', roundTo: 1, target: 0.01 });
    expect(runEpisode(env, () => 1).ratios.every((r) => r === 1)).toBe(true);
  });
});

describe('the state', () => {
  it('has the 11 features of the paper, scaled to [0, 1], with the real previous action', async () => {
    const analysis = await analyzed(TOPOLOGY_FIXTURES.mobilenetV1Like.build());
    const env = new PruningEnv(analysis, { ...ENV_DEFAULTS, roundTo: 1, target: 0.5 });
    const { states, ratios } = runEpisode(env, () => 0.5);
    expect(states).toHaveLength(env.length);
    for (const s of states) {
      expect(s).toHaveLength(STATE_SIZE);
      for (const v of s) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    // t runs 0..1; nothing is reduced at the start, and previous action starts at 1.
    expect(states[0][0]).toBe(0);
    expect(states[states.length - 1][0]).toBe(1);
    expect(states[0][8]).toBe(0);
    expect(states[0][10]).toBe(1);
    // Each later state carries the ratio the previous step really kept, and reduced grows.
    for (let i = 1; i < states.length; i++) {
      expect(states[i][10]).toBeCloseTo(ratios[i - 1], 6);
      expect(states[i][8]).toBeGreaterThanOrEqual(states[i - 1][8]);
      expect(states[i][9]).toBeLessThanOrEqual(states[i - 1][9]);
    }
    // Raw features of the first step: the stem's filters, its input channels and spatial size, stride and kernel.
    const first = env.steps[0];
    expect(first.group.id).toBe('stem');
    expect(first.raw.slice(1, 7)).toEqual([8, 3, 8, 8, 2, 3]);
  });
});

describe('uniform baseline', () => {
  it('is the widest single ratio that meets the target', async () => {
    const analysis = await analyzed(TOPOLOGY_FIXTURES.mobilenetV2Like.build());
    const env = new PruningEnv(analysis, { ...ENV_DEFAULTS, roundTo: 1, target: 0.5 });
    const u = bestUniform(env);
    expect(u.resource).toBeLessThanOrEqual(env.budget);
    expect(u.ratio).toBeGreaterThan(0.3);
    expect(u.ratio).toBeLessThan(0.9);
    const wider = [...u.keep].map(([id, k]) => [id, Math.min(k + 1, analysis.groupAnalysis.byId.get(id)!.channels)] as const);
    expect(env.resource.of(new Map(wider))).toBeGreaterThan(env.budget);
  });
});

describe('a latency target on a busy device', () => {
  /** Latency as a device would time it: a fixed cost per run (what load inflates) plus a cost per MAC. */
  const timed = (analysis: ModelAnalysis, fixedMs: number, signs?: string) => ({
    kind: 'latency' as const,
    of: (keep: Map<string, number> | Record<string, number>) => fixedMs + 1e-4 * computeCost(analysis.graph, analysis.groupAnalysis, keep).totalMacs,
    loadSigns: () => signs,
  });
  const config: EnvConfig = { ...ENV_DEFAULTS, resource: 'latency', roundTo: 1, target: 0.5 };

  it('is accepted on a quiet device', async () => {
    const analysis = await analyzed(TOPOLOGY_FIXTURES.mobilenetV1Like.build());
    const env = new PruningEnv(analysis, config, timed(analysis, 0.01));
    expect(env.floor).toBeLessThan(env.budget);
  });

  it('is not called impossible when load inflates the floor: the refusal says the device looked busy and asks to measure again', async () => {
    const analysis = await analyzed(TOPOLOGY_FIXTURES.mobilenetV1Like.build());
    let error: unknown;
    try {
      new PruningEnv(analysis, config, timed(analysis, 5));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SearchError);
    const e = error as SearchError;
    expect(e.measureAgain).toBe(true);
    expect(e.message).not.toMatch(/cannot be met/);
    expect(e.message).toMatch(/was not reached in this measurement/);
    expect(e.message).toMatch(/looked busy while it was timed \(the smallest model is predicted at \d+\.\d% of the original's latency while its MACs fall to \d+\.\d%\)/);
    expect(e.message).toMatch(/measure again/);
  });

  it('passes on what the resource saw of the load (a poor fit), and a MACs target stays a verdict', async () => {
    const analysis = await analyzed(TOPOLOGY_FIXTURES.mobilenetV1Like.build());
    // A floor of about 35% against MACs of about 15%: the MACs comparison alone would not call it busy.
    const target = { ...config, target: 0.3 };
    expect(() => new PruningEnv(analysis, target, timed(analysis, 0.2))).toThrow(/measure again with the device quiet/);
    const mild = timed(analysis, 0.2, "the table's fit missed the whole models it was checked on by 40%");
    expect(() => new PruningEnv(analysis, target, mild)).toThrow(/looked busy while it was timed \(the table's fit missed .* by 40%\)/);
    expect(() => new PruningEnv(analysis, { ...config, resource: 'macs', target: 0.01 })).toThrow(/cannot be met/);
  });

  it('MeasuredLatency reports a table whose fit missed the measured models as a sign of load', async () => {
    const analysis = await analyzed(TOPOLOGY_FIXTURES.mobilenetV1Like.build());
    const table = (calibrationError: number, heldOutError?: number) =>
      new MeasuredLatency({ layers: [], scale: 1, offset: 0, overheadMs: 0, backend: 'wasm', seconds: 1, calibrationError, heldOutError }, analysis);
    expect(table(0.05, 0.1).loadSigns()).toBeUndefined();
    expect(table(0.05, 0.4).loadSigns()).toMatch(/missed the whole models it was checked on by 40%/);
  });
});

describe('a 1-D model', () => {
  it('reads a Conv1D input [N, L, C] as 1 x L in the state (h 1, w L)', async () => {
    const analysis = await analyzed(TOPOLOGY_FIXTURES.conv1dNet.build());
    const env = new PruningEnv(analysis, { ...ENV_DEFAULTS, roundTo: 1, target: 0.5 });
    // raw: t, n, c, h, w, stride, k, MACs: c2 reads pool1's 15 x 8, c3 reads pool2's 14 x 12 with stride 2.
    expect(env.steps.map((s) => [s.group.id, ...s.raw.slice(1, 7)])).toEqual([
      ['c1', 8, 3, 1, 30, 1, 3],
      ['c2', 12, 8, 1, 15, 1, 3],
      ['c3', 16, 12, 1, 14, 2, 3],
    ]);
  });
});
