/**
 * A refusal the user can act on: which file, what is wrong, what to do.
 * The message is one line so the CLI can print it as is and the UI can show it whole.
 */
export class ModelError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${file}: ${problem} ${fix}`.trim());
    this.name = 'ModelError';
  }
}
