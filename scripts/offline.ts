/**
 * Offline and installable (issue 14, item 7): writes the service worker (src/sw.ts) into the build
 * as `sw.js`, beside index.html, with the list of files it precaches taken from the bundle itself,
 * and links the web app manifest (public/manifest.webmanifest) from index.html.
 *
 * The precache list: every file the build emitted (JS chunks, CSS, the three WASM binaries, the
 * threaded WASM's pthread script), index.html, the files of public/ (icons, manifest, favicon), and
 * the bundled demo models (models/, copied into the build by vite.config.ts). Source maps excluded.
 * The version is a hash of the list and of the contents of the files whose names carry no hash,
 * so any change to the build gives a new sw.js, which the browser installs as an update.
 *
 * Headers the service worker adds to what it serves: COOP/COEP (cross-origin isolation on hosts
 * that cannot send them) and the CSP as a header (which also reaches the workers; a <meta> does not).
 */
import type { Plugin, ResolvedConfig } from 'vite';
import { transformWithOxc } from 'vite';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { cspHeader } from './csp.ts';

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

export function offlineApp(opts: { root: string; modelsDir: string; swSource?: string }): Plugin {
  let config: ResolvedConfig;
  const swSource = opts.swSource ?? resolve(opts.root, 'src/sw.ts');
  return {
    name: 'amc-offline-app',
    configResolved(c) {
      config = c;
    },
    transformIndexHtml: {
      order: 'post',
      handler() {
        return [
          { tag: 'link', attrs: { rel: 'manifest', href: 'manifest.webmanifest' }, injectTo: 'head' },
          { tag: 'link', attrs: { rel: 'apple-touch-icon', href: 'icon-192.png' }, injectTo: 'head' },
        ];
      },
    },
    async generateBundle(_options, bundle) {
      const hash = createHash('sha256');
      const files = new Set<string>(['index.html']);
      for (const name of Object.keys(bundle).sort()) {
        if (name.endsWith('.map') || name === 'sw.js') continue;
        files.add(name);
        hash.update(name + '\n');
        if (name === 'index.html') {
          const item = bundle[name];
          hash.update(item.type === 'asset' ? item.source : item.code);
        }
      }
      const publicDir = config.publicDir;
      for (const p of publicDir ? walk(publicDir) : []) {
        const rel = relative(publicDir, p).split('\\').join('/');
        files.add(rel);
        hash.update(rel + '\n').update(readFileSync(p));
      }
      for (const p of walk(opts.modelsDir)) {
        const rel = 'models/' + relative(opts.modelsDir, p).split('\\').join('/');
        files.add(rel);
        hash.update(rel + '\n').update(readFileSync(p));
      }
      const src = readFileSync(swSource, 'utf8');
      hash.update(src);
      const { code } = await transformWithOxc(src, 'sw.ts', { lang: 'ts' });
      const body = code.replace(/^export\s*\{\s*\};?\s*$/m, '');
      if (/^\s*(import|export)\s/m.test(body)) this.error('src/sw.ts must stay a plain script (no import/export)');
      const manifest = {
        version: hash.digest('hex').slice(0, 16),
        files: [...files].sort(),
        headers: { ...ISOLATION_HEADERS, 'Content-Security-Policy': cspHeader() },
      };
      this.emitFile({
        type: 'asset',
        fileName: 'sw.js',
        source: `// AMC Playground service worker, build ${manifest.version} (generated from src/sw.ts by scripts/offline.ts)\nconst AMC_SW = ${JSON.stringify(manifest, null, 1)};\n${body}`,
      });
    },
  };
}
