// The target going away during the idle test (sshd killed, the host down, the path dead) is not
// an idle timeout: every connection ends at about the same time whatever its idle age, the
// kept-alive control dies too, and new connections fail. The test must stop with TargetLostError
// (the probe fails with the reason) instead of reporting a bracket, a session-lifetime limit or an
// UnusedConnectionTimeout. Before this, sshd killed mid-test read as "server-channel-timeout" and
// a dead path as "session-lifetime-limit", both at 80% confidence.

import { describe, expect, test } from 'vitest';
import { runIdleTest } from '../../src/probes/idle/idle-test.js';
import { TargetLostError } from '../../src/probes/idle/presence.js';
import { SimClock } from '../../src/probes/idle/schedule.js';
import { fakePath } from '../../src/probes/idle/sim-path.js';

async function lost(goneAt: number, goneKind: 'closed-by-server' | 'silent') {
  const clock = new SimClock();
  const p = fakePath({ clock, T: 300, mode: 'silent', goneAt, goneKind });
  return clock.run(runIdleTest(p.open, { idleMaxSeconds: 120, clock })).then(
    () => null,
    (e: unknown) => e,
  );
}

describe('the target goes away during the idle test', () => {
  test('sshd killed (every connection closed at once, new ones refused): TargetLostError, no bracket', async () => {
    const e = await lost(20, 'closed-by-server');
    expect(e).toBeInstanceOf(TargetLostError);
    expect((e as Error).message).toMatch(/the target went away during the test.*closed-by-server.*ECONNREFUSED.*idle periods up to \d/);
  });

  test('a dead path (nothing answers any more): TargetLostError, no bracket', async () => {
    const e = await lost(30, 'silent');
    expect(e).toBeInstanceOf(TargetLostError);
    expect((e as Error).message).toMatch(/silent/);
  });

  test('an age limit or UnusedConnectionTimeout, where new connections still work, is still measured', async () => {
    for (const path of [
      { T: 25, mode: 'closed-by-server' as const },
      { T: Infinity, lifetime: 15, mode: 'silent' as const },
    ]) {
      const clock = new SimClock();
      const p = fakePath({ clock, ...path });
      const m = await clock.run(runIdleTest(p.open, { idleMaxSeconds: 60, clock }));
      expect(m.verdict).toBe('drops');
      expect(m.keepaliveSurvived).toBe(false);
    }
  });
});

describe('the verdict rests on what the target does next, whenever it goes away', () => {
  // A path with a real idle timeout T = 20 s; the target goes away at every moment of the test in
  // turn (before any death, between a death and its confirmation, during the control's check,
  // after the end). Either the test had finished, with the right bracket, before the target went
  // away, or it fails with TargetLostError: never a bracket made of the wreckage.
  for (const goneKind of ['closed-by-server', 'silent'] as const) {
    test(`target gone (${goneKind}) at any moment`, async () => {
      const T = 20;
      let finished = 0;
      let lostCount = 0;
      for (let goneAt = 1; goneAt <= 45; goneAt += 0.7) {
        const clock = new SimClock();
        const p = fakePath({ clock, T, mode: 'silent', goneAt, goneKind });
        const r = await clock.run(runIdleTest(p.open, { idleMaxSeconds: 60, clock })).then(
          (m) => m,
          (e: unknown) => e,
        );
        if (r instanceof TargetLostError) {
          lostCount++;
          continue;
        }
        if (r instanceof Error) throw r;
        finished++;
        const m = r as Awaited<ReturnType<typeof runIdleTest>>;
        expect(m.wallSeconds, `goneAt ${goneAt}`).toBeLessThanOrEqual(goneAt + 0.1);
        expect(m.verdict).toBe('drops');
        expect(m.dropAfterSeconds!.low).toBeLessThan(T);
        expect(m.dropAfterSeconds!.high).toBeGreaterThanOrEqual(T);
        expect(m.keepaliveSurvived).toBe(true);
      }
      expect(lostCount).toBeGreaterThan(0);
      expect(finished).toBeGreaterThan(0);
    });
  }
});
