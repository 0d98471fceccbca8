import { expect, test } from 'vitest';
import type { IdleMeasurement } from '../../src/evidence/types.js';
import { runIdleTest } from '../../src/probes/idle/idle-test.js';
import { SimClock } from '../../src/probes/idle/schedule.js';
import { renderIdleTimeline } from '../../src/report/timeline.js';
import { fakePath } from '../../src/probes/idle/sim-path.js';

async function measured(mode: 'silent' | 'reset', T: number): Promise<IdleMeasurement> {
  const clock = new SimClock();
  const p = fakePath({ clock, T, mode });
  return clock.run(runIdleTest(p.open, { idleMaxSeconds: 120, clock }));
}

test('terminal text: one line per connection, pings and deaths marked, the bracket shown', async () => {
  const m = await measured('silent', 42);
  const text = renderIdleTimeline(m, { width: 80 });
  if (process.env['SHOW_TIMELINE']) process.stdout.write(text);
  const lines = text.split('\n');
  for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
  expect(lines.filter((l) => /^(ka|#\d+)\s+ *\|/.test(l))).toHaveLength(m.traces!.length);
  expect(text).toMatch(/^ka\s+\|/m);
  expect(text).toMatch(/o/);
  expect(text).toMatch(/x/);
  expect(text).toMatch(/\(#*\]/);
  const b = m.dropAfterSeconds!;
  const flat = text.replace(/\n/g, ' ');
  expect(flat).toContain(`T in (${b.low} s, ${b.high} s]`);
  expect(flat).toContain('keepalive control connection survived');
});

test('resets are R; markdown puts the drawing in a code block', async () => {
  const m = await measured('reset', 12);
  const md = renderIdleTimeline(m, { width: 100, markdown: true });
  expect(md.startsWith('**Idle test.**')).toBe(true);
  expect(md).toContain('```text');
  expect(md.trimEnd().endsWith('```')).toBe(true);
  expect(md).toMatch(/R/);
  expect(md).toContain('with a TCP reset');
});

test('a survived test without traces still renders', () => {
  const m: IdleMeasurement = {
    verdict: 'survived',
    dropAfterSeconds: null,
    dropKind: null,
    keepaliveSurvived: null,
    connections: 0,
    testedUpToSeconds: 60,
    wallSeconds: 61,
  };
  const text = renderIdleTimeline(m, { width: 60 });
  expect(text).toContain('No idle connection dropped up to 60 s idle.');
});
