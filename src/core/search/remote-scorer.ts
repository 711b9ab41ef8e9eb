/**
 * A scorer in another thread (a Node worker thread, a Web Worker), for the scorer pool (pool.ts):
 * the messages both sides exchange, the client (RemoteScorer, a pool slot) over any message port,
 * and the server (serveScorer) that a thread's entry file binds to its port. The thread loads the
 * model and the scoring data once, builds the same EpisodeScorer as the search's own (same options,
 * same backend), and then scores each policy it is sent, so a pooled score equals the local one.
 * Nothing here imports node: or DOM APIs.
 */
import { analyzeModel } from '../model/analyze';
import type { LoadedModel } from '../model/types';
import { EpisodeScorer, type ScorerOptions, type ScoringData } from './scorer';
import type { Score } from './search';
import { ScorerLost, type PoolSlot } from './pool';

/** Everything a remote scorer is built from. */
export interface ScorerSpec {
  /** The model as the search loaded it (its `byName` index is rebuilt on arrival). */
  model: Omit<LoadedModel, 'byName'>;
  /** The analysis' input size (dynamic sizes resolve as they did for the search). */
  inputSize: number;
  data: ScoringData;
  options: Omit<ScorerOptions, 'latency'>;
  /** The backend the search scores on: the remote scorer uses the same. */
  backend: string;
}

export type ToScorer = { type: 'init'; spec: ScorerSpec } | { type: 'score'; id: number; keep: Record<string, number> };
export type FromScorer = { type: 'ready'; evaluator: string } | { type: 'scored'; id: number; score: Score } | { type: 'failed'; id: number | null; message: string };

/** The spec of a scorer like `scorer`, on `backend`. Refused for a latency scorer: a pool never times. */
export function scorerSpec(scorer: EpisodeScorer, backend: string): ScorerSpec {
  const { latency, ...options } = scorer.options;
  if (latency) throw new Error('a scorer that measures latency is never pooled: timing needs the device to itself.');
  const { byName: _byName, ...model } = scorer.model;
  // Functions (progress callbacks) cannot cross to another thread.
  const { onProgress: _p, pause: _q, ...evalOptions } = scorer.data.eval;
  return { model, inputSize: scorer.analysis.graph.inputSize, data: { ...scorer.data, eval: evalOptions }, options, backend };
}

/** A thread's message port, as the client sees it. */
export interface ScorerPort {
  post(msg: ToScorer): void;
  /** Every message from the thread. */
  onMessage(listener: (msg: FromScorer) => void): void;
  /** The thread died or could not start (an error event, an exit). */
  onFailure(listener: (reason: string) => void): void;
  terminate(): void;
}

/** A remote scorer, as a slot of the pool. */
export class RemoteScorer implements PoolSlot {
  readonly depth = 2;
  private readonly pending = new Map<number, { resolve: (s: Score) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private lost: string | null = null;

  private constructor(private readonly port: ScorerPort) {}

  /** Starts the scorer in the thread behind `port`; resolves once it has loaded the model and data. */
  static open(port: ScorerPort, spec: ScorerSpec): Promise<RemoteScorer> {
    const remote = new RemoteScorer(port);
    return new Promise<RemoteScorer>((resolve, reject) => {
      let ready = false;
      port.onMessage((msg) => {
        if (msg.type === 'ready') {
          ready = true;
          resolve(remote);
        } else if (msg.type === 'failed' && msg.id === null) {
          if (!ready) reject(new Error(msg.message));
          remote.fail(msg.message);
        } else remote.answer(msg);
      });
      port.onFailure((reason) => {
        if (!ready) reject(new ScorerLost(reason));
        remote.fail(reason);
      });
      port.post({ type: 'init', spec });
    }).catch((e: unknown) => {
      port.terminate();
      throw e;
    });
  }

  score(keep: ReadonlyMap<string, number>): Promise<Score> {
    if (this.lost !== null) return Promise.reject(new ScorerLost(this.lost));
    const id = this.nextId++;
    return new Promise<Score>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.post({ type: 'score', id, keep: Object.fromEntries(keep) });
    });
  }

  private answer(msg: Exclude<FromScorer, { type: 'ready' }>): void {
    const p = msg.id === null ? undefined : this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id!);
    if (msg.type === 'scored') p.resolve(msg.score);
    else p.reject(new Error(msg.message));
  }

  /** The thread is gone: whatever it held is lost (the pool scores it elsewhere). */
  private fail(reason: string): void {
    this.lost ??= reason;
    for (const p of this.pending.values()) p.reject(new ScorerLost(reason));
    this.pending.clear();
  }

  dispose(): void {
    this.fail('the scorer was ended');
    this.port.terminate();
  }
}

/**
 * The thread's side: handles one message, posting the answer. `initBackend` sets the backend the
 * spec names (a thread starts with none). Policies are scored one at a time, in the order sent.
 */
export function serveScorer(post: (msg: FromScorer) => void, initBackend: (name: string) => Promise<void>): (msg: ToScorer) => Promise<void> {
  let scorer: Promise<EpisodeScorer> | null = null;
  let queue: Promise<void> = Promise.resolve();
  const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
  return (msg) => {
    if (msg.type === 'init') {
      scorer = (async () => {
        await initBackend(msg.spec.backend);
        const model: LoadedModel = { ...msg.spec.model, byName: new Map(msg.spec.model.weights.map((w) => [w.name, w])) };
        const analysis = analyzeModel(model, { inputSize: msg.spec.inputSize });
        return EpisodeScorer.create(model, analysis, msg.spec.data, msg.spec.options);
      })();
      queue = scorer.then(
        (s) => post({ type: 'ready', evaluator: s.evaluator }),
        (e: unknown) => post({ type: 'failed', id: null, message: message(e) }),
      );
      return queue;
    }
    const { id, keep } = msg;
    queue = queue.then(async () => {
      try {
        if (!scorer) throw new Error('the scorer was not started');
        const s = await scorer;
        post({ type: 'scored', id, score: await s.score(new Map(Object.entries(keep))) });
      } catch (e) {
        post({ type: 'failed', id, message: message(e) });
      }
    });
    return queue;
  };
}
