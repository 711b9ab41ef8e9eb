/**
 * The command line over the same core as the app: `npm run -s amc -- <command> ...`.
 * A bad input exits non-zero with one line naming the file, the problem and the fix.
 */
import { ModelError } from '../core/model/errors';
import { DEFAULT_ROUND_TO, REFIT_DEFAULTS } from '../core/prune/config';
import { defaultWarmup, ENV_DEFAULTS, SCORING_DEFAULTS, SEARCH_DEFAULTS } from '../core/search/config';
import { parseArgs, UsageError, type ParsedArgs } from './args';
import { runEval } from './eval';
import { runFinetune } from './finetune';
import { runInspect } from './inspect';
import { runPrune } from './prune';
import { runSearch } from './search';

const T = ENV_DEFAULTS.target;

const USAGE = `usage: npm run -s amc -- <command> [options]

commands:
  inspect <model.json|folder> [--json] [--input-size N]
      layers, channel groups (prunable or frozen with the reason), MACs and parameters
  prune <model.json> (--policy uniform:RATIO | --policy-file p.json) --out DIR
        [--criterion l1|l2|producer-l1] [--round-to ${DEFAULT_ROUND_TO}] [--input-size N] [--json]
        [--refit --data demo:train [--calibration ${REFIT_DEFAULTS.images}] [--seed ${SEARCH_DEFAULTS.seed}]]
      writes DIR/model.json, DIR/model.weights.bin, DIR/report.json
  eval <model.json> --data demo:test|demo:val|demo:train|DIR [--scaling unit|signed|raw] [--reference original.json]
       [--limit N] [--batch N] [--input-size N] [--json]
      top-1/top-5 on the demo dataset or a folder of PNGs in class subfolders (loose images: fidelity
      to --reference), on WASM
  search <model.json> --out DIR [--data demo:val] [--target macs:${T}|params:${T}|latency:${T}] [--episodes ${SEARCH_DEFAULTS.episodes}] [--seed ${SEARCH_DEFAULTS.seed}]
        [--protocol constrained|accuracy-guaranteed] [--agent ddpg|random] [--warmup N]
        [--reward-images ${SCORING_DEFAULTS.rewardImages}] [--calibration ${SCORING_DEFAULTS.refitImages} | --no-refit] [--round-to ${ENV_DEFAULTS.roundTo}] [--json]
        [--finetune EPOCHS [--finetune-images 9000]]
      the AMC search (DDPG agent) on WASM, with the app's defaults: each episode refitted on
      ${SCORING_DEFAULTS.refitImages} demo:train images (--no-refit: sliced only) and scored on ${SCORING_DEFAULTS.rewardImages} reward images; warm-up a
      third of the budget, at most ${defaultWarmup(Infinity)}; writes the best policy's model and report.json with
      the search log, the uniform baseline and (for demo:val) both policies' demo:test accuracy;
      --finetune: then distills the best and the uniform model (demo:train) and writes the fine-tuned best
  finetune <pruned/model.json> --teacher <original/model.json> --out DIR [--data demo:train|DIR] [--epochs 5]
        [--seed 1] [--limit N] [--distill-only] [--eval demo:test] [--quantize float16|uint8]
        [--lr 0.001] [--batch 32] [--patience 3] [--json]
      recovers a pruned model by distillation from the original (labels added when the data has
      them) on WASM; writes the best epoch's model and report.json with the epoch log
  bench [--quick] [--jobs N] [--import DIR] [--models a,b] [--no-browser]
      the benchmark suite (same as npm run bench): writes bench/results.json and BENCHMARKS.md;
      --quick writes its own beside its runs, in bench/runs/quick/`;

/** `amc bench`: the benchmark suite lives in bench/ (it drives Chromium too); this runs it with the same arguments. */
async function runBench(): Promise<void> {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/run.ts', ...process.argv.slice(3)], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}

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
  const run = COMMANDS[command];
  if (!run) {
    console.error(`amc: unknown command '${command}'. Commands: ${Object.keys(COMMANDS).join(', ')}. See 'npm run -s amc -- help'.`);
    return 2;
  }
  try {
    await run(parseArgs(rest));
    return 0;
  } catch (err) {
    if (err instanceof ModelError) {
      console.error(`amc ${command}: ${err.message}`);
      return 1;
    }
    if (err instanceof UsageError) {
      console.error(`amc ${command}: ${err.message}\n${USAGE}`);
      return 2;
    }
    console.error(`amc ${command}: unexpected error: ${(err as Error).stack ?? err}`);
    return 70;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
