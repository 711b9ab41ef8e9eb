/**
 * The page's load path never hangs and never leaves a mess: a load past the time limit is
 * reported naming the file, a model tfjs refuses leaves no tensor behind, and a backend left
 * broken is restarted so the next good model loads and runs.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { asFiles, exportModel, sequentialCnn, memoryFile, type ExportedFiles } from '../../testing/fixtures';
import { AppState } from './app.svelte';

// In Node the WASM backend finds its binaries beside its package (the page's asset URLs mean nothing here).
vi.mock('../../workers/wasm-paths', () => ({ wasmPaths: undefined }));

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

async function good(): Promise<ExportedFiles> {
  return exportModel(sequentialCnn());
}

/** The same export with one Dense activation tfjs does not know: refused only by tfjs's build. */
function unbuildable(e: ExportedFiles): ExportedFiles {
  const json = clone(e.modelJson) as any;
  const dense = (json.modelTopology.model_config ?? json.modelTopology).config.layers.find((l: any) => l.class_name === 'Dense');
  dense.config.activation = 'bogus';
  return { ...e, modelJson: json };
}

async function loaded(app: AppState): Promise<void> {
  expect(app.load.kind, JSON.stringify(app.load)).toBe('loaded');
  expect(app.run.kind, JSON.stringify(app.run)).toBe('ok');
}

describe('AppState load path', () => {
  it('a model tfjs refuses is reported with its file, leaves no tensor, and the next good model loads', async () => {
    const app = new AppState();
    await app.switchBackend('cpu', false);
    const e = await good();
    await app.loadFiles(asFiles(e, 'good/'));
    await loaded(app);
    const start = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await app.loadFiles(asFiles(unbuildable(e), 'bad/'));
      expect(app.load.kind).toBe('error');
      if (app.load.kind === 'error') {
        expect(app.load.error.file).toBe('bad/model.json');
        expect(app.load.error.message).toMatch(/bogus/);
        expect(app.load.error.message).not.toMatch(/this is a bug/);
      }
      expect(tf.memory().numTensors).toBe(start);
    }
    await app.loadFiles(asFiles(e, 'good/'));
    await loaded(app);
    expect(tf.memory().numTensors).toBe(start);
  }, 60_000);

  it('a load past the time limit is reported naming the file, and the page goes on', async () => {
    const app = new AppState();
    await app.switchBackend('cpu', false);
    app.loadTimeoutMs = 200;
    const never = { path: 'stuck/model.json', size: 10, read: () => new Promise<ArrayBuffer>(() => undefined) };
    await app.loadFiles([never, memoryFile('stuck/weights.bin', new ArrayBuffer(4))]);
    expect(app.load.kind).toBe('error');
    if (app.load.kind === 'error') {
      expect(app.load.error.file).toBe('stuck/model.json');
      expect(app.load.error.problem).toMatch(/took longer than 0 s to read and check, so loading it was stopped/);
    }
    app.loadTimeoutMs = 60_000;
    await app.loadFiles(asFiles(await good(), 'good/'));
    await loaded(app);
  }, 60_000);

  it('a WASM backend left broken is restarted after the failed load, and the next good model runs on it', async () => {
    const app = new AppState();
    await app.switchBackend('wasm', false);
    const e = await good();
    await app.loadFiles(asFiles(e, 'good/'));
    await loaded(app);
    const broken = tf.backend() as unknown as { wasm: { _malloc: (n: number) => number } };
    broken.wasm._malloc = () => {
      throw new WebAssembly.RuntimeError('memory access out of bounds');
    };
    await app.loadFiles(asFiles(e, 'bomb/'));
    expect(app.load.kind).toBe('error');
    expect(tf.backend()).not.toBe(broken);
    expect(app.backend.kind).toBe('ready');
    if (app.backend.kind === 'ready') {
      expect(app.backend.info.name).toBe('wasm');
      expect(app.backend.info.reason).toMatch(/WASM restarted after it failed/);
    }
    await app.loadFiles(asFiles(e, 'good/'));
    await loaded(app);
    expect(app.run.kind === 'ok' && app.run.backend).toBe('wasm');
  }, 60_000);
});
