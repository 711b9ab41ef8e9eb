/**
 * The built app's Content-Security-Policy: what the page may load and run, and nothing else.
 * vite.config.ts puts it in the built index.html as a <meta http-equiv> (build only: the dev server's
 * HMR client needs inline scripts and a websocket) and sends it as a header from `vite preview`, so
 * the workers, whose scripts are fetched by URL and do not inherit a <meta> policy, run under it too.
 * The service worker (src/sw.ts, scripts/offline.ts) adds the header version to every response it
 * serves, so on a static host that sends no headers the workers run under it as well.
 * e2e/csp.spec.ts checks in Chromium that the app loads, prunes and searches with no violation.
 *
 * Each source, and why it is there:
 *   default-src 'self'            anything not named below: this origin only
 *   script-src 'self'             the bundle's own module scripts (Vite emits no inline script);
 *     'wasm-unsafe-eval'          WebAssembly.instantiate for tfjs-backend-wasm (page and workers);
 *                                 it allows compiling WASM only, not eval() or new Function()
 *   worker-src 'self' blob:       'self': the search, latency and fine-tune workers are module
 *                                 scripts Vite emits as same-origin files (assets/*.worker-*.js) and
 *                                 the service worker (sw.js); blob: the WASM backend's pthread
 *                                 workers, which Emscripten starts from a blob: URL of its own worker
 *                                 script when the page is cross-origin isolated (threads on). Those
 *                                 then importScripts() the threaded module from this origin
 *                                 (scripts/wasm-threads.ts), so script-src needs no blob:
 *   connect-src 'self' https:     fetch: the bundled demo models and their cards, the WASM binaries
 *                                 (same origin), and a model the user names with ?url= or the URL
 *                                 box. A policy in a static file cannot name the origin a user types
 *                                 later, and a policy can only be tightened at run time, never
 *                                 widened, so `https:` admits any HTTPS model host (never plain
 *                                 http:, ws: or other schemes). A deployment that only serves its
 *                                 own models builds with AMC_CSP_CONNECT='' to drop it, or with a
 *                                 list of origins (AMC_CSP_CONNECT='https://models.example.org').
 *                                 Scripts cannot be injected (script-src above), which is what keeps
 *                                 a wide connect-src from becoming an exfiltration channel.
 *   img-src 'self'                the favicon; dropped images are decoded with createImageBitmap
 *                                 and drawn on canvases, neither of which img-src governs
 *   style-src 'self'              the one CSS file Svelte's styles are compiled into; Svelte sets
 *                                 dynamic styles through the CSSOM (element.style), which CSP allows;
 *                                 a static style="..." attribute in a component's markup is parsed
 *                                 as HTML and would be refused (csp.spec.ts reports it): use a
 *                                 class, style:prop or a {...} expression
 *   font-src, manifest-src 'self' the page's own, if ever added
 *   object-src 'none'             no plugins
 *   base-uri 'none'               no <base> that would redirect the relative asset URLs
 *   form-action 'none'            the page's one form (the URL box) is handled in script, never posted
 * Downloads are <a download href="blob:..."> clicks: navigations, which CSP does not restrict.
 * frame-ancestors 'none' (no framing of the app, against clickjacking) is only honoured in a header,
 * so it is in the preview header and not in the <meta>.
 */

/** Extra connect-src origins from AMC_CSP_CONNECT (space separated), or the default `https:`. */
function connectExtra(env: Record<string, string | undefined>): string[] {
  const v = env.AMC_CSP_CONNECT;
  if (v === undefined) return ['https:'];
  return v
    .split(/\s+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function cspDirectives(env: Record<string, string | undefined> = process.env): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'", "'wasm-unsafe-eval'"],
    'worker-src': ["'self'", 'blob:'],
    'connect-src': ["'self'", ...connectExtra(env)],
    'img-src': ["'self'"],
    'style-src': ["'self'"],
    'font-src': ["'self'"],
    'manifest-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
  };
}

function serialize(d: Record<string, string[]>): string {
  return Object.entries(d)
    .map(([k, v]) => `${k} ${v.join(' ')}`)
    .join('; ');
}

/** The policy for the <meta> element (no frame-ancestors: a <meta> cannot carry it). */
export function cspMeta(env: Record<string, string | undefined> = process.env): string {
  return serialize(cspDirectives(env));
}

/** The policy as a response header (vite preview, or a host that can set headers). */
export function cspHeader(env: Record<string, string | undefined> = process.env): string {
  return serialize({ ...cspDirectives(env), 'frame-ancestors': ["'none'"] });
}
