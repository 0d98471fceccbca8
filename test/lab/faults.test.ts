// Faults in the lab, injected while `ssh-doctor <target>` runs against a real sshd: the server
// dies mid-diagnosis (every process of the server namespace killed), its link goes down, the
// middlebox starts dropping everything, and the jump host fails (a dead address; a live jump
// host whose forward to the target fails). Each run must end with a partial report that says
// what was learned (the probes that worked) and what failed (probes[] and errors[]), exit 3, no
// cause made up from the wreckage (a dying server is not an idle timeout), and nothing of the
// run left behind: no process in the client namespace (no `ssh -W`, no ssh-doctor child), no
// established connection, and, once the lab stops, no namespace. Refused connections, a wrong
// host key, failed authentication and DNS failure are in live.test.ts.
//
// The fault lands at a chosen phase of the idle test, found in the CLI's own `-v` lines (`debug:
// idle: ...`): the test freezes the CLI (SIGSTOP) as soon as it reads the line, injects the fault,
// and lets it go on (SIGCONT). So the phase is exact whatever the machine's load. The freeze is
// itself a stall of ssh-doctor's process: a healthy run frozen for 8 s must still be healthy
// (test/idle/stall.test.ts checks the ping's own discount of a stall, with the reply waiting in
// the socket). Two busy loops run beside the whole file, as on a user's busy laptop or a CI
// machine running the suite in parallel.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../cli/run-cli.js';
import { labAvailability, labRequired } from './availability.js';
import { stopAllLabs, withLab, type Lab } from './lab.js';
import { getScenario } from './scenarios.js';
import { listNamespaces, nsExec, run } from './netns.js';

const availability = labAvailability();
const required = labRequired();
if (!availability.ok && !required) console.log(`lab fault tests skipped: ${availability.why}`);

interface Report {
  probes: Array<{ id: string; status: string; detail?: string }>;
  causes: Array<{ id: string }>;
  errors: string[];
  measurements: { idle?: { verdict: string; dropAfterSeconds: unknown }; shellIdle?: unknown };
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  report: Report;
  stderr: string;
  /** Whether the phase was reached and the fault injected. */
  injected: boolean;
}

type Fault = (lab: Lab) => Promise<void>;

const sshdKilled: Fault = async (lab) => {
  const pids = (await run(['ip', 'netns', 'pids', lab.serverNs])).stdout.trim().split('\n').map(Number);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
};
const linkDown: Fault = async (lab) => {
  await run(['ip', '-n', lab.serverNs, 'link', 'set', 'eth0', 'down']);
};
const middleboxDropsAll: Fault = (lab) => lab.outage(300);

function targetArgs(lab: Lab, extra: string[] = []): string[] {
  return [`${lab.target.user}@${lab.target.addr}`, '-p', String(lab.target.port), '-i', lab.keyFile, '--known-hosts', lab.knownHostsFile, ...extra, '--json', '-v'];
}

/**
 * Runs the CLI (with -v) in the client namespace. When a stderr line matches `at`, the CLI is
 * frozen, `fault` runs, and the CLI goes on: the fault is in place before the CLI takes its
 * next step. Without `at`, the fault (if any) runs at once.
 */
async function diagnoseWithFault(lab: Lab, args: string[], fault?: Fault, at?: RegExp): Promise<Outcome> {
  const child = lab.spawn([process.execPath, CLI, ...args]);
  let stdout = '';
  let stderr = '';
  let injected = false;
  let injecting: Promise<void> | undefined;
  const inject = async () => {
    if (!fault) return;
    // `ip netns exec` execs the command: the child is the CLI itself
    child.kill('SIGSTOP');
    try {
      await fault(lab);
      injected = true;
    } finally {
      child.kill('SIGCONT');
    }
  };
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (!at || injecting) return;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    if (lines.some((l) => at.test(l))) injecting = inject();
  });
  if (fault && !at) injecting = inject();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  const { code, signal } = await exited;
  clearTimeout(killer);
  await injecting;
  let report: Report;
  try {
    report = JSON.parse(stdout) as Report;
  } catch {
    throw new Error(`no JSON report (exit ${code}, signal ${signal}): ${stdout.slice(0, 500)} ${stderr.slice(-2000)}`);
  }
  return { code, signal, report, stderr, injected };
}

/** Nothing of the run is left in the client namespace: no process, no established connection. */
async function expectNothingLeft(lab: Lab): Promise<void> {
  const pids = (await run(['ip', 'netns', 'pids', lab.clientNs], { check: false })).stdout.trim();
  const described = pids
    ? (await run(['ps', '-o', 'pid=,args=', '-p', pids.split('\n').join(',')], { check: false })).stdout
    : '';
  expect(described, 'processes left in the client namespace').toBe('');
  const established = await nsExec(lab.clientNs, ['ss', '-Htn', 'state', 'established'], { check: false });
  expect(established.stdout.trim(), 'connections left established').toBe('');
}

function status(r: Report, id: string): string | undefined {
  return r.probes.find((p) => p.id === id)?.status;
}

/** Causes a measurement of the wreckage would make up (a dying target is not a timeout or a limit). */
const MADE_UP = ['session-lifetime-limit', 'server-channel-timeout', 'middlebox-idle-timeout', 'middlebox-idle-reset', 'tcp-keepalive-too-slow', 'shell-tmout', 'logind-idle-stop'];

function expectCleanRun(o: Outcome): void {
  expect(o.injected, 'the phase was reached and the fault injected').toBe(true);
  expect(o.signal).toBeNull();
  expect(o.code).toBe(3);
  expect(o.stderr).not.toMatch(/internal error|\n\s+at /);
  for (const id of ['client-config', 'user-ssh', 'handshake', 'server', 'large-transfer']) expect(status(o.report, id), id).toBe('ok');
}

/** A fault during the idle test: the reads done, the idle test failed and why, no made-up cause. */
function expectPartialAfterIdleFault(o: Outcome, why: RegExp): void {
  expectCleanRun(o);
  expect(status(o.report, 'idle-test')).toBe('failed');
  const errors = o.report.errors.join('\n');
  expect(errors).toMatch(/idle-test: the target went away during the test/);
  expect(errors).toMatch(why);
  expect(errors).toMatch(/shell-idle: not reported: the target went away/);
  expect(o.report.measurements.idle).toBeUndefined();
  expect(o.report.measurements.shellIdle).toBeUndefined();
  const made = o.report.causes.map((c) => c.id);
  for (const id of MADE_UP) expect(made).not.toContain(id);
}

/** Phases, by the CLI's own -v lines. */
const PHASE = {
  /** idle connections answering, the kept-alive control and the idle shell open: no death yet */
  beforeFirstDeath: /debug: idle: .*ping #\d+ answered after ([2-9]|\d\d)[.\d]* s idle/,
  /**
   * an idle connection's ping is overdue: its death is suspected, the kept-alive control is pinged
   * and a second connection sent to confirm it; the death and its confirmation come seconds later
   */
  afterFirstDeath: /debug: idle: .*ping of the kept-alive control connection/,
  /**
   * a healthy run at --idle-max 12, its frontier at 10.8 s answered: the last frontier ping (at
   * 12 s, about a second later) is the first to meet the fault, and the kept-alive control is
   * checked as the death is suspected. (The ping at 12 s itself cannot mark the phase: its answer
   * and the control's final check come within a millisecond on the lab's path.)
   */
  lastPing: /debug: idle: .*ping #\d+ answered after 10(\.\d+)? s idle/,
  /** the idle test is over; the idle shell is still being watched */
  idleTestDone: /debug: idle: .*done: drops/,
};

describe.skipIf(!availability.ok && !required)('faults during a live diagnosis', () => {
  if (!availability.ok) {
    it('needs the lab', () => {
      throw new Error(`SSH_DOCTOR_LAB=require, but the lab cannot run: ${availability.why}`);
    });
    return;
  }
  const labs: Array<{ clientNs: string; middleboxNs: string; serverNs: string }> = [];
  // competing CPU load for the whole file: two busy loops on this machine
  const busy: ChildProcess[] = [0, 1].map(() => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
  afterAll(async () => {
    for (const b of busy) b.kill('SIGKILL');
    await stopAllLabs();
    // and the labs leave no namespace behind
    const left = new Set(await listNamespaces());
    for (const l of labs) for (const ns of [l.clientNs, l.middleboxNs, l.serverNs]) expect(left.has(ns), ns).toBe(false);
  });

  /** A lab for one fault (its namespaces are checked to be gone at the end). */
  const inLab = <T>(scenario: Parameters<typeof withLab>[0], fn: (lab: Lab) => Promise<T>): Promise<T> =>
    withLab(scenario, (lab) => {
      labs.push(lab);
      return fn(lab);
    });

  describe('before the first death (healthy path)', () => {
    it.concurrent('sshd killed: exit 3, the reads reported, the idle test failed with the reason', () =>
      inLab('healthy', async (lab) => {
        const o = await diagnoseWithFault(lab, targetArgs(lab, ['--idle-max', '30']), sshdKilled, PHASE.beforeFirstDeath);
        expectPartialAfterIdleFault(o, /Connection refused/);
        await expectNothingLeft(lab);
      }));

    it.concurrent("the server's link goes down: exit 3, the same partial report", () =>
      inLab('healthy', async (lab) => {
        const o = await diagnoseWithFault(lab, targetArgs(lab, ['--idle-max', '30']), linkDown, PHASE.beforeFirstDeath);
        expectPartialAfterIdleFault(o, /No route to host|timed out/);
        await expectNothingLeft(lab);
      }));

    it.concurrent('the middlebox drops everything: exit 3, the same partial report', () =>
      inLab('healthy', async (lab) => {
        const o = await diagnoseWithFault(lab, targetArgs(lab, ['--idle-max', '30']), middleboxDropsAll, PHASE.beforeFirstDeath);
        expectPartialAfterIdleFault(o, /timed out/);
        await expectNothingLeft(lab);
      }));
  });

  describe('between a death and its confirmation (a middlebox that drops idle flows)', () => {
    it.concurrent("the server's link goes down: the real first death does not become a bracket", () =>
      inLab('idle-silent', async (lab) => {
        const o = await diagnoseWithFault(lab, targetArgs(lab, ['--idle-max', '30']), linkDown, PHASE.afterFirstDeath);
        expectPartialAfterIdleFault(o, /No route to host|timed out/);
        await expectNothingLeft(lab);
      }));

    it.concurrent('sshd killed: the same', () =>
      inLab('idle-silent', async (lab) => {
        const o = await diagnoseWithFault(lab, targetArgs(lab, ['--idle-max', '30']), sshdKilled, PHASE.afterFirstDeath);
        expectPartialAfterIdleFault(o, /Connection refused/);
        await expectNothingLeft(lab);
      }));
  });

  it.concurrent("during the keepalive control's final check (healthy path): the middlebox drops everything, exit 3", () =>
    inLab('healthy', async (lab) => {
      const o = await diagnoseWithFault(lab, targetArgs(lab, ['--idle-max', '12']), middleboxDropsAll, PHASE.lastPing);
      expectPartialAfterIdleFault(o, /timed out/);
      await expectNothingLeft(lab);
    }));

  it.concurrent('during the shell-idle check, after the idle test measured a drop: the measurement stands, the shell check is not reported, exit 3', () =>
    // TMOUT 40 keeps the shell check going after the idle test has its bracket
    inLab({ ...getScenario('idle-silent'), setEnv: { TMOUT: '40' } }, async (lab) => {
      const o = await diagnoseWithFault(lab, targetArgs(lab, ['--idle-max', '50']), sshdKilled, PHASE.idleTestDone);
      expectCleanRun(o);
      // measured before the target went away, and checked then: the target was still there
      expect(status(o.report, 'idle-test')).toBe('ok');
      expect(o.report.measurements.idle?.verdict).toBe('drops');
      expect(status(o.report, 'shell-idle')).toBe('failed');
      expect(o.report.measurements.shellIdle).toBeUndefined();
      const errors = o.report.errors.join('\n');
      expect(errors).toMatch(/shell-idle: not reported: the target went away/);
      const made = o.report.causes.map((c) => c.id);
      for (const id of ['session-lifetime-limit', 'server-channel-timeout', 'logind-idle-stop']) expect(made).not.toContain(id);
      await expectNothingLeft(lab);
    }));

  it.concurrent("ssh-doctor's own process frozen for 8 s mid-test (a CPU stall): no ping counts as unanswered, no cause", () =>
    inLab('healthy', async (lab) => {
      const o = await diagnoseWithFault(lab, targetArgs(lab, ['--idle-max', '20']), () => new Promise((r) => setTimeout(r, 8000)), PHASE.beforeFirstDeath);
      expect(o.injected).toBe(true);
      expect(o.signal).toBeNull();
      expect(o.report.errors.join('\n')).not.toMatch(/idle-test|shell-idle/);
      expect(o.code).toBe(0);
      expect(o.report.measurements.idle?.verdict).toBe('survived');
      expect(o.report.causes).toEqual([]);
      await expectNothingLeft(lab);
    }));

  it.concurrent('a jump host at a dead address: exit 3, the proxy failure named, no ssh -W left', () =>
    inLab('healthy', async (lab) => {
      const dead = lab.topology.clientAddr.replace(/\.\d+$/, '.99');
      const o = await diagnoseWithFault(lab, targetArgs(lab, ['-J', `${lab.target.user}@${dead}`, '--idle-max', '0']));
      expect(o.code).toBe(3);
      expect(o.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(status(o.report, 'client-config')).toBe('ok');
      expect(status(o.report, 'user-ssh')).toBe('ok');
      expect(status(o.report, 'handshake')).toBe('failed');
      const errors = o.report.errors.join('\n');
      expect(errors).toMatch(new RegExp(`handshake: ProxyJump ${lab.target.user}@\\[?${dead.replace(/\./g, '\\.')}\\]? failed`));
      expect(errors).toMatch(/No route to host|timed out/);
      expect(o.report.causes[0]?.id).toBe('connect-refused-or-filtered');
      await expectNothingLeft(lab);
    }));

  it.concurrent("a live jump host whose forward to the target fails: exit 3, the jump host's answer named", () =>
    inLab('healthy', async (lab) => {
      // the lab's own sshd is the jump host; the target behind it is an address nobody has
      const config = join(lab.dir, 'jump_config');
      writeFileSync(
        config,
        ['Host *', `  IdentityFile ${lab.keyFile}`, '  IdentitiesOnly yes', '  IdentityAgent none', `  UserKnownHostsFile ${lab.knownHostsFile}`, '  GlobalKnownHostsFile /dev/null', '  StrictHostKeyChecking yes', '  ConnectTimeout 5', ''].join('\n'),
      );
      const dead = lab.target.addr.replace(/\.\d+$/, '.99');
      const args = [`${lab.target.user}@${dead}`, '-F', config, '-J', `${lab.target.user}@${lab.target.addr}`, '--known-hosts', lab.knownHostsFile, '--idle-max', '0', '--json'];
      const o = await diagnoseWithFault(lab, args);
      expect(o.code).toBe(3);
      expect(o.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(status(o.report, 'handshake')).toBe('failed');
      const errors = o.report.errors.join('\n');
      expect(errors).toMatch(/ProxyJump .* failed/);
      expect(errors).toMatch(new RegExp(`stdio forwarding failed \\(the jump host was reached, but it could not open a connection to ${dead.replace(/\./g, '\\.')} port 22`));
      expect(o.report.causes[0]?.id).toBe('connect-refused-or-filtered');
      await expectNothingLeft(lab);
    }));
});
