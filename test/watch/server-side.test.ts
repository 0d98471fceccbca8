// The server's side after a drop: the watch probe's output, the log window, restart detection.
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/probes/server/commands.js';
import { parseWatchProbe, procEndpoint, readServerSide, windowLines, type Run } from '../../src/watch/server-side.js';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

function probeOutput(o: { pid: number; startedSec: number; conn?: string; tcp?: string[]; cmdline?: string }): string {
  const btime = T0 / 1000 - 86400;
  return [
    `__conn=${o.conn ?? '10.213.0.2 41000 10.213.1.2 22'}`,
    `__now=${T0 / 1000 + 60}`,
    `__btime=${btime}`,
    '__clk=100',
    `__listener=${o.pid} ${(o.startedSec - btime) * 100} ${o.cmdline ?? 'sshd: /usr/sbin/sshd -D -E /tmp/lab/sshd.log -f /tmp/lab/sshd_config [listener] 0 of 10-100 startups'}`,
    ...(o.tcp ?? []).map((l) => `__tcp=${l}`),
    '',
  ].join('\n');
}

describe('the watch probe', () => {
  it('reads /proc/net/tcp endpoints (IPv4, IPv6, IPv4-mapped)', () => {
    expect(procEndpoint('0200D50A:A028')).toEqual({ addr: '10.213.0.2', port: 41000 });
    expect(procEndpoint('0000000000000000FFFF00000200D50A:0016')).toEqual({ addr: '10.213.0.2', port: 22 });
    expect(procEndpoint('B80D0120000000000000000001000000:0016')).toEqual({ addr: '2001:db8::1', port: 22 });
  });

  it('parses the connection, clock offset, listener start and established clients', () => {
    const p = parseWatchProbe(
      probeOutput({ pid: 812, startedSec: T0 / 1000 - 3600, tcp: ['   3: 0201D50A:0016 0200D50A:A028 01 00000000:00000000 02:000AFBB6 00000000 0 0 193619'] }),
      T0 + 60_000 - 1500,
    );
    expect(p.client).toEqual({ addr: '10.213.0.2', port: 41000 });
    expect(p.clockOffsetMs).toBe(1500);
    expect(p.listener).toMatchObject({ pid: 812, startedMs: T0 - 3_600_000, inetd: false, logFile: '/tmp/lab/sshd.log' });
    expect(p.established).toEqual([{ addr: '10.213.0.2', port: 41000 }]);
    expect(parseWatchProbe(probeOutput({ pid: 9, startedSec: T0 / 1000, cmdline: '/usr/sbin/sshd -i' }), T0).listener?.inetd).toBe(true);
  });
});

describe('the log window', () => {
  const log = [
    'Server listening on 10.213.1.2 port 22.',
    'Accepted publickey for lab from 10.213.0.2 port 39000 ssh2: ED25519 SHA256:x',
    'Timeout, client not responding from user lab 10.213.0.2 port 39000',
    'Accepted publickey for lab from 10.213.0.2 port 41000 ssh2: ED25519 SHA256:x',
    'Received signal 15; terminating.',
    'Server listening on 10.213.1.2 port 22.',
  ].join('\n');

  it("starts at the watched session's own Accepted line", () => {
    const w = windowLines(log, { old: { addr: '10.213.0.2', port: 41000 } });
    expect(w.lines).toEqual(log.split('\n').slice(3));
    expect(w.how).toMatch(/Accepted line/);
  });

  it('falls back to time-stamped lines from a minute before the session, else the last lines', () => {
    const stamped = ['2026-11-24T09:50:00+0000 vm sshd[1]: Server listening on 0.0.0.0 port 22.', '2026-11-24T09:59:30+0000 vm sshd[1]: Received signal 15; terminating.'].join('\n');
    expect(windowLines(stamped, { sessionStartServerMs: T0 }).lines).toHaveLength(1);
    expect(windowLines(log, {}).lines).toHaveLength(6);
  });
});

describe('readServerSide', () => {
  function fakeRun(probe: string, logs: { journal: string; file?: string }): { run: Run; commands: string[] } {
    const commands: string[] = [];
    const run: Run = async (command) => {
      commands.push(command);
      if (command === COMMANDS.watchProbe.command) return { stdout: probe, stderr: '', code: 0 };
      if (command === COMMANDS.logs.command) return { stdout: logs.journal, stderr: '', code: 0 };
      if (command.startsWith(COMMANDS.sshdLogFile.command)) return { stdout: logs.file ?? '', stderr: '', code: 0 };
      if (command === COMMANDS.uptime.command) return { stdout: `86460.5\n${T0 / 1000 + 60}\n`, stderr: '', code: 0 };
      return { stdout: '', stderr: 'not here', code: 1 };
    };
    return { run, commands };
  }

  it('tells a restarted listener (another pid), reads the -E file when the journal is empty, and keeps the window', async () => {
    const baseline = parseWatchProbe(probeOutput({ pid: 812, startedSec: T0 / 1000 - 3600 }), T0);
    const { run, commands } = fakeRun(probeOutput({ pid: 977, startedSec: T0 / 1000 + 20, conn: '10.213.0.2 41010 10.213.1.2 22' }), {
      journal: '',
      file: [
        'Accepted publickey for lab from 10.213.0.2 port 41000 ssh2: ED25519 SHA256:x',
        'Received signal 15; terminating.',
        'Server listening on 10.213.1.2 port 22.',
        'Accepted publickey for lab from 10.213.0.2 port 41010 ssh2: ED25519 SHA256:x',
      ].join('\n'),
    });
    const r = await readServerSide(run, { sessionStartMs: T0, old: { addr: '10.213.0.2', port: 41000 }, oldFromServer: true, baseline, sudo: false });
    expect(commands).toContain(`${COMMANDS.sshdLogFile.command}'/tmp/lab/sshd.log'`);
    expect(r.side.listenerRestarted).toBe(true);
    expect(r.side.rebooted).toBe(false);
    expect(r.side.heldOldConnection).toBe(false);
    expect(r.side.logSource).toMatch(/sshd -E log \/tmp\/lab\/sshd\.log/);
    // the reconnect's own lines are left out
    expect(r.side.logLines).toEqual(['Accepted publickey for lab from 10.213.0.2 port 41000 ssh2: ED25519 SHA256:x', 'Received signal 15; terminating.', 'Server listening on 10.213.1.2 port 22.']);
    expect(r.side.events?.map((e) => e.type).sort()).toEqual(['server-accepted', 'server-listening', 'server-received-signal']);
    expect(r.side.uptimeSeconds).toBe(86461);
  });

  it('the same listener, and sshd still holding the old connection: the path dropped it', async () => {
    const baseline = parseWatchProbe(probeOutput({ pid: 812, startedSec: T0 / 1000 - 3600 }), T0);
    const { run } = fakeRun(
      probeOutput({ pid: 812, startedSec: T0 / 1000 - 3600, conn: '10.213.0.3 41010 10.213.1.2 22', tcp: ['   3: 0201D50A:0016 0200D50A:A028 01 00000000:00000000 00:00000000 00000000 0 0 1'] }),
      { journal: '' },
    );
    const r = await readServerSide(run, { sessionStartMs: T0, old: { addr: '10.213.0.2', port: 41000 }, oldFromServer: true, baseline, sudo: false });
    expect(r.side.listenerRestarted).toBe(false);
    expect(r.side.heldOldConnection).toBe(true);
  });
});
