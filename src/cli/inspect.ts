/**
 * `amc inspect`: what a model is made of and where its cost goes.
 */
import { analyzeModel, type ModelAnalysis } from '../core/model/analyze';
import { formatBytes, formatCount, formatShape } from '../core/model/format';
import { loadModel } from '../core/model/load';
import { filesFromPath } from '../core/model/node-files';
import type { LoadedModel } from '../core/model/types';
import { outputFreeze } from '../core/model/outputs';
import { bytesFlag, intFlag, UsageError, type ParsedArgs } from './args';
import { applyOutputsFlag, outputsHint } from './outputs-flag';

export function inspectionJson(model: LoadedModel, a: ModelAnalysis) {
  return {
    model: model.source,
    producedBy: model.producedBy,
    bytesOnDisk: model.bytesOnDisk,
    notes: model.notes,
    assumptions: a.graph.assumptions,
    inputs: a.graph.inputs.map((t) => ({ tensor: t, shape: a.graph.tensors.get(t)!.shape })),
    outputs: a.graph.outputs.map((t) => ({ tensor: t, shape: a.graph.tensors.get(t)!.shape })),
    totals: { macs: a.cost.totalMacs, params: a.cost.totalParams },
    layers: a.cost.layers,
    groups: a.groups,
    outputFreeze: outputFreeze(model, a) ?? null,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}

export async function runInspect(args: ParsedArgs): Promise<void> {
  const path = args.positional[0];
  if (!path) throw new UsageError('inspect needs the path of a model.json.');
  const inputSize = intFlag(args, 'input-size');
  const maxBytes = bytesFlag(args, 'max-bytes');
  const model = applyOutputsFlag(await loadModel(filesFromPath(path), undefined, { maxBytes }), args);
  const a = analyzeModel(model, { inputSize, maxBytes });
  const outputs = outputFreeze(model, a);
  if (args.flags.has('json')) {
    process.stdout.write(JSON.stringify(inspectionJson(model, a), null, 2) + '\n');
    return;
  }
  const prunable = a.groups.filter((g) => g.prunable);
  const out: string[] = [];
  out.push(`model      ${model.source} (${model.producedBy})`);
  out.push(`size       ${formatBytes(model.bytesOnDisk)} on disk, ${model.weights.length} weights`);
  out.push(`inputs     ${a.graph.inputs.map((t) => formatShape(a.graph.tensors.get(t)!.shape)).join(', ')}`);
  out.push(`outputs    ${a.graph.outputs.map((t) => formatShape(a.graph.tensors.get(t)!.shape)).join(', ')}`);
  out.push(`totals     ${formatCount(a.cost.totalMacs)} MACs, ${formatCount(a.cost.totalParams)} params (${a.cost.totalMacs} MACs, ${a.cost.totalParams} params)`);
  out.push(`groups     ${prunable.length} prunable, ${a.groups.length - prunable.length} frozen`);
  for (const n of [...model.notes, ...a.graph.assumptions]) out.push(`note       ${n}`);
  if (outputs) out.push(`note       ${outputs.message} ${outputsHint(outputs.outputs)}`);
  out.push('', 'layers');
  out.push(
    table([
      ['name', 'type', 'output', 'params', 'MACs', 'group'],
      ...a.cost.layers.map((l) => [l.layer, l.className, formatShape(l.outputShape), String(l.params), String(l.macs), l.group ?? '']),
    ]),
  );
  out.push('', 'groups');
  out.push(
    table([
      ['id', 'status', 'channels', 'producers', 'pass-through', 'consumers'],
      ...a.groups.map((g) => [
        g.id,
        g.prunable ? 'prunable' : `frozen: ${g.frozenReason}`,
        String(g.channels),
        String(g.producers.length),
        String(g.passThrough.length),
        String(g.consumers.length),
      ]),
    ]),
  );
  process.stdout.write(out.join('\n') + '\n');
}
