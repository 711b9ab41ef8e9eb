/**
 * In a build, `@tensorflow/tfjs` resolves to src/tfjs-lean.ts (core, layers and the CPU backend;
 * src/core/measure/backends.ts imports the other backend it starts). Build only: Vitest
 * and the CLI run in Node on the full package (its CPU backend), and the dev server keeps it too.
 */
import type { Plugin } from 'vite';

export function leanTfjs(shim: string): Plugin {
  return {
    name: 'amc-lean-tfjs',
    apply: 'build',
    config() {
      return { resolve: { alias: [{ find: /^@tensorflow\/tfjs$/, replacement: shim }] } };
    },
  };
}
