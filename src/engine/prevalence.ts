// How common each cause is among the confirmed real-world cases of the corpus
// (corpus/prevalence.json, kept equal to corpus/cases by a test): the order of causes the
// evidence cannot separate, and a number the report can state as such.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';

export interface Prevalence {
  /** Confirmed cases in the corpus, catalogued or not. */
  cases: number;
  /** Cases per catalogued cause. */
  byCause: Record<string, number>;
}

export const PREVALENCE_FILE = join(PACKAGE_ROOT, 'corpus', 'prevalence.json');

let cached: Prevalence | undefined;

export function loadPrevalence(): Prevalence {
  if (!cached) {
    try {
      cached = JSON.parse(readFileSync(PREVALENCE_FILE, 'utf8')) as Prevalence;
    } catch {
      // an installed copy without the corpus ranks ties by name only
      cached = { cases: 0, byCause: {} };
    }
  }
  return cached;
}
