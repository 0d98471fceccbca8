// The idle test's schedule on a simulated clock with fake connections: no waiting, no sockets.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { classifyError } from '../../src/probes/idle/connection.js';
import { runIdleTest } from '../../src/probes/idle/idle-test.js';
import { bracketFrom, forecast, nextTarget, SimClock, targetWidth, type ProbeResult } from '../../src/probes/idle/schedule.js';
import { fakePath, type FakePathOptions } from '../../src/probes/idle/sim-path.js';

async function simulate(path: Omit<FakePathOptions, 'clock'>, opts: { idleMaxSeconds: number; maxConnections?: number; unansweredMs?: number }) {
  const clock = new SimClock();
  const p = fakePath({ ...path, clock });
  const m = await clock.run(runIdleTest(p.open, { ...opts, clock }));
  return { m, path: p };
}

function expectBracket(m: Awaited<ReturnType<typeof simulate>>['m'], T: number) {
  expect(m.verdict).toBe('drops');
  const b = m.dropAfterSeconds!;
  expect(b.low).toBeLessThan(T);
  expect(b.high).toBeGreaterThanOrEqual(T);
  expect(b.high - b.low).toBeLessThanOrEqual(Math.max(2, 0.1 * T));
}

describe('bracketFrom', () => {
  const r = (age: number, ok: boolean): ProbeResult => ({ conn: 0, age, ok, at: 0, ...(ok ? {} : { kind: 'silent' as const }) });
  test('T lies in (longest answered, shortest unanswered]', () => {
    const b = bracketFrom([r(2, true), r(4, true), r(6, false), r(6.1, false), r(8, false)]);
    expect(b.low).toBe(4);
    expect(b.high).toBe(6.1); // the second death: one alone never decides
    expect(bracketFrom([r(2, true), r(6, false)]).high).toBe(6);
    expect(b.deaths.map((d) => d.age)).toEqual([6, 6.1, 8]);
    expect(b.ignored).toEqual([]);
  });
  test('a death contradicted by a longer answered idle period is a lost packet, not T', () => {
    const b = bracketFrom([r(2, true), r(4, false), r(6, true), r(8, false), r(8.2, false)]);
    expect(b.low).toBe(6);
    expect(b.high).toBe(8.2);
    expect(b.ignored.map((d) => d.age)).toEqual([4]);
  });
  test('nothing died: no high', () => {
    expect(bracketFrom([r(2, true)]).high).toBeNull();
  });
});

describe('classifyError', () => {
  test('resets, keepalive timeouts, server disconnects and clean closes', () => {
    expect(classifyError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })).kind).toBe('reset');
    expect(classifyError(Object.assign(new Error('Keepalive timeout'), { level: 'client-timeout' })).kind).toBe('silent');
    expect(classifyError(Object.assign(new Error('Too many connections'), { code: 2 }))).toEqual({ kind: 'closed-by-server', reason: 'Too many connections' });
    expect(classifyError(undefined)).toEqual({ kind: 'closed-by-server' });
  });
});

describe('targets', () => {
  test('steps of 90% of the width aimed at: 2 s up to 20 s, then 10%', () => {
    expect(nextTarget(0)).toBeCloseTo(1.8);
    expect(nextTarget(10)).toBeCloseTo(11.8);
    expect(nextTarget(100)).toBeCloseTo(109);
    expect(targetWidth(300)).toBe(30);
  });
  test('forecast opens a connection when the pool cannot reach the next target in time', () => {
    const timing = { unanswered: 5, suspect: 1 };
    expect(forecast({ now: 0, freshAt: [], low: 0, idleMax: 60, timing, openEstimate: 0.5 }).open).toBe('now');
    // two old connections cover the next target and its confirmation; later targets need more, later
    const a = forecast({ now: 10, freshAt: [0, 0], low: 9.7, idleMax: 60, timing, openEstimate: 0.5 });
    expect(a.open).not.toBe('no');
  });
});

describe('runIdleTest on a simulated path', () => {
  test('silent middlebox: T bracketed, keepalive control survives, deaths are silent', async () => {
    const T = 37;
    const { m } = await simulate({ T, mode: 'silent' }, { idleMaxSeconds: 120 });
    expectBracket(m, T);
    expect(m.dropKind).toBe('silent');
    expect(m.keepaliveSurvived).toBe(true);
    expect(m.controlDiedAfterSeconds).toBeNull();
    expect(m.connections).toBeLessThanOrEqual(40);
    expect(m.traces!.some((t) => t.kind === 'silent')).toBe(true);
    expect(m.note).toBeUndefined();
  });

  test('a single lost ping is not taken as the timeout', async () => {
    const T = 30;
    // the first ping after 10-12 s idle (far below T) is never answered
    let lost = false;
    const lose = (_n: number, age: number) => !lost && age > 10 && age < 12 && (lost = true);
    const { m } = await simulate({ T, mode: 'silent', lose }, { idleMaxSeconds: 60 });
    expect(lost).toBe(true);
    expectBracket(m, T);
    expect(m.note).toMatch(/lost packet/);
  });

  test('a single lost ping just under T does not pull the answer below T', async () => {
    const T = 30;
    let lost = false;
    const lose = (_n: number, age: number) => !lost && age > T - 2.5 && age < T && (lost = true);
    const { m } = await simulate({ T, mode: 'silent', lose }, { idleMaxSeconds: 60 });
    expect(lost).toBe(true);
    expectBracket(m, T);
  });

  test('property: one lost ping anywhere never makes the bracket wrong', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 2, max: 300, noNaN: true }), fc.double({ min: 0.5, max: 1.2, noNaN: true }), async (T, at) => {
        let lost = false;
        const lose = (_n: number, age: number) => !lost && age >= at * T && (lost = true);
        const { m } = await simulate({ T, mode: 'silent', lose }, { idleMaxSeconds: 400 });
        expectBracket(m, T);
      }),
      { numRuns: 60 },
    );
  });

  test('a late answer (within the wait) is an answer', async () => {
    const T = 20;
    const { m } = await simulate({ T, mode: 'silent', lateMs: (n) => (n % 3 === 0 ? 1800 : 0) }, { idleMaxSeconds: 60, unansweredMs: 3000 });
    expectBracket(m, T);
  });

  test('reset middlebox: deaths are resets', async () => {
    const { m } = await simulate({ T: 12, mode: 'reset' }, { idleMaxSeconds: 60 });
    expectBracket(m, 12);
    expect(m.dropKind).toBe('reset');
    expect(m.keepaliveSurvived).toBe(true);
  });

  test('server closing channel-less connections (UnusedConnectionTimeout) is closed-by-server, and the control dies too', async () => {
    const { m } = await simulate({ T: 25, mode: 'closed-by-server' }, { idleMaxSeconds: 60 });
    expect(m.verdict).toBe('drops');
    expect(m.dropKind).toBe('closed-by-server');
    expect(m.keepaliveSurvived).toBe(false);
    expect(m.controlDiedAfterSeconds).toBeCloseTo(25, 0);
  });

  test('a session-lifetime limit kills the keepalive control too', async () => {
    const { m } = await simulate({ T: Infinity, lifetime: 15, mode: 'silent' }, { idleMaxSeconds: 60 });
    expect(m.verdict).toBe('drops');
    expect(m.keepaliveSurvived).toBe(false);
    expect(m.controlDiedAfterSeconds).not.toBeNull();
  });

  test('no timeout: survived up to idleMax', async () => {
    const { m } = await simulate({ T: Infinity, mode: 'silent' }, { idleMaxSeconds: 45 });
    expect(m.verdict).toBe('survived');
    expect(m.dropAfterSeconds).toBeNull();
    expect(m.dropKind).toBeNull();
    expect(m.keepaliveSurvived).toBeNull();
    expect(m.testedUpToSeconds).toBeGreaterThanOrEqual(45);
  });

  test('a refusal after some connections (rate limit) falls back to fewer, and says so', async () => {
    const T = 30;
    const { m } = await simulate({ T, mode: 'silent', refuseFrom: 7 }, { idleMaxSeconds: 60 });
    expectBracket(m, T);
    expect(m.connections).toBe(6);
    expect(m.note).toMatch(/slower/);
  });

  test('maxConnections caps the connections', async () => {
    const { m, path } = await simulate({ T: 30, mode: 'silent' }, { idleMaxSeconds: 60, maxConnections: 5 });
    expectBracket(m, 30);
    expect(path.opened()).toBeLessThanOrEqual(5);
  });

  test('the first connection failing is an error', async () => {
    const clock = new SimClock();
    const p = fakePath({ clock, T: 10, mode: 'silent', refuseFrom: 1 });
    await expect(clock.run(runIdleTest(p.open, { idleMaxSeconds: 30, clock }))).rejects.toThrow(/ECONNREFUSED/);
  });

  test('an abort returns the partial result, with a note', async () => {
    const clock = new SimClock();
    const p = fakePath({ clock, T: 300, mode: 'silent' });
    const ac = new AbortController();
    clock.setTimer(() => ac.abort(), 40_000);
    const progress: Array<{ elapsed: number; alive: number }> = [];
    const m = await clock.run(runIdleTest(p.open, { idleMaxSeconds: 600, clock, signal: ac.signal, onProgress: (x) => progress.push(x) }));
    expect(m.verdict).toBe('survived');
    expect(m.note).toMatch(/interrupted/);
    expect(m.testedUpToSeconds).toBeGreaterThan(20);
    expect(m.testedUpToSeconds).toBeLessThan(40);
    expect(progress.length).toBeGreaterThanOrEqual(39);
    expect(progress.at(-2)!.alive).toBeGreaterThan(1);
  });

  test('property: any T up to idleMax is bracketed within max(2 s, 10%) and 1.25 T + 10 s of simulated time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 1, max: 900, noNaN: true }), fc.integer({ min: 10, max: 800 }), async (T, openMs) => {
        const { m } = await simulate({ T, mode: 'silent', openMs }, { idleMaxSeconds: 1000 });
        expectBracket(m, T);
        expect(m.wallSeconds).toBeLessThanOrEqual(1.25 * T + 10);
        expect(m.connections).toBeLessThanOrEqual(32);
      }),
      { numRuns: 40 },
    );
  });
});
