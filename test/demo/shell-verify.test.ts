import { afterEach, expect, test } from 'vitest';
import { startDemo, type Demo } from '../../src/demo/start.js';
import { runShellIdle } from '../../src/probes/idle/shell-idle.js';
import { runVerify } from '../../src/probes/idle/verify.js';

let demo: Demo | undefined;
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
});

test('an idle shell with TMOUT logs out with the bash message', async () => {
  demo = await startDemo({ idleTimeoutSeconds: 1e6, mode: 'silent', shell: { tmoutSeconds: 2 } });
  const m = await runShellIdle(demo.openShell, { maxSeconds: 10, keepaliveIntervalMs: 1000 });
  expect(m.verdict).toBe('closed');
  expect(m.how).toBe('tmout-message');
  expect(m.message).toBe('timed out waiting for input: auto-logout');
  expect(m.afterSeconds).toBeGreaterThanOrEqual(1.5);
  expect(m.afterSeconds).toBeLessThanOrEqual(3);
});

test('an idle shell without TMOUT, kept alive through the middlebox, survives', async () => {
  demo = await startDemo({ idleTimeoutSeconds: 2, mode: 'silent' });
  const m = await runShellIdle(demo.openShell, { maxSeconds: 4, keepaliveIntervalMs: 500 });
  expect(m).toEqual({ verdict: 'survived', afterSeconds: null, how: null, message: null, testedUpToSeconds: 4 });
});

test('verify: a keepalive below T survives past T; none does not', async () => {
  demo = await startDemo({ idleTimeoutSeconds: 2, mode: 'silent' });
  const [ok, bad] = await Promise.all([
    runVerify(demo.openIdle, 0.5, 4, { unansweredMs: 1500 }),
    runVerify(demo.openIdle, 0, 3, { unansweredMs: 1500 }),
  ]);
  expect(ok).toEqual({ keepaliveInterval: 0.5, heldSeconds: 4, survived: true });
  expect(bad.survived).toBe(false);
});
