// The real-world corpus (corpus/cases/<cause>/<case>.yaml): confirmed cases from public threads,
// each read as a user would hand it over (its evidence blocks pasted into one ticket) and
// scored against the cause its thread confirmed. Shared by the regression test and the bench.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { diagnose } from '../../src/engine/evaluate.js';
import type { Diagnosis, Rule } from '../../src/engine/rule.js';
import type { Evidence } from '../../src/evidence/types.js';
import { evidenceFromInputs } from '../../src/inputs/read.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const CORPUS = join(PACKAGE_ROOT, 'corpus', 'cases');

export interface CorpusCase {
  file: string;
  folder: string;
  source: string;
  title: string;
  description: string;
  evidence: Array<{ note: string; text: string }>;
  confirmed: { cause: string | null; outside: string | null; how: string; quote: string };
  environment?: string;
}

export function loadCorpus(dir = CORPUS): CorpusCase[] {
  const out: CorpusCase[] = [];
  for (const folder of readdirSync(dir).sort()) {
    const sub = join(dir, folder);
    if (!statSync(sub).isDirectory()) continue;
    for (const name of readdirSync(sub).sort()) {
      if (!/\.ya?ml$/.test(name)) continue;
      const file = join(sub, name);
      const data = parse(readFileSync(file, 'utf8')) as Omit<CorpusCase, 'file' | 'folder'>;
      out.push({ ...data, description: data.description ?? '', file: relative(PACKAGE_ROOT, file), folder });
    }
  }
  return out;
}

/** One ticket: the evidence blocks as a user pastes them, one after another. */
export function pasteOf(c: CorpusCase): string {
  return c.evidence.map((e) => e.text.trimEnd()).join('\n\n') + '\n';
}

export interface Scored {
  c: CorpusCase;
  ev: Evidence;
  diagnosis: Diagnosis;
  /** 1-based rank of the confirmed cause among the causes named, 0 when not named. */
  rank: number;
  /** Top cause's confidence (0 when none). */
  topConfidence: number;
  recognised: boolean;
}

export async function scoreCase(c: CorpusCase, rules: Rule[], opts: { describe?: boolean } = {}): Promise<Scored> {
  const specs = [{ path: c.file, text: pasteOf(c) }];
  if (opts.describe && c.description.trim()) specs.push({ path: 'description', text: c.description });
  const ev = await evidenceFromInputs(specs, { now: new Date('2026-12-01T12:00:00Z') });
  const diagnosis = diagnose(ev, rules);
  const ids = diagnosis.causes.map((x) => x.id);
  const rank = c.confirmed.cause ? ids.indexOf(c.confirmed.cause) + 1 : 0;
  // understood: a line of a known producer, a config, or words that said something (a symptom)
  const pasted = ev.inputs.filter((i) => i.source === c.file);
  const recognised = pasted.some((i) => i.recognised > 0) || (ev.symptoms ?? []).some((x) => !x.from.startsWith('your answer'));
  return { c, ev, diagnosis, rank, topConfidence: diagnosis.causes[0]?.confidence ?? 0, recognised };
}

export interface CorpusScore {
  cases: Scored[];
  catalogue: number;
  top1: number;
  top3: number;
  outside: number;
  /** Out-of-catalogue cases named with confidence >= 0.8. */
  outsideConfident: Scored[];
  unrecognised: Scored[];
}

export async function scoreCorpus(rules: Rule[], opts: { describe?: boolean } = {}): Promise<CorpusScore> {
  const cases: Scored[] = [];
  for (const c of loadCorpus()) cases.push(await scoreCase(c, rules, opts));
  const inCat = cases.filter((s) => s.c.confirmed.cause);
  const out = cases.filter((s) => !s.c.confirmed.cause);
  return {
    cases,
    catalogue: inCat.length,
    top1: inCat.filter((s) => s.rank === 1).length,
    top3: inCat.filter((s) => s.rank >= 1 && s.rank <= 3).length,
    outside: out.length,
    outsideConfident: out.filter((s) => s.topConfidence >= 0.8),
    unrecognised: cases.filter((s) => !s.recognised),
  };
}

export function pct(n: number, d: number): string {
  return d === 0 ? '-' : `${Math.round((100 * n) / d)}%`;
}

/** Cases per confirmed catalogued cause, as corpus/prevalence.json holds them. */
export function prevalenceOf(corpus: CorpusCase[]): { cases: number; byCause: Record<string, number> } {
  const byCause: Record<string, number> = {};
  for (const c of corpus) if (c.confirmed.cause) byCause[c.confirmed.cause] = (byCause[c.confirmed.cause] ?? 0) + 1;
  return { cases: corpus.length, byCause: Object.fromEntries(Object.entries(byCause).sort(([a], [b]) => a.localeCompare(b))) };
}

const BINS = [0, 0.2, 0.4, 0.6, 0.8, 1.0001];

export interface CalibrationRow {
  bin: string;
  causes: number;
  meanConfidence: number;
  shareRight: number;
}

/** Every cause named in every report, by confidence bin: how often it was the confirmed cause. */
export function calibration(cases: Scored[]): CalibrationRow[] {
  const rows: CalibrationRow[] = [];
  for (let i = 0; i < BINS.length - 1; i++) {
    const lo = BINS[i]!;
    const hi = BINS[i + 1]!;
    let n = 0;
    let sum = 0;
    let right = 0;
    for (const s of cases) {
      for (const c of s.diagnosis.causes) {
        if (c.confidence < lo || c.confidence >= hi) continue;
        n++;
        sum += c.confidence;
        if (c.id === s.c.confirmed.cause) right++;
      }
    }
    rows.push({ bin: `${lo.toFixed(1)}-${Math.min(1, hi).toFixed(1)}`, causes: n, meanConfidence: n ? sum / n : 0, shareRight: n ? right / n : 0 });
  }
  return rows;
}
