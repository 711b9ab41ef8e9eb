/** Argument parsing shared by every CLI command. */
export class UsageError extends Error {}

/** A command line refused in one line that says what to type instead (an unknown flag, a stray argument): exit 1. */
export class ArgumentError extends Error {}

/** Flags that never take a value, so `--refit model.json` keeps the path positional. */
const BOOLEAN_FLAGS = new Set(['json', 'refit', 'no-refit', 'help', 'distill-only', 'force', 'quick', 'fresh', 'no-browser', 'reuse-only']);

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [key, inline] = a.slice(2).split('=', 2);
    const next = argv[i + 1];
    if (inline !== undefined) flags.set(key, inline);
    else if (next !== undefined && !next.startsWith('--') && !BOOLEAN_FLAGS.has(key)) {
      flags.set(key, next);
      i++;
    } else flags.set(key, true);
  }
  return { positional, flags };
}

export function intFlag(args: ParsedArgs, name: string): number | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v === true || !Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} needs a positive whole number, got '${v === true ? '' : v}'.`);
  return n;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/**
 * A size in bytes: a whole number, or a number with a unit as the refusals write sizes
 * ("4GiB", "4 GiB", "512M"; K, M, G are powers of 1024).
 */
export function bytesFlag(args: ParsedArgs, name: string): number | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  const m = v === true ? null : /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined;
  const n = m && unit !== undefined && Object.hasOwn(BYTE_UNITS, m[2].toLowerCase()) ? Math.round(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`--${name} needs a size in bytes, such as 4294967296 or 4GiB, got '${v === true ? '' : v}'.`);
  }
  return n;
}

/** What a command accepts: its flags (without --) and how many positional arguments (paths) it takes. */
export interface CommandSpec {
  flags: readonly string[];
  positional: number;
  /** How the positional arguments read in a message, e.g. 'the path of one model.json'. */
  positionalText: string;
}

/** Levenshtein distance, for the closest known flag to a typo. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The known flag a typo most likely meant: the nearest by edit distance when near enough, or the one it starts. */
export function closestFlag(typed: string, known: readonly string[]): string | undefined {
  const t = typed.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(t, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(t.length / 3))) return best;
  const prefixed = known.filter((k) => t.length >= 3 && (k.startsWith(t) || t.startsWith(k)));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * Refuses flags the command does not know (with the closest known one and the full list) and more
 * positional arguments than it takes, so a typo never turns silently into a different run.
 * `otherCommands` maps a flag to the commands that do take it, for "--out is not a flag of inspect".
 */
export function checkArgs(command: string, args: ParsedArgs, spec: CommandSpec, otherCommands: (flag: string) => string[] = () => []): void {
  const known = [...spec.flags].sort();
  const list = `Known flags: ${known.map((k) => `--${k}`).join(', ')}.`;
  for (const key of args.flags.keys()) {
    if (spec.flags.includes(key)) continue;
    const elsewhere = otherCommands(key);
    const near = closestFlag(key, known);
    const shown = `--${key}`.replace(/[\x00-\x1f\x7f]/g, '?');
    const hint = near ? `; did you mean --${near}?` : elsewhere.length ? `; it is a flag of ${elsewhere.join(', ')}.` : '.';
    throw new ArgumentError(`unknown flag ${shown} for ${command}${hint} ${list}`);
  }
  if (args.positional.length > spec.positional) {
    const extra = args.positional[spec.positional];
    const near = extra.startsWith('-') ? closestFlag(extra.replace(/^-+/, ''), known) : undefined;
    const hint = near ? `; did you mean --${near}?` : extra.startsWith('-') ? '; flags start with two dashes.' : '.';
    throw new ArgumentError(`unexpected argument '${extra.replace(/[\x00-\x1f\x7f]/g, '?')}' for ${command}, which takes ${spec.positionalText}${hint} ${list}`);
  }
}
