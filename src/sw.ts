/**
 * The app's service worker (production builds only; registered by src/sw-register.ts).
 *
 * - Offline: on install it precaches the build, every file of the app shell, the JS, CSS and WASM
 *   assets, the icons and manifest, and the bundled demo models (the list, AMC_SW.files, is written
 *   at build time from the bundle by scripts/offline.ts), under a cache named after the build.
 *   Those files, and navigations to the app, are served cache-first. A new build has a new list and
 *   version, so the browser sees a changed sw.js, installs it beside the old one, and once no tab
 *   runs the old build it activates and deletes the old caches.
 * - Nothing else is cached: a model named by ?url= or the URL box (another origin, or a path of
 *   this one that is not in the build) goes to the network untouched, and dropped files never
 *   leave the page.
 * - Cross-origin isolation on hosts that cannot set headers: every response it serves gets
 *   COOP same-origin, COEP require-corp and the app's CSP as headers (AMC_SW.headers), so the page
 *   and its workers are cross-origin isolated (fine timers, WASM threads) and the workers run under
 *   the CSP even where the host sends none.
 *
 * Plain script (no imports; the `export {}` at the end only makes it a module for the type checker):
 * scripts/offline.ts transpiles it, drops that line and prepends `const AMC_SW = {...}`.
 */

interface SwManifest {
  /** Changes with every build that changes any precached file. */
  version: string;
  /** Paths relative to the service worker's scope, e.g. "assets/index-abc.js", "models/x/model.json". */
  files: string[];
  headers: Record<string, string>;
}
declare const AMC_SW: SwManifest;

interface ExtendableEventLike extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEventLike extends ExtendableEventLike {
  request: Request;
  respondWith(r: Response | Promise<Response>): void;
}
interface SwScope {
  registration: { scope: string };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', f: (e: ExtendableEventLike) => void): void;
  addEventListener(type: 'fetch', f: (e: FetchEventLike) => void): void;
  addEventListener(type: 'message', f: (e: MessageEvent) => void): void;
}

const sw = self as unknown as SwScope;
const CACHE_PREFIX = 'amc-app-';
const CACHE = CACHE_PREFIX + AMC_SW.version;
const scope = new URL(sw.registration.scope);
const abs = (path: string) => new URL(path, scope).href;
const precached = new Set(AMC_SW.files.map(abs));
const INDEX = abs('index.html');

sw.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      // cache: 'reload' skips the HTTP cache, so a file is never taken from a build before.
      cache.addAll(AMC_SW.files.map((f) => new Request(abs(f), { cache: 'reload' }))),
    ),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k.startsWith(CACHE_PREFIX) && k !== CACHE).map((k) => caches.delete(k)))),
  );
});

/** The page may ask a waiting worker to take over now (it then reloads itself). */
sw.addEventListener('message', (event) => {
  if (event.data === 'amc-skip-waiting') void sw.skipWaiting();
});

/** The same response with the isolation and CSP headers added (not for opaque responses). */
function withHeaders(res: Response): Response {
  if (res.type === 'opaque' || res.type === 'opaqueredirect' || res.status === 0) return res;
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(AMC_SW.headers)) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

async function cacheFirst(key: string, request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  if (hit) return withHeaders(hit);
  const res = await fetch(request);
  // A precached file the browser evicted: put it back (only files of the build, never anything else).
  if (res.ok && precached.has(key)) await cache.put(key, res.clone());
  return withHeaders(res);
}

sw.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  const key = url.origin + url.pathname;
  if (req.mode === 'navigate') {
    const rest = url.pathname.slice(scope.pathname.length);
    // The app is one page: its folder, index.html, with any query (?demo=, ?url=, ?backend=).
    if (rest === '' || rest === 'index.html') event.respondWith(cacheFirst(INDEX, req).catch(() => fetch(req).then(withHeaders)));
    return;
  }
  if (precached.has(key)) event.respondWith(cacheFirst(key, req).catch(() => fetch(req).then(withHeaders)));
});
export {};
