/** Small read-only facts about a loaded model that the view needs and the analysis does not carry. */
import type { KerasLayerJson, LoadedModel } from '../../core/model/types';

/** Declared input shapes (batch included) of every input layer or first layer, nested models included. */
export function declaredInputShapes(model: LoadedModel): (number | null)[][] {
  const shapes: (number | null)[][] = [];
  const visit = (l: KerasLayerJson, isFirst: boolean) => {
    const c = (l?.config ?? {}) as Record<string, unknown>;
    const shape = (c.batch_input_shape ?? c.batch_shape) as (number | null)[] | undefined;
    if (Array.isArray(shape) && (l.class_name === 'InputLayer' || isFirst)) shapes.push(shape);
    const layers = c.layers;
    if (Array.isArray(layers)) layers.forEach((x, i) => visit(x as KerasLayerJson, i === 0));
  };
  const root = model.topology.model_config;
  if (root) visit(root, true);
  return shapes;
}

/** True when some input has an unknown size besides the batch axis (e.g. [null, null, null, 3]). */
export function dynamicInputs(model: LoadedModel): boolean {
  return declaredInputShapes(model).some((s) => s.slice(1).some((d) => d === null || d === undefined || d < 0));
}

/** Teachable Machine and similar exports bring labels along. */
export function sidecarLabels(model: LoadedModel): string[] | undefined {
  for (const v of Object.values(model.sidecars)) {
    const labels = (v as { labels?: unknown })?.labels;
    if (Array.isArray(labels) && labels.every((x) => typeof x === 'string')) return labels as string[];
  }
  return undefined;
}
