// The idle test against the embedded demo (ssh2 server behind the NAT-like proxy), on loopback.
import { afterEach, describe, expect, test } from 'vitest';
import { startDemo, type Demo } from '../../src/demo/start.js';
import { runIdleTest } from '../../src/probes/idle/idle-test.js';

// The proxy's idle timer and the client's ping clock run in one process on loopback: they can
// disagree by the event loop's lag, so the bracket is checked with this much slack (s).
const SLACK = 0.1;

let demo: Demo | undefined;
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
});

describe.each([3, 5.5])('silent middlebox, T = %s s', (T) => {
  test('T is bracketed narrowly, the deaths are silent and the keepalive control survives', async () => {
    demo = await startDemo({ idleTimeoutSeconds: T, mode: 'silent' });
    const progress: number[] = [];
    const m = await runIdleTest(demo.openIdle, { idleMaxSeconds: 30, unansweredMs: 2000, onProgress: (p) => progress.push(p.elapsed) });
    expect(m.verdict).toBe('drops');
    const b = m.dropAfterSeconds!;
    expect(b.low).toBeLessThan(T + SLACK);
    expect(b.high).toBeGreaterThanOrEqual(T - SLACK);
    expect(b.high - b.low).toBeLessThanOrEqual(Math.max(2, 0.1 * T));
    expect(m.dropKind).toBe('silent');
    expect(m.keepaliveSurvived).toBe(true);
    expect(m.controlDiedAfterSeconds).toBeNull();
    expect(m.connections).toBeGreaterThan(2);
    expect(m.traces!.length).toBe(m.connections);
    expect(m.traces!.filter((t) => t.kind === 'silent').length).toBeGreaterThanOrEqual(2);
    expect(progress.length).toBeGreaterThan(0);
    expect(demo.forgottenFlows()).toBeGreaterThanOrEqual(2);
  });
});
