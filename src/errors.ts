/** Bad usage or bad input: the CLI prints the message as one line and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A rule file that fails to load: names the file and the field. Exit 2 like other bad input. */
export class RuleFileError extends UsageError {
  constructor(
    readonly file: string,
    readonly field: string,
    problem: string,
  ) {
    super(`invalid rule file ${file}: ${field ? `${field}: ` : ''}${problem}`);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
