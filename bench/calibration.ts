// Does confidence mean something? Across the real-world corpus (with each case's own words), the
// causes reported at confidence c should be the confirmed cause about c of the time. Every cause
// named in a report counts once: right when it is the thread's confirmed cause.
import { loadRules } from '../src/engine/load.js';
import { pct, scoreCorpus } from '../test/corpus/score.js';

const BINS = [0, 0.2, 0.4, 0.6, 0.8, 1.0001];

export interface CalibrationRow {
  bin: string;
  causes: number;
  meanConfidence: number;
  shareRight: number;
}

export async function corpusFigures() {
  const rules = loadRules();
  const alone = await scoreCorpus(rules);
  const words = await scoreCorpus(rules, { describe: true });
  const rows: CalibrationRow[] = [];
  for (let i = 0; i < BINS.length - 1; i++) {
    const lo = BINS[i]!;
    const hi = BINS[i + 1]!;
    let n = 0;
    let sum = 0;
    let right = 0;
    for (const s of words.cases) {
      for (const c of s.diagnosis.causes) {
        if (c.confidence < lo || c.confidence >= hi) continue;
        n++;
        sum += c.confidence;
        if (c.id === s.c.confirmed.cause) right++;
      }
    }
    rows.push({ bin: `${lo.toFixed(1)}-${Math.min(1, hi).toFixed(1)}`, causes: n, meanConfidence: n ? sum / n : 0, shareRight: n ? right / n : 0 });
  }
  const figures = (s: Awaited<ReturnType<typeof scoreCorpus>>) => ({
    catalogued: s.catalogue,
    top1: s.top1,
    top3: s.top3,
    top1Share: pct(s.top1, s.catalogue),
    top3Share: pct(s.top3, s.catalogue),
    outside: s.outside,
    outsideConfident: s.outsideConfident.length,
    unrecognised: s.unrecognised.length,
  });
  return { evidenceAlone: figures(alone), withDescriptions: figures(words), calibration: rows };
}
