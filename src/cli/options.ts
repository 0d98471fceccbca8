import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import type { Format, OutputOptions } from './output.js';

export interface CommonArgs {
  format: Format;
  json: boolean;
  output?: string;
  saveEvidence?: string;
  redact: boolean;
  rules?: string[];
  verbose: boolean;
}

/** Options every diagnosing command shares (contract: "all commands where they apply"). */
export function commonOptions<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option('format', { choices: ['table', 'json', 'markdown'] as const, default: 'table' as Format, describe: 'report format' })
    .option('json', { type: 'boolean', default: false, describe: 'same as --format json' })
    .option('output', { alias: 'o', type: 'string', describe: 'write the report to a file' })
    .option('save-evidence', { type: 'string', describe: 'write the evidence bundle (re-run it with explain FILE)' })
    .option('redact', { type: 'boolean', default: false, describe: 'replace user names, host names and addresses with placeholders' })
    .option('rules', { type: 'string', array: true, describe: 'extra rule folder(s), added to the built-in rules' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'progress details on stderr' }) as unknown as Argv<T & CommonArgs>;
}

export function outputOptions(args: CommonArgs): OutputOptions {
  const format: Format = args.json ? 'json' : args.format;
  if (args.json && args.format !== 'table' && args.format !== 'json') {
    throw new UsageError(`--json conflicts with --format ${args.format}`);
  }
  return {
    format,
    redact: args.redact,
    ...(args.output ? { output: args.output } : {}),
    ...(args.saveEvidence ? { saveEvidence: args.saveEvidence } : {}),
  };
}
