// Questions when the evidence is thin: multiple choice, asked only when no cause stands out,
// each chosen because its answers would change the ranking most. The answer is evidence like
// the user's own words (symptom facts), so a saved bundle re-runs to the same result.
import { join } from 'node:path';
import { readYamlData } from '../data-file.js';
import { DataFileError } from '../errors.js';
import type { Evidence, SymptomFact } from '../evidence/types.js';
import { PACKAGE_ROOT } from '../paths.js';
import { diagnose } from './evaluate.js';
import type { Diagnosis, Rule, Scalar } from './rule.js';

export interface Question {
  id: string;
  ask: string;
  options: Array<{ answer: string; sets: Record<string, Exclude<Scalar, null>> }>;
}

export const MAX_QUESTIONS = 3;
/** Candidates this close (or a top below this) leave the diagnosis open. */
const CLOSE = 0.15;
const STANDS_OUT = 0.6;

let cached: Question[] | undefined;

export function loadQuestions(file = join(PACKAGE_ROOT, 'questions', 'questions.yaml')): Question[] {
  cached ??= (
    readYamlData(file, {
      schema: 'question.schema.json',
      maxBytes: 128 * 1024,
      fail: (f, field, problem) => new DataFileError('question file', f, field, problem),
    }).data as { questions: Question[] }
  ).questions;
  return cached;
}

/** No cause stands out: none at all, a weak top, or two close ones. */
export function isOpen(d: Diagnosis): boolean {
  const [a, b] = d.causes;
  if (!a) return true;
  if (a.confidence < STANDS_OUT) return true;
  return b !== undefined && a.confidence - b.confidence < CLOSE;
}

/** The evidence with an answer's facts added (the answer's words as their source). */
export function withAnswer(ev: Evidence, q: Question, option: Question['options'][number]): Evidence {
  const known = new Set((ev.symptoms ?? []).map((s) => s.fact));
  const added: SymptomFact[] = Object.entries(option.sets)
    .filter(([fact]) => !known.has(fact))
    .map(([fact, value]) => ({ fact, value, from: `your answer: ${option.answer}`, means: `answered "${option.answer}" to "${q.ask}"` }));
  return {
    ...ev,
    symptoms: [...(ev.symptoms ?? []), ...added],
    answers: [...(ev.answers ?? []), { question: q.ask, answer: option.answer }],
  };
}

/**
 * The question whose answers would separate the candidates most: the most distinct top causes
 * across its answers, then the largest change of the top's confidence. Null when no question
 * would change anything, or every fact it asks about is already known.
 */
export function pickQuestion(ev: Evidence, rules: Rule[], asked: ReadonlySet<string>, questions = loadQuestions()): Question | null {
  const known = new Set((ev.symptoms ?? []).map((s) => s.fact));
  const base = diagnose(ev, rules).causes[0];
  let best: { q: Question; tops: number; shift: number } | null = null;
  for (const q of questions) {
    if (asked.has(q.id)) continue;
    const facts = q.options.flatMap((o) => Object.keys(o.sets));
    if (facts.length === 0 || facts.every((f) => known.has(f))) continue;
    const tops = new Set<string>();
    let shift = 0;
    for (const o of q.options) {
      const top = diagnose(withAnswer(ev, q, o), rules).causes[0];
      tops.add(top?.id ?? 'none');
      shift = Math.max(shift, Math.abs((top?.confidence ?? 0) - (top?.id === base?.id ? (base?.confidence ?? 0) : 0)));
    }
    if (tops.size < 2 && shift < 0.1) continue;
    if (!best || tops.size > best.tops || (tops.size === best.tops && shift > best.shift)) best = { q, tops: tops.size, shift };
  }
  return best?.q ?? null;
}
