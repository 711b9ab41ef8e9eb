/**
 * A full IndexedDB quota, told to the user with what to delete. Every write of the saved searches
 * and the saved fine-tune is one transaction (search-store.ts, finetune-store.ts), so a write the
 * quota refuses is undone whole and what was saved before stays as it was; the stores run their
 * writes through guardQuota, which turns QuotaExceededError into a StorageFullError whose message
 * lists what is saved in this browser, biggest first, with its size (storage-report.ts reads it).
 */

/** One thing saved in this browser that the user can delete, and about how many bytes it takes. */
export interface StoredThing {
  /** What the user sees it as: `saved search "my-cnn" (40 of 300 episodes)`. */
  what: string;
  bytes: number;
}

export class StorageFullError extends Error {
  override name = 'StorageFullError';
  constructor(
    message: string,
    readonly things: StoredThing[],
  ) {
    super(message);
  }
}

/** Whether an IndexedDB failure is the storage quota (the transaction's error, or the request's). */
export function isQuotaError(e: unknown): boolean {
  if (e instanceof StorageFullError) return true;
  const err = e as { name?: unknown; message?: unknown } | null;
  if (!err || typeof err !== 'object') return false;
  if (err.name === 'QuotaExceededError') return true;
  // Some browsers abort the transaction with a generic error that names the quota.
  return (err.name === 'UnknownError' || err.name === 'AbortError') && typeof err.message === 'string' && /quota|disk.*full|no space/i.test(err.message);
}

/**
 * About how many bytes a stored value takes (IndexedDB's structured clone: buffers by their length,
 * strings by theirs, numbers 8 bytes): to rank what to delete, not to the byte.
 */
export function approxBytes(value: unknown): number {
  const seen = new Set<object>();
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || v === undefined) total += 1;
    else if (typeof v === 'string') total += v.length;
    else if (typeof v === 'number' || typeof v === 'bigint') total += 8;
    else if (typeof v === 'boolean') total += 1;
    else if (typeof v === 'object') {
      if (seen.has(v)) continue;
      seen.add(v);
      if (v instanceof ArrayBuffer) total += v.byteLength;
      else if (ArrayBuffer.isView(v)) total += v.byteLength;
      else if (v instanceof Blob) total += v.size;
      else if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
      else if (v instanceof Set) for (const x of v) stack.push(x);
      else if (Array.isArray(v)) for (const x of v) stack.push(x);
      else
        for (const k of Object.keys(v)) {
          total += k.length;
          stack.push((v as Record<string, unknown>)[k]);
        }
    }
  }
  return total;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

const LISTED = 6;

/**
 * The message for a write the quota refused (one line, lower case: callers put it in a sentence):
 * that nothing saved before is lost, and what to delete, biggest first.
 */
export function storageFullMessage(things: StoredThing[], estimate?: { usage?: number; quota?: number }): string {
  // The browser's figures, when they agree that it is full (an estimate far below its quota says
  // nothing true about why the write was refused: the disk, or a quota the estimate does not show).
  const e = estimate;
  const used = e?.usage !== undefined && e.quota && e.usage >= 0.8 * e.quota ? ` (${formatBytes(e.usage)} of the ${formatBytes(e.quota)} it may use)` : '';
  const head = `this browser's storage for this site is full${used}, so this was not written; everything saved before is intact`;
  const sorted = [...things].filter((t) => t.bytes > 0).sort((a, b) => b.bytes - a.bytes);
  if (!sorted.length) return `${head}. Free some disk space or allow this site more storage, then try again`;
  const list = sorted.slice(0, LISTED).map((t) => `${t.what}, ${formatBytes(t.bytes)}`);
  const more = sorted.length > LISTED ? `; and ${sorted.length - LISTED} more` : '';
  return `${head}. To make room, delete what you no longer need (Delete in "Searches saved in this browser", Discard for the fine-tune): ${list.join('; ')}${more}`;
}

/**
 * Runs one write (one transaction); a refusal by the quota is thrown as a StorageFullError that says
 * what to delete. Other errors pass through as they are.
 */
export async function guardQuota<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (!isQuotaError(e) || e instanceof StorageFullError) throw e;
    let things: StoredThing[] = [];
    let estimate: { usage?: number; quota?: number } | undefined;
    try {
      // Loaded on demand: it reads both stores, which import this module.
      const report = await import('./storage-report');
      [things, estimate] = await Promise.all([report.storedThings(), report.storageEstimate()]);
    } catch {
      // The list is a help; the refusal itself is what must reach the user.
    }
    throw new StorageFullError(storageFullMessage(things, estimate), things);
  }
}
