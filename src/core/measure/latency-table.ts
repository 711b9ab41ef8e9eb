/**
 * A latency predictor built on this device (the NetAdapt / HAQ way): every layer whose cost depends
 * on kept channels is timed alone, as a one-layer model, on a grid of input and output channel
 * counts; a policy's latency is the sum over layers, interpolated on those grids, mapped to
 * end-to-end milliseconds by a line fitted on whole pruned models (per-call overheads, the layers
 * the table leaves out). The action wall needs a prediction for partial decisions, which only a
 * table can give; the reward and the report still use measured end-to-end latency.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelAnalysis } from '../model/analyze';
import { channelsOf, type KeepMap } from '../model/cost';
import type { ChannelLayout } from '../model/groups';
import type { GraphLayer } from '../model/graph';
import { layerHandler } from '../model/layers';
import { roundChannels } from '../prune/policy';
import { LAYER_TIMING } from './config';
import { measureLatency, type LatencyOptions } from './latency';

/** The config key that sets a layer's output channels (the registry's `widthKey`); other layers' outputs follow their input. */
const widthKey = (className: string) => layerHandler(className)?.widthKey;
/** Layers worth timing: the registry's `timed` (views and no-ops at inference are not). */
const timedClass = (className: string) => layerHandler(className)?.timed ?? false;

/** Preserve ratios whose channel counts make a layer's grid (with rounding to 8, as the pruner does). */
const GRID_RATIOS = [0.2, 0.4, 0.6, 0.8, 1];

export interface LayerTable {
  layer: string;
  className: string;
  /** Input channel counts (flattened features for a Dense after Flatten), ascending. */
  cin: number[];
  /** Output channel counts, ascending (one value for depthwise layers: it follows cin). */
  cout: number[];
  /** Median ms, row-major [cin][cout]. */
  ms: number[];
}

export interface LatencyTable {
  layers: LayerTable[];
  /** predicted = scale * sum(table) + offset, fitted on end-to-end measurements. */
  scale: number;
  offset: number;
  /** Mean |predicted - measured| / measured on the calibration models. */
  calibrationError?: number;
  /** The same on random policies the fit did not see: what to expect of a search's policies. */
  heldOutError?: number;
  /** The per-call cost subtracted from each layer's time. */
  overheadMs: number;
  backend: string;
  seconds: number;
}

function gridOf(layout: ChannelLayout | undefined, analysis: ModelAnalysis, full: number): number[] {
  if (!layout) return [full];
  const prunable = layout.segments.filter((s) => analysis.groupAnalysis.byId.get(s.group)?.prunable);
  if (!prunable.length) return [full];
  const values = new Set<number>();
  for (const r of GRID_RATIOS) {
    const keep = new Map(prunable.map((s) => [s.group, roundChannels(r * s.channels, s.channels)]));
    values.add(channelsOf(layout, keep));
  }
  return [...values].sort((a, b) => a - b);
}

function probeTopology(layer: GraphLayer, inShape: number[], cout: number): object {
  const config: Record<string, unknown> = { ...layer.config, name: 'probe' };
  const key = widthKey(layer.className);
  if (key) config[key] = cout;
  return {
    class_name: 'Sequential',
    config: { name: 'latency_probe', layers: [{ class_name: 'InputLayer', config: { batch_input_shape: [null, ...inShape], dtype: 'float32', name: 'probe_input' } }, { class_name: layer.className, config }] },
    keras_version: 'tfjs-layers',
    backend: 'tensor_flow.js',
  };
}

async function timeTopology(topology: object, options: LatencyOptions): Promise<number> {
  const model = await tf.models.modelFromJSON({ modelTopology: topology } as tf.io.ModelJSON);
  try {
    return (await measureLatency(model, options)).medianMs;
  } finally {
    model.dispose();
  }
}

/**
 * The fixed cost of one predict call of a one-layer model (dispatch, input upload, output
 * download), subtracted from every layer's time: a whole model pays it once, not once per layer.
 */
async function callOverhead(options: LatencyOptions): Promise<number> {
  return timeTopology(
    {
      class_name: 'Sequential',
      config: { name: 'overhead_probe', layers: [{ class_name: 'InputLayer', config: { batch_input_shape: [null, 1, 1, 1], dtype: 'float32', name: 'probe_input' } }, { class_name: 'Activation', config: { name: 'probe', activation: 'linear' } }] },
      keras_version: 'tfjs-layers',
      backend: 'tensor_flow.js',
    },
    options,
  );
}

/** Times every channel-dependent layer of the model on its grid. `onProgress` gets (done, total). */
export async function buildLatencyTable(analysis: ModelAnalysis, options: LatencyOptions = LAYER_TIMING, onProgress?: (done: number, total: number) => void): Promise<LatencyTable> {
  const t0 = performance.now();
  const { graph, groupAnalysis } = analysis;
  const affected = (t: string) => groupAnalysis.layouts.get(t)?.segments.some((seg) => groupAnalysis.byId.get(seg.group)?.prunable) ?? false;
  // Every single-input layer whose work depends on kept channels; merges (Add, Concatenate) are left to the end-to-end fit.
  const timed = graph.layers.filter((l) => l.handler && timedClass(l.className) && l.inputs.length === 1 && l.call === 0 && (affected(l.inputs[0]) || affected(l.output) || widthKey(l.className)));
  const overhead = await callOverhead(options);
  const plans = timed.map((l) => {
    const inShape = l.inputShapes[0].slice(1) as number[];
    const cinFull = inShape[inShape.length - 1];
    const coutFull = l.outputShape[l.outputShape.length - 1] as number;
    const cin = gridOf(groupAnalysis.layouts.get(l.inputs[0]), analysis, cinFull);
    const cout = widthKey(l.className) ? gridOf(groupAnalysis.layouts.get(l.output), analysis, coutFull) : [0];
    return { l, inShape, cin, cout };
  });
  const total = plans.reduce((s, p) => s + p.cin.length * p.cout.length, 0);
  let done = 0;
  const layers: LayerTable[] = [];
  for (const { l, inShape, cin, cout } of plans) {
    const ms: number[] = [];
    for (const ci of cin) {
      for (const co of cout) {
        const t = await timeTopology(probeTopology(l, [...inShape.slice(0, -1), ci], co), options);
        // Never below a tenth of the raw time: a layer measured within the overhead still costs something.
        ms.push(Math.max(t - overhead, 0.1 * t));
        onProgress?.(++done, total);
      }
    }
    layers.push({ layer: l.id, className: l.className, cin, cout, ms: monotone(ms, cin.length, cout.length) });
  }
  return { layers, scale: 1, offset: 0, overheadMs: overhead, backend: tf.getBackend(), seconds: (performance.now() - t0) / 1000 };
}

/**
 * More channels never cost less: noisy timings are made non-decreasing along both axes (running
 * maximum), so the table's sum grows with every group's kept count and the action wall's
 * "every later group at its smallest" really is the floor.
 */
export function monotone(ms: number[], rows: number, cols: number): number[] {
  const out = ms.slice();
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
    const k = i * cols + j;
    if (i > 0) out[k] = Math.max(out[k], out[k - cols]);
    if (j > 0) out[k] = Math.max(out[k], out[k - 1]);
  }
  return out;
}

/** Piecewise-linear interpolation weights of x on ascending grid g (clamped at the ends). */
function bracket(g: number[], x: number): [number, number, number] {
  if (g.length === 1 || x <= g[0]) return [0, 0, 0];
  if (x >= g[g.length - 1]) return [g.length - 1, g.length - 1, 0];
  let i = 0;
  while (g[i + 1] < x) i++;
  return [i, i + 1, (x - g[i]) / (g[i + 1] - g[i])];
}

function interpolate(t: LayerTable, cin: number, cout: number): number {
  const [i0, i1, fi] = bracket(t.cin, cin);
  const [j0, j1, fj] = bracket(t.cout, cout);
  const n = t.cout.length;
  const v = (i: number, j: number) => t.ms[i * n + j];
  const a = v(i0, j0) * (1 - fj) + v(i0, j1) * fj;
  const b = v(i1, j0) * (1 - fj) + v(i1, j1) * fj;
  return a * (1 - fi) + b * fi;
}

/** The table's raw sum for a policy (before the end-to-end calibration). */
export function tableSum(table: LatencyTable, analysis: ModelAnalysis, keep: KeepMap): number {
  const { graph, groupAnalysis } = analysis;
  let sum = 0;
  for (const t of table.layers) {
    const l = graph.byId.get(t.layer)!;
    const inLayout = groupAnalysis.layouts.get(l.inputs[0]);
    const outLayout = groupAnalysis.layouts.get(l.output);
    const cin = inLayout ? channelsOf(inLayout, keep) : t.cin[t.cin.length - 1];
    const cout = t.cout.length === 1 && t.cout[0] === 0 ? 0 : outLayout ? channelsOf(outLayout, keep) : t.cout[t.cout.length - 1];
    sum += interpolate(t, cin, cout);
  }
  return sum;
}

export function predictLatency(table: LatencyTable, analysis: ModelAnalysis, keep: KeepMap): number {
  return table.scale * tableSum(table, analysis, keep) + table.offset;
}

/**
 * Fits scale and offset so the table predicts end-to-end latency: least squares over
 * (table sum, measured ms) pairs of whole models. With one pair only the scale is fitted.
 */
export function calibrate(table: LatencyTable, pairs: { sum: number; measuredMs: number }[]): LatencyTable {
  let scale = 1;
  let offset = 0;
  if (pairs.length === 1) scale = pairs[0].sum > 0 ? pairs[0].measuredMs / pairs[0].sum : 1;
  else if (pairs.length > 1) {
    const n = pairs.length;
    const mx = pairs.reduce((s, p) => s + p.sum, 0) / n;
    const my = pairs.reduce((s, p) => s + p.measuredMs, 0) / n;
    const sxx = pairs.reduce((s, p) => s + (p.sum - mx) ** 2, 0);
    const sxy = pairs.reduce((s, p) => s + (p.sum - mx) * (p.measuredMs - my), 0);
    scale = sxx > 0 ? sxy / sxx : my / mx;
    offset = my - scale * mx;
    if (!(scale > 0) || offset < 0) {
      // An inverted fit cannot rank policies, and a negative offset predicts negative times for
      // small policies: fall back to proportionality (least squares through the origin).
      const sxx0 = pairs.reduce((s, p) => s + p.sum * p.sum, 0);
      scale = sxx0 > 0 ? pairs.reduce((s, p) => s + p.sum * p.measuredMs, 0) / sxx0 : 1;
      offset = 0;
    }
  }
  const error = pairs.length ? pairs.reduce((s, p) => s + Math.abs(scale * p.sum + offset - p.measuredMs) / p.measuredMs, 0) / pairs.length : undefined;
  return { ...table, scale, offset, calibrationError: error };
}
