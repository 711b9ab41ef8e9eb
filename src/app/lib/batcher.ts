/**
 * Hands over what arrives in batches, at most one every `everyMs`: the first item after a quiet
 * spell at once, the ones right behind it together when the interval is up. However fast a
 * worker posts (a tiny model's episodes), the page redraws a few times a second.
 */
export class Batcher<T> {
  private waiting: T[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private last = -Infinity;

  constructor(
    private readonly apply: (batch: T[]) => void,
    readonly everyMs: number,
  ) {}

  push(item: T): void {
    this.waiting.push(item);
    const since = performance.now() - this.last;
    if (since >= this.everyMs) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.everyMs - since);
  }

  /** Applies what is waiting now (e.g. before a message that must come after it). */
  flush(): void {
    this.cancelTimer();
    const batch = this.waiting;
    if (!batch.length) return;
    this.waiting = [];
    this.last = performance.now();
    this.apply(batch);
  }

  /** Drops what is waiting, unapplied. */
  clear(): void {
    this.cancelTimer();
    this.waiting = [];
  }

  private cancelTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
