/** Small helpers every part of the bench shares: statistics, timing, logging, demo model paths. */
import { existsSync } from 'node:fs';

export const DEMO_MODELS = ['plain-cnn', 'resnet-like', 'mobilenet-like'] as const;

export const modelPath = (name: string) => `models/${name}/model.json`;

/** Logs to stderr, prefixed by the part of the bench it comes from. */
export function logger(part: string): (line: string) => void {
  return (line) => process.stderr.write(`${part.padEnd(14)} ${line}\n`);
}

/** The demo models that exist; says which are missing and how to get them. */
export function presentModels(names: readonly string[], log: (s: string) => void): string[] {
  return names.filter((name) => {
    if (existsSync(modelPath(name))) return true;
    log(`${modelPath(name)} is missing: ${name} skipped (train it with npm run -s train:demo -- --only ${name})`);
    return false;
  });
}

export const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Sample standard deviation (n - 1); 0 for fewer than two values. */
export const sd = (xs: readonly number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = (s.length - 1) / 2;
  return (s[Math.floor(i)] + s[Math.ceil(i)]) / 2;
}

export interface Timing {
  runs: number;
  warmup: number;
  medianMs: number;
  minMs: number;
}

/** Runs `fn` `warmup` times untimed, then `runs` times timed with performance.now(). */
export async function time(fn: () => unknown, runs: number, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return { runs, warmup, medianMs: median(ms), minMs: Math.min(...ms) };
}

/** Reads `--name value` (or `--name=value`) from argv. */
export function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  const inline = argv.find((a) => a.startsWith(`--${name}=`));
  return inline?.slice(name.length + 3);
}
