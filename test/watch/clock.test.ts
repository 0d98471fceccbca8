// Sleep and stall detection against clocks the test moves by hand.
import { describe, expect, it } from 'vitest';
import { SleepDetector, Timebase, type Clocks } from '../../src/watch/clock.js';

function fakeClocks(boot: boolean): Clocks & { advance(ms: number, o?: { asleep?: boolean; wallJump?: number }): void } {
  let wall = Date.UTC(2026, 10, 24, 2, 0, 0);
  let mono = 1_000_000;
  let since = 50_000;
  return {
    wall: () => wall,
    mono: () => mono,
    boot: () => (boot ? since : null),
    advance(ms, o = {}) {
      wall += ms + (o.wallJump ?? 0);
      since += ms;
      if (!o.asleep) mono += ms;
    },
  };
}

describe('SleepDetector', () => {
  it('sees a sleep as boot time running ahead of the monotonic clock', () => {
    const c = fakeClocks(true);
    const time = new Timebase(c);
    const d = new SleepDetector(time, 1000);
    c.advance(1000);
    expect(d.tick()).toBeNull();
    c.advance(47 * 60_000, { asleep: true });
    c.advance(1000);
    const e = d.tick();
    expect(e).toMatchObject({ kind: 'sleep', seconds: 2820 });
    expect(e!.at).toBeCloseTo(2822, 0); // on the timebase, sleep included
    expect(time.iso(0)).toBe('2026-11-24T02:00:00.000Z');
  });

  it('does not take an NTP step of the wall clock for a sleep when boot time is readable', () => {
    const c = fakeClocks(true);
    const d = new SleepDetector(new Timebase(c), 1000);
    c.advance(1000, { wallJump: 30_000 });
    expect(d.tick()).toBeNull();
  });

  it('falls back to the wall clock without boot time', () => {
    const c = fakeClocks(false);
    const d = new SleepDetector(new Timebase(c), 1000);
    c.advance(600_000, { asleep: true });
    expect(d.tick()).toMatchObject({ kind: 'sleep', seconds: 600 });
  });

  it('tells a stalled watcher (monotonic time passed, no sleep) from a sleep', () => {
    const c = fakeClocks(true);
    const d = new SleepDetector(new Timebase(c), 1000);
    c.advance(9000);
    expect(d.tick()).toMatchObject({ kind: 'stall', seconds: 8 });
    c.advance(1200);
    expect(d.tick()).toBeNull();
  });
});
