// Does confidence mean something? Across the real-world corpus (with each case's own words), the
// causes reported at confidence c should be the confirmed cause about c of the time. Every cause
// named in a report counts once: right when it is the thread's confirmed cause.
import { loadRules } from '../src/engine/load.js';
import { calibration, pct, scoreCorpus } from '../test/corpus/score.js';

export async function corpusFigures() {
  const rules = loadRules();
  const alone = await scoreCorpus(rules);
  const words = await scoreCorpus(rules, { describe: true });
  const rows = calibration(words.cases);
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
