// Faults in the lab, injected while `ssh-doctor <target>` runs against a real sshd: the server
// dies mid-diagnosis (every process of the server namespace killed during the idle test), its
// link goes down, the middlebox starts dropping everything, and the jump host fails (a dead
// address; a live jump host whose forward to the target fails). Each run must end in bounded time
// with a partial report that says what was learned (the probes that worked) and what failed
// (probes[] and errors[]), exit 3, no cause made up from the wreckage (a dying server is not an
// idle timeout), and nothing of the run left behind: no process in the client namespace (no
// `ssh -W`, no ssh-doctor child), no established connection, and, once the lab stops, no
// namespace. Refused connections, a wrong host key, failed authentication and DNS failure are
// in live.test.ts.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../cli/run-cli.js';
import { labAvailability, labRequired } from './availability.js';
import { stopAllLabs, withLab, type Lab } from './lab.js';
import { listNamespaces, nsExec, run } from './netns.js';

const availability = labAvailability();
const required = labRequired();
if (!availability.ok && !required) console.log(`lab fault tests skipped: ${availability.why}`);

interface Report {
  probes: Array<{ id: string; status: string; detail?: string }>;
  causes: Array<{ id: string }>;
  errors: string[];
  measurements: { idle?: unknown; shellIdle?: unknown };
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  report: Report;
  stderr: string;
  /** Seconds from the fault (or from the start, without one) to the CLI's exit. */
  exitAfter: number;
}

function targetArgs(lab: Lab, extra: string[] = []): string[] {
  return [`${lab.target.user}@${lab.target.addr}`, '-p', String(lab.target.port), '-i', lab.keyFile, '--known-hosts', lab.knownHostsFile, ...extra, '--json'];
}

/** Runs the CLI in the client namespace; `fault` runs once the idle test has started (or at once). */
async function diagnoseWithFault(lab: Lab, args: string[], fault?: () => Promise<void>): Promise<Outcome> {
  const child = lab.spawn([process.execPath, CLI, ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  let t0 = Date.now();
  if (fault) {
    // the idle test is running once several idle connections have logged in
    for (;;) {
      const accepted = ((await lab.sshdLog()).match(/^Accepted /gm) ?? []).length;
      if (accepted >= 5) break;
      if (child.exitCode !== null) throw new Error(`the CLI ended before the fault: ${stdout.slice(0, 500)} ${stderr.slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 2000));
    await fault();
    t0 = Date.now();
  }
  const { code, signal } = await exited;
  clearTimeout(killer);
  const exitAfter = (Date.now() - t0) / 1000;
  let report: Report;
  try {
    report = JSON.parse(stdout) as Report;
  } catch {
    throw new Error(`no JSON report (exit ${code}, signal ${signal}): ${stdout.slice(0, 500)} ${stderr.slice(0, 1000)}`);
  }
  return { code, signal, report, stderr, exitAfter };
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

/** What a fault during the idle test must give: the reads done, the idle test failed and why, no made-up cause. */
function expectPartialAfterIdleFault(o: Outcome, why: RegExp): void {
  expect(o.signal).toBeNull();
  expect(o.code).toBe(3);
  expect(o.stderr).not.toMatch(/internal error|\n\s+at /);
  for (const id of ['client-config', 'user-ssh', 'handshake', 'server', 'large-transfer']) expect(status(o.report, id), id).toBe('ok');
  expect(status(o.report, 'idle-test')).toBe('failed');
  const errors = o.report.errors.join('\n');
  expect(errors).toMatch(/idle-test: the target went away during the test/);
  expect(errors).toMatch(why);
  expect(errors).toMatch(/shell-idle: not reported: the target went away/);
  expect(o.report.measurements.idle).toBeUndefined();
  expect(o.report.measurements.shellIdle).toBeUndefined();
  const made = o.report.causes.map((c) => c.id);
  for (const id of ['session-lifetime-limit', 'server-channel-timeout', 'middlebox-idle-timeout', 'middlebox-idle-reset', 'tcp-keepalive-too-slow']) expect(made).not.toContain(id);
}

describe.skipIf(!availability.ok && !required)('faults during a live diagnosis', () => {
  if (!availability.ok) {
    it('needs the lab', () => {
      throw new Error(`SSH_DOCTOR_LAB=require, but the lab cannot run: ${availability.why}`);
    });
    return;
  }
  const labs: Array<{ clientNs: string; middleboxNs: string; serverNs: string }> = [];
  afterAll(async () => {
    await stopAllLabs();
    // and the labs leave no namespace behind
    const left = new Set(await listNamespaces());
    for (const l of labs) for (const ns of [l.clientNs, l.middleboxNs, l.serverNs]) expect(left.has(ns), ns).toBe(false);
  });

  /** A healthy lab for one fault (its namespaces are checked to be gone at the end). */
  const healthy = <T>(fn: (lab: Lab) => Promise<T>): Promise<T> =>
    withLab('healthy', (lab) => {
      labs.push(lab);
      return fn(lab);
    });

  it.concurrent('sshd killed during the idle test: exit 3, the reads reported, the idle test failed with the reason', () =>
    healthy(async (lab) => {
      const o = await diagnoseWithFault(lab, targetArgs(lab, ['--idle-max', '30']), async () => {
        const pids = (await run(['ip', 'netns', 'pids', lab.serverNs])).stdout.trim().split('\n').map(Number);
        for (const pid of pids) process.kill(pid, 'SIGKILL');
      });
      expectPartialAfterIdleFault(o, /Connection refused/);
      expect(o.exitAfter).toBeLessThan(15);
      await expectNothingLeft(lab);
    }));

  it.concurrent("the server's link goes down during the idle test: exit 3, the same partial report", () =>
    healthy(async (lab) => {
      const o = await diagnoseWithFault(lab, targetArgs(lab, ['--idle-max', '30']), async () => {
        await run(['ip', '-n', lab.serverNs, 'link', 'set', 'eth0', 'down']);
      });
      expectPartialAfterIdleFault(o, /No route to host|timed out/);
      expect(o.exitAfter).toBeLessThan(45);
      await expectNothingLeft(lab);
    }));

  it.concurrent('the middlebox drops everything during the idle test: exit 3, the same partial report', () =>
    healthy(async (lab) => {
      const o = await diagnoseWithFault(lab, targetArgs(lab, ['--idle-max', '30']), () => lab.outage(300));
      expectPartialAfterIdleFault(o, /timed out/);
      expect(o.exitAfter).toBeLessThan(50);
      await expectNothingLeft(lab);
    }));

  it.concurrent('a jump host at a dead address: exit 3, the proxy failure named, no ssh -W left', () =>
    healthy(async (lab) => {
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
      expect(o.exitAfter).toBeLessThan(60);
      await expectNothingLeft(lab);
    }));

  it.concurrent("a live jump host whose forward to the target fails: exit 3, the jump host's answer named", () =>
    healthy(async (lab) => {
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
      expect(o.exitAfter).toBeLessThan(60);
      await expectNothingLeft(lab);
    }));
});
