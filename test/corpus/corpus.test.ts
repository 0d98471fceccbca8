// The real-world corpus as a regression suite: confirmed cases from public threads (the
// evidence copied verbatim, the source, the user's words, the cause the thread confirmed), each
// pasted as one ticket, from the evidence alone. Prints top-1 and top-3 for catalogued causes
// and holds them to the bar; out-of-catalogue cases must never be named with confidence 0.8 or
// more; no case's evidence may go wholly unrecognised.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { loadRules } from '../../src/engine/load.js';
import { PREVALENCE_FILE } from '../../src/engine/prevalence.js';
import { calibration, loadCorpus, pct, prevalenceOf, scoreCorpus } from './score.js';

const rules = loadRules();
const CATALOGUE = rules.filter((r) => r.kind === 'cause').map((r) => r.id);
const corpus = loadCorpus();

describe('the corpus is well formed', () => {
  it('has enough cases, inside and outside the catalogue, and every catalogued cause', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    expect(corpus.filter((c) => c.confirmed.cause === null).length).toBeGreaterThanOrEqual(20);
    // a cause without a confirmed public case is named in corpus/README.md with the reason
    const readme = readFileSync(join(PACKAGE_ROOT, 'corpus', 'README.md'), 'utf8');
    const excused = [...readme.slice(readme.indexOf('## Causes without a case yet')).matchAll(/^- `([a-z0-9-]+)`:/gm)].map((m) => m[1]);
    const missing = CATALOGUE.filter((id) => !corpus.some((c) => c.confirmed.cause === id));
    expect(missing).toEqual(excused);
  });
  it.each(corpus.map((c) => [c.file, c]))('%s', (_file, c) => {
    expect(c.source).toMatch(/^https?:\/\/\S+$/);
    expect(typeof c.title).toBe('string');
    expect(typeof c.description).toBe('string');
    expect(c.evidence.length).toBeGreaterThan(0);
    for (const e of c.evidence) {
      expect(typeof e.note).toBe('string');
      expect(e.text.trim().length).toBeGreaterThan(0);
    }
    const { cause, outside, how, quote } = c.confirmed;
    if (cause === null) expect(outside).toMatch(/\S/);
    else expect(CATALOGUE).toContain(cause);
    // a case lives in the folder of its confirmed cause
    expect(c.folder).toBe(cause ?? 'outside');
    expect(how).toMatch(/\S/);
    expect(typeof quote).toBe('string');
  });
});

describe('how common each cause is, as the ranking of ties uses it', () => {
  it('corpus/prevalence.json is the corpus counted (regenerate: npm run corpus:prevalence)', () => {
    expect(JSON.parse(readFileSync(PREVALENCE_FILE, 'utf8'))).toEqual(prevalenceOf(corpus));
  });
});

/**
 * Regression floors: what the corpus measured when these were last raised. The issues' bars
 * (top-1 65% and top-3 80% from the evidence alone; 85% and 95% with the users' words) are not
 * met yet: many confirmed cases carry only words, or only the fix the user applied.
 */
const FLOOR = {
  alone: { top1: 0.5, top3: 0.58, unrecognised: 25 },
  words: { top1: 0.63, top3: 0.73, unrecognised: 5 },
};

describe('the corpus as a regression suite', () => {
  it('from the evidence alone', async () => {
    const s = await scoreCorpus(rules);
    console.log(
      `corpus (evidence alone): ${s.catalogue} catalogued cases: top-1 ${s.top1} (${pct(s.top1, s.catalogue)}), top-3 ${s.top3} (${pct(s.top3, s.catalogue)}); ` +
        `${s.outside} outside the catalogue, ${s.outsideConfident.length} named with confidence >= 0.8; ${s.unrecognised.length} with nothing understood`,
    );
    expect(s.outsideConfident.map((x) => `${x.c.file}: ${x.diagnosis.causes[0]?.id}`)).toEqual([]);
    expect(s.unrecognised.length).toBeLessThanOrEqual(FLOOR.alone.unrecognised);
    expect(s.top1 / s.catalogue).toBeGreaterThanOrEqual(FLOOR.alone.top1);
    expect(s.top3 / s.catalogue).toBeGreaterThanOrEqual(FLOOR.alone.top3);
  });

  it("with each case's own description, and confidence that means what it says", async () => {
    const s = await scoreCorpus(rules, { describe: true });
    console.log(
      `corpus (with the users' words): top-1 ${s.top1} (${pct(s.top1, s.catalogue)}), top-3 ${s.top3} (${pct(s.top3, s.catalogue)}); ` +
        `${s.outsideConfident.length} of ${s.outside} outside the catalogue named with confidence >= 0.8`,
    );
    expect(s.outsideConfident.map((x) => `${x.c.file}: ${x.diagnosis.causes[0]?.id}`)).toEqual([]);
    expect(s.unrecognised.length).toBeLessThanOrEqual(FLOOR.words.unrecognised);
    expect(s.top1 / s.catalogue).toBeGreaterThanOrEqual(FLOOR.words.top1);
    expect(s.top3 / s.catalogue).toBeGreaterThanOrEqual(FLOOR.words.top3);
    // calibration: causes named at confidence c are right about c of the time (bins of 10+)
    for (const row of calibration(s.cases)) {
      if (row.causes < 10) continue;
      expect(Math.abs(row.meanConfidence - row.shareRight), `confidence ${row.bin}: mean ${row.meanConfidence.toFixed(2)}, right ${row.shareRight.toFixed(2)}`).toBeLessThanOrEqual(0.15);
    }
  });
});
