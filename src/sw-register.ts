/**
 * Registers the service worker (src/sw.ts, built as sw.js beside index.html) in production builds:
 * offline use and install (issue 14, item 7), and cross-origin isolation where the host sends no
 * COOP/COEP (item 5).
 *
 * It registers once the page has loaded and its network has been quiet for 3 s (no new resource
 * fetched: the demo model and the WASM binary are in; at most 60 s), so its precaching (the whole
 * build, the three WASM variants and the demo models) never competes with what the first visit
 * needs to show the demo model (bench/bundle.ts measures that).
 *
 * Isolation on a host without headers: the headers come from the service worker, which only
 * serves pages loaded after it took control. So on the first visit, once it is active, the page
 * reloads itself once, as long as the page is not isolated, was not already controlled (a
 * controlled page that is still not isolated means this browser does not honour it: no loop), and
 * the user has not started doing anything (a click, a key, a drop): then it waits for the next visit.
 */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator) || !globalThis.isSecureContext) return;
  let touched = false;
  for (const type of ['pointerdown', 'keydown', 'drop'] as const) {
    addEventListener(type, () => (touched = true), { capture: true, once: true, passive: true });
  }
  const wasControlled = Boolean(navigator.serviceWorker.controller);
  const start = async () => {
    try {
      await navigator.serviceWorker.register('sw.js', { updateViaCache: 'none' });
      if (globalThis.crossOriginIsolated || wasControlled) return;
      await navigator.serviceWorker.ready;
      const key = 'amc-isolation-reload';
      if (touched || sessionStorage.getItem(key)) return;
      sessionStorage.setItem(key, '1');
      location.reload();
    } catch (e) {
      console.warn('Service worker not registered: offline use and install are off', e);
    }
  };
  const whenQuiet = () => void networkQuiet(3000, 60_000).then(start);
  if (document.readyState === 'complete') whenQuiet();
  else addEventListener('load', whenQuiet, { once: true });
}

/** Resolves once no resource (page or its workers' fetches seen by the page) started for `quietMs`, or after `maxMs`. */
function networkQuiet(quietMs: number, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    let timer = setTimeout(done, quietMs);
    const cap = setTimeout(done, maxMs);
    let observer: PerformanceObserver | undefined;
    try {
      observer = new PerformanceObserver(() => {
        clearTimeout(timer);
        timer = setTimeout(done, quietMs);
      });
      observer.observe({ type: 'resource' });
    } catch {
      // No resource timing: the quiet timer alone.
    }
    function done() {
      clearTimeout(timer);
      clearTimeout(cap);
      observer?.disconnect();
      resolve();
    }
  });
}
