import { afterEach, expect, test } from 'vitest';
import { startDemo, type Demo } from '../../src/demo/start.js';
import { runIdleTest } from '../../src/probes/idle/idle-test.js';

let demo: Demo | undefined;
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
});

test('reset middlebox: the deaths are resets', async () => {
  const T = 3;
  demo = await startDemo({ idleTimeoutSeconds: T, mode: 'reset' });
  const m = await runIdleTest(demo.openIdle, { idleMaxSeconds: 30, unansweredMs: 2000 });
  expect(m.verdict).toBe('drops');
  expect(m.dropKind).toBe('reset');
  const b = m.dropAfterSeconds!;
  expect(b.low).toBeLessThan(T + 0.1);
  expect(b.high).toBeGreaterThanOrEqual(T - 0.1);
  expect(m.keepaliveSurvived).toBe(true);
});

test('no idle timeout: the test survives up to idleMax', async () => {
  demo = await startDemo({ idleTimeoutSeconds: 1e6, mode: 'silent' });
  const m = await runIdleTest(demo.openIdle, { idleMaxSeconds: 5, unansweredMs: 2000 });
  expect(m.verdict).toBe('survived');
  expect(m.dropAfterSeconds).toBeNull();
  expect(m.dropKind).toBeNull();
  expect(m.testedUpToSeconds).toBeGreaterThanOrEqual(5);
  expect(m.matchedDefault).toBeUndefined();
});
