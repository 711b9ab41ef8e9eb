/**
 * The physical pruning: a new model.json and new weights with the removed channels gone.
 * Pure data in, data out: the config's channel counts are rewritten and every weight is sliced on
 * the axes SLICE_RULES names, so tfjs loads the result with tf.io.fromMemory like any export.
 */
import type { ModelAnalysis } from '../model/analyze';
import { walkLayers, layerName } from '../model/load';
import type { KerasLayerJson, KerasTopology, LoadedModel, WeightArray } from '../model/types';
import { keptIndices, totalLength, type KeptChannels } from './masks';
import { normalizeAxis, sliceAxis } from './ndarray';
import { SLICE_RULES } from './weight-axes';

export function rebuildModel(model: LoadedModel, analysis: ModelAnalysis, kept: KeptChannels): LoadedModel {
  const { graph, groupAnalysis } = analysis;
  const sliced = new Map<string, WeightArray>();
  const outputCounts = new Map<string, { key: string; value: number }>();
  for (const layer of graph.layers) {
    const rule = SLICE_RULES[layer.className];
    if (!rule || layer.call > 0) continue;
    const inLayout = groupAnalysis.layouts.get(layer.inputs[0])!;
    const outLayout = groupAnalysis.layouts.get(layer.output)!;
    const inIdx = keptIndices(inLayout, kept);
    const outIdx = keptIndices(outLayout, kept);
    const inAll = inIdx.length === totalLength(inLayout);
    const outAll = outIdx.length === totalLength(outLayout);
    if (rule.outputCountKey && !outAll) outputCounts.set(layer.name, { key: rule.outputCountKey, value: outIdx.length });
    if (inAll && outAll) continue;
    for (const [short, axes] of Object.entries(rule.weights)) {
      const original = model.byName.get(`${layer.name}/${short}`);
      if (!original) continue;
      let { values, shape } = original;
      for (const { axis, role } of axes) {
        const idx = role === 'in' ? inIdx : outIdx;
        if (role === 'in' ? inAll : outAll) continue;
        // Per-channel weights of a pass-through layer may carry broadcast axes (PReLU alpha [1,1,C]).
        if (shape[normalizeAxis(axis, shape.length)] !== (role === 'in' ? totalLength(inLayout) : totalLength(outLayout))) continue;
        ({ values, shape } = sliceAxis(values, shape, axis, idx));
      }
      sliced.set(original.name, { ...original, values, shape });
    }
  }
  const weights = model.weights.map((w) => sliced.get(w.name) ?? w);
  const declared = new Map(
    graph.declaredInputs.map(({ layer, tensor }) => [layer, keptIndices(groupAnalysis.layouts.get(tensor)!, kept).length]),
  );
  const topology = rewriteCounts(model.topology, outputCounts, declared);
  // The manifest is written at export (export/files.ts); every episode only needs the byte count.
  const modelJson = { ...model.modelJson, modelTopology: topology };
  const jsonBytes = new TextEncoder().encode(JSON.stringify(modelJson)).byteLength;
  const weightBytes = weights.reduce((n, w) => n + w.values.byteLength, 0);
  return {
    ...model,
    modelJson,
    topology,
    weights,
    byName: new Map(weights.map((w) => [w.name, w])),
    bytesOnDisk: jsonBytes + weightBytes,
    notes: [...model.notes.filter((n) => !n.includes('dequantized')), `pruned from ${model.source}`],
  };
}

function rewriteCounts(
  topology: KerasTopology,
  counts: Map<string, { key: string; value: number }>,
  declaredInputChannels: Map<string, number>,
): KerasTopology {
  const copy = structuredClone(topology);
  walkLayers(copy.model_config as KerasLayerJson, (l) => {
    const name = layerName(l);
    const c = counts.get(name);
    if (c) l.config[c.key] = c.value;
    const channels = declaredInputChannels.get(name);
    const shape = l.config.batch_input_shape;
    if (channels !== undefined && Array.isArray(shape)) l.config.batch_input_shape = [...shape.slice(0, -1), channels];
  });
  return copy;
}
