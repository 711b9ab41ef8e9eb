/** Argument parsing shared by every CLI command. */
export class UsageError extends Error {}

/** Flags that never take a value, so `--refit model.json` keeps the path positional. */
const BOOLEAN_FLAGS = new Set(['json', 'refit', 'no-refit', 'help', 'distill-only']);

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
