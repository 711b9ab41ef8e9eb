/**
 * The messages between the page and the fine-tune worker (src/workers/finetune.worker.ts), both
 * ways, and the records a fine-tune keeps in IndexedDB (src/workers/finetune-store.ts).
 *
 * Plain, structured-cloneable data only. Both models travel as the two files of a tfjs export
 * (the same shape the search worker takes, `ModelFiles`); the student comes back as its weight
 * arrays (`ModelPayload`). The demo dataset is named (split, count) and generated in the worker;
 * the user's images travel as raw bytes at the model's input size. Nothing here imports tfjs.
 */
import type { BackendInfo, BackendName } from '../core/measure/backends';
import type { Scaling } from '../core/data/procedural';
import type { ImageLayout } from '../core/finetune/batches';
import type { FinetuneConfig } from '../core/finetune/config';
import type { EpochLog, FinetuneSnapshot, StopReason } from '../core/finetune/distiller';
import { buffersOf, type ModelFiles, type ModelPayload } from './payload';

export type { ModelFiles, ModelPayload };

/** Demo splits the worker can generate (the same bytes everywhere). */
export type DemoTrainSplit = 'train' | 'val' | 'test';

/**
 * The images a fine-tune trains on (its held-out slice is carved from them, seeded).
 * `labeled: false` trains by distillation alone.
 */
export type FinetuneDataSpec =
  | { kind: 'demo'; split: DemoTrainSplit; count: number; labeled: boolean; scaling?: Scaling; augment: boolean }
  | { kind: 'images'; name: string; images: Uint8Array; labels?: Int32Array; layout: ImageLayout; scaling?: Scaling };

/** What the saved fine-tune says about its data (the bytes of user images are kept apart). */
export type FinetuneDataChoice =
  | Extract<FinetuneDataSpec, { kind: 'demo' }>
  | { kind: 'images'; name: string; count: number; labeled: boolean };

export function dataChoiceOf(spec: FinetuneDataSpec): FinetuneDataChoice {
  if (spec.kind === 'demo') return { ...spec };
  const per = spec.layout.height * spec.layout.width * spec.layout.channels;
  return { kind: 'images', name: spec.name, count: Math.floor(spec.images.length / per), labeled: spec.labels !== undefined };
}

/** "demo:train (256 images, labels)" */
export function dataText(d: FinetuneDataChoice): string {
  const what = d.kind === 'demo' ? `demo:${d.split}` : d.name;
  return `${what} (${d.count.toLocaleString('en-US')} images, ${d.labeled ? 'labels + distillation' : 'distillation only'})`;
}

/** The saved summary of one fine-tune: small, read on every page load. */
export interface FinetuneMeta {
  id: string;
  version: 1;
  createdAt: number;
  updatedAt: number;
  /** The original model as the user knew it (model.json's name) and its fingerprint. */
  teacher: { name: string; fingerprint: string };
  /** Which pruned model: "Prune panel, 50% MACs" or "search episode 12". */
  studentLabel: string;
  data: FinetuneDataChoice;
  epochs: number;
  epochsDone: number;
  history: EpochLog[];
  bestEpoch: number;
  /** Set when the run ended (finished, early stop, or the user's Stop). */
  stopReason: StopReason | null;
  backend?: string;
  /** The backend each epoch trained on (a resume or a fallback can change it). */
  epochBackends?: Record<number, string>;
  elapsedMs: number;
}

/** An unfinished fine-tune the page can offer to resume after a reload. */
export function isResumable(m: FinetuneMeta): boolean {
  return m.stopReason === null && m.epochsDone < m.epochs;
}

export type FinetuneStatus = 'running' | 'paused' | 'done';

/** Page -> worker. */
export type ToFinetune =
  | {
      type: 'start';
      id: string;
      teacher: ModelFiles;
      student: ModelFiles;
      data: FinetuneDataSpec;
      config: Partial<FinetuneConfig>;
      /** A saved run to continue (its config wins); null starts fresh. */
      resume: FinetuneSnapshot | null;
      /** The summary to keep up to date after every epoch; null: nothing is saved. */
      meta: FinetuneMeta | null;
      /** The backend to try first (absent: the worker's initBackend order, a real WebGPU adapter first, else WASM; see finetune.worker.ts). */
      backend?: BackendName;
      /** Train right away (false: load, restore and wait for 'resume'). */
      run: boolean;
    }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Ends the run where it is; the best epoch so far is the result. */
  | { type: 'stop' };

/** Worker -> page. */
export type FromFinetune =
  | {
      type: 'ready';
      backend: BackendInfo;
      stepsPerEpoch: number;
      epochs: number;
      /** What the run trains with (defaults, the demo's augmentation, a resumed run's saved config). */
      config: FinetuneConfig;
      /** Images trained on and held out (carved from the training images). */
      trainImages: number;
      heldOutImages: number;
      labeled: boolean;
      /** Epoch 0 (the pruned model as it came) and any epochs restored from a snapshot. */
      history: EpochLog[];
      bestEpoch: number;
      elapsedMs: number;
      /** The backend each restored epoch trained on. */
      epochBackends: Record<number, string>;
    }
  /** After every training step: `done` of `total` steps of epoch `epoch` (1-based), that step's loss. */
  | { type: 'step'; epoch: number; done: number; total: number; loss: number; epochMs: number }
  | { type: 'epoch'; log: EpochLog; backend: string; bestEpoch: number; saved: boolean; tensors: number; elapsedMs: number }
  | { type: 'status'; status: FinetuneStatus; stopReason: StopReason | null; epochsDone: number; elapsedMs: number }
  /** The best epoch's model, sent when the run ends (and on its way to the end, after a better epoch). */
  | { type: 'result'; model: ModelPayload; bestEpoch: number; stopReason: StopReason | null }
  | { type: 'error'; message: string; fatal: boolean };

/** The transfer list of a page -> worker message. */
export function transferOf(msg: ToFinetune): ArrayBuffer[] {
  if (msg.type !== 'start') return [];
  const arrays: (ArrayBufferView | ArrayBuffer)[] = [msg.teacher.weights, msg.student.weights];
  if (msg.data.kind === 'images') {
    arrays.push(msg.data.images);
    if (msg.data.labels) arrays.push(msg.data.labels);
  }
  return buffersOf(arrays);
}
