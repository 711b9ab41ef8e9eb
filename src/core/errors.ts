/**
 * Errors as the user reads them: one line. What a worker host posts, a panel shows and the CLI
 * prints (a stack trace or a multi-line message never reaches the user).
 */

/** The first line of an error's message. */
export function errLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
