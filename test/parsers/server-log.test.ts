import { describe, it, expect } from 'vitest';
import { Readable } from 'node:stream';
import { EventCollector } from '../../src/evidence/collector.js';
import type { EventSummary, EventType, FieldValue } from '../../src/evidence/types.js';
import { MAX_LINE, streamLines, textLines } from '../../src/parsers/lines.js';
import { ServerLogParser } from '../../src/parsers/server-log.js';

const REF = new Date('2026-11-25T12:00:00Z');

function parse(text: string, reference: Date = REF) {
  const collector = new EventCollector();
  const parser = new ServerLogParser('auth.log', collector, { reference });
  textLines(text, parser);
  const result = parser.result();
  const events = collector.summaries();
  const byType = new Map<EventType, EventSummary>(events.map((e) => [e.type, e]));
  return { result, events, byType, types: events.map((e) => e.type), last: collector.lastEvent() };
}

const SYSLOG = 'Nov 24 10:07:01 web1 sshd[1234]: ';

type Case = [label: string, message: string, type: EventType | null, fields?: Record<string, FieldValue>];

// Real sshd message texts (MESSAGES.md), per version where they differ.
const SSHD_CASES: Case[] = [
  ['ClientAlive 7.7+', 'Timeout, client not responding from user alice 192.0.2.1 port 51234', 'server-clientalive-timeout', { user: 'alice', addr: '192.0.2.1', port: 51234 }],
  ['ClientAlive <7.7', 'Timeout, client not responding.', 'server-clientalive-timeout'],
  ['MaxStartups drop 10.0+', 'drop connection #3 from [192.0.2.1]:51234 on [192.0.2.10]:22 past Maxstartups', 'server-maxstartups', { addr: '192.0.2.1', port: 51234, startups: 3, how: 'drop' }],
  ['MaxStartups drop 8.4-9.7', 'drop connection #3 from [192.0.2.1]:51234 on [192.0.2.10]:22 past MaxStartups', 'server-maxstartups', { how: 'drop' }],
  ['penalty drop 10.0+', 'drop connection #0 from [192.0.2.1]:51234 on [192.0.2.10]:22 penalty: failed authentication', 'server-penalty', { addr: '192.0.2.1', reason: 'failed authentication', how: 'drop' }],
  ['MaxStartups begin 8.4+', 'error: beginning MaxStartups throttling', 'server-maxstartups', { how: 'begin' }],
  ['MaxStartups ongoing', 'error: in MaxStartups throttling for 00:00:30, 10 connections dropped', 'server-maxstartups', { how: 'ongoing', count: 10 }],
  ['MaxStartups exit', 'exited MaxStartups throttling after 00:01:02, 21 connections dropped', 'server-maxstartups', { how: 'exit', count: 21 }],
  ['penalty new 10.3+', 'srclimit_penalise: ipv4: new 192.0.2.1/32 active penalty of 5.000 seconds for penalty: failed authentication', 'server-penalty', { addr: '192.0.2.1', net: '192.0.2.1/32', seconds: 5, reason: 'failed authentication', state: 'active' }],
  ['penalty deferred 9.8', 'srclimit_penalise: ipv4: new 192.0.2.1/32 deferred penalty of 10 seconds for penalty: exceeded LoginGraceTime', 'server-penalty', { seconds: 10, state: 'deferred', reason: 'exceeded LoginGraceTime' }],
  ['penalty activating', 'srclimit_penalise: 198.51.100.0/24: activating ipv4 penalty of 30 seconds for penalty: connections without attempting authentication', 'server-penalty', { net: '198.51.100.0/24', seconds: 30, state: 'activating' }],
  ['ChannelTimeout 9.2+', 'channel 0: closing after 300 seconds of inactivity', 'server-channel-inactivity', { channel: 0, seconds: 300 }],
  ['UnusedConnectionTimeout 9.2+', 'terminating inactive connection from user alice 192.0.2.1 port 51234', 'server-unused-connection-timeout', { user: 'alice', addr: '192.0.2.1', port: 51234 }],
  ['EOF after auth 9.8+', 'Connection closed by 192.0.2.1 port 51234', 'server-closed-by-client', { addr: '192.0.2.1', port: 51234 }],
  ['EOF preauth', 'Connection closed by authenticating user root 192.0.2.1 port 51234 [preauth]', 'server-closed-preauth', { user: 'root', addr: '192.0.2.1', port: 51234, how: 'closed' }],
  ['EOF preauth invalid user', 'Connection closed by invalid user bob 203.0.113.5 port 40000 [preauth]', 'server-closed-preauth', { user: 'bob', addr: '203.0.113.5' }],
  ['EOF preauth monitor quirk', 'Connection closed by authenticatinguser root 192.0.2.1 port 51234 [preauth]', 'server-closed-preauth', { user: 'root' }],
  ['EOF preauth no user', 'Connection closed by 203.0.113.5 port 40000 [preauth]', 'server-closed-preauth', { addr: '203.0.113.5', port: 40000 }],
  ['read error', 'Read error from remote host 192.0.2.1 port 51234: Connection reset by peer', 'server-read-error', { addr: '192.0.2.1', port: 51234, error: 'Connection reset by peer' }],
  ['disconnect 7.2+', 'Received disconnect from 192.0.2.1 port 51234:11: disconnected by user', 'server-received-disconnect', { addr: '192.0.2.1', port: 51234, reason: 11, message: 'disconnected by user' }],
  ['disconnect <=7.1', 'Received disconnect from 192.0.2.1: 11: disconnected by user', 'server-received-disconnect', { addr: '192.0.2.1', reason: 11 }],
  ['disconnect error reason', 'error: Received disconnect from 192.0.2.1 port 51234:2: Packet corrupt', 'server-received-disconnect', { reason: 2, message: 'Packet corrupt' }],
  ['disconnect preauth', 'Received disconnect from 203.0.113.5 port 40000:11: Bye Bye [preauth]', 'server-closed-preauth', { how: 'disconnect', reason: 11, message: 'Bye Bye' }],
  ['disconnected 7.5+', 'Disconnected from user alice 192.0.2.1 port 51234', 'server-disconnected', { user: 'alice', addr: '192.0.2.1', port: 51234 }],
  ['disconnected 7.2-7.4', 'Disconnected from 192.0.2.1 port 51234', 'server-disconnected', { addr: '192.0.2.1' }],
  ['disconnected preauth', 'Disconnected from invalid user bob 203.0.113.5 port 40000 [preauth]', null],
  ['reset', 'Connection reset by 192.0.2.1 port 51234', 'server-connection-reset', { addr: '192.0.2.1', port: 51234 }],
  ['reset preauth', 'Connection reset by authenticating user root 192.0.2.1 port 51234 [preauth]', 'server-closed-preauth', { how: 'reset', user: 'root' }],
  ['write 8.2+', 'process_output: ssh_packet_write_poll: Connection from user alice 192.0.2.1 port 51234: Broken pipe', 'server-write-failed', { user: 'alice', addr: '192.0.2.1', port: 51234, error: 'Broken pipe' }],
  ['write <=7.9', 'packet_write_wait: Connection from 192.0.2.1 port 51234: Broken pipe', 'server-write-failed', { addr: '192.0.2.1', error: 'Broken pipe' }],
  ['write <=6.7', 'fatal: Write failed: Broken pipe', 'server-write-failed', { error: 'Broken pipe' }],
  ['monitor write', 'fatal: mm_request_send: write: Broken pipe', 'server-write-failed', { error: 'Broken pipe' }],
  ['dispatch reset', 'ssh_dispatch_run_fatal: Connection from user alice 192.0.2.1 port 51234: Connection reset by peer', 'server-connection-reset', { user: 'alice' }],
  ['dispatch preauth pipe', 'ssh_dispatch_run_fatal: Connection from 203.0.113.5 port 40000: Broken pipe [preauth]', 'server-closed-preauth', { how: 'error', error: 'Broken pipe' }],
  ['MAC', 'ssh_dispatch_run_fatal: Connection from user alice 192.0.2.1 port 51234: message authentication code incorrect', 'server-packet-corrupt', { error: 'message authentication code incorrect' }],
  ['corrupted preauth', 'ssh_dispatch_run_fatal: Connection from 192.0.2.1 port 51234: Connection corrupted [preauth]', 'server-packet-corrupt', { error: 'Connection corrupted' }],
  ['corrupted MAC', 'Corrupted MAC on input.', 'server-packet-corrupt', { error: 'Corrupted MAC on input' }],
  ['bad length', 'Bad packet length 1349676916.', 'server-packet-corrupt', { length: 1349676916 }],
  ['blocking I/O timeout', 'Connection from user alice 192.0.2.1 port 51234 timed out', 'server-connection-timed-out', { user: 'alice', addr: '192.0.2.1', port: 51234 }],
  ['grace 9.8+', 'Timeout before authentication for connection from 192.0.2.1 to 192.0.2.10, pid = 4242', 'server-login-grace-timeout', { addr: '192.0.2.1', to: '192.0.2.10', sessionPid: 4242 }],
  ['grace 8.5-9.7', 'fatal: Timeout before authentication for 192.0.2.1 port 51234', 'server-login-grace-timeout', { addr: '192.0.2.1', port: 51234 }],
  ['too many 7.5+', 'Disconnecting authenticating user root 192.0.2.1 port 51234: Too many authentication failures [preauth]', 'server-too-many-auth-failures', { user: 'root', addr: '192.0.2.1', port: 51234 }],
  ['too many old', 'Disconnecting: Too many authentication failures for root [preauth]', 'server-too-many-auth-failures', { message: 'Too many authentication failures for root' }],
  ['other disconnecting', 'Disconnecting invalid user bob 203.0.113.5 port 40000: Change of username or service not allowed: (bob,ssh-connection) -> (root,ssh-connection) [preauth]', null],
  ['accepted', 'Accepted publickey for alice from 192.0.2.1 port 51234 ssh2: ED25519 SHA256:Zm9vYmFyYmF6cXV4', 'server-accepted', { method: 'publickey', user: 'alice', addr: '192.0.2.1', port: 51234 }],
  ['failed', 'Failed password for alice from 192.0.2.1 port 51234 ssh2', 'server-auth-failed', { method: 'password', user: 'alice', addr: '192.0.2.1' }],
  ['failed invalid', 'Failed password for invalid user admin from 203.0.113.5 port 40000 ssh2', 'server-auth-failed', { user: 'admin', invalid: 1 }],
  ['invalid user', 'Invalid user admin from 203.0.113.5 port 40000', 'server-auth-failed', { user: 'admin', addr: '203.0.113.5', port: 40000, invalid: 1 }],
  ['session opened', 'pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)', 'server-session-opened', { user: 'alice' }],
  ['session opened old', 'pam_unix(sshd:session): session opened for user alice by (uid=0)', 'server-session-opened', { user: 'alice' }],
  ['session closed', 'pam_unix(sshd:session): session closed for user alice', 'server-session-closed', { user: 'alice' }],
  ['signal', 'Received signal 15; terminating.', 'server-received-signal', { signal: 15, how: 'signal' }],
  ['listening', 'Server listening on 0.0.0.0 port 22.', 'server-listening', { addr: '0.0.0.0', port: 22 }],
  ['listening v6', 'Server listening on :: port 22.', 'server-listening', { addr: '::', port: 22 }],
  ['version', 'debug1: sshd version OpenSSH_9.2p1, OpenSSL 3.0.15 3 Sep 2024', 'server-version', { version: 'OpenSSH_9.2p1' }],
  ['case-insensitive', 'TIMEOUT, CLIENT NOT RESPONDING FROM USER alice 192.0.2.1 PORT 51234', 'server-clientalive-timeout', { user: 'alice' }],
  ['unmapped sshd line', 'pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.5', null],
  ['kex line alone', 'error: kex_exchange_identification: Connection closed by remote host', null],
];

describe('ServerLogParser: sshd messages', () => {
  it.each(SSHD_CASES)('%s', (_label, message, type, fields) => {
    const { result, events, byType } = parse(SYSLOG + message);
    expect(result).toMatchObject({ lines: 1, recognised: 1, unparsed: 0, format: 'syslog' });
    if (type === null) {
      expect(events).toEqual([]);
      return;
    }
    expect(events.map((e) => e.type)).toEqual([type]);
    const ev = byType.get(type)!;
    expect(ev.side).toBe('server');
    expect(ev.count).toBe(1);
    expect(ev.firstAt).toBe('2026-11-24T10:07:01');
    expect(ev.sample).toMatchObject({ source: 'auth.log', line: 1, text: SYSLOG + message });
    expect(ev.fields).toMatchObject({ pid: 1234, prefix: 'sshd', ...(fields ?? {}) });
  });

  it('takes the same messages from sshd -E files (no timestamp, no prefix)', () => {
    for (const [, message, type, fields] of SSHD_CASES) {
      if (type === null) continue;
      const { result, byType } = parse(message);
      expect(result, message).toMatchObject({ lines: 1, recognised: 1, unparsed: 0, format: 'sshd-E' });
      const ev = byType.get(type)!;
      expect(ev, message).toBeDefined();
      expect(ev.firstAt).toBeUndefined();
      expect(ev.fields).toMatchObject(fields ?? {});
      expect(ev.fields.prefix).toBeUndefined();
    }
  });
});

describe('ServerLogParser: other programs', () => {
  const cases: Case[] = [
    ['logind idle', 'Nov 24 10:07:01 web1 systemd-logind[512]: Session "12" of user "alice" is idle, stopping.', 'server-logind-idle-stop', { session: '12', user: 'alice' }],
    ['logind reboot', 'Nov 24 10:07:01 web1 systemd-logind[512]: System is rebooting.', 'server-reboot', { how: 'logind-reboot' }],
    ['logind poweroff', 'Nov 24 10:07:01 web1 systemd-logind[512]: System is powering down.', 'server-reboot', { how: 'logind-poweroff' }],
    ['kernel boot', 'Nov 24 10:07:01 web1 kernel: [    0.000000] Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC', 'server-reboot', { how: 'boot' }],
    ['OOM sshd', 'Nov 24 10:07:01 web1 kernel: [123456.789012] Out of memory: Killed process 1234 (sshd) total-vm:14520kB, anon-rss:1024kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:64kB oom_score_adj:0', 'server-oom-kill', { pid: 1234, process: 'sshd' }],
    ['OOM old kernel', 'Nov 24 10:07:01 web1 kernel: Out of memory: Kill process 4321 (sshd-session) score 1 or sacrifice child', 'server-oom-kill', { pid: 4321, process: 'sshd-session' }],
    ['OOM cgroup shell', 'Nov 24 10:07:01 web1 kernel: Memory cgroup out of memory: Killed process 777 (bash) total-vm:8000kB', 'server-oom-kill', { process: 'bash' }],
    ['OOM other process', 'Nov 24 10:07:01 web1 kernel: Out of memory: Killed process 999 (java) total-vm:8000000kB', null],
    ['oom-kill line', 'Nov 24 10:07:01 web1 kernel: oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/ssh.service,task=sshd,pid=1234,uid=0', null],
    ['fail2ban via syslog', 'Nov 24 10:07:01 web1 fail2ban.actions[321]: NOTICE [sshd] Ban 192.0.2.1', 'server-ban', { addr: '192.0.2.1', jail: 'sshd', how: 'fail2ban' }],
    ['fail2ban restore', 'Nov 24 10:07:01 web1 fail2ban.actions[321]: NOTICE [sshd] Restore Ban 192.0.2.1', 'server-ban', { how: 'fail2ban-restore' }],
    ['fail2ban recidive', 'Nov 24 10:07:01 web1 fail2ban.actions[321]: NOTICE [recidive] Ban 192.0.2.1', 'server-ban', { jail: 'recidive' }],
    ['fail2ban unban', 'Nov 24 10:07:01 web1 fail2ban.actions[321]: NOTICE [sshd] Unban 192.0.2.1', null],
    ['fail2ban other jail', 'Nov 24 10:07:01 web1 fail2ban.actions[321]: NOTICE [nginx-http-auth] Ban 192.0.2.1', null],
    ['sshguard block', 'Nov 24 10:07:01 web1 sshguard[77]: Blocking "192.0.2.1/32" for 120 secs (3 attacks in 5 secs, after 1 abuses over 5 secs.)', 'server-ban', { addr: '192.0.2.1', seconds: 120, how: 'block' }],
    ['sshguard block old', 'Nov 24 10:07:01 web1 sshguard[77]: Blocking 192.0.2.1:4 for >630secs: 40 danger in 4 attacks over 9 seconds (all: 40d in 1 abuses over 9s).', 'server-ban', { addr: '192.0.2.1', seconds: 630 }],
    ['sshguard attack', 'Nov 24 10:07:01 web1 sshguard[77]: Attack from "192.0.2.1" on service SSH with danger 10.', 'server-ban', { addr: '192.0.2.1', how: 'attack', service: 'SSH' }],
    ['sshguard attack other service', 'Nov 24 10:07:01 web1 sshguard[77]: Attack from "192.0.2.1" on service Exim with danger 10.', null],
    ['systemd stopping 252+', 'Nov 24 10:07:01 web1 systemd[1]: Stopping ssh.service - OpenBSD Secure Shell server...', 'server-received-signal', { how: 'systemd-stop' }],
    ['systemd stopping', 'Nov 24 10:07:01 web1 systemd[1]: Stopping OpenBSD Secure Shell server...', 'server-received-signal', { how: 'systemd-stop' }],
    ['systemd stopped RHEL', 'Nov 24 10:07:01 web1 systemd[1]: Stopped OpenSSH server daemon.', 'server-received-signal', { how: 'systemd-stop' }],
    ['systemd per-connection', 'Nov 24 10:07:01 web1 systemd[1]: Stopping OpenBSD Secure Shell server per-connection daemon (192.0.2.1:51234)...', null],
    ['systemd other unit', 'Nov 24 10:07:01 web1 systemd[1]: Stopping cron.service - Regular background program processing daemon...', null],
    ['cron', 'Nov 24 10:07:01 web1 CRON[4242]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)', null],
    ['sudo', 'Nov 24 10:07:01 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart ssh', null],
    ['sshd-keygen', 'Nov 24 10:07:01 web1 sshd-keygen[99]: Generating ed25519 host key', null],
  ];
  it.each(cases)('%s', (_label, line, type, fields) => {
    const { result, events, byType } = parse(line);
    expect(result).toMatchObject({ lines: 1, recognised: 1, unparsed: 0 });
    if (type === null) {
      expect(events).toEqual([]);
      return;
    }
    expect(events.map((e) => e.type)).toEqual([type]);
    const ev = byType.get(type)!;
    expect(ev.firstAt).toBe('2026-11-24T10:07:01');
    expect(ev.fields).toMatchObject(fields ?? {});
    expect(ev.fields.prefix).toBeUndefined();
  });

  it('counts one restart for "Stopping" followed by "Stopped"', () => {
    const { byType } = parse(
      [
        'Nov 24 10:07:01 web1 systemd[1]: Stopping ssh.service - OpenBSD Secure Shell server...',
        'Nov 24 10:07:01 web1 sshd[800]: Received signal 15; terminating.',
        'Nov 24 10:07:01 web1 systemd[1]: ssh.service: Deactivated successfully.',
        'Nov 24 10:07:01 web1 systemd[1]: Stopped ssh.service - OpenBSD Secure Shell server.',
        'Nov 24 10:07:02 web1 systemd[1]: Starting ssh.service - OpenBSD Secure Shell server...',
        'Nov 24 10:07:02 web1 sshd[900]: Server listening on 0.0.0.0 port 22.',
      ].join('\n'),
    );
    expect(byType.get('server-received-signal')!.count).toBe(2);
    expect(byType.get('server-listening')!.count).toBe(1);
  });

  it('reads fail2ban.log lines (own timestamp format, no host)', () => {
    const { result, byType } = parse('2026-11-24 10:07:01,123 fail2ban.actions        [1234]: NOTICE  [sshd] Ban 192.0.2.1');
    expect(result).toMatchObject({ recognised: 1, unparsed: 0 });
    expect(byType.get('server-ban')).toMatchObject({ firstAt: '2026-11-24T10:07:01.123', fields: { addr: '192.0.2.1', jail: 'sshd' } });
  });
});

describe('ServerLogParser: formats and timestamps', () => {
  it('reads RFC 3339 high-precision syslog and sshd-session (9.8+)', () => {
    const { result, byType } = parse(
      '2026-11-24T10:07:01.123456+00:00 web1 sshd-session[4321]: Timeout, client not responding from user alice 192.0.2.1 port 51234',
    );
    expect(result).toMatchObject({ format: 'iso', openssh: '>=9.8', recognised: 1 });
    expect(result.dating).toBeUndefined();
    expect(byType.get('server-clientalive-timeout')).toMatchObject({
      firstAt: '2026-11-24T10:07:01.123456+00:00',
      fields: { user: 'alice', pid: 4321, prefix: 'sshd-session' },
    });
  });

  it('reads sshd-auth (10.0+) lines', () => {
    const { result, byType } = parse(
      [
        '2026-11-24T10:07:01.000001+01:00 web1 sshd-auth[55]: Failed password for alice from 192.0.2.1 port 51234 ssh2',
        '2026-11-24T10:07:02.000001+01:00 web1 sshd-session[54]: Connection closed by authenticating user alice 192.0.2.1 port 51234 [preauth]',
      ].join('\n'),
    );
    expect(result.openssh).toBe('>=10.0');
    expect(byType.get('server-auth-failed')!.fields).toMatchObject({ prefix: 'sshd-auth', pid: 55 });
  });

  it('prefers the exact version from the debug line', () => {
    const { result } = parse(
      ['Nov 24 10:07:01 web1 sshd-session[1]: debug1: sshd version OpenSSH_10.0p2, OpenSSL 3.5.0 8 Apr 2025', 'Nov 24 10:07:01 web1 sshd-auth[2]: Invalid user x from 203.0.113.5 port 1'].join('\n'),
    );
    expect(result.openssh).toBe('OpenSSH_10.0p2');
  });

  it('reads journalctl short output with markers, and dates a reboot by the entry after it', () => {
    const { result, byType, types } = parse(
      [
        '-- Logs begin at Mon 2026-11-23 08:00:01 UTC, end at Tue 2026-11-24 11:00:00 UTC. --',
        'Nov 24 09:00:00 web1 sshd[700]: Accepted publickey for alice from 192.0.2.1 port 51234 ssh2: ED25519 SHA256:Zm9v',
        '-- Reboot --',
        'Nov 24 10:07:01 web1 sshd[800]: Server listening on 0.0.0.0 port 22.',
      ].join('\n'),
    );
    expect(result).toMatchObject({ lines: 4, recognised: 4, unparsed: 0, format: 'journal' });
    expect(types).toContain('server-reboot');
    expect(byType.get('server-reboot')).toMatchObject({ firstAt: '2026-11-24T10:07:01', sample: { line: 3, text: '-- Reboot --' }, fields: { how: 'journal' } });
  });

  it('treats newer journalctl boot separators as reboots, but not a marker before any entry', () => {
    const { byType } = parse(
      [
        '-- Boot 5f7c3bb2a1c04c30b7ad8fca9a1d1e01 --',
        'Nov 24 09:00:00 web1 sshd[700]: Server listening on 0.0.0.0 port 22.',
        '-- Boot 0a1b2c3d4e5f60718293a4b5c6d7e8f9 --',
      ].join('\n'),
    );
    // the last marker has no entry after it: it is reported without a time
    expect(byType.get('server-reboot')).toMatchObject({ count: 1, sample: { line: 3 } });
    expect(byType.get('server-reboot')!.firstAt).toBeUndefined();
  });

  it('reports an empty journal', () => {
    const { result, events } = parse('-- No entries --');
    expect(result).toMatchObject({ lines: 1, recognised: 1, format: 'journal' });
    expect(events).toEqual([]);
  });

  it('reads journalctl -o short-iso, short-precise and short-full', () => {
    const iso = parse('2026-11-24T10:07:01+0000 web1 sshd[1]: Received signal 15; terminating.');
    expect(iso.result.format).toBe('journal');
    expect(iso.byType.get('server-received-signal')!.firstAt).toBe('2026-11-24T10:07:01+00:00');
    const precise = parse('Nov 24 10:07:01.123456 web1 sshd[1]: Received signal 15; terminating.');
    expect(precise.byType.get('server-received-signal')!.firstAt).toBe('2026-11-24T10:07:01.123456');
    const full = parse('Tue 2026-11-24 10:07:01 UTC web1 sshd[1]: Received signal 15; terminating.');
    expect(full.result.format).toBe('journal');
    expect(full.byType.get('server-received-signal')!.firstAt).toBe('2026-11-24T10:07:01');
  });

  it('accepts a facility.level field, no host field, and grep file-name prefixes', () => {
    const { result, types } = parse(
      [
        'Nov 24 10:07:01 web1 authpriv.info sshd[1234]: Accepted password for alice from 192.0.2.1 port 51234 ssh2',
        '/var/log/auth.log.1:Nov 24 10:07:02 web1 sshd[1234]: Received signal 15; terminating.',
        'auth.log:2026-11-24T10:07:03.5+00:00 web1 sshd[1]: Server listening on 0.0.0.0 port 22.',
        'Nov 24 10:07:04 sshd[77]: Timeout, client not responding from user alice 192.0.2.1 port 51234',
      ].join('\n'),
    );
    expect(result).toMatchObject({ recognised: 4, unparsed: 0 });
    expect(types).toEqual(['server-accepted', 'server-received-signal', 'server-listening', 'server-clientalive-timeout']);
  });

  it('dates syslog lines across Dec -> Jan and describes how', () => {
    const { result, byType } = parse(
      [
        'Dec 31 23:59:58 web1 sshd[1]: Accepted publickey for alice from 192.0.2.1 port 51234 ssh2',
        'Dec 31 23:59:59 web1 CRON[2]: pam_unix(cron:session): session closed for user root',
        'Jan  1 00:00:01 web1 sshd[3]: Timeout, client not responding from user alice 192.0.2.1 port 51234',
        'Jan  1 00:10:00 web1 sshd[4]: Accepted publickey for bob from 192.0.2.2 port 51235 ssh2',
      ].join('\n'),
      new Date('2027-01-02T00:00:00Z'),
    );
    expect(byType.get('server-accepted')).toMatchObject({ count: 2, firstAt: '2026-12-31T23:59:58', lastAt: '2027-01-01T00:10:00' });
    expect(byType.get('server-clientalive-timeout')!.firstAt).toBe('2027-01-01T00:00:01');
    expect(result.dating).toContain('from 2026 to 2027');
    expect(result.dating).toContain('reference date (2027-01-02)');
  });

  it('takes the year before for lines later than the reference', () => {
    const { byType } = parse('Dec 30 10:00:00 web1 sshd[1]: Received signal 15; terminating.', new Date('2027-01-02T00:00:00Z'));
    expect(byType.get('server-received-signal')!.firstAt).toBe('2026-12-30T10:00:00');
  });

  it('tells mixed and empty inputs', () => {
    expect(parse('').result.format).toBe('empty');
    expect(parse('\n \n\t').result).toMatchObject({ format: 'empty', lines: 3, recognised: 0, unparsed: 0 });
    expect(parse(`${SYSLOG}Received signal 15; terminating.\nServer listening on 0.0.0.0 port 22.`).result.format).toBe('mixed');
    expect(parse('hello\nworld').result).toMatchObject({ format: 'empty', unparsed: 2 });
    expect(parse('session_by_pid: unknown pid 28002\nsyslogin_perform_logout: logout() returned an error').result).toMatchObject({
      format: 'sshd-E',
      recognised: 2,
    });
  });
});

describe('ServerLogParser: aggregation and ordering', () => {
  it('counts repeats, keeps first and last lines and the last event', () => {
    const lines = [
      'Nov 24 10:00:00 web1 sshd[10]: Invalid user admin from 203.0.113.5 port 40000',
      'Nov 24 10:00:01 web1 sshd[10]: Failed password for invalid user admin from 203.0.113.5 port 40000 ssh2',
      'Nov 24 10:00:02 web1 sshd[11]: Invalid user oracle from 203.0.113.6 port 40001',
      'Nov 24 10:00:03 web1 sshd[12]: Timeout, client not responding from user alice 192.0.2.1 port 51234',
      'Nov 24 10:00:04 web1 sshd[13]: Invalid user test from 203.0.113.7 port 40002',
    ];
    const { byType, last, events } = parse(lines.join('\n'));
    const failed = byType.get('server-auth-failed')!;
    expect(failed).toMatchObject({
      count: 4,
      firstAt: '2026-11-24T10:00:00',
      lastAt: '2026-11-24T10:00:04',
      sample: { line: 1, text: lines[0] },
      last: { line: 5, text: lines[4], at: '2026-11-24T10:00:04' },
      fields: { user: 'admin', addr: '203.0.113.5', port: 40000, pid: 10 },
    });
    expect(byType.get('server-clientalive-timeout')!.count).toBe(1);
    expect(events).toHaveLength(2);
    expect(last).toEqual({ server: 'server-auth-failed' });
  });

  it('leaves the collector as one add() per event would', () => {
    const lines = [
      'Nov 24 10:00:03 web1 sshd[1]: Received signal 15; terminating.',
      'Nov 24 10:00:01 web1 sshd[2]: Received signal 15; terminating.',
      'Nov 24 10:00:05 web1 sshd[3]: Server listening on 0.0.0.0 port 22.',
      'Nov 24 10:00:02 web1 sshd[4]: Received signal 15; terminating.',
      'Received signal 15; terminating.',
    ];
    const { events, last } = parse(lines.join('\n'));
    const direct = new EventCollector();
    const at = ['2026-11-24T10:00:03', '2026-11-24T10:00:01', '2026-11-24T10:00:05', '2026-11-24T10:00:02', undefined];
    lines.forEach((text, i) => {
      const type: EventType = text.includes('listening') ? 'server-listening' : 'server-received-signal';
      const fields: Record<string, FieldValue> = type === 'server-listening' ? { addr: '0.0.0.0', port: 22 } : { signal: 15, how: 'signal' };
      if (i < 4) Object.assign(fields, { pid: i + 1, prefix: 'sshd' });
      direct.add({ type, side: 'server', text, source: 'auth.log', line: i + 1, fields, ...(at[i] ? { at: at[i] } : {}) });
    });
    const byName = (a: EventSummary, b: EventSummary) => a.type.localeCompare(b.type);
    expect([...events].sort(byName)).toEqual(direct.summaries().sort(byName));
    expect(last).toEqual(direct.lastEvent());
  });

  it('hands later lines over on a later result()', () => {
    const collector = new EventCollector();
    const parser = new ServerLogParser('auth.log', collector, { reference: REF });
    parser.line(`${SYSLOG}Received signal 15; terminating.`, 1);
    expect(parser.result().recognised).toBe(1);
    parser.line(`${SYSLOG}Received signal 15; terminating.`, 2);
    expect(parser.result().recognised).toBe(2);
    expect(parser.result().recognised).toBe(2);
    expect(collector.summaries()[0]!.count).toBe(2);
  });

  it('reads a banner failure follow-up (8.3+) as a preauth close, not a session end', () => {
    const { byType, types } = parse(
      [
        'Nov 24 10:07:01 web1 sshd[2000]: error: kex_exchange_identification: Connection closed by remote host',
        'Nov 24 10:07:01 web1 sshd[2001]: Accepted publickey for alice from 192.0.2.1 port 51234 ssh2',
        'Nov 24 10:07:01 web1 sshd[2000]: Connection closed by 203.0.113.5 port 40000',
        'Nov 24 10:09:01 web1 sshd[2002]: Connection closed by 192.0.2.1 port 51234',
      ].join('\n'),
    );
    expect(types).toContain('server-closed-preauth');
    expect(byType.get('server-closed-preauth')!.fields).toMatchObject({ how: 'banner', addr: '203.0.113.5' });
    expect(byType.get('server-closed-by-client')).toMatchObject({ count: 1, fields: { addr: '192.0.2.1' } });
  });
});

describe('ServerLogParser: junk', () => {
  it('counts binary garbage, NULs and huge lines as unparsed without throwing', () => {
    const junk = [
      '\u0000\u0000\u0000\u0000',
      'PK\u0003\u0004\u0014\u0000\u0008\u0000',
      '\ufffd\ufffd\ufffdELF\ufffd',
      'A'.repeat(MAX_LINE),
      'x'.repeat(5000) + ' sshd[1]: Received signal 15; terminating.',
      `${SYSLOG}Received signal 15; terminating.`,
    ];
    const { result, types } = parse(junk.join('\n'));
    expect(result).toMatchObject({ lines: 6, recognised: 1, unparsed: 5, format: 'syslog' });
    expect(types).toEqual(['server-received-signal']);
  });

  it('survives random bytes through streamLines', async () => {
    let seed = 42;
    const bytes = Buffer.alloc(1 << 20);
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      bytes[i] = seed >> 16;
    }
    const collector = new EventCollector();
    const parser = new ServerLogParser('random.bin', collector, { reference: REF });
    const n = await streamLines(Readable.from([bytes]), parser);
    const r = parser.result();
    expect(r.lines).toBe(n);
    expect(r.unparsed).toBeGreaterThan(0);
    expect(r.recognised).toBe(0);
  });

  it('does not throw on truncated or odd lines', () => {
    const odd = [
      'Nov 24 10:07:01',
      'Nov 24 10:07:01 ',
      'Nov 24 10:07:01 web1',
      'Nov 24 10:07:01 web1 sshd[',
      'Nov 24 10:07:01 web1 sshd[1]:',
      'Nov 24 10:07:01 web1 sshd[1]: ',
      'Nov 24 10:07:01 web1 -- MARK --',
      'Xyz 24 10:07:01 web1 sshd[1]: Received signal 15; terminating.',
      '2026-11-24T10:07:01',
      '2026-11-24T10:07:01.000000+00:00 web1 sshd[1]: Accepted',
      '-- ',
      'sshd[1]: Received signal 15; terminating.',
    ];
    expect(() => parse(odd.join('\n'))).not.toThrow();
    const { byType } = parse(odd.join('\n'));
    expect(byType.get('server-received-signal')!.count).toBe(1);
  });
});

describe('ServerLogParser: fail2ban through syslog', () => {
  it('reads the padded logger name fail2ban writes', () => {
    const collector = new EventCollector();
    const parser = new ServerLogParser('auth.log', collector, { reference: new Date('2026-11-24T12:00:00Z') });
    parser.line('Nov 20 10:00:00 gw fail2ban.actions        [901]: NOTICE  [sshd] Ban 203.0.113.9', 1);
    parser.result();
    expect(collector.summaries().map((e) => [e.type, e.fields['addr']])).toEqual([['server-ban', '203.0.113.9']]);
  });
});
