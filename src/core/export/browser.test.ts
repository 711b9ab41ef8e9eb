import { describe, expect, it } from 'vitest';
import { exportModel, memoryFile, TOPOLOGY_FIXTURES, asFiles } from '../../testing/fixtures';
import { loadModel } from '../model/load';
import { downloadName, exportBlobs, exportNames } from './browser';

describe('downloads named after the model', () => {
  it('names the files as tf.io downloads://<name> does, the weights path inside the JSON included, and they load back', async () => {
    const model = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.sequentialCnn.build())));
    const files = exportBlobs(model, { tool: 'test' } as never, { name: 'leaf-spots-pruned' });
    expect(files.map((f) => f.name)).toEqual(['leaf-spots-pruned.json', 'leaf-spots-pruned.weights.bin', 'leaf-spots-pruned.report.json']);
    const json = JSON.parse(await files[0].blob.text());
    expect(json.weightsManifest[0].paths).toEqual(['./leaf-spots-pruned.weights.bin']);
    // A folder holding the three files, dropped back in: the model is found by content.
    const back = await loadModel(await Promise.all(files.map(async (f) => memoryFile(`out/${f.name}`, await f.blob.arrayBuffer()))));
    expect(back.weights.map((w) => w.name)).toEqual(model.weights.map((w) => w.name));
    expect(files.every((f) => f.bytes === f.blob.size)).toBe(true);
  });

  it('without a name: model.json, model.weights.bin, report.json', () => {
    expect(exportNames()).toEqual({ model: 'model.json', weights: 'model.weights.bin', report: 'report.json' });
  });

  it('makes a file name of the model name or path', () => {
    expect(downloadName('builtin')).toBe('builtin-pruned');
    expect(downloadName('Garden plants', 'finetuned')).toBe('garden-plants-finetuned');
    expect(downloadName('http://x/models/My Model/model.json?v=1')).toBe('my-model-pruned');
    expect(downloadName('export/tm.json')).toBe('tm-pruned');
    expect(downloadName('model.json')).toBe('model-pruned');
  });
});
