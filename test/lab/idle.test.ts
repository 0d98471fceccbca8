// The idle timing test against real sshd behind a real conntrack middlebox: T lies in the bracket,
// the bracket is narrow, keepalives are proven to fix it, and the right cause comes first.

import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../cli/run-cli.js';
import { labAvailability, labRequired } from './availability.js';
import { startLab, stopAllLabs, type Lab } from './lab.js';
import { getScenario, SERVER_IDLE, type Scenario } from './scenarios.js';

const availability = labAvailability();
const required = labRequired();
if (!availability.ok && !required) console.log(`idle-test lab tests skipped: ${availability.why}`);

interface Report {
  causes: Array<{ id: string }>;
  measurements: {
    idle?: { verdict: string; dropAfterSeconds: { low: number; high: number } | null; dropKind: string | null; keepaliveSurvived: boolean | null };
    shellIdle?: { verdict: string; how: string | null; afterSeconds: number | null };
  };
}

async function idleRun(scenario: Scenario, idleMax: number): Promise<{ code: number | null; report: Report }> {
  const lab: Lab = await startLab(scenario);
  try {
    const args = [
      process.execPath, CLI, `${lab.target.user}@${lab.target.addr}`, '-i', lab.keyFile,
      '--known-hosts', lab.knownHostsFile, '--idle-max', String(idleMax), '--json',
    ];
    const r = await lab.exec(args, { timeoutMs: (idleMax * 1.25 + 90) * 1000 });
    try {
      return { code: r.code, report: JSON.parse(r.stdout) as Report };
    } catch {
      throw new Error(`no JSON report (exit ${r.code}): ${r.stdout.slice(0, 400)} ${r.stderr.slice(0, 400)}`);
    }
  } finally {
    await lab.stop();
  }
}

function withIdleTimeout(name: 'idle-silent' | 'idle-reset', t: number): Scenario {
  const sc = getScenario(name);
  return { ...sc, name: `${name}-${t}`, middlebox: { ...sc.middlebox, idleTimeout: t } };
}

describe.skipIf(!availability.ok && !required)('idle test against the lab', () => {
  if (!availability.ok) {
    it('needs the lab', () => {
      throw new Error(`SSH_DOCTOR_LAB=require, but the lab cannot run: ${availability.why}`);
    });
    return;
  }
  afterAll(() => stopAllLabs());

  const cases: Array<[string, 'idle-silent' | 'idle-reset', number, string, string]> = [
    ['silent drop, T=4', 'idle-silent', 4, 'silent', 'middlebox-idle-timeout'],
    ['silent drop, T=9', 'idle-silent', 9, 'silent', 'middlebox-idle-timeout'],
    ['reset, T=4', 'idle-reset', 4, 'reset', 'middlebox-idle-reset'],
    ['reset, T=9', 'idle-reset', 9, 'reset', 'middlebox-idle-reset'],
  ];
  it.concurrent.each(cases)('%s: T in (low, high], narrow, keepalives fix it, right cause first', async (_n, name, t, kind, cause) => {
    const { code, report } = await idleRun(withIdleTimeout(name, t), 2 * t + 4);
    const idle = report.measurements.idle!;
    expect(idle.verdict).toBe('drops');
    expect(idle.dropKind).toBe(kind);
    // conntrack's timer has one-second granularity: T is where the flow is forgotten
    expect(idle.dropAfterSeconds!.low).toBeLessThan(t + 1);
    expect(idle.dropAfterSeconds!.high).toBeGreaterThanOrEqual(t);
    expect(idle.dropAfterSeconds!.high - idle.dropAfterSeconds!.low).toBeLessThanOrEqual(Math.max(2, 0.1 * t) + 1e-9);
    expect(idle.keepaliveSurvived).toBe(true);
    expect(report.causes[0]?.id).toBe(cause);
    expect(code).toBe(1);
  });

  it.concurrent('TMOUT: the idle shell logs out, and shell-tmout comes first', async () => {
    const { report } = await idleRun(getScenario('shell-tmout'), SERVER_IDLE + 7);
    expect(report.measurements.shellIdle).toMatchObject({ verdict: 'closed', how: 'tmout-message' });
    expect(report.causes[0]?.id).toBe('shell-tmout');
  });

  it.concurrent('ChannelTimeout: the channel closes while the connection lives, server-channel-timeout first', async () => {
    const { report } = await idleRun(getScenario('channel-timeout'), SERVER_IDLE + 7);
    expect(report.measurements.shellIdle).toMatchObject({ verdict: 'closed', how: 'channel-closed' });
    expect(report.causes[0]?.id).toBe('server-channel-timeout');
  });

  it.concurrent('a healthy target survives --idle-max with no cause', async () => {
    const { code, report } = await idleRun(getScenario('healthy'), 10);
    expect(report.measurements.idle).toMatchObject({ verdict: 'survived', dropAfterSeconds: null });
    expect(report.causes).toEqual([]);
    expect(code).toBe(0);
  });
});
