/**
 * `amc search`: the AMC search in Node on the WASM backend, with the app's defaults (core/search/config.ts:
 * refit on 64 demo:train images, reward on 1000 images, warm-up a third of the budget up to 100).
 * Writes the best policy's pruned model,
 * and report.json with the search log, the uniform baseline and (for demo:val) the test accuracy
 * of both; progress goes to stderr, one line per episode that matters. With --finetune N the best
 * and the uniform models are then distilled from the original for N epochs on demo:train, and the
 * written model is the fine-tuned best.
 */
import { join } from 'node:path';
import { CHANNELS, generateDataset, IMAGE_SIZE, NUM_CLASSES, SPLIT_SIZES } from '../core/data/procedural';
import { exportFiles, MODEL_FILE, REPORT_FILE, WEIGHTS_FILE } from '../core/export/files';
import { pruneReport, searchReport, type SearchLatencyReport } from '../core/export/report';
import { recoverPolicy, type LabeledImages, type RecoveredPolicy } from '../core/finetune/after-search';
import { DEMO_AUGMENT } from '../core/finetune/config';
import type { FinetuneData } from '../core/finetune/distiller';
import { initBackend } from '../core/measure/backends';
import { bytesPerImage } from '../core/measure/accuracy';
import { measureInterleaved } from '../core/measure/latency';
import { analyzeModel } from '../core/model/analyze';
import { ModelError } from '../core/model/errors';
import { formatCount } from '../core/model/format';
import { loadModel } from '../core/model/load';
import { applyOutputsFlag, refuseFrozenByOutputs } from './outputs-flag';
import { filesFromPath } from '../core/model/node-files';
import { instantiate } from '../core/model/tfjs-model';
import type { LoadedModel } from '../core/model/types';
import { batchNormUnsupported } from '../core/prune/batchnorm';
import { EVALUATORS, evaluatorText } from '../core/prune/config';
import { calibrationImages, defaultWarmup, LOAD_CHANGE, resolveEvaluator, type EvaluatorChoice, ENV_DEFAULTS, SCORING_DEFAULTS, SEARCH_DEFAULTS, SEARCH_TIMING, searchConfig, type Protocol, type ResourceKind } from '../core/search/config';
import { demoScoringData } from '../core/search/demo-data';
import { bestOf } from '../core/search/best';
import { SearchError } from '../core/search/env';
import { originalLatencySpread } from '../core/search/latency-resource';
import { EPISODES_PER_SCORER } from '../core/search/pool';
import { EpisodeScorer } from '../core/search/scorer';
import type { EpisodeRecord, Score } from '../core/search/search';
import { SearchSession } from '../core/search/session';
import { bytesFlag, intFlag, UsageError, type ParsedArgs } from './args';
import { parseDataSource } from './eval';
import { searchData } from './search-data';
import { outFolder, writeOutputs } from './out-dir';
import { defaultWorkers, threadPool } from './scorer-threads';

export function parseTarget(v: string | true | undefined): { resource: ResourceKind; ratio: number } {
  if (v === undefined) return { resource: ENV_DEFAULTS.resource, ratio: ENV_DEFAULTS.target };
  const m = typeof v === 'string' ? /^(macs|params|latency):(\d*\.?\d+)$/.exec(v) : null;
  const ratio = m ? Number(m[2]) : NaN;
  if (!m || !(ratio > 0 && ratio <= 1)) throw new UsageError(`--target '${v === true ? '' : v}' is not understood: use macs:RATIO, params:RATIO or latency:RATIO with a ratio in (0, 1], e.g. macs:0.5.`);
  return { resource: m[1] as ResourceKind, ratio };
}

function pick<T extends string>(args: ParsedArgs, flag: string, values: readonly T[], fallback: T): T {
  const v = args.flags.get(flag);
  if (v === undefined) return fallback;
  if (v === true || !values.includes(v as T)) throw new UsageError(`--${flag} must be one of ${values.join(', ')}.`);
  return v as T;
}

/** The final comparison of original, best and uniform: paired-ratio CoV under 4% on the demo models (bench/repeatability.ts). */
const FINAL_LATENCY = SEARCH_TIMING.final;

/**
 * The evaluator asked for: --evaluate (default SCORING_DEFAULTS.evaluator, `auto`), with
 * --calibration N images (default calibrationImages() of the evaluator it resolves to); --no-refit
 * is `--evaluate slice`, and --refit is accepted and changes nothing.
 */
function scoringChoice(args: ParsedArgs): { choice: EvaluatorChoice; calibration?: number } {
  if (args.flags.has('no-refit')) {
    if (args.flags.has('refit') || args.flags.has('calibration') || args.flags.has('evaluate')) throw new UsageError('--no-refit cannot go with --refit, --calibration or --evaluate (it means --evaluate slice).');
    return { choice: 'slice', calibration: 0 };
  }
  const choice = pick<EvaluatorChoice>(args, 'evaluate', ['auto', ...EVALUATORS], SCORING_DEFAULTS.evaluator);
  if (choice === 'slice' && args.flags.has('calibration')) throw new UsageError('--evaluate slice uses no calibration images: drop --calibration.');
  return { choice, calibration: intFlag(args, 'calibration') };
}

const pct = (r: number | undefined, digits = 2) => (r === undefined ? '-' : `${(r * 100).toFixed(digits)}%`);

function scoreText(s: Score): string {
  return s.top1 !== undefined ? `top-1 ${pct(s.top1)}` : `agreement ${pct(s.agreement)}`;
}

export async function runSearch(args: ParsedArgs): Promise<void> {
  const path = args.positional[0];
  if (!path) throw new UsageError('search needs the path of a model.json.');
  const out = args.flags.get('out');
  if (typeof out !== 'string') throw new UsageError('search needs --out DIR.');
  const outDir = outFolder(out, 'search', [path], args.flags.has('force'));
  const source = parseDataSource(args.flags.get('data') ?? 'demo:val');
  const target = parseTarget(args.flags.get('target'));
  const protocol = pick<Protocol>(args, 'protocol', ['constrained', 'accuracy-guaranteed'], ENV_DEFAULTS.protocol);
  const agent = pick(args, 'agent', ['ddpg', 'random'] as const, SEARCH_DEFAULTS.agent);
  const askedRewardImages = intFlag(args, 'reward-images') ?? SCORING_DEFAULTS.rewardImages;
  const scoring = scoringChoice(args);
  const episodes = intFlag(args, 'episodes') ?? SEARCH_DEFAULTS.episodes;
  const overrides = {
    episodes,
    seed: intFlag(args, 'seed') ?? SEARCH_DEFAULTS.seed,
    agent,
    env: { protocol, resource: target.resource, target: target.ratio, roundTo: intFlag(args, 'round-to') ?? ENV_DEFAULTS.roundTo },
    ddpg: { warmupEpisodes: intFlag(args, 'warmup') ?? defaultWarmup(episodes) },
  };
  const json = args.flags.has('json');
  // Scorers at once for the independent episodes (warm-up, random search); a latency search times alone.
  const workers = intFlag(args, 'workers') ?? defaultWorkers();
  const finetuneEpochs = intFlag(args, 'finetune');
  const finetuneImages = Math.min(intFlag(args, 'finetune-images') ?? SPLIT_SIZES.train, SPLIT_SIZES.train);

  const backend = await initBackend('wasm');
  const maxBytes = bytesFlag(args, 'max-bytes');
  const model = applyOutputsFlag(await loadModel(filesFromPath(path), undefined, { maxBytes }), args);
  const analysis = analyzeModel(model, { inputSize: intFlag(args, 'input-size'), maxBytes });
  refuseFrozenByOutputs(model, analysis);
  // The CLI's data is the user's choice: the demo dataset for a demo model, or their own images.
  const evaluator = resolveEvaluator(scoring.choice, !batchNormUnsupported(analysis), true);
  const calibration = scoring.calibration ?? calibrationImages(evaluator);
  const config = searchConfig({ ...overrides, evaluator });
  const data = await searchData(source, path, model, analysis, askedRewardImages, calibration);
  const rewardImages = data.scoring.images.length / bytesPerImage(data.scoring.eval);
  // What the evaluator really gets: a small folder has fewer than asked for.
  const calibrationUsed = (data.scoring.calibration?.length ?? 0) / bytesPerImage(data.scoring.eval);
  const log = (line: string): void => void process.stderr.write(line + '\n');
  let last = -1;
  let session: SearchSession;
  try {
    session = await SearchSession.open(
      { model, analysis, config, data: data.scoring, backend: backend.name, burnIn: { withReference: false }, scorerPool: (s, b) => threadPool(s, b, workers) },
      {
        // V8 tiers WebAssembly up as it runs: nothing is timed before the model's kernels are hot.
        burnedIn: (warm) => log(`latency    burned in for ${(warm.ms / 1000).toFixed(1)} s (${warm.runs} runs${warm.steady ? ', steady' : ', not steady yet'})`),
        latencyProgress: (f, what) => {
          const pctDone = Math.floor(f * 10);
          if (pctDone !== last) log(`latency    ${what} ${Math.round(f * 100)}%`);
          last = pctDone;
        },
        latencyTable: ({ table: t, points }) =>
          log(
            `latency    table: ${t.layers.length} layers timed in ${t.seconds.toFixed(1)} s on ${t.backend}; end-to-end fit ${t.scale.toFixed(3)} x sum + ${t.offset.toFixed(3)} ms, ` +
              `mean error ${pct(t.calibrationError, 1)} on ${points.filter((p) => p.ratio !== null).length} uniformly pruned models, ${pct(t.heldOutError, 1)} on ${points.filter((p) => p.ratio === null).length} random policies it was not fitted on`,
          ),
      },
    );
  } catch (e) {
    if (e instanceof SearchError) throw new ModelError(path, e.message, 'See `amc inspect` for its groups.');
    throw e;
  }
  const { scorer, latency } = session;
  log(
    `search     ${path}: ${session.env.length} steps (prunable groups), target ${target.resource} ${pct(target.ratio, 0)} (${protocol}), ` +
      `${config.episodes} episodes (${agent === 'ddpg' ? `${config.ddpg.warmupEpisodes} warm-up` : 'random search'}), seed ${config.seed}, reward on ${data.label}, ${evaluatorText(scorer.evaluator, calibrationUsed, data.calibrationLabel)}, ${backend.name}`,
  );
  if (scorer.evaluatorNote) log(`evaluate   ${scorer.evaluatorNote}`);
  if (workers > 1 && latency) log('workers    1: a latency search times each episode with the device to itself');
  else if (workers > 1) log(`workers    ${workers} scorers (${workers - 1} worker thread${workers > 2 ? 's' : ''}) for the ${agent === 'ddpg' ? 'warm-up' : 'random'} episodes, ${workers * EPISODES_PER_SCORER} at a time`);

  // Scored under the anchored wall, the one the episodes meet.
  const uniform = await session.uniformBaseline();
  const uniformKeep = new Map(Object.entries(uniform.keep));
  log(`uniform    ratio ${uniform.ratio.toFixed(3)}: ${target.resource} ${pct(uniform.resourceRatio, 1)}, ${scoreText(uniform.score)}`);

  session.begin(false);
  const search = session.amc;
  const t0 = performance.now();
  let best: EpisodeRecord | undefined;
  for (let turn = session.nextTurn(); turn; turn = session.nextTurn()) {
    // A pooled batch comes back whole: each of its episodes is reported as if it had come alone.
    for (const e of await session.play(turn)) {
      const bestSoFar = bestOf(search.log.slice(0, e.episode + 1), config.env);
      const isBest = bestSoFar !== best;
      best = bestSoFar;
      const last = e.episode + 1 === config.episodes;
      if (isBest || e.episode % 10 === 9 || last) {
        const elapsed = (performance.now() - t0) / 1000;
        const left = (elapsed / search.episode) * (config.episodes - search.episode);
        log(
          `episode ${String(e.episode + 1).padStart(4)}/${config.episodes} ${e.phase.padEnd(8)} reward ${e.reward.toFixed(4)} ${scoreText(e.score)} ${target.resource} ${pct(e.resourceRatio, 1)}` +
            `${isBest ? '  best' : ''}  (${elapsed.toFixed(0)} s, ~${left.toFixed(0)} s left)`,
        );
      }
    }
  }
  best = best!;
  session.closePool();

  // The paper's table scores policies on the test split, without fine-tuning.
  let test: { images: number; best: Score; uniform: Score } | undefined;
  if (data.split === 'val') {
    const testScorer = await EpisodeScorer.create(model, analysis, demoScoringData('test', SPLIT_SIZES.test, { calibration }), { seed: config.seed, roundTo: config.env.roundTo, evaluator });
    test = { images: SPLIT_SIZES.test, best: await testScorer.score(new Map(Object.entries(best.keep))), uniform: await testScorer.score(uniformKeep) };
    log(`test       demo:test (${SPLIT_SIZES.test} images): ${agent} best ${scoreText(test.best)}, uniform ${scoreText(test.uniform)}`);
  }

  // The search ends with recovery: the best policy and uniform, each distilled from the original on demo:train.
  let finetune: { epochs: number; data: string; test?: string; best?: RecoveredPolicy; uniform?: RecoveredPolicy } | undefined;
  let recoverOne: ((which: 'best' | 'uniform', pruned: LoadedModel) => Promise<LoadedModel>) | undefined;
  if (finetuneEpochs) {
    // The user's folder when the search ran on one (no test set: the held-out split says how it went); else demo:train, scored on demo:test.
    let trainData: FinetuneData;
    let testImages: LabeledImages | undefined;
    if (data.finetune) {
      trainData = data.finetune;
      finetune = { epochs: finetuneEpochs, data: `${source.kind === 'dir' ? source.dir : ''} (${data.finetune.images.length / (data.finetune.layout.height * data.finetune.layout.width * data.finetune.layout.channels)} images, ${data.finetune.labels ? 'labels used' : 'distillation only'})` };
    } else {
      const train = generateDataset('train', { count: finetuneImages });
      trainData = { images: train.images, labels: train.labels, layout: { height: IMAGE_SIZE, width: IMAGE_SIZE, channels: CHANNELS }, scaling: 'unit' };
      const testSet = generateDataset('test');
      testImages = { images: testSet.images, labels: testSet.labels, name: `demo:test (${testSet.N} images)` };
      finetune = { epochs: finetuneEpochs, data: `demo:train (${train.N} images, labels used)`, test: testImages.name };
    }
    recoverOne = async (which, pruned) => {
      log(`finetune   ${which}: ${finetuneEpochs} epochs of distillation on ${finetune!.data}`);
      const r = await recoverPolicy(model, pruned, trainData, {
        overrides: { epochs: finetuneEpochs, seed: config.seed, ...(data.finetune ? {} : { augment: DEMO_AUGMENT }) },
        ...(testImages ? { test: testImages } : {}),
        hooks: { onEpoch: (h) => log(`finetune   ${which} epoch ${h.epoch}: loss ${h.trainLoss!.toFixed(4)}, held-out top-1 ${pct(h.heldOutAccuracy)} (${(h.ms! / 1000).toFixed(0)} s)`) },
      });
      finetune![which] = r.report;
      if (testImages) log(`finetune   ${which}: demo:test top-1 ${pct(r.report.testBefore)} -> ${pct(r.report.testAfter)} (best epoch ${r.report.bestEpoch})`);
      else log(`finetune   ${which}: best held-out epoch ${r.report.bestEpoch}`);
      return r.model;
    };
  }
  const { candidate } = await session.bestModel(recoverOne ? async (c) => ({ ...c, model: await recoverOne('best', c.model) }) : undefined);
  if (recoverOne) await recoverOne('uniform', (await scorer.prune(uniformKeep)).model);
  // The figures a user compares: original, best and uniform, timed interleaved in one run.
  let measured: NonNullable<SearchLatencyReport['measured']> | undefined;
  if (latency) {
    const uniformModel = await scorer.prune(uniformKeep);
    const nets = await Promise.all([model, candidate.model, uniformModel.model].map((m) => instantiate(m)));
    const [o, b, u] = await measureInterleaved(nets, FINAL_LATENCY, analysis.graph.inputSize);
    nets.forEach((n) => n.dispose());
    const spread = originalLatencySpread(scorer.originalLatencyMs ?? 0, [...search.log.map((e) => e.score.originalNowMs), o.medianMs]);
    measured = { originalMs: o.medianMs, bestMs: b.medianMs, uniformMs: u.medianMs, speedup: o.medianMs / b.medianMs, uniformSpeedup: o.medianMs / u.medianMs, runs: FINAL_LATENCY.runs, ...(spread ? { originalSpread: spread } : {}) };
    log(`latency    interleaved, median of ${FINAL_LATENCY.runs}: original ${o.medianMs.toFixed(2)} ms, best ${b.medianMs.toFixed(2)} ms (${pct(b.medianMs / o.medianMs, 1)}), uniform ${u.medianMs.toFixed(2)} ms (${pct(u.medianMs / o.medianMs, 1)})`);
    if (spread?.busy)
      log(
        `warning    the device's load changed during the search: in ${Math.round(spread.offShare * 100)}% of its timings the original ran more than ${Math.round(LOAD_CHANGE * 100)}% away from its starting latency (${scorer.originalLatencyMs!.toFixed(2)} ms; ${spread.min.toFixed(2)}-${spread.max.toFixed(2)}x). ` +
          'Latency ratios measured on a busy device favour small models and are not to be trusted: close what else runs and search again.',
      );
  }
  const scorers = session.scorersUsed;
  session.dispose();
  const report = {
    ...pruneReport(model, analysis, { ...candidate.result, model: candidate.model }, { roundTo: config.env.roundTo, refit: candidate.refit !== undefined }),
    refit: candidate.refit,
    batchNorm: candidate.batchNorm,
    search: searchReport({
      config,
      data: data.label,
      rewardImages,
      calibration: calibrationUsed,
      backend: backend.name,
      seconds: (performance.now() - t0) / 1000,
      scorers,
      log: search.log,
      best,
      uniform,
      test,
      latency: latency ? { saved: latency, measured } : undefined,
      finetune,
    }),
  };
  const files = exportFiles(candidate.model);
  writeOutputs(outDir, [[MODEL_FILE, files.modelJson], [WEIGHTS_FILE, new Uint8Array(files.weights)], [REPORT_FILE, JSON.stringify(report, null, 2) + '\n']]);
  if (json) {
    process.stdout.write(JSON.stringify({ ...report, search: { ...report.search, log: undefined } }, null, 2) + '\n');
    return;
  }
  process.stdout.write(
    [
      `wrote      ${join(out, MODEL_FILE)}, ${join(out, WEIGHTS_FILE)}, ${join(out, REPORT_FILE)}`,
      `best       episode ${best.episode + 1} (${best.phase}): ${scoreText(best.score)} on ${data.label}, ${target.resource} ${pct(best.resourceRatio, 1)}`,
      `uniform    ${scoreText(uniform.score)} on ${data.label}, ${target.resource} ${pct(uniform.resourceRatio, 1)}`,
      ...(test ? [`test       best ${scoreText(test.best)}, uniform ${scoreText(test.uniform)} (demo:test)`] : []),
      ...(finetune ? [`finetuned  ${finetune.epochs} epochs: best ${pct(finetune.best?.testBefore)} -> ${pct(finetune.best?.testAfter)}, uniform ${pct(finetune.uniform?.testBefore)} -> ${pct(finetune.uniform?.testAfter)} (demo:test top-1; the written model is the fine-tuned best)`] : []),
      `MACs       ${formatCount(report.original.macs)} -> ${formatCount(report.pruned.macs)}`,
      `params     ${formatCount(report.original.params)} -> ${formatCount(report.pruned.params)}`,
      `policy     ${Object.entries(report.policy).map(([g, k]) => `${g}:${k}/${report.channels[g]}`).join(' ')}`,
    ].join('\n') + '\n',
  );
}
