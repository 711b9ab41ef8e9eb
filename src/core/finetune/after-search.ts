/**
 * The fine-tune that ends a search: the best policy's model (and the uniform baseline's, so the two
 * are compared recovered, not only raw) distilled from the original, with a labeled test set
 * scored before and after. What report.json's `finetune` holds.
 */
import { evaluateAccuracy } from '../measure/accuracy';
import { disposeModel, instantiate } from '../model/tfjs-model';
import type { LoadedModel } from '../model/types';
import type { FinetuneConfig } from './config';
import type { EpochLog, FinetuneData } from './distiller';
import { recover, type RecoverHooks } from './recover';

export interface LabeledImages {
  images: Uint8Array;
  labels: Int32Array;
  /** Where they come from, e.g. "demo:test (2000 images)". */
  name: string;
}

export interface RecoveredPolicy {
  /** Test top-1 before and after (the best held-out epoch), when a labeled test set was given. */
  testBefore?: number;
  testAfter?: number;
  bestEpoch: number;
  stopReason: string | null;
  history: EpochLog[];
  seconds: number;
}

/** Top-1 of `model` on `test` (32x32 RGB demo images scaled to [0, 1], as `FinetuneData` for the demo). */
export async function testTop1(model: LoadedModel, test: LabeledImages, data: Pick<FinetuneData, 'layout' | 'scaling'>): Promise<number> {
  const net = await instantiate(model);
  try {
    const { height, width, channels } = data.layout;
    return (await evaluateAccuracy(net, test.images, test.labels, { batchSize: 250, imageSize: [height, width], channels, scaling: data.scaling })).top1;
  } finally {
    disposeModel(net);
  }
}

export async function recoverPolicy(
  original: LoadedModel,
  pruned: LoadedModel,
  data: FinetuneData,
  opts: { overrides?: Partial<FinetuneConfig>; test?: LabeledImages; hooks?: RecoverHooks } = {},
): Promise<{ model: LoadedModel; report: RecoveredPolicy }> {
  const t0 = performance.now();
  const testBefore = opts.test ? await testTop1(pruned, opts.test, data) : undefined;
  const r = await recover(pruned, original, data, opts.overrides, opts.hooks);
  const testAfter = opts.test ? await testTop1(r.model, opts.test, data) : undefined;
  return {
    model: r.model,
    report: { testBefore, testAfter, bestEpoch: r.bestEpoch, stopReason: r.stopReason, history: r.history, seconds: (performance.now() - t0) / 1000 },
  };
}
