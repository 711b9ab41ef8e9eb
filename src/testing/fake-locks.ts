/**
 * An in-memory stand-in for the Web Locks API (navigator.locks: exclusive mode, ifAvailable,
 * signal, query), so the one-tab-per-search rule can be tested in Node, where there is none.
 * Every "tab" and "worker" of a test shares one instance, as a browser's origin does.
 */
import type { Locks } from '../workers/search-lock';

interface Waiter {
  grant: () => void;
}

export class FakeLocks implements Locks {
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, Waiter[]>();

  async request<T>(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<T> | T): Promise<T> {
    if (this.held.has(name)) {
      if (options.ifAvailable) return callback(null);
      await new Promise<void>((resolve, reject) => {
        const q = this.queues.get(name) ?? [];
        const w: Waiter = { grant: resolve };
        q.push(w);
        this.queues.set(name, q);
        options.signal?.addEventListener('abort', () => {
          const i = q.indexOf(w);
          if (i >= 0) q.splice(i, 1);
          reject(new DOMException('The request was aborted.', 'AbortError'));
        });
      });
    }
    // A waiter granted after a release finds it free here (a fake: no queue fairness beyond order).
    this.held.add(name);
    try {
      return await callback({ name, mode: 'exclusive' });
    } finally {
      this.held.delete(name);
      const next = this.queues.get(name)?.shift();
      next?.grant();
    }
  }

  async query() {
    return { held: [...this.held].map((name) => ({ name })), pending: [] };
  }
}
