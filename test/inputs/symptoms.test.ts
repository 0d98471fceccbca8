// The users' words are data with their fixtures beside them: every symptom fact carries real
// sentences that must give it (with the value, for durations in seconds) and near misses that
// must not. The reading runs through evidenceFromInputs as `--describe` does.
import { describe, expect, it } from 'vitest';
import { evidenceFromInputs } from '../../src/inputs/read.js';
import { builtinSymptoms, durationSeconds } from '../../src/inputs/symptoms.js';

const reader = builtinSymptoms();
const cases = reader.files.flatMap((f) =>
  f.facts.flatMap((d, i) => [
    ...d.examples.map((x, j) => ({ name: `${f.group} ${d.fact} #${i} example ${j + 1}`, fact: d.fact, x, near: false })),
    ...(d.near ?? []).map((x, j) => ({ name: `${f.group} ${d.fact} #${i} near miss ${j + 1}`, fact: d.fact, x, near: true })),
  ]),
);

async function symptomsOf(text: string) {
  const ev = await evidenceFromInputs([{ path: 'description', text, hint: 'describe' }], { now: new Date('2026-12-01T00:00:00Z') });
  return ev.symptoms ?? [];
}

describe('every symptom reads its own example sentences, and not its near misses', () => {
  it('there are symptoms to test', () => {
    expect(reader.files.length).toBeGreaterThanOrEqual(3);
    expect(cases.length).toBeGreaterThan(50);
  });
  it.each(cases)('$name', async ({ fact, x, near }) => {
    const found = (await symptomsOf(x.text)).filter((s) => s.fact === fact);
    if (near) {
      expect(found, `near miss "${x.text}" read as ${fact}`).toEqual([]);
      return;
    }
    expect(found.length, `"${x.text}" did not give ${fact}`).toBeGreaterThan(0);
    if (x.value !== undefined) expect(found[0]!.value).toBe(x.value);
  });
});

describe('durations', () => {
  it('read in the units users write', () => {
    expect(durationSeconds('10', 'minutes')).toBe(600);
    expect(durationSeconds('2,5', 'h')).toBe(9000);
    expect(durationSeconds('30', 'secs')).toBe(30);
    expect(durationSeconds('10', 'Minuten')).toBe(600);
    expect(durationSeconds('10', '分钟')).toBe(600);
    expect(durationSeconds('3', 'parsecs')).toBeUndefined();
  });
});
