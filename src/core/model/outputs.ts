/**
 * A model's outputs, and keeping only some of them. Channels that reach a model output cannot be
 * pruned (the output would change shape), so a visualisation export that exposes every
 * intermediate layer as an output has nothing prunable; `keepOutputs` drops the outputs the user
 * does not need, and the layers only they needed, before anything else runs.
 */
import type { ModelAnalysis } from './analyze';
import { ModelError } from './errors';
import { layerName, walkLayers } from './load';
import type { KerasLayerJson, LoadedModel, WeightArray } from './types';

type Ref = [string, number, number];

const BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

function rootOf(model: LoadedModel): KerasLayerJson {
  return model.topology.model_config!;
}

/** The names of the model's outputs, as `keepOutputs` takes them: the layers its output_layers name (a Sequential: its last layer). */
export function modelOutputNames(model: LoadedModel): string[] {
  const root = rootOf(model);
  if (root.class_name === 'Sequential') {
    const layers = (root.config.layers ?? []) as KerasLayerJson[];
    return layers.length ? [layerName(layers[layers.length - 1])] : [];
  }
  return [...new Set(((root.config.output_layers ?? []) as Ref[]).map(([name]) => name))];
}

const list = (names: string[]) => names.map((n) => `'${n}'`).join(', ');

/**
 * The model with only the outputs named in `names` (in the model's own order), the layers no kept
 * output needs removed, and their weights dropped. Inputs no kept output reads are dropped too
 * (said in the notes). Returns the model itself when every output is kept.
 */
export function keepOutputs(model: LoadedModel, names: readonly string[]): LoadedModel {
  const all = modelOutputNames(model);
  const wanted = [...new Set(names.map((n) => n.trim()).filter(Boolean))];
  const fix = `Name one or more of its outputs, separated by commas: ${all.join(',')}.`;
  if (!wanted.length) throw new ModelError(model.source, 'no output was named to keep.', fix);
  const unknown = wanted.filter((n) => !all.includes(n));
  if (unknown.length) throw new ModelError(model.source, `has no output named ${list(unknown)}; its outputs are ${list(all)}.`, fix);
  if (all.every((n) => wanted.includes(n))) return model;

  const root = rootOf(model);
  const cfg = root.config as Record<string, unknown>;
  const layers = (cfg.layers ?? []) as KerasLayerJson[];
  const byName = new Map(layers.map((l) => [layerName(l), l]));
  // Every layer a kept output reads, through every call of it (a kept layer keeps all its calls, so its node numbers stay).
  const needed = new Set<string>();
  const stack = [...wanted];
  while (stack.length) {
    const name = stack.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    for (const node of byName.get(name)?.inbound_nodes ?? []) for (const [from] of node) if (!needed.has(from)) stack.push(from);
  }
  const kept = layers.filter((l) => needed.has(layerName(l)));
  const removed = layers.filter((l) => !needed.has(layerName(l)));
  const inputs = ((cfg.input_layers ?? []) as Ref[]).filter(([n]) => needed.has(n));
  const droppedInputs = ((cfg.input_layers ?? []) as Ref[]).filter(([n]) => !needed.has(n)).map(([n]) => n);
  const outputs = ((cfg.output_layers ?? []) as Ref[]).filter(([n]) => wanted.includes(n));
  const newRoot: KerasLayerJson = { ...root, config: { ...cfg, layers: kept, input_layers: inputs, output_layers: outputs } };

  // Weights belong to layers by name (nested models' layers included); a name a kept layer also uses stays.
  const namesIn = (ls: KerasLayerJson[]) => {
    const s = new Set<string>();
    for (const l of ls) walkLayers(l, (x) => s.add(layerName(x)));
    return s;
  };
  const keptNames = namesIn(kept);
  const removedNames = [...namesIn(removed)].filter((n) => !keptNames.has(n));
  const removedSet = new Set(removedNames);
  const owner = (w: WeightArray) => w.name.slice(0, w.name.lastIndexOf('/'));
  const weights = model.weights.filter((w) => !removedSet.has(owner(w)));
  const droppedBytes = model.weights
    .filter((w) => removedSet.has(owner(w)))
    .reduce((n, w) => n + w.values.length * (Object.hasOwn(BYTES, w.storedAs) ? BYTES[w.storedAs] : 4), 0);
  const topology = { ...model.topology, model_config: newRoot };
  const dropped = all.filter((n) => !wanted.includes(n));
  const layerCount = removed.filter((l) => l.class_name !== 'InputLayer' && !dropped.includes(layerName(l))).length;
  const note =
    `kept the output${wanted.length > 1 ? 's' : ''} ${list(all.filter((n) => wanted.includes(n)))} of ${all.length}; dropped ${list(dropped)}` +
    (layerCount > 0 ? ` and ${layerCount} layer${layerCount > 1 ? 's' : ''} only they needed` : '') +
    (droppedInputs.length ? `, and the input${droppedInputs.length > 1 ? 's' : ''} ${list(droppedInputs)} no kept output reads` : '');
  return {
    ...model,
    modelJson: { ...model.modelJson, modelTopology: topology },
    topology,
    weights,
    byName: new Map(weights.map((w) => [w.name, w])),
    bytesOnDisk: Math.max(0, model.bytesOnDisk - droppedBytes),
    notes: [...model.notes, note],
  };
}

/**
 * Why outputs hold the model back, when they do: with several outputs, the groups frozen only
 * because they reach one. `nothing` is true when no group is prunable at all (a visualisation
 * export): then pruning would write the same model, and the caller should refuse and say so.
 */
export interface OutputFreeze {
  outputs: string[];
  frozenGroups: number;
  nothing: boolean;
  message: string;
}

export function outputFreeze(model: LoadedModel, analysis: ModelAnalysis): OutputFreeze | undefined {
  const outputs = modelOutputNames(model);
  if (analysis.graph.outputs.length < 2) return undefined;
  const frozen = analysis.groups.filter((g) => g.outputOnly);
  if (!frozen.length) return undefined;
  const nothing = !analysis.groups.some((g) => g.prunable);
  const shown = outputs.length > 6 ? `${list(outputs.slice(0, 6))} and ${outputs.length - 6} more` : list(outputs);
  const message = nothing
    ? `every channel group is frozen because it reaches one of the model's ${outputs.length} outputs (${shown}), so nothing can be pruned: pruning would change what those outputs return.`
    : `${frozen.length} channel group${frozen.length > 1 ? 's are' : ' is'} frozen only because ${frozen.length > 1 ? 'they reach' : 'it reaches'} one of the model's ${outputs.length} outputs (${shown}).`;
  return { outputs, frozenGroups: frozen.length, nothing, message };
}
