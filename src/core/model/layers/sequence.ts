/** Sequence layers: Embedding and the recurrent layers. All freeze the groups they touch. */
import type { EmbeddingLayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/layers/embeddings_serialization';
import type { SimpleRNNLayerConfig } from '@tensorflow/tfjs-layers/dist/keras_format/layers/recurrent_serialization';
import { freezeHandler, last, num, type LayerHandler } from './handler';

export const embedding = freezeHandler<EmbeddingLayerConfig>('Embedding', {
  outputShape: (cfg, [x]) => [...x, num(cfg.output_dim, 0)],
  weights: () => ['embeddings'],
  weightShapes: (cfg) => ({ embeddings: [num(cfg.input_dim, 0), num(cfg.output_dim, 0)] }),
  params: (cfg) => num(cfg.input_dim, 0) * num(cfg.output_dim, 0),
});

/** LSTM, GRU and SimpleRNN differ in their gate count (LSTMLayerConfig and GRULayerConfig only add keys to SimpleRNN's). */
export function recurrent(cls: 'LSTM' | 'GRU' | 'SimpleRNN'): LayerHandler<SimpleRNNLayerConfig> {
  const gates = { LSTM: 4, GRU: 3, SimpleRNN: 1 }[cls];
  return freezeHandler<SimpleRNNLayerConfig>(`recurrent layer (${cls})`, {
    outputShape: (cfg, [x]) => (cfg.return_sequences ? [x[0], x[1], num(cfg.units, 0)] : [x[0], num(cfg.units, 0)]),
    weights: () => ['kernel', 'recurrent_kernel', 'bias'],
    weightShapes: (cfg, [x]) => {
      const u = num(cfg.units, 0);
      return { kernel: [last(x), gates * u], recurrent_kernel: [u, gates * u], bias: [gates * u] };
    },
    params: (cfg, [x]) => {
      const u = num(cfg.units, 0);
      return gates * (last(x) * u + u * u + u);
    },
    macs: (cfg, [x]) => {
      const u = num(cfg.units, 0);
      return gates * (last(x) + u) * u * (x[1] ?? 1);
    },
  });
}
