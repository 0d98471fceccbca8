// The idle test's connection limits, apart from the test so the CLI's option checks load nothing else.

/** Default cap on the logins the idle test makes (`--max-connections`). */
export const DEFAULT_MAX_CONNECTIONS = 40;
/** One idle connection, the kept-alive control, and one login to check the target is still there. */
export const MIN_CONNECTIONS = 3;
