/**
 * One saved search is run by one tab at a time: an exclusive Web Lock named after the search id,
 * shared by every tab and worker of this origin. The worker that runs a saved search holds it from
 * its start until it stops, finishes, fails or is terminated (the browser releases a closed tab's or
 * a terminated worker's locks), so two tabs can never interleave episodes into one saved record.
 * The page takes the same lock, briefly, around its own writes to a saved search (delete, marking
 * a failed one stopped) and before it resumes one, so it can tell the user "this search is open in
 * another tab" before loading anything.
 *
 * Without Web Locks (an old browser, Node) there is nothing to coordinate with: the lock is
 * granted at once and the writes stay as safe as IndexedDB transactions make them.
 */

/** The subset of the Web Locks API used here (navigator.locks), replaceable in tests. */
export interface Locks {
  request<T>(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<T> | T): Promise<T>;
  query?(): Promise<{ held?: { name?: string }[]; pending?: { name?: string }[] }>;
}

const PREFIX = 'amc-search:';

export function searchLockName(id: string): string {
  return PREFIX + id;
}

export const LOCKED_ELSEWHERE = 'this search is open in another tab of this browser (running or paused there): stop it or close that tab, then resume it here';

/** The browser's lock manager, or undefined where there is none. */
export function browserLocks(): Locks | undefined {
  const nav = (globalThis as { navigator?: { locks?: Locks } }).navigator;
  return nav?.locks && typeof nav.locks.request === 'function' ? nav.locks : undefined;
}

/**
 * Takes the search's lock now if it is free, and holds it until the returned release is called.
 * Null when another tab or worker holds it.
 */
export function tryLockSearch(id: string, locks: Locks | undefined = browserLocks()): Promise<(() => void) | null> {
  if (!locks) return Promise.resolve(() => {});
  return new Promise((resolve, reject) => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    locks
      .request(searchLockName(id), { ifAvailable: true }, async (lock) => {
        if (!lock) {
          resolve(null);
          return;
        }
        resolve(release);
        await held;
      })
      .catch(reject);
  });
}

/**
 * Runs `fn` while holding the search's lock, waiting up to `waitMs` for it (a worker this tab just
 * closed may hold it for a moment longer). `{ locked: true }` when another tab keeps it.
 */
export async function withSearchLock<T>(id: string, fn: () => Promise<T>, waitMs = 2000, locks: Locks | undefined = browserLocks()): Promise<{ locked: false; value: T } | { locked: true }> {
  if (!locks) return { locked: false, value: await fn() };
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), waitMs);
  let granted = false;
  try {
    const value = await locks.request(searchLockName(id), { signal: timeout.signal }, () => {
      granted = true;
      clearTimeout(timer);
      return fn();
    });
    return { locked: false, value };
  } catch (e) {
    if (!granted && timeout.signal.aborted) return { locked: true };
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** The ids of the saved searches whose lock some tab or worker holds now (empty without Web Locks). */
export async function lockedSearchIds(locks: Locks | undefined = browserLocks()): Promise<Set<string>> {
  const ids = new Set<string>();
  if (!locks?.query) return ids;
  try {
    const { held = [] } = await locks.query();
    for (const l of held) if (l.name?.startsWith(PREFIX)) ids.add(l.name.slice(PREFIX.length));
  } catch {
    // Not knowing is not an error: resuming still checks the lock itself.
  }
  return ids;
}
