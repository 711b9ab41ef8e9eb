import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { LAYER_HANDLERS, type Shape } from './layers';

/**
 * Every handler that has weights, walked against the weights tfjs itself creates for a tiny layer
 * of that class: names in saved order, the channel axes slicing and ranking read, parameters,
 * output shape. Configs cover the variants that change the weight list (use_bias, scale, center).
 * Input channels are 3 and output channels 4, so an axis on the wrong dimension cannot pass.
 */
const CIN = 3;
const COUT = 4;
type Sample = { config: Record<string, unknown>; input: number[] };
const image = (config: Record<string, unknown>): Sample => ({ config, input: [5, 6, CIN] });
const sequence = (config: Record<string, unknown>): Sample => ({ config, input: [7, CIN] });

const SAMPLES: Record<string, Sample[]> = {
  Conv1D: [sequence({ filters: COUT, kernel_size: [3], padding: 'same' }), sequence({ filters: COUT, kernel_size: 2, strides: 2, dilation_rate: 1, use_bias: false })],
  Conv2D: [image({ filters: COUT, kernel_size: [3, 3], padding: 'same' }), image({ filters: COUT, kernel_size: 1, strides: 2, use_bias: false })],
  Conv2DTranspose: [image({ filters: COUT, kernel_size: 3, strides: 2, padding: 'same' }), image({ filters: COUT, kernel_size: 2, use_bias: false })],
  SeparableConv2D: [image({ filters: COUT, kernel_size: 3 }), image({ filters: COUT, kernel_size: 3, padding: 'same', use_bias: false })],
  DepthwiseConv2D: [image({ kernel_size: 3 }), image({ kernel_size: 3, padding: 'same', use_bias: false })],
  Dense: [{ config: { units: COUT }, input: [CIN] }, sequence({ units: COUT, use_bias: false })],
  BatchNormalization: [image({}), image({ scale: false }), image({ center: false })],
  PReLU: [image({ shared_axes: [1, 2] })],
  Embedding: [{ config: { input_dim: 10, output_dim: COUT }, input: [7] }],
  LayerNormalization: [image({})],
  LSTM: [sequence({ units: COUT })],
  GRU: [sequence({ units: COUT })],
  SimpleRNN: [sequence({ units: COUT, return_sequences: true })],
};

async function tfjsLayer(className: string, { config, input }: Sample): Promise<{ model: tf.LayersModel; layer: tf.layers.Layer }> {
  const topology: object = {
    class_name: 'Sequential',
    config: {
      name: 'walk',
      layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, ...input], dtype: 'float32', name: 'walk_input' } },
        { class_name: className, config: { ...config, name: 'probe' } },
      ],
    },
    keras_version: 'tfjs-layers',
    backend: 'tensor_flow.js',
  };
  const model = await tf.models.modelFromJSON({ modelTopology: topology } as tf.io.ModelJSON);
  return { model, layer: model.getLayer('probe') };
}

const probeShape = (input: number[]): Shape[] => [[null, ...input]];

describe('layer registry', () => {
  const weighted = Object.entries(LAYER_HANDLERS)
    .filter(([, h]) => h.weights({}, probeShape([5, 6, CIN])).length > 0)
    .map(([c]) => c);

  it('has tiny samples for exactly the classes whose handlers have weights', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...weighted].sort());
  });

  for (const className of Object.keys(SAMPLES)) {
    it(`${className}: weight names, channel axes, parameters and output shape match what tfjs creates`, async () => {
      const h = LAYER_HANDLERS[className];
      const seen = new Set<string>();
      for (const sample of SAMPLES[className]) {
        const { model, layer } = await tfjsLayer(className, sample);
        try {
          const inputs = probeShape(sample.input);
          const output = h.outputShape(sample.config, inputs);
          expect(output, `${className} ${JSON.stringify(sample.config)}: output shape`).toEqual(layer.outputShape);
          const created = layer.weights.map((w) => ({ name: w.originalName.replace(/^probe\//, ''), shape: w.shape }));
          expect(h.weights(sample.config, inputs), `${className} ${JSON.stringify(sample.config)}: weight names in saved order`).toEqual(created.map((w) => w.name));
          expect(h.params(sample.config, inputs, output), `${className}: params`).toBe(layer.countParams());
          if (h.widthKey) expect(output[output.length - 1], `${className}: widthKey sets the output channels`).toBe(sample.config[h.widthKey]);
          const shapes = h.weightShapes?.(sample.config, inputs, output);
          if (shapes) {
            for (const w of created) expect(shapes[w.name], `${className} ${JSON.stringify(sample.config)}: shape of '${w.name}'`).toEqual(w.shape);
          }
          for (const w of created) {
            seen.add(w.name);
            if (!h.axes) continue;
            const axes = h.axes[w.name];
            expect(axes, `${className}: slicing axes for '${w.name}'`).toBeDefined();
            for (const { axis, role } of axes) {
              const size = w.shape[axis < 0 ? axis + w.shape.length : axis];
              expect(size, `${className} '${w.name}' [${w.shape}] axis ${axis} (${role})`).toBe(role === 'in' ? CIN : COUT);
            }
          }
        } finally {
          model.dispose();
        }
      }
      if (h.axes) {
        // Every axis the registry names belongs to a weight tfjs creates.
        expect([...seen].sort(), `${className}: weights with slicing axes`).toEqual(Object.keys(h.axes).sort());
        const roles = Object.values(h.axes).flatMap((axes) => axes.map((a) => a.role));
        // Pass-through layers only follow their input channels; producers also make output channels.
        if (h.flow === 'pass') expect(roles, `${className}: a pass-through layer has only 'in' axes`).not.toContain('out');
        if (h.flow === 'produce') expect(roles, `${className}: a producer has 'in' and 'out' axes`).toEqual(expect.arrayContaining(['in', 'out']));
      } else {
        expect(h.flow, `${className}: a layer with weights and no slicing axes must freeze its groups`).toBe('freeze');
      }
    });
  }

  it('states the shape of every weight the loader checks, for every class with weights', () => {
    const unchecked = Object.keys(SAMPLES).filter((c) => !LAYER_HANDLERS[c].weightShapes);
    expect(unchecked).toEqual([]);
  });

  it('refitted classes keep the kernel the refit solves as [..., in, out]', () => {
    const refitted = Object.entries(LAYER_HANDLERS).filter(([, h]) => h.refit?.({}));
    expect(refitted.map(([c]) => c).sort()).toEqual(['Conv1D', 'Conv2D', 'Dense']);
    for (const [className, h] of refitted) {
      const rank = h.refit?.({}) === 'dense' ? 2 : className === 'Conv1D' ? 3 : 4;
      expect(h.axes?.kernel, className).toEqual([{ axis: rank - 2, role: 'in' }, { axis: rank - 1, role: 'out' }]);
    }
    expect(LAYER_HANDLERS.Conv2D.refit?.({ groups: 2 })).toBeUndefined();
  });

  // Layers without weights whose shape rule is their own (not their input's): each against tfjs's computeOutputShape.
  const SHAPED: [string, Sample][] = [
    ['MaxPooling1D', sequence({ pool_size: [2], strides: null, padding: 'valid' })],
    ['MaxPooling1D', sequence({ pool_size: 3, strides: 2, padding: 'same' })],
    ['AveragePooling1D', sequence({ pool_size: [2], strides: [1], padding: 'valid' })],
    ['GlobalAveragePooling1D', sequence({})],
    ['GlobalMaxPooling1D', sequence({})],
    ['MaxPooling2D', image({ pool_size: [2, 2], padding: 'same' })],
    ['AveragePooling2D', image({ pool_size: 3, strides: 1 })],
    ['GlobalAveragePooling2D', image({})],
  ];
  for (const [className, sample] of SHAPED) {
    it(`${className} ${JSON.stringify(sample.config)}: output shape matches tfjs`, async () => {
      const { model, layer } = await tfjsLayer(className, sample);
      try {
        expect(LAYER_HANDLERS[className].outputShape(sample.config, probeShape(sample.input))).toEqual(layer.outputShape);
      } finally {
        model.dispose();
      }
    });
  }

  it('times every layer that does work at inference, and no view or no-op', () => {
    const untimed = Object.entries(LAYER_HANDLERS).filter(([, h]) => !h.timed).map(([c]) => c);
    expect(untimed.sort()).toEqual(['AlphaDropout', 'Dropout', 'Flatten', 'GaussianDropout', 'GaussianNoise', 'InputLayer', 'Reshape', 'SpatialDropout1D']);
  });
});
