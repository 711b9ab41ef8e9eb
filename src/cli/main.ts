/**
 * The command line over the same core as the app: `npm run -s amc -- <command> ...`.
 * A bad input exits non-zero with one line naming the file, the problem and the fix.
 */
import { DEFAULT_ROUND_TO, REFIT_DEFAULTS } from '../core/prune/config';
import { EVALUATORS } from '../core/prune/config';
import { calibrationImages, defaultWarmup, ENV_DEFAULTS, SCORING_DEFAULTS, SEARCH_DEFAULTS } from '../core/search/config';
import { checkArgs, closestFlag, parseArgs, type CommandSpec, type ParsedArgs } from './args';
import { line, report } from './failure';
import { runEval } from './eval';
import { runFinetune } from './finetune';
import { runInspect } from './inspect';
import { runPrune } from './prune';
import { runSearch } from './search';

const T = ENV_DEFAULTS.target;

const USAGE = `usage: npm run -s amc -- <command> [options]

commands:
  inspect <model.json|folder> [--json] [--input-size N] [--max-bytes N] [--outputs a,b]
      layers, channel groups (prunable or frozen with the reason), MACs and parameters
  prune <model.json> (--policy uniform:RATIO | --policy-file p.json) --out DIR [--force]
        [--criterion l1|l2|producer-l1] [--round-to ${DEFAULT_ROUND_TO}] [--input-size N] [--max-bytes N] [--outputs a,b] [--json]
        [--refit --data demo:train [--calibration ${REFIT_DEFAULTS.images}] [--seed ${SEARCH_DEFAULTS.seed}]]
      writes DIR/model.json, DIR/model.weights.bin, DIR/report.json
  eval <model.json> --data demo:test|demo:val|demo:train|DIR [--scaling unit|signed|raw] [--reference original.json]
       [--limit N] [--batch N] [--input-size N] [--max-bytes N] [--json]
      top-1/top-5 on the demo dataset or a folder of images (JPEG, PNG, WebP) in class subfolders (loose images: fidelity
      to --reference), on WASM
  search <model.json> --out DIR [--force] [--data demo:val|DIR] [--target macs:${T}|params:${T}|latency:${T}] [--episodes ${SEARCH_DEFAULTS.episodes}] [--seed ${SEARCH_DEFAULTS.seed}]
        [--protocol constrained|accuracy-guaranteed] [--agent ddpg|random] [--warmup N]
        [--reward-images ${SCORING_DEFAULTS.rewardImages}] [--evaluate auto|${EVALUATORS.join('|')}] [--calibration N | --no-refit] [--round-to ${ENV_DEFAULTS.roundTo}] [--max-bytes N] [--outputs a,b] [--json]
        [--finetune EPOCHS [--finetune-images 9000]] [--workers N]
      the AMC search (DDPG agent) on WASM, with the app's defaults: each episode made ready by the
      evaluator (auto: BatchNorm statistics recomputed on ${calibrationImages('bn')} calibration images when the model has
      BatchNorm, else the least-squares refit on ${calibrationImages('refit')}; --no-refit: sliced only) and scored on ${SCORING_DEFAULTS.rewardImages} reward images; warm-up a
      third of the budget, at most ${defaultWarmup(Infinity)}; writes the best policy's model and report.json with
      the search log, the uniform baseline and (for demo:val) both policies' demo:test accuracy;
      --data DIR: the user's images (class subfolders: accuracy; loose: agreement with the original),
      calibration and --finetune from the same folder;
      --finetune: then distills the best and the uniform model (demo:train) and writes the fine-tuned best;
      --workers N: scorers at once for the episodes that do not depend on each other (the warm-up, --agent
      random), N-1 of them in worker threads (default: the CPU count, at most 8; 1: none), same log as one
      at a time; a latency search scores alone (its timings need the device to itself)
  finetune <pruned/model.json> --teacher <original/model.json> --out DIR [--force] [--data demo:train|DIR] [--epochs 5]
        [--seed 1] [--limit N] [--distill-only] [--eval demo:test] [--quantize float16|uint8]
        [--lr 0.001] [--batch 32] [--patience 3] [--max-bytes N] [--json]
      recovers a pruned model by distillation from the original (labels added when the data has
      them) on WASM; writes the best epoch's model and report.json with the epoch log
  bench [--quick] [--jobs N] [--import DIR] [--models a,b] [--no-browser]
      the benchmark suite (same as npm run bench): writes bench/results.json and BENCHMARKS.md;
      --quick writes its own beside its runs, in bench/runs/quick/

--out DIR must be a new folder or one without model files: the input model's own folder, or one
that already holds model.json, report.json or *.bin, is refused unless --force (then they are replaced;
each file is written to a temporary name and renamed into place).
--outputs a,b (inspect, prune, search): keep only these outputs of a model with several (the others, and
the layers only they need, are dropped before anything runs): channels that reach an output cannot be
pruned, so a model that exposes every layer as an output has nothing to prune until you choose.
--max-bytes N (e.g. 4GiB): the most a model may need to run (its weights plus the activations of one
input, computed from model.json before anything is read); a model over it (2 GiB by default) is refused.
exit codes: 0 done, 1 refused (a bad file, flag or folder: the line says which and what to do),
2 a command line that misses what the command needs (usage printed), 70 a bug in amc (one line;
AMC_DEBUG=1 prints the stack trace).`;

/** `amc bench`: the benchmark suite lives in bench/ (it drives Chromium too); this runs it with the same arguments. */
async function runBench(): Promise<void> {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/run.ts', ...process.argv.slice(3)], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}

/**
 * Every flag each command reads (src/cli/<command>.ts), in one place: anything else is refused with
 * the closest known flag, so a typo never turns silently into a different run.
 */
const ONE_MODEL = { positional: 1, positionalText: 'the path of one model.json (or its folder)' };
const COMMAND_SPECS: Record<string, CommandSpec> = {
  inspect: { ...ONE_MODEL, flags: ['help', 'json', 'input-size', 'max-bytes', 'outputs'] },
  prune: { ...ONE_MODEL, flags: ['help', 'json', 'out', 'force', 'policy', 'policy-file', 'criterion', 'round-to', 'input-size', 'refit', 'data', 'calibration', 'seed', 'max-bytes', 'outputs'] },
  eval: { ...ONE_MODEL, flags: ['help', 'json', 'data', 'scaling', 'reference', 'limit', 'batch', 'input-size', 'max-bytes'] },
  search: {
    ...ONE_MODEL,
    flags: ['help', 'json', 'out', 'force', 'data', 'target', 'protocol', 'agent', 'reward-images', 'evaluate', 'calibration', 'refit', 'no-refit', 'episodes', 'seed', 'round-to', 'warmup', 'finetune', 'finetune-images', 'input-size', 'max-bytes', 'outputs', 'workers'],
  },
  finetune: {
    positional: 1,
    positionalText: 'the path of the pruned model.json (the original goes in --teacher)',
    flags: ['help', 'json', 'out', 'force', 'teacher', 'data', 'limit', 'distill-only', 'quantize', 'eval', 'epochs', 'seed', 'batch', 'lr', 'patience', 'max-bytes'],
  },
  // bench/run.ts reads these from the raw command line.
  bench: { positional: 0, positionalText: 'no paths', flags: ['help', 'quick', 'fresh', 'no-browser', 'reuse-only', 'jobs', 'import', 'models', 'episodes', 'seeds'] },
};

const COMMANDS: Record<string, (args: ParsedArgs) => Promise<void>> = {
  inspect: runInspect,
  prune: runPrune,
  eval: runEval,
  search: runSearch,
  finetune: runFinetune,
  bench: runBench,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (!Object.hasOwn(COMMANDS, command)) {
    const near = closestFlag(command, Object.keys(COMMANDS));
    console.error(line(`amc: unknown command '${command}'${near ? `; did you mean ${near}?` : '.'} Commands: ${Object.keys(COMMANDS).join(', ')}. See 'npm run -s amc -- help'.`));
    return 2;
  }
  const run = COMMANDS[command];
  let args: ParsedArgs | undefined;
  try {
    args = parseArgs(rest);
    checkArgs(command, args, COMMAND_SPECS[command], (flag) => Object.keys(COMMAND_SPECS).filter((c) => COMMAND_SPECS[c].flags.includes(flag)));
    if (args.flags.has('help')) {
      console.log(USAGE);
      return 0;
    }
    await run(args);
    return 0;
  } catch (err) {
    return report(command, err, args?.positional[0], USAGE);
  }
}

// Errors no await catches (a rejected promise a library leaves behind): the same one line, never a stack trace.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (err: unknown) => {
    process.exit(report(process.argv[2] ?? '', err, process.argv.slice(3).find((a) => !a.startsWith('--')), USAGE));
  });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
