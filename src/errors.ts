/** Bad usage or bad input: the CLI prints the message as one line and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A data file (rule, signature) that fails to load: names the file and the field. Exit 2 like other bad input. */
export class DataFileError extends UsageError {
  constructor(
    kind: string,
    readonly file: string,
    readonly field: string,
    problem: string,
  ) {
    super(`invalid ${kind} ${file}: ${field ? `${field}: ` : ''}${problem}`);
  }
}

export class RuleFileError extends DataFileError {
  constructor(file: string, field: string, problem: string) {
    super('rule file', file, field, problem);
  }
}

export class SignatureFileError extends DataFileError {
  constructor(file: string, field: string, problem: string) {
    super('signature file', file, field, problem);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
