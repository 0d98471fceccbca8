import type { Advisory, Cause, Diagnosis, RuledOut } from '../engine/rule.js';
import { Redactor } from '../evidence/redact.js';
import { scrubSecrets } from '../evidence/secrets.js';
import type { Evidence, InputFile, Measurements, ProbeStatus, SymptomFact, Target } from '../evidence/types.js';
import { VERSION } from '../paths.js';

/** The report as the contract fixes it (`--format json`); table and markdown render the same object. */
export interface Report {
  tool: 'ssh-doctor';
  version: string;
  target: Target | null;
  startedAt: string;
  durationMs: number;
  probes: ProbeStatus[];
  measurements: Measurements;
  causes: Cause[];
  advisories: Advisory[];
  errors: string[];
  /** Added to the contract: the files read, with how many lines were not understood. */
  inputs: InputFile[];
  /** Added: causes the evidence rules out, and why. */
  ruledOut: RuledOut[];
  /** Added: what the user's words (and answers) were read as. */
  symptoms: SymptomFact[];
  /** Added: questions asked on the terminal and their answers. */
  answers: Array<{ question: string; answer: string }>;
}

export function buildReport(
  ev: Evidence,
  diagnosis: Diagnosis,
  opts: { startedAt: Date; finishedAt?: Date; redact?: boolean },
): Report {
  const report: Report = {
    tool: 'ssh-doctor',
    version: VERSION,
    target: ev.target,
    startedAt: opts.startedAt.toISOString(),
    durationMs: Math.max(0, (opts.finishedAt ?? new Date()).getTime() - opts.startedAt.getTime()),
    probes: ev.probes,
    measurements: ev.measurements,
    causes: diagnosis.causes,
    advisories: diagnosis.advisories,
    errors: ev.errors.map(scrubSecrets),
    inputs: ev.inputs,
    ruledOut: diagnosis.ruledOut,
    symptoms: ev.symptoms ?? [],
    answers: ev.answers ?? [],
  };
  return opts.redact ? new Redactor(ev).deep(report) : report;
}

/** Exit status of a finished diagnosis (contract): 1 when a cause was found, else 0. */
export function exitCodeOf(report: Report): 0 | 1 {
  return report.causes.length > 0 ? 1 : 0;
}
