// Reading the project's data files (rules, signatures): YAML with bounded size, no alias bombs,
// checked against a JSON schema. Everything in them is data; nothing is executed.
import { readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';
import type { DataFileError } from './errors.js';
import { SCHEMA_DIR } from './paths.js';

/** The path as the user would type it (relative to the working directory when inside it). */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

const validators = new Map<string, ValidateFunction>();

function validatorFor(schemaFile: string): ValidateFunction {
  let v = validators.get(schemaFile);
  if (!v) {
    const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, schemaFile), 'utf8')) as object;
    v = new Ajv({ allErrors: true, strict: false }).compile(schema);
    validators.set(schemaFile, v);
  }
  return v;
}

/** Picks the most telling schema error: the deepest one, since oneOf reports every branch. */
function describe(errors: ErrorObject[]): { field: string; problem: string } {
  const meaningful = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
  const best = [...(meaningful.length ? meaningful : errors)].sort(
    (a, b) => b.instancePath.split('/').length - a.instancePath.split('/').length,
  )[0] as ErrorObject;
  const path = best.instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
  const extra = best.keyword === 'additionalProperties' ? ` (${String(best.params['additionalProperty'])})` : '';
  const allowed = best.keyword === 'enum' ? ` (${(best.params['allowedValues'] as unknown[]).join(', ')})` : '';
  return { field: path || '(top level)', problem: `${best.message ?? 'invalid'}${extra}${allowed}` };
}

/**
 * Reads a YAML data file and checks it against `schema` (a file in schema/). Errors name the file
 * and the field, as `fail(file, field, problem)` builds them.
 */
export function readYamlData(
  path: string,
  opts: { schema: string; maxBytes: number; fail: (file: string, field: string, problem: string) => DataFileError },
): { file: string; data: unknown } {
  const file = displayPath(path);
  let text: string | undefined;
  try {
    if (statSync(path).size <= opts.maxBytes) text = readFileSync(path, 'utf8');
  } catch (e) {
    throw opts.fail(file, '', `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (text === undefined) throw opts.fail(file, '', `larger than ${opts.maxBytes} bytes`);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line;
    throw opts.fail(file, line ? `line ${line}` : '', `YAML: ${err.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    // an alias bomb ("Excessive alias count"), a tag the YAML library refuses...
    throw opts.fail(file, '', `YAML: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
  const validate = validatorFor(opts.schema);
  if (!validate(data)) {
    const { field, problem } = describe([...(validate.errors ?? [])]);
    throw opts.fail(file, field, problem);
  }
  return { file, data };
}
