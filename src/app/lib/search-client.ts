/**
 * The page's side of the search worker (src/workers/search.worker.ts), typed by its protocol
 * (src/workers/search-messages.ts). One client (one worker) per search on screen:
 *
 *   commands  start(...) once, then send(pause | resume | stop): no answer; the worker reports
 *             their effect as events
 *   requests  prune(keep): a promise; the request carries an id, the worker answers with the same
 *             id, and the promise settles on that answer (never by polling)
 *   events    everything else the worker posts, handed to `onEvent` in order
 *
 * Closing the client terminates the worker, rejects the requests still waiting and drops any
 * message the worker had already posted: a search replaced by another cannot write into it.
 */
import type { PrunedPayload } from '../../workers/payload';
import { isAnswer, transferOf, type FromWorker, type SearchAnswer, type SearchCommand, type SearchEvent, type ToWorker } from '../../workers/search-messages';
import { errLine } from '../../core/errors';

/** Creates the search worker (replaced in tests). */
export type WorkerFactory = () => Worker;

export const defaultSearchWorker: WorkerFactory = () => new Worker(new URL('../../workers/search.worker.ts', import.meta.url), { type: 'module', name: 'amc-search' });

export interface SearchClientHandlers {
  /** A message from the worker that answers no request. */
  onEvent(m: SearchEvent): void;
  /** The worker itself failed (a script error, not a message), in words. */
  onFailure(message: string): void;
}

interface Waiting {
  resolve: (m: Extract<SearchAnswer, { type: 'pruned' }>) => void;
  reject: (e: Error) => void;
}

export class SearchClient {
  private closed = false;
  private seq = 0;
  private readonly waiting = new Map<number, Waiting>();

  private constructor(
    private readonly worker: Worker,
    private readonly handlers: SearchClientHandlers,
  ) {
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    worker.onerror = (e: ErrorEvent) => {
      if (!this.closed) handlers.onFailure(`The search worker failed: ${e.message || 'unknown error'}.`);
    };
  }

  /** Makes a worker; throws, in words, when none can be made. */
  static open(factory: WorkerFactory, handlers: SearchClientHandlers): SearchClient {
    let w: Worker;
    try {
      w = factory();
    } catch (e) {
      throw new Error(`Could not start the search worker: ${errLine(e)}.`);
    }
    return new SearchClient(w, handlers);
  }

  /** Starts (or resumes) the search this worker runs. */
  start(command: Extract<SearchCommand, { type: 'start' }>): void {
    this.post(command);
  }

  send(command: Exclude<SearchCommand, { type: 'start' }>): void {
    this.post(command);
  }

  /** Asks the worker for the model an episode's policy gives, pruned as the search scored it. */
  prune(keep: Record<string, number>): Promise<PrunedPayload> {
    if (this.closed) return Promise.reject(new Error('the search worker was closed'));
    const requestId = ++this.seq;
    return new Promise<Extract<SearchAnswer, { type: 'pruned' }>>((resolve, reject) => {
      this.waiting.set(requestId, { resolve, reject });
      this.post({ type: 'prune', requestId, keep });
    }).then((m) => m.result);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.worker.terminate();
    for (const w of this.waiting.values()) w.reject(new Error('the search worker was closed'));
    this.waiting.clear();
  }

  private post(msg: ToWorker): void {
    if (!this.closed) this.worker.postMessage(msg, transferOf(msg));
  }

  private receive(m: FromWorker): void {
    if (this.closed) return;
    if (!isAnswer(m)) {
      this.handlers.onEvent(m as SearchEvent);
      return;
    }
    const w = this.waiting.get(m.requestId);
    if (!w) return;
    this.waiting.delete(m.requestId);
    if (m.type === 'pruned') w.resolve(m);
    else w.reject(new Error(m.message));
  }
}
