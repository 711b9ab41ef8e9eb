/**
 * The device card's state: how fast this device runs the fixed reference model on the page's
 * backend (timed in the timing worker, re-timed on demand, drift against the first timing), and
 * the drift the search worker reports while a search runs (it re-times the same reference model
 * every few episodes). One DeviceState per app; it owns the timing worker's client, which the
 * compare view uses too.
 */
import type { BackendName } from '../../core/measure/backends';
import type { ReferenceTiming } from '../../workers/latency-messages';
import { LatencyClient, type LatencyWorkerFactory } from '../lib/latency-client';
import type { AppState } from './app.svelte';
import { errLine } from '../../core/errors';

export type ReferenceState = { kind: 'idle' } | { kind: 'measuring'; backend?: BackendName } | { kind: 'done' } | { kind: 'error'; message: string };

/** A re-time of the reference model in the search worker. */
export interface DriftPoint {
  /** Episodes finished when it was taken (0: at the start of the search). */
  episode: number;
  medianMs: number;
  /** Against the first re-time of this search on this backend. */
  drift: number;
  backend: string;
}

const states = new WeakMap<AppState, DeviceState>();

export class DeviceState {
  reference = $state<ReferenceState>({ kind: 'idle' });
  /** The latest timing of the reference model, and every one on the current backend. */
  last = $state.raw<ReferenceTiming | null>(null);
  history = $state.raw<ReferenceTiming[]>([]);
  /** Re-times of the reference model by the search on screen. */
  searchDrift = $state.raw<DriftPoint[]>([]);

  private clientInstance: LatencyClient | null = null;
  private seq = 0;

  constructor(
    readonly app: AppState,
    private readonly factory?: LatencyWorkerFactory,
  ) {}

  static of(app: AppState): DeviceState {
    let s = states.get(app);
    if (!s) {
      s = new DeviceState(app);
      states.set(app, s);
    }
    return s;
  }

  /** The timing worker's client (made on first use). */
  get client(): LatencyClient {
    this.clientInstance ??= new LatencyClient(this.factory);
    return this.clientInstance;
  }

  /** The page's backend, which timings follow. */
  get backendName(): BackendName | undefined {
    return this.app.backend.kind === 'ready' ? this.app.backend.info.name : undefined;
  }

  /** Times the reference model now, on the page's backend. */
  async retime(): Promise<void> {
    const backend = this.backendName;
    const id = ++this.seq;
    this.reference = { kind: 'measuring', backend };
    try {
      const r = await this.client.reference(backend);
      if (id !== this.seq) return;
      const sameBackend = this.last?.backend.name === r.backend.name;
      this.last = r;
      this.history = sameBackend ? [...this.history, r] : [r];
      this.reference = { kind: 'done' };
    } catch (e) {
      if (id === this.seq) this.reference = { kind: 'error', message: `${errLine(e)}. Try again, or another backend from the menu.` };
    }
  }

  /** A search started or was opened: its drift starts afresh. */
  clearSearchDrift(): void {
    this.searchDrift = [];
  }

  addSearchDrift(p: DriftPoint): void {
    this.searchDrift = [...this.searchDrift, p];
  }

  dispose(): void {
    this.clientInstance?.dispose();
    this.clientInstance = null;
  }
}
