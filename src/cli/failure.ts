/**
 * How the CLI reports a failure: one line on stderr and an exit code, never a stack trace.
 * 1: a refusal (a bad file, flag or folder), the line naming it, the problem and the fix;
 * 2: a command line missing what the command needs (the usage follows);
 * 70: a bug in amc (one line; AMC_DEBUG=1 prints the stack trace).
 */
import { ModelError } from '../core/model/errors';
import { ArgumentError, UsageError } from './args';

/** One line on stderr, with control characters (from a binary file's bytes) shown as escapes. */
export function line(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => (c === '\n' || c === '\r' || c === '\t' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** The exit code for an error, after printing it: 1 a refusal, 2 a usage mistake, 70 a bug (one line; AMC_DEBUG=1 for the stack). */
export function report(command: string, err: unknown, input: string | undefined, usage: string, print: (text: string) => void = (l) => console.error(l)): number {
  if (err instanceof ModelError || err instanceof ArgumentError) {
    print(line(`amc ${command}: ${err.message}`));
    return 1;
  }
  if (err instanceof UsageError) {
    print(`${line(`amc ${command}: ${err.message}`)}\n${usage}`);
    return 2;
  }
  // A file-system failure outside the model loader (an image folder, a policy, --reference): the path and what to do.
  const sys = err as NodeJS.ErrnoException;
  if (sys && typeof sys.code === 'string' && typeof sys.path === 'string') {
    const problem: Record<string, string> = { ENOENT: 'does not exist', EACCES: 'cannot be read or written (permission denied)', EPERM: 'cannot be read or written (permission denied)', EISDIR: 'is a folder where a file was expected', ENOTDIR: 'is not a folder', ELOOP: 'is a link that leads back to itself', ENOSPC: 'cannot be written: the disk is full' };
    print(line(`amc ${command}: ${sys.path}: ${problem[sys.code] ?? `failed (${sys.code})`}. Check the path and its permissions.`));
    return 1;
  }
  if (process.env.AMC_DEBUG) print(String((err as Error)?.stack ?? err));
  const what = err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err);
  print(
    line(`amc ${command}: unexpected error${input ? ` on ${input}` : ''}: ${what.length > 300 ? `${what.slice(0, 300)}...` : what}. This is a bug in amc; set AMC_DEBUG=1 to print the stack trace, and please report it with the file.`),
  );
  return 70;
}

