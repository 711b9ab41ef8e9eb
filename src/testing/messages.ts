/** What the worker-host tests share: the messages a host posts, and a wait for the one a test expects. */

/**
 * Collects posted messages as structured clones (what postMessage delivers) and waits until they
 * satisfy `pred`, waking on every message (and every 50 ms); after `ms` it throws with the
 * message types so far.
 */
export function messageLog<M extends { type: string }>(defaultMs = 60_000) {
  const messages: M[] = [];
  let wake: (() => void) | null = null;
  const push = (m: M): void => {
    messages.push(structuredClone(m));
    const w = wake;
    wake = null;
    w?.();
  };
  const until = async (pred: (m: M[]) => boolean, ms = defaultMs): Promise<void> => {
    const t0 = Date.now();
    while (!pred(messages)) {
      if (Date.now() - t0 > ms) throw new Error(`timed out; messages: ${messages.map((m) => m.type).join(' ')}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  };
  return { messages, push, until };
}
