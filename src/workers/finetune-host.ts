/**
 * What the fine-tune worker does, without the worker: it loads the original (teacher) and the
 * pruned model (student), builds the training images, trains epoch after epoch with a Distiller
 * (src/core/finetune/distiller.ts), reports every step and every epoch, saves a snapshot after
 * every epoch, and pauses, resumes and stops on request. The worker file binds it to `self`;
 * tests drive it in Node with an in-memory store.
 *
 * Order after an epoch: save (snapshot + summary, one transaction), then post it with whether it
 * was saved, so the page never says a reload resumes an epoch that was not written (the store
 * refuses a run that is no longer the saved one: another tab discarded or replaced it).
 *
 * Pause waits between two steps (the epoch goes on where it was when resumed: the run stays the
 * run it would have been). Stop ends at the next step; the best epoch so far is the result (the
 * partial epoch is dropped: the held-out score decides, and it was not taken).
 *
 * A GPU backend that fails while the run is set up, or during an epoch, hands over to WASM (with
 * the backprop kernels WASM lacks installed, src/core/finetune/wasm-gradients.ts): the run goes on
 * from the last saved epoch, and the page is told. A failure on WASM itself is fatal.
 */
import * as tf from '@tensorflow/tfjs';
import { generateDataset, IMAGE_SIZE } from '../core/data/procedural';
import { DEMO_AUGMENT } from '../core/finetune/config';
import { Distiller, FinetuneError, type EpochLog, type FinetuneData, type FinetuneSnapshot } from '../core/finetune/distiller';
import type { BackendInfo, BackendName } from '../core/measure/backends';
import { loadModel } from '../core/model/load';
import type { LoadedModel } from '../core/model/types';
import type { FinetuneStore } from './finetune-store';
import type { FinetuneDataSpec, FinetuneMeta, FinetuneStatus, FromFinetune, ToFinetune } from './finetune-messages';
import { modelFilesAsInput, toModelPayload } from './payload';
import { backendLabel, canFallBack } from '../core/measure/backends';
import { errLine } from '../core/errors';
import { RunControl } from './run-control';

export interface FinetuneHostDeps {
  post(msg: FromFinetune, transfer?: ArrayBuffer[]): void;
  /** Where the run is saved after every epoch; null saves nothing. */
  store: FinetuneStore | null;
  /** Initializes a backend (and, for WASM, the backprop kernels it lacks). */
  initBackend(preferred?: BackendName): Promise<BackendInfo>;
  /** Lets queued messages (pause, stop) in between steps. */
  yieldNow?: () => Promise<void>;
}

/** The training images and labels a spec names: the demo split generated here, or the user's bytes. */
export function finetuneData(spec: FinetuneDataSpec): FinetuneData {
  if (spec.kind === 'demo') {
    const d = generateDataset(spec.split, { count: spec.count });
    return {
      images: d.images,
      ...(spec.labeled ? { labels: d.labels } : {}),
      layout: { height: IMAGE_SIZE, width: IMAGE_SIZE, channels: 3 },
      ...(spec.scaling ? { scaling: spec.scaling } : {}),
    };
  }
  return { images: spec.images, ...(spec.labels ? { labels: spec.labels } : {}), layout: spec.layout, ...(spec.scaling ? { scaling: spec.scaling } : {}) };
}

interface Run {
  id: string;
  teacher: LoadedModel;
  student: LoadedModel;
  data: FinetuneData;
  overrides: Extract<ToFinetune, { type: 'start' }>['config'];
  backend: BackendInfo;
  distiller: Distiller;
  meta: FinetuneMeta | null;
  elapsedMs: number;
  /** The snapshot after the last finished epoch (what a backend fallback continues from). */
  lastGood: FinetuneSnapshot | null;
  /** The best epoch whose model the page has. */
  sentBest: number;
}

export class FinetuneHost {
  private run: Run | null = null;
  private ended = false;
  /** Pause, resume and stop (run-control.ts); the fine-tune loop is this host's. */
  private readonly control = new RunControl({ hasRun: () => this.run !== null, loop: () => this.loop(), finishStop: () => this.finishStop(), postStatus: () => this.postStatus() });
  private readonly yieldNow: () => Promise<void>;

  constructor(private readonly deps: FinetuneHostDeps) {
    this.yieldNow = deps.yieldNow ?? (() => new Promise((r) => setTimeout(r, 0)));
  }

  handle(msg: ToFinetune): Promise<void> {
    if (msg.type !== 'start') return this.control.command(msg.type);
    const refuse = () => this.deps.post({ type: 'error', message: 'this worker already runs a fine-tune; start another worker for a new one.', fatal: false });
    return this.control.start(msg.run, () => this.start(msg), refuse);
  }

  get status(): FinetuneStatus {
    if (this.ended || this.run?.distiller.finished) return 'done';
    return this.control.activity;
  }

  private async start(msg: Extract<ToFinetune, { type: 'start' }>): Promise<void> {
    const { post } = this.deps;
    try {
      const teacher = await loadModel(modelFilesAsInput(msg.teacher, 'original/model.json'));
      const student = await loadModel(modelFilesAsInput(msg.student, 'pruned/model.json'));
      const data = finetuneData(msg.data);
      const overrides = msg.data.kind === 'demo' && msg.data.augment ? { ...msg.config, augment: { ...DEMO_AUGMENT } } : msg.config;
      let backend = await this.deps.initBackend(msg.backend);
      let distiller: Distiller;
      try {
        distiller = await Distiller.create(student, teacher, data, overrides, msg.resume ?? undefined);
      } catch (e) {
        if (!canFallBack(backend.name) || e instanceof FinetuneError) throw e;
        const failed = backend;
        backend = await this.deps.initBackend('wasm');
        if (backend.name === failed.name) throw e;
        post({ type: 'error', message: `${backendLabel(failed.name)} failed while the fine-tune was set up (${errLine(e)}): it runs on ${backendLabel(backend.name)} instead.`, fatal: false });
        distiller = await Distiller.create(student, teacher, data, overrides, msg.resume ?? undefined);
      }
      const meta = msg.meta ? { ...msg.meta, backend: backend.name, epochs: distiller.config.epochs } : null;
      this.run = {
        id: msg.id,
        teacher,
        student,
        data,
        overrides,
        backend,
        distiller,
        meta,
        elapsedMs: msg.meta?.elapsedMs ?? 0,
        lastGood: msg.resume ?? null,
        sentBest: -1,
      };
      post({
        type: 'ready',
        backend,
        stepsPerEpoch: distiller.stepsPerEpoch,
        epochs: distiller.config.epochs,
        config: structuredClone(distiller.config),
        trainImages: distiller.train.length,
        heldOutImages: distiller.heldOut.length,
        labeled: distiller.labeled,
        history: distiller.history.map((h) => ({ ...h })),
        bestEpoch: distiller.best.epoch,
        elapsedMs: this.run.elapsedMs,
        epochBackends: { ...(msg.meta?.epochBackends ?? {}) },
      });
      // A restored run that already has a better model than the pruned one: the page gets it at once.
      if (distiller.best.epoch > 0 && !distiller.finished) this.postBest();
    } catch (e) {
      post({ type: 'error', message: errLine(e), fatal: true });
      return;
    }
    if (this.control.stopRequested) return this.finishStop();
    if (this.run.distiller.finished) return this.finishDone();
    if (!this.control.pauseRequested) {
      void this.loop();
      return;
    }
    this.postStatus();
  }

  private postStatus(): void {
    const r = this.run;
    if (!r) return;
    this.deps.post({ type: 'status', status: this.status, stopReason: r.distiller.stopReason, epochsDone: r.distiller.epochsDone, elapsedMs: r.elapsedMs });
  }

  /** The best epoch's model, once per best epoch. */
  private postBest(): void {
    const r = this.run;
    if (!r) return;
    const d = r.distiller;
    const { payload, transfer } = toModelPayload(d.bestModel());
    r.sentBest = d.best.epoch;
    this.deps.post({ type: 'result', model: payload, bestEpoch: d.best.epoch, stopReason: d.stopReason }, transfer);
  }

  /** Trains epochs until the planned count, an early stop, a pause or a stop. */
  private async loop(): Promise<void> {
    const r = this.run;
    if (!r || this.control.looping || this.ended || r.distiller.finished) return;
    this.control.looping = true;
    this.postStatus();
    let fatal: unknown = null;
    try {
      while (!r.distiller.finished && this.control.go) {
        let log: EpochLog | null;
        try {
          log = await this.epoch(r);
        } catch (e) {
          if (e instanceof FinetuneError || !canFallBack(r.backend.name)) throw e;
          await this.fallBack(r, e);
          continue;
        }
        if (!log) break;
        await this.afterEpoch(r, log);
      }
    } catch (e) {
      fatal = e;
    } finally {
      this.control.looping = false;
    }
    if (fatal) {
      this.ended = true;
      this.deps.post({ type: 'error', message: errLine(fatal), fatal: true });
      return;
    }
    if (this.control.stopRequested) return this.finishStop();
    if (r.distiller.finished) return this.finishDone();
    this.postStatus();
  }

  /** One epoch; waits between steps while paused; null when a stop ended it. */
  private async epoch(r: Run): Promise<EpochLog | null> {
    const d = r.distiller;
    const epoch = d.epochsDone + 1;
    let t = performance.now();
    let epochMs = 0;
    const log = await d.runEpoch({
      onStep: async (done, total, loss) => {
        const now = performance.now();
        epochMs += now - t;
        r.elapsedMs += now - t;
        this.deps.post({ type: 'step', epoch, done, total, loss, epochMs });
        await this.yieldNow();
        if (this.control.pauseRequested && !this.control.stopRequested) {
          this.postStatus();
          await this.control.whilePaused();
          if (!this.control.stopRequested) this.postStatus();
        }
        t = performance.now();
      },
      shouldStop: () => this.control.stopRequested,
    });
    if (log) r.elapsedMs += performance.now() - t;
    return log;
  }

  private async afterEpoch(r: Run, log: EpochLog): Promise<void> {
    const d = r.distiller;
    const snapshot = await d.snapshot();
    r.lastGood = snapshot;
    let saved = false;
    if (r.meta) {
      r.meta = { ...r.meta, updatedAt: Date.now(), epochBackends: { ...r.meta.epochBackends, [log.epoch]: r.backend.name }, epochsDone: d.epochsDone, history: d.history.map((h) => ({ ...h })), bestEpoch: d.best.epoch, stopReason: d.stopReason, elapsedMs: r.elapsedMs };
      if (this.deps.store) {
        try {
          saved = await this.deps.store.saveEpoch(r.id, snapshot, r.meta);
          if (!saved) {
            // Another tab discarded this run or started a newer one: it is not written back.
            r.meta = null;
            this.deps.post({ type: 'error', message: 'This fine-tune is no longer the one saved in this browser (another tab discarded or replaced it): it goes on, but a reload loses it.', fatal: false });
          }
        } catch (e) {
          this.deps.post({ type: 'error', message: `Could not save epoch ${log.epoch} in this browser (${errLine(e)}); the fine-tune goes on.`, fatal: false });
        }
      }
    }
    this.deps.post({ type: 'epoch', log: { ...log }, backend: r.backend.name, bestEpoch: d.best.epoch, saved, tensors: tf.memory().numTensors, elapsedMs: r.elapsedMs });
    if (d.best.epoch !== r.sentBest && !d.finished) this.postBest();
  }

  /** The backend failed during an epoch: rebuild on WASM from the last saved epoch and carry on. */
  private async fallBack(r: Run, e: unknown): Promise<void> {
    const failed = r.backend;
    try {
      r.distiller.dispose();
    } catch {
      // the failed backend may not even dispose
    }
    const backend = await this.deps.initBackend('wasm');
    if (backend.name === failed.name) throw e;
    r.backend = backend;
    r.distiller = await Distiller.create(r.student, r.teacher, r.data, r.overrides, r.lastGood ?? undefined);
    if (r.meta) r.meta = { ...r.meta, backend: backend.name };
    this.deps.post({
      type: 'error',
      message: `${backendLabel(failed.name)} failed during epoch ${r.distiller.epochsDone + 1} (${errLine(e)}): the fine-tune goes on on ${backendLabel(backend.name)} from the last saved epoch.`,
      fatal: false,
    });
  }

  private async finishDone(): Promise<void> {
    const r = this.run;
    if (!r || this.ended) return;
    this.ended = true;
    this.postBest();
    this.postStatus();
  }

  private async finishStop(): Promise<void> {
    const r = this.run;
    if (!r || this.ended) return;
    r.distiller.stop();
    this.ended = true;
    if (r.meta) {
      r.meta = { ...r.meta, updatedAt: Date.now(), stopReason: r.distiller.stopReason, elapsedMs: r.elapsedMs };
      try {
        await this.deps.store?.saveMeta(r.meta);
      } catch {
        // the last epoch's snapshot stays; a reload offers it again
      }
    }
    this.postBest();
    this.postStatus();
  }

  dispose(): void {
    this.run?.distiller.dispose();
    this.run = null;
  }
}
