/**
 * The flat graph as one functional model: nested Sequential/Model layers become plain layers named
 * by their graph ids, so any tensor in the network can be asked for as an output (features for the
 * refit, activations for inspection). It computes exactly what the nested model computes.
 */
import type { ModelAnalysis } from './analyze';
import type { KerasLayerJson, KerasTopology, LoadedModel, WeightArray } from './types';

export interface FlatModel {
  topology: KerasTopology;
  weights: WeightArray[];
}

const tensorRef = (analysis: ModelAnalysis, tensor: string): [string, number, number, Record<string, never>] => [
  analysis.graph.tensors.get(tensor)!.producer,
  0,
  0,
  {},
];

/** A functional model whose outputs are `outputs` (graph tensor ids; the model outputs by default). */
export function flattenModel(model: LoadedModel, analysis: ModelAnalysis, outputs: readonly string[] = analysis.graph.outputs): FlatModel {
  const { graph } = analysis;
  // Only what the outputs depend on (and every input): tfjs refuses weights of layers it does not build.
  const needed = new Set<string>();
  const stack = [...outputs];
  while (stack.length) {
    const layer = graph.byId.get(graph.tensors.get(stack.pop()!)!.producer)!;
    if (needed.has(layer.id)) continue;
    needed.add(layer.id);
    stack.push(...layer.inputs);
  }
  const kept = graph.layers.filter((l) => needed.has(l.id) || l.className === 'InputLayer');
  const layers: KerasLayerJson[] = kept.map((l) => {
    const config: Record<string, unknown> = { ...l.config, name: l.id };
    if (l.className === 'InputLayer') {
      config.batch_input_shape = graph.tensors.get(l.output)!.shape;
      delete config.input_shape;
    } else {
      // Shapes declared inside nested models are re-derived from the inputs.
      delete config.batch_input_shape;
      delete config.input_shape;
    }
    return {
      name: l.id,
      class_name: l.className,
      config,
      inbound_nodes: l.className === 'InputLayer' ? [] : [l.inputs.map((t) => tensorRef(analysis, t))],
    };
  });
  const weights = kept.flatMap((l) =>
    l.weights.map((full) => {
      const w = model.byName.get(full)!;
      return { ...w, name: `${l.id}/${full.slice(l.name.length + 1)}` };
    }),
  );
  const topology: KerasTopology = {
    keras_version: model.topology.keras_version ?? '2.x',
    backend: 'tensorflow',
    model_config: {
      class_name: 'Model',
      config: {
        name: 'flat',
        layers,
        input_layers: graph.inputs.map((t) => tensorRef(analysis, t).slice(0, 3)),
        output_layers: outputs.map((t) => tensorRef(analysis, t).slice(0, 3)),
      },
    },
  };
  return { topology, weights };
}
