/**
 * The bench's own build of the app: the app as users get it (index.html) plus the bench's latency
 * page (bench/browser/index.html), into bench/.app so it never touches the dist/ that the e2e
 * tests build and serve.
 *
 *   npx vite build --config bench/vite.config.ts
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeConfig } from 'vite';
import base from '../vite.config';

const root = fileURLToPath(new URL('..', import.meta.url));

export default mergeConfig(base, {
  root,
  build: {
    outDir: resolve(root, 'bench/.app'),
    emptyOutDir: true,
    rollupOptions: {
      input: {
        main: resolve(root, 'index.html'),
        bench: resolve(root, 'bench/browser/index.html'),
      },
    },
  },
});
