/**
 * One copy of tfjs for the page and its three workers (issue 14, item 6).
 *
 * Vite bundles each `new Worker(new URL('./x.worker.ts', import.meta.url))` as a bundle of its own,
 * so the page, the search, latency and fine-tune workers each shipped their own tfjs (1.0-1.5 MB
 * each before compression). In a build this plugin rewrites that expression, before Vite's worker
 * plugin sees it, into an entry chunk of the page's own build (`this.emitFile({ type: 'chunk' })`)
 * named by URL (`import.meta.ROLLUP_FILE_URL_*`, relative to the importing chunk, so any sub-path
 * works): the bundler then puts the modules the page and the workers share (tfjs core, layers, the
 * backends, the app's core/) in shared chunks, fetched once and cached once. The workers are module
 * workers (`type: 'module'`, as they were), so they import those chunks like the page does.
 *
 * Each worker file is still only fetched when the page first creates that worker.
 * The dev server keeps Vite's own worker handling (this plugin applies to builds only).
 */
import type { Plugin } from 'vite';

const WORKER = /new Worker\(\s*new URL\(\s*(['"])([^'"]+\.worker\.ts)\1\s*,\s*import\.meta\.url\s*\)/g;

export function sharedWorkerChunks(): Plugin {
  return {
    name: 'amc-shared-worker-chunks',
    apply: 'build',
    enforce: 'pre',
    async transform(code, id) {
      if (id.includes('node_modules') || !/\.(ts|js|svelte)(\?|$)/.test(id) || !code.includes('new Worker(')) return null;
      const found = [...code.matchAll(WORKER)];
      if (!found.length) return null;
      let out = code;
      for (const m of found) {
        const resolved = await this.resolve(m[2], id);
        if (!resolved) this.error(`amc-shared-worker-chunks: cannot resolve ${m[2]} from ${id}`);
        const name = m[2].split('/').pop()!.replace(/\.ts$/, '');
        const ref = this.emitFile({ type: 'chunk', id: resolved.id, name });
        out = out.replace(m[0], `new Worker(import.meta.ROLLUP_FILE_URL_${ref}`);
      }
      return { code: out, map: null };
    },
  };
}
