// `ssh-doctor watch` in the lab: a real sshd behind an nftables middlebox, with the drop staged
// while the watch runs. Each watch must name the cause of the drop that happened, with the
// timeline; a healthy path must show no drop. The scenarios run concurrently, each in its own lab.
//
// SSH_DOCTOR_WATCH_FIXTURES=DIR copies each saved evidence bundle there (to refresh the
// fixtures/*/watch-* cases).
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WatchMeasurement } from '../../src/evidence/types.js';
import { CLI } from '../cli/run-cli.js';
import { CLI as WATCH_CLI } from '../cli/run-cli.js';
import { labAvailability, labRequired } from './availability.js';
import { CLIENT_ENV, stopAllLabs, withLab, type Lab } from './lab.js';
import { killPids, run } from './netns.js';
import { IDLE_T, OUTAGE_SECONDS } from './scenarios.js';
import { SSHD } from './sshd.js';

const availability = labAvailability();
const required = labRequired();
if (!availability.ok && !required) console.log(`watch lab tests skipped: ${availability.why}`);

interface Report {
  causes: Array<{ id: string; evidence: string[] }>;
  measurements: { watch?: WatchMeasurement };
  errors: string[];
}

interface Watch {
  child: ChildProcess;
  /** Resolves when the progress on stderr shows this text. */
  seen(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when the wrapped session's output (stdout) shows this text. */
  output(text: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<{ code: number | null; report: Report; stderr: string }>;
}

describe.skipIf(!availability.ok && !required)('watch against the lab', () => {
  if (!availability.ok) {
    it('needs the lab', () => {
      throw new Error(`SSH_DOCTOR_LAB=require, but the lab cannot run: ${availability.why}`);
    });
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'ssh-doctor-watch-lab-'));
  const extra: ChildProcess[] = [];
  afterAll(async () => {
    killPids(extra.flatMap((c) => (c.pid && c.exitCode === null ? [c.pid] : [])), 'SIGKILL');
    await stopAllLabs();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** Starts `ssh-doctor watch ARGS --json -v --save-evidence FILE` in the client namespace. */
  function startWatch(lab: Lab, name: string, args: string[]): Watch {
    const evidence = join(tmp, `${name}.json`);
    // the report to a file: a wrapped session's own output goes to stdout
    const reportFile = join(tmp, `${name}.report.json`);
    // TMPDIR: the watcher's own temp files (a wrapped ssh's -E log) go where afterAll cleans
    const child = lab.spawn([process.execPath, WATCH_CLI, 'watch', '--json', '-v', '--reconnect-wait', '30', '--save-evidence', evidence, '-o', reportFile, ...args], {
      env: { ...CLIENT_ENV, TMPDIR: tmp },
    });
    let stdout = '';
    let stderr = '';
    const waiters: Array<{ re: RegExp; on: 'stdout' | 'stderr'; resolve: () => void }> = [];
    const wake = () => {
      for (const w of [...waiters]) if (w.re.test(w.on === 'stdout' ? stdout : stderr)) w.resolve();
    };
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      wake();
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      wake();
    });
    const waitFor = (on: 'stdout' | 'stderr', text: string | RegExp, timeoutMs: number) =>
      new Promise<void>((resolve, reject) => {
        const re = typeof text === 'string' ? new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : text;
        if (re.test(on === 'stdout' ? stdout : stderr)) return resolve();
        const t = setTimeout(() => reject(new Error(`watch ${name}: "${re.source}" not seen on ${on} in ${timeoutMs} ms:\n${(on === 'stdout' ? stdout : stderr).slice(-1500)}`)), timeoutMs);
        waiters.push({ re, on, resolve: () => (clearTimeout(t), resolve()) });
      });
    const done = new Promise<{ code: number | null; report: Report; stderr: string }>((resolve, reject) => {
      // a watch that does not end by itself is stopped as a user would (Ctrl-C), then killed
      const limit = setTimeout(() => child.kill('SIGINT'), 70_000);
      const hard = setTimeout(() => child.kill('SIGKILL'), 80_000);
      child.on('close', (code) => {
        clearTimeout(limit);
        clearTimeout(hard);
        const fixtures = process.env.SSH_DOCTOR_WATCH_FIXTURES;
        try {
          if (fixtures) {
            mkdirSync(fixtures, { recursive: true });
            copyFileSync(evidence, join(fixtures, `${name}.json`));
          }
          const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
          // the evidence written as it went is the final one too, and re-runs with explain
          const saved = JSON.parse(readFileSync(evidence, 'utf8')) as { measurements: { watch: WatchMeasurement } };
          expect(saved.measurements.watch.drops.length).toBe(report.measurements.watch?.drops.length);
          resolve({ code, report, stderr });
        } catch (e) {
          reject(new Error(`watch ${name}: no report (exit ${code}): ${(e as Error).message}\n${stdout.slice(0, 800)}\n${stderr.slice(-1500)}`));
        }
      });
    });
    return {
      child,
      done,
      seen: (text, timeoutMs = 20_000) => waitFor('stderr', text, timeoutMs),
      output: (text, timeoutMs = 20_000) => waitFor('stdout', text, timeoutMs),
    };
  }

  const target = (lab: Lab) => [`${lab.target.user}@${lab.target.addr}`, '-i', lab.keyFile, '--known-hosts', lab.knownHostsFile, '-F', '/dev/null'];

  function expectDrop(r: { code: number | null; report: Report }, cause: string): WatchMeasurement {
    const w = r.report.measurements.watch!;
    expect(w.drops).toHaveLength(1);
    expect(r.code).toBe(1);
    expect(r.report.causes[0]?.id).toBe(cause);
    expect(w.drops[0]!.causes?.[0]).toBe(cause);
    // the timeline around it
    expect(w.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['connected', 'drop']));
    return w;
  }

  it.concurrent('an outage longer than sshd ClientAlive allows: server-clientalive-timeout', () =>
    withLab('clientalive-outage', async (lab) => {
      // a stateful middlebox may drop the client's packets once sshd closed the flow: silence
      // then lasts until --silence, not until a reset
      const w = startWatch(lab, 'clientalive-outage', [...target(lab), '--interval', '1', '--silence', String(OUTAGE_SECONDS + 6)]);
      await w.seen('connected to');
      await lab.outage(OUTAGE_SECONDS);
      const r = await w.done;
      const m = expectDrop(r, 'server-clientalive-timeout');
      expect(m.drops[0]!.silentSeconds).toBeGreaterThan(0);
      expect(m.drops[0]!.server?.logLines?.join('\n')).toMatch(/Timeout, client not responding/);
      expect(m.samples.some((s) => s.rttMs === null)).toBe(true);
    }));

  it.concurrent('the middlebox resets the flow (its state flushed): middlebox-idle-reset', () =>
    withLab('idle-reset', async (lab) => {
      const w = startWatch(lab, 'middlebox-reset', [...target(lab), '--interval', '1']);
      await w.seen('connected to');
      await new Promise((r) => setTimeout(r, 1500));
      await run(['ip', 'netns', 'exec', lab.middleboxNs, 'conntrack', '-F']);
      const r = await w.done;
      const m = expectDrop(r, 'middlebox-idle-reset');
      expect(m.drops[0]).toMatchObject({ kind: 'reset', addressChanged: false });
      expect(m.drops[0]!.server).toMatchObject({ listenerRestarted: false, heldOldConnection: true });
    }));

  it.concurrent('sshd killed and started again: server-restart-or-kill', () =>
    withLab('healthy', async (lab) => {
      const w = startWatch(lab, 'sshd-restart', [...target(lab), '--interval', '1']);
      await w.seen('connected to');
      await new Promise((r) => setTimeout(r, 1500));
      // every sshd process of this lab (listener and sessions), as a stop of the service would
      const pids = (await run(['ip', 'netns', 'pids', lab.serverNs])).stdout.split('\n').map(Number).filter((n) => n > 0);
      killPids(pids, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 1000));
      const sshd = spawn('ip', ['netns', 'exec', lab.serverNs, SSHD, '-D', '-E', lab.sshdLogFile, '-f', lab.sshdConfigFile], { stdio: 'ignore' });
      extra.push(sshd);
      try {
        const r = await w.done;
        const m = expectDrop(r, 'server-restart-or-kill');
        expect(m.drops[0]!.kind).toBe('closed-by-server');
        expect(m.drops[0]!.server?.listenerRestarted).toBe(true);
        expect(r.report.causes[0]!.evidence.join('\n')).toMatch(/Received signal 15/);
      } finally {
        if (sshd.pid && sshd.exitCode === null) killPids([sshd.pid], 'SIGKILL');
      }
    }));

  it.concurrent("the client's address changes in its namespace: network-change", () =>
    withLab('healthy', async (lab) => {
      const w = startWatch(lab, 'address-change', [...target(lab), '--interval', '1']);
      await w.seen('connected to');
      await new Promise((r) => setTimeout(r, 1500));
      const t = lab.topology;
      const moved = t.clientAddr.replace(/\.2$/, '.3');
      await lab.exec(['ip', 'addr', 'del', `${t.clientAddr}/24`, 'dev', 'eth0']);
      await lab.exec(['ip', 'addr', 'add', `${moved}/24`, 'dev', 'eth0']);
      await lab.exec(['ip', 'route', 'replace', 'default', 'via', t.middleboxClientAddr]);
      const r = await w.done;
      const m = expectDrop(r, 'network-change');
      expect(m.drops[0]!.addressChanged).toBe(true);
      expect(m.drops[0]!.networkChanges?.join('\n')).toContain(`address ${t.clientAddr}/24 removed from eth0`);
      expect(m.events.some((e) => e.kind === 'reconnect' && /^reconnected/.test(e.text))).toBe(true);
    }));

  for (const [scenario, cause] of [
    ['idle-reset', 'middlebox-idle-reset'],
    ['idle-silent', 'middlebox-idle-timeout'],
  ] as const) {
    it.concurrent(`the wrapped ssh session dropped while idle (${scenario}): ${cause}`, () =>
      withLab(scenario, async (lab) => {
        // the client gives up after 4 retransmissions (seconds, not 15 minutes), as the lab's recordings do
        if (scenario === 'idle-silent') await lab.exec(['sysctl', '-q', '-w', 'net.ipv4.tcp_retries2=4']);
        const w = startWatch(lab, `wrapped-${scenario}`, ['--', ...lab.sshCommand(['-tt', '-o', 'ServerAliveInterval=0'])]);
        // type once the shell's prompt is there, and go idle once the answer came back
        await w.output(/\$ $/);
        w.child.stdin!.write('echo typed\n');
        await w.output(/^typed\r?$/m);
        await new Promise((r) => setTimeout(r, (IDLE_T + 2) * 1000));
        w.child.stdin!.write('echo still there\n');
        const r = await w.done;
        const m = expectDrop(r, cause);
        const d = m.drops[0]!;
        expect(d.source).toBe('ssh');
        expect(d.kind).toBe(scenario === 'idle-reset' ? 'reset' : 'silent');
        expect(d.onTraffic).toBe(true);
        expect(d.idleBeforeSeconds).toBeGreaterThan(IDLE_T);
        expect(d.reason).toMatch(/Broken pipe/);
        // the transcript's times: the failure line carries the time it arrived
        expect(readFileSync(join(tmp, `wrapped-${scenario}.ssh-v.log`), 'utf8')).toMatch(/^\d{4}-\d\d-\d\dT\S+Z client_loop: send disconnect: Broken pipe$/m);
      }));
  }

  it.concurrent('a healthy path for the whole watch: no drop, exit 0', () =>
    withLab('healthy', async (lab) => {
      const w = startWatch(lab, 'healthy', [...target(lab), '--interval', '1', '--duration', '8']);
      const r = await w.done;
      expect(r.code).toBe(0);
      expect(r.report.causes).toEqual([]);
      const m = r.report.measurements.watch!;
      expect(m.drops).toEqual([]);
      expect(m.endedBy).toBe('duration');
      expect(m.rtt.samples).toBeGreaterThan(3);
      // re-run from the saved bundle: the same (no cause), the timeline drawn
      const again = await lab.exec([process.execPath, CLI, 'explain', join(tmp, 'healthy.json'), '--format', 'markdown']);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/\*\*Watch\.\*\*.*no drop/);
    }));
});
