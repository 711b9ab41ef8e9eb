/**
 * `amc prune`: apply a policy and write a loadable tfjs model with report.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeModel } from '../core/model/analyze';
import { ModelError } from '../core/model/errors';
import { formatBytes, formatCount } from '../core/model/format';
import { loadModel } from '../core/model/load';
import { filesFromPath } from '../core/model/node-files';
import { exportFiles, MODEL_FILE, REPORT_FILE, WEIGHTS_FILE } from '../core/export/files';
import { pruneReport } from '../core/export/report';
import { IMPORTANCE_CRITERIA, type ImportanceCriterion } from '../core/prune/importance';
import { PolicyError, uniformPolicy, type Policy } from '../core/prune/policy';
import { pruneModel } from '../core/prune/prune';
import { bytesFlag, intFlag, UsageError, type ParsedArgs } from './args';
import { parseDataFlag } from './eval';
import { outFolder, writeOutputs } from './out-dir';
import { applyOutputsFlag, refuseFrozenByOutputs } from './outputs-flag';
import { CHANNELS, datasetToTensor, generateDataset, IMAGE_SIZE, SPLIT_SIZES } from '../core/data/procedural';
import { initBackend } from '../core/measure/backends';
import type { ModelAnalysis } from '../core/model/analyze';
import type { LoadedModel } from '../core/model/types';
import { DEFAULT_ROUND_TO, REFIT_DEFAULTS } from '../core/prune/config';
import { refitPruned } from '../core/prune/refit';
import { SEARCH_DEFAULTS } from '../core/search/config';
import type { PruneResult } from '../core/prune/prune';

function readPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ModelError(path, 'cannot be read.', 'Give the path of a JSON policy file: { "<group id>": keptChannels }.');
  }
  try {
    const p = JSON.parse(text) as unknown;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error('not an object');
    return p as Policy;
  } catch (e) {
    throw new ModelError(path, `is not a policy (${(e as Error).message}).`, 'Write it as JSON: { "<group id>": keptChannels or a ratio in (0, 1) }.');
  }
}

/** Calibration for the refit: the first images of a demo split (REFIT_DEFAULTS: 64 images, AMC's 10 positions sampled in each). */
async function refitOnDemoData(path: string, model: LoadedModel, analysis: ModelAnalysis, result: PruneResult, args: ParsedArgs) {
  const split = parseDataFlag(args.flags.get('data'));
  const count = Math.min(intFlag(args, 'calibration') ?? REFIT_DEFAULTS.images, SPLIT_SIZES[split]);
  const input = analysis.graph.tensors.get(analysis.graph.inputs[0])!.shape;
  if (analysis.graph.inputs.length !== 1 || input.slice(1).join('x') !== `${IMAGE_SIZE}x${IMAGE_SIZE}x${CHANNELS}`) {
    throw new ModelError(path, `takes input [${input.map((d) => d ?? '?').join(', ')}], but demo:${split} images are ${IMAGE_SIZE}x${IMAGE_SIZE}x${CHANNELS}.`, 'Refit a model trained on the demo dataset, or prune without --refit.');
  }
  await initBackend('wasm');
  const calibration = datasetToTensor(generateDataset(split, { count }));
  try {
    return await refitPruned(model, analysis, result, calibration, { seed: intFlag(args, 'seed') ?? SEARCH_DEFAULTS.seed });
  } finally {
    calibration.dispose();
  }
}

export async function runPrune(args: ParsedArgs): Promise<void> {
  const path = args.positional[0];
  const out = args.flags.get('out');
  const policyArg = args.flags.get('policy');
  const policyFile = args.flags.get('policy-file');
  if (!path) throw new UsageError('prune needs the path of a model.json.');
  if (typeof out !== 'string') throw new UsageError('prune needs --out DIR.');
  const target = outFolder(out, 'prune', [path], args.flags.has('force'));
  if ((typeof policyArg === 'string') === (typeof policyFile === 'string')) throw new UsageError('prune needs exactly one of --policy uniform:RATIO or --policy-file FILE.');
  const refit = args.flags.has('refit');
  if (refit) parseDataFlag(args.flags.get('data'));
  const criterion = (args.flags.get('criterion') ?? 'l1') as ImportanceCriterion;
  if (!IMPORTANCE_CRITERIA.includes(criterion)) throw new UsageError(`--criterion must be one of ${IMPORTANCE_CRITERIA.join(', ')}.`);
  const roundTo = intFlag(args, 'round-to') ?? DEFAULT_ROUND_TO;
  const maxBytes = bytesFlag(args, 'max-bytes');
  const model = applyOutputsFlag(await loadModel(filesFromPath(path), undefined, { maxBytes }), args);
  const analysis = analyzeModel(model, { inputSize: intFlag(args, 'input-size'), maxBytes });
  refuseFrozenByOutputs(model, analysis);
  let policy: Policy;
  if (typeof policyArg === 'string') {
    const m = /^uniform:(\d*\.?\d+)$/.exec(policyArg);
    const ratio = m ? Number(m[1]) : NaN;
    if (!(ratio > 0 && ratio <= 1)) throw new UsageError(`--policy '${policyArg}' is not understood: use uniform:RATIO with a ratio in (0, 1], e.g. uniform:0.5.`);
    policy = uniformPolicy(analysis.groups, ratio);
  } else {
    policy = readPolicyFile(policyFile as string);
  }
  let result;
  try {
    result = pruneModel(model, analysis, policy, { criterion, roundTo });
  } catch (e) {
    if (e instanceof PolicyError) throw new ModelError(typeof policyFile === 'string' ? policyFile : `--policy ${policyArg}`, e.message, 'Fix the policy; `amc inspect` lists the group ids.');
    throw e;
  }
  let pruned = result.model;
  let refitReport;
  if (refit) {
    ({ model: pruned, report: refitReport } = await refitOnDemoData(path, model, analysis, result, args));
  }
  const report = { ...pruneReport(model, analysis, { ...result, model: pruned }, { criterion, roundTo, refit }), refit: refitReport };
  const files = exportFiles(pruned);
  writeOutputs(target, [[MODEL_FILE, files.modelJson], [WEIGHTS_FILE, new Uint8Array(files.weights)], [REPORT_FILE, JSON.stringify(report, null, 2) + '\n']]);
  if (args.flags.has('json')) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
  process.stdout.write(
    [
      `wrote      ${join(out, MODEL_FILE)}, ${join(out, WEIGHTS_FILE)}, ${join(out, REPORT_FILE)}`,
      `MACs       ${formatCount(report.original.macs)} -> ${formatCount(report.pruned.macs)} (${pct(report.ratios.macs)})`,
      `params     ${formatCount(report.original.params)} -> ${formatCount(report.pruned.params)} (${pct(report.ratios.params)})`,
      `bytes      ${formatBytes(report.original.bytes)} -> ${formatBytes(report.pruned.bytes)} (${pct(report.ratios.bytes)})`,
      ...(report.refit ? [`refit      ${report.refit.applied ? 'applied' : 'not applied (it did not lower the error)'}: output MSE ${report.refit.outputErrorSliced.toExponential(3)} sliced -> ${report.refit.outputErrorRefit.toExponential(3)}`] : []),
      `policy     ${Object.entries(report.policy).map(([g, k]) => `${g}:${k}/${report.channels[g]}`).join(' ')}`,
    ].join('\n') + '\n',
  );
}
