/**
 * A whole fine-tune, start to end: what `amc finetune` and a search that ends with recovery run.
 * The app's worker drives a `Distiller` epoch by epoch instead (it pauses and saves between them).
 */
import type { LoadedModel } from '../model/types';
import type { FinetuneConfig } from './config';
import { Distiller, type EpochHooks, type EpochLog, type FinetuneData, type StopReason } from './distiller';

export interface RecoverHooks extends EpochHooks {
  /** Once the pruned model is scored (epoch 0), before any training. */
  onStart?: (d: Distiller) => void | Promise<void>;
  /** After every finished epoch, with the model as it is then (for checkpoints and per-epoch scores). */
  onEpoch?: (log: EpochLog, d: Distiller) => void | Promise<void>;
}

export interface Recovery {
  /** The best held-out epoch's model (epoch 0: the pruned model unchanged). */
  model: LoadedModel;
  bestEpoch: number;
  history: EpochLog[];
  stopReason: StopReason | null;
  config: FinetuneConfig;
  trainImages: number;
  heldOutImages: number;
}

export async function recover(student: LoadedModel, teacher: LoadedModel, data: FinetuneData, overrides: Partial<FinetuneConfig> = {}, hooks: RecoverHooks = {}): Promise<Recovery> {
  const d = await Distiller.create(student, teacher, data, overrides);
  try {
    await hooks.onStart?.(d);
    while (!d.finished) {
      const log = await d.runEpoch(hooks);
      if (!log) {
        d.stop();
        break;
      }
      await hooks.onEpoch?.(log, d);
    }
    return { model: d.bestModel(), bestEpoch: d.best.epoch, history: d.history, stopReason: d.stopReason, config: d.config, trainImages: d.train.length, heldOutImages: d.heldOut.length };
  } finally {
    d.dispose();
  }
}
