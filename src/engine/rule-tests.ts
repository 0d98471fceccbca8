import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parse } from 'yaml';
import { evidenceFromInputs, type InputSpec } from '../inputs/read.js';
import { UsageError } from '../errors.js';
import { diagnose } from './evaluate.js';
import type { Diagnosis, Rule } from './rule.js';

/**
 * Fixture-based rule tests, in the style of ESLint's RuleTester and Sigma's regression data:
 * every folder holding an `expect.yaml` is a case; its evidence files are read exactly as
 * `explain` reads a user's files, and the diagnosis must meet the expectation.
 *
 *   expect.yaml:
 *     note: where the evidence came from (one line; required)
 *     fires: <cause-id>    the cause that must fire ...
 *     top: true            ... and rank first (default true)
 *     not: [<cause-id>]    causes the evidence must NOT single out (near misses; a low
 *                          candidate of the differential is fine)
 *     clean: true          no cause may fire at all (healthy baselines)
 *     advisories: [<id>]   advisories that must be given
 *     host: NAME           the target for a raw ssh_config
 */
export interface Expectation {
  note: string;
  fires?: string | null;
  top?: boolean;
  not?: string[];
  clean?: boolean;
  advisories?: string[];
  host?: string;
}

export interface CaseResult {
  name: string;
  dir: string;
  expect: Expectation;
  diagnosis?: Diagnosis;
  problems: string[];
}

/** A fixture's files, by name: each read as the flag for its kind would read it. */
const EVIDENCE_FILES: Array<[RegExp, InputSpec['hint']]> = [
  [/^client.*\.log$/, 'client-log'],
  [/^(server|auth|secure|journal|sshd).*\.log$/, 'server-log'],
  [/^ssh_config$/, 'ssh-config'],
  [/^ssh-G\.txt$/, 'ssh-G'],
  [/^sshd_config$/, 'sshd-config'],
  [/^sshd-T\.txt$/, 'sshd-T'],
  [/^bundle\.json$/, 'bundle'],
];
/** Other files of a case (`paste.txt`, `putty.log`...) are read as `explain FILE` reads them: for what they are. */
const OTHER_EVIDENCE = /\.(?:txt|log)$/;

export function findCases(fixturesDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    if (entries.includes('expect.yaml')) out.push(dir);
    for (const e of entries) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(fixturesDir);
  return out;
}

/** A case's files as flags would give them; with `positional`, as bare `explain FILE...` arguments (read for what they are). */
export function filesOf(dir: string, opts: { positional?: boolean } = {}): InputSpec[] {
  const specs: InputSpec[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const known = EVIDENCE_FILES.find(([re]) => re.test(name));
    if (known && !opts.positional) specs.push({ path, hint: known[1] });
    else if (known) specs.push({ path });
    else if (OTHER_EVIDENCE.test(name)) specs.push({ path });
  }
  return specs;
}

function readExpectation(dir: string): Expectation {
  const file = join(dir, 'expect.yaml');
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const x = data as Expectation;
  if (!x || typeof x !== 'object' || typeof x.note !== 'string' || x.note.trim() === '') {
    throw new UsageError(`${file}: needs a one-line "note" saying where the evidence came from`);
  }
  return x;
}

export async function runCase(dir: string, rules: Rule[], root: string): Promise<CaseResult> {
  const expect = readExpectation(dir);
  const name = relative(root, dir) || basename(dir);
  const problems: string[] = [];
  const known = new Set(rules.map((r) => r.id));
  for (const id of [expect.fires, ...(expect.not ?? [])]) {
    if (id && !known.has(id)) problems.push(`expect.yaml names unknown cause "${id}"`);
  }
  const ev = await evidenceFromInputs(filesOf(dir), { now: new Date('2026-11-24T12:00:00Z'), ...(expect.host ? { host: expect.host } : {}) });
  const diagnosis = diagnose(ev, rules);
  const ids = diagnosis.causes.map((c) => c.id);
  if (expect.fires) {
    const rank = ids.indexOf(expect.fires);
    if (rank < 0) problems.push(`expected ${expect.fires} to fire; got [${ids.join(', ') || 'no cause'}]`);
    else if ((expect.top ?? true) && rank > 0) problems.push(`expected ${expect.fires} first; it ranks ${rank + 1} after [${ids.slice(0, rank).join(', ')}]`);
  }
  const singled = diagnosis.causes.filter((c) => !c.candidate).map((c) => c.id);
  for (const id of expect.not ?? []) {
    if (singled.includes(id)) problems.push(`${id} must not fire (near miss), but it did: ${diagnosis.causes.find((c) => c.id === id)?.evidence.join('; ')}`);
  }
  if (expect.clean && ids.length > 0) problems.push(`clean baseline, but causes fired: [${ids.join(', ')}]`);
  const advisories = diagnosis.advisories.map((a) => a.id);
  for (const id of expect.advisories ?? []) {
    if (!advisories.includes(id)) problems.push(`expected advisory ${id}; got [${advisories.join(', ')}]`);
  }
  return { name, dir, expect, diagnosis, problems };
}

export interface SuiteResult {
  cases: CaseResult[];
  /** Cause rules without a positive case, or without a near-miss case. */
  coverage: string[];
}

export async function runSuite(fixturesDirs: string[], rules: Rule[], ruleIdsToCover: string[]): Promise<SuiteResult> {
  const cases: CaseResult[] = [];
  for (const fx of fixturesDirs) {
    if (!existsSync(fx)) continue;
    for (const dir of findCases(fx)) cases.push(await runCase(dir, rules, fx));
  }
  const coverage: string[] = [];
  for (const id of ruleIdsToCover) {
    if (!cases.some((c) => c.expect.fires === id)) coverage.push(`${id}: no fixture where it fires`);
    if (!cases.some((c) => c.expect.not?.includes(id))) coverage.push(`${id}: no near-miss fixture where it must not fire`);
  }
  return { cases, coverage };
}
