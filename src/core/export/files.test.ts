import { describe, expect, it } from 'vitest';
import { asFiles, exportModel, memoryFile, TOPOLOGY_FIXTURES } from '../../testing/fixtures';
import { loadModel } from '../model/load';
import { exportFiles, MODEL_FILE, REPORT_FILE, WEIGHTS_FILE } from './files';

describe('exportFiles', () => {
  it('writes model.json with one manifest entry for one weights file, the rest of model.json kept', async () => {
    const exported = await exportModel(TOPOLOGY_FIXTURES.concatNet.build());
    // Two shards in, as tensorflowjs_converter splits large models: the export writes one file.
    const bytes = new Uint8Array(exported.shards['weights.bin']);
    const cut = 4 * Math.floor(bytes.length / 8);
    const modelJson = { ...exported.modelJson, weightsManifest: [{ ...exported.modelJson.weightsManifest[0], paths: ['a.bin', 'b.bin'] }] };
    const model = await loadModel([memoryFile('model.json', modelJson), memoryFile('a.bin', bytes.slice(0, cut).buffer), memoryFile('b.bin', bytes.slice(cut).buffer)]);
    const before = model.weights.map((w) => Array.from(w.values));

    const files = exportFiles(model);
    const json = JSON.parse(files.modelJson) as Record<string, unknown> & { weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[] };
    expect(json.format).toBe('layers-model');
    expect(json.modelTopology).toEqual(model.modelJson.modelTopology);
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual([`./${WEIGHTS_FILE}`]);
    expect(json.weightsManifest[0].weights.map((w) => [w.name, w.shape, w.dtype])).toEqual(model.weights.map((w) => [w.name, w.shape, w.dtype]));
    expect(files.weights.byteLength).toBe(bytes.length);
    // The model it was given is left as it was.
    expect(model.weights.map((w) => Array.from(w.values))).toEqual(before);

    const back = await loadModel([memoryFile(MODEL_FILE, files.modelJson), memoryFile(WEIGHTS_FILE, files.weights)]);
    expect(back.weights.map((w) => w.name)).toEqual(model.weights.map((w) => w.name));
    back.weights.forEach((w, i) => expect(Array.from(w.values)).toEqual(before[i]));
    expect(back.bytesOnDisk).toBe(files.modelJson.length + files.weights.byteLength);
  });

  it('names the three files a download or `amc prune --out` writes', async () => {
    expect([MODEL_FILE, WEIGHTS_FILE, REPORT_FILE]).toEqual(['model.json', 'model.weights.bin', 'report.json']);
    const model = await loadModel(asFiles(await exportModel(TOPOLOGY_FIXTURES.sequentialCnn.build())));
    const files = exportFiles(model);
    expect(JSON.parse(files.modelJson).weightsManifest[0].paths[0]).toBe(`./${WEIGHTS_FILE}`);
  });
});
