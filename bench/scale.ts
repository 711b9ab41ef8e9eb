/**
 * Scale: load, analyze and prune (uniform 0.5, L1 selection, rebuild) time against model size, from
 * MobileNet-v1 0.25 at 128 up to MobileNet-v1 1.0 at 224 (4.2M parameters), built by the bench.
 */
import { analyzeModel } from '../src/core/model/analyze';
import { loadModel } from '../src/core/model/load';
import { uniformPolicy } from '../src/core/prune/policy';
import { pruneModel } from '../src/core/prune/prune';
import { asFiles, exportModel } from '../src/testing/fixtures';
import { mobilenetV1 } from './mobilenet';
import { time, type Timing } from './util';

export interface ScaleRow {
  label: string;
  params: number;
  macs: number;
  load: Timing;
  analyze: Timing;
  prune: Timing;
}

export async function scale(quick: boolean, log: (s: string) => void): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const sizes: [string, number, number][] = quick
    ? [['MobileNet-v1 0.25, 128', 0.25, 128], ['MobileNet-v1 1.0, 224', 1, 224]]
    : [['MobileNet-v1 0.25, 128', 0.25, 128], ['MobileNet-v1 0.5, 160', 0.5, 160], ['MobileNet-v1 1.0, 224', 1, 224]];
  for (const [label, width, size] of sizes) {
    const tfModel = mobilenetV1(width, size);
    const exported = await exportModel(tfModel);
    tfModel.dispose();
    const files = asFiles(exported);
    const runs = quick ? 3 : 7;
    const load = await time(() => loadModel(files), runs);
    const model = await loadModel(files);
    const analyze = await time(() => analyzeModel(model), runs);
    const analysis = analyzeModel(model);
    const policy = uniformPolicy(analysis.groups, 0.5);
    const prune = await time(() => pruneModel(model, analysis, policy), runs);
    rows.push({ label, params: analysis.cost.totalParams, macs: analysis.cost.totalMacs, load, analyze, prune });
    log(`${label}: ${analysis.cost.totalParams} params, load ${load.medianMs.toFixed(0)} ms, analyze ${analyze.medianMs.toFixed(0)} ms, prune+rebuild ${prune.medianMs.toFixed(0)} ms`);
  }
  return rows;
}
