import { describe, it, expect } from 'vitest';
import { EventCollector } from '../../src/evidence/collector.js';
import type { EventType, FieldValue, RawEvent } from '../../src/evidence/types.js';
import { MAX_LINE, textLines } from '../../src/parsers/lines.js';
import { ClientLogParser } from '../../src/parsers/client-log.js';

/** Records every RawEvent, and aggregates as the real collector does. */
class Recorder extends EventCollector {
  readonly raw: RawEvent[] = [];
  override add(ev: RawEvent): void {
    this.raw.push(ev);
    super.add(ev);
  }
}

function parse(text: string) {
  const collector = new Recorder();
  const parser = new ClientLogParser('ssh-v.txt', collector);
  textLines(text, parser);
  return { result: parser.result(), raw: collector.raw, types: collector.raw.map((e) => e.type), last: collector.lastEvent() };
}

type Case = [label: string, line: string, type: EventType, fields?: Record<string, FieldValue>];

// Real ssh client texts (MESSAGES.md), per version where they differ.
const CASES: Case[] = [
  ['version Debian', 'OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024', 'client-version', { version: 'OpenSSH_9.2p1' }],
  ['version 7.4', 'OpenSSH_7.4p1, OpenSSL 1.0.2k-fips  26 Jan 2017', 'client-version', { version: 'OpenSSH_7.4p1' }],
  ['version Windows', 'OpenSSH_for_Windows_9.5p1, LibreSSL 3.8.2', 'client-version', { version: 'OpenSSH_for_Windows_9.5p1' }],
  ['connecting', 'debug1: Connecting to web1.example.org [192.0.2.10] port 22.', 'client-connecting', { host: 'web1.example.org', addr: '192.0.2.10', port: 22 }],
  ['remote version', 'debug1: Remote protocol version 2.0, remote software version OpenSSH_8.9p1 Ubuntu-3ubuntu0.10', 'client-remote-version', { protocol: '2.0', software: 'OpenSSH_8.9p1 Ubuntu-3ubuntu0.10' }],
  ['authenticated 8.x+', 'Authenticated to web1.example.org ([192.0.2.10]:22) using "publickey".', 'client-authenticated', { host: 'web1.example.org', addr: '192.0.2.10', port: 22, method: 'publickey' }],
  ['authenticated 7.x', 'debug1: Authentication succeeded (publickey).', 'client-authenticated', { method: 'publickey' }],
  ['interactive', 'debug1: Entering interactive session.', 'client-interactive-session'],
  ['kex ecdh wait', 'debug1: expecting SSH2_MSG_KEX_ECDH_REPLY', 'client-kex-ecdh-wait', { message: 'SSH2_MSG_KEX_ECDH_REPLY' }],
  ['kex gex wait', 'debug1: expecting SSH2_MSG_KEX_DH_GEX_REPLY', 'client-kex-ecdh-wait', { message: 'SSH2_MSG_KEX_DH_GEX_REPLY' }],
  ['kexdh wait', 'debug1: expecting SSH2_MSG_KEXDH_REPLY', 'client-kex-ecdh-wait', { message: 'SSH2_MSG_KEXDH_REPLY' }],
  ['ServerAlive 5.7+', 'Timeout, server web1.example.org not responding.', 'client-serveralive-timeout', { host: 'web1.example.org' }],
  ['ServerAlive <=5.6', 'Timeout, server not responding.', 'client-serveralive-timeout'],
  ['keepalive (ssh2)', 'Error: Keepalive timeout', 'client-keepalive-timeout'],
  ['broken pipe 8.0+', 'client_loop: send disconnect: Broken pipe', 'client-broken-pipe', { error: 'Broken pipe' }],
  ['broken pipe 7.2-7.9', 'packet_write_wait: Connection to 192.0.2.10 port 22: Broken pipe', 'client-broken-pipe', { addr: '192.0.2.10', port: 22, error: 'Broken pipe' }],
  ['broken pipe 6.8-7.1', 'packet_write_wait: Connection to 192.0.2.10: Broken pipe', 'client-broken-pipe', { addr: '192.0.2.10' }],
  ['broken pipe <=6.7', 'Write failed: Broken pipe', 'client-broken-pipe', { error: 'Broken pipe' }],
  ['write poll 8.2+', 'client_loop: ssh_packet_write_poll: Connection to 192.0.2.10 port 22: Broken pipe', 'client-broken-pipe', { addr: '192.0.2.10', port: 22 }],
  ['send disconnect reset (Windows)', 'client_loop: send disconnect: Connection reset', 'client-connection-reset', { error: 'Connection reset' }],
  ['reset packet layer', 'Connection reset by 192.0.2.10 port 22', 'client-connection-reset', { addr: '192.0.2.10', port: 22 }],
  ['reset read', 'Read from remote host web1.example.org: Connection reset by peer', 'client-connection-reset', { host: 'web1.example.org', error: 'Connection reset by peer' }],
  ['timed out read', 'Read from remote host 192.0.2.10: Connection timed out', 'client-connection-timed-out', { addr: '192.0.2.10' }],
  ['timed out read macOS', 'Read from remote host web1.example.org: Operation timed out', 'client-connection-timed-out'],
  ['timed out blocking', 'Connection to 192.0.2.10 port 22 timed out', 'client-connection-timed-out', { addr: '192.0.2.10', port: 22 }],
  ['closed by remote', 'Connection to web1.example.org closed by remote host.', 'client-closed-by-remote', { host: 'web1.example.org' }],
  ['closed', 'Connection to web1.example.org closed.', 'client-closed', { host: 'web1.example.org' }],
  ['closed mux', 'Shared connection to web1.example.org closed.', 'client-closed', { host: 'web1.example.org', shared: 1 }],
  ['disconnect 7.2+', 'Received disconnect from 192.0.2.10 port 22:11: Session closed by administrator', 'client-received-disconnect', { addr: '192.0.2.10', port: 22, reason: 11, message: 'Session closed by administrator' }],
  ['disconnect <=7.1', 'Received disconnect from 192.0.2.10: 2: Packet corrupt', 'client-received-disconnect', { addr: '192.0.2.10', reason: 2, message: 'Packet corrupt' }],
  ['too many auth 7.2+', 'Received disconnect from 192.0.2.10 port 22:2: Too many authentication failures', 'client-too-many-auth-failures', { reason: 2, message: 'Too many authentication failures' }],
  ['too many auth old', 'Received disconnect from 192.0.2.10: 2: Too many authentication failures for alice', 'client-too-many-auth-failures', { reason: 2 }],
  ['kex closed 8.0+', 'kex_exchange_identification: Connection closed by remote host', 'client-kex-closed', { how: 'banner' }],
  ['kex closed <=7.9', 'ssh_exchange_identification: Connection closed by remote host', 'client-kex-closed'],
  ['kex reset', 'kex_exchange_identification: read: Connection reset by peer', 'client-kex-reset', { error: 'Connection reset by peer' }],
  ['kex reset <=7.9', 'ssh_exchange_identification: read: Connection reset by peer', 'client-kex-reset'],
  ['kex closed 9.5+ (only line)', 'Connection closed by 192.0.2.10 port 22', 'client-kex-closed', { addr: '192.0.2.10', port: 22, how: 'connection-closed' }],
  ['banner timeout', 'Connection timed out during banner exchange', 'client-banner-timeout'],
  ['refused', 'ssh: connect to host 192.0.2.10 port 22: Connection refused', 'client-connect-failed', { addr: '192.0.2.10', port: 22, error: 'Connection refused' }],
  ['no route', 'ssh: connect to host web1.example.org port 2222: No route to host', 'client-connect-failed', { host: 'web1.example.org', port: 2222, error: 'No route to host' }],
  ['connect timeout', 'ssh: connect to host 192.0.2.10 port 22: Connection timed out', 'client-connect-failed', { error: 'Connection timed out' }],
  ['dns', 'ssh: Could not resolve hostname nosuch.example.org: Name or service not known', 'client-dns-failed', { host: 'nosuch.example.org', error: 'Name or service not known' }],
  ['dns macOS', 'ssh: Could not resolve hostname nosuch.example.org: nodename nor servname provided, or not known', 'client-dns-failed'],
  ['corrupted MAC', 'Corrupted MAC on input.', 'client-packet-corrupt', { error: 'Corrupted MAC on input' }],
  ['bad length', 'Bad packet length 3721425655.', 'client-packet-corrupt', { length: 3721425655 }],
  ['MAC incorrect', 'ssh_dispatch_run_fatal: Connection to 192.0.2.10 port 22: message authentication code incorrect', 'client-packet-corrupt', { addr: '192.0.2.10', error: 'message authentication code incorrect' }],
  ['host key changed', '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @', 'client-host-key-changed'],
  ['host key failed', 'Host key verification failed.', 'client-host-key-failed'],
  ['permission denied', 'alice@192.0.2.10: Permission denied (publickey,password).', 'client-permission-denied', { user: 'alice', host: '192.0.2.10', methods: 'publickey,password' }],
  ['permission denied old', 'Permission denied (publickey).', 'client-permission-denied', { methods: 'publickey' }],
  ['killed', 'Killed by signal 1.', 'client-killed-by-signal', { signal: 1 }],
  ['bash TMOUT', '\x07timed out waiting for input: auto-logout', 'client-shell-timeout', { shell: 'bash' }],
  ['bash TMOUT after prompt', 'alice@web1:~$ \x07timed out waiting for input: auto-logout', 'client-shell-timeout', { shell: 'bash' }],
  ['bash TMOUT coloured prompt', '\x1b]0;alice@web1: ~\x07\x1b[01;32malice@web1\x1b[00m:\x1b[01;34m~\x1b[00m$ \x07timed out waiting for input: auto-logout', 'client-shell-timeout', { shell: 'bash' }],
  ['tcsh autologout', 'auto-logout', 'client-shell-timeout', { shell: 'tcsh' }],
  ['tcsh autologout after prompt', '[alice@web1 ~]$ auto-logout', 'client-shell-timeout', { shell: 'tcsh' }],
  ['zsh TMOUT', 'zsh: timeout', 'client-shell-timeout', { shell: 'zsh' }],
  ['case-insensitive', 'CLIENT_LOOP: SEND DISCONNECT: BROKEN PIPE', 'client-broken-pipe'],
];

describe('ClientLogParser: messages', () => {
  it.each(CASES)('%s', (_label, line, type, fields) => {
    const { result, raw } = parse(line);
    expect(result).toMatchObject({ lines: 1, recognised: 1, unparsed: 0 });
    expect(raw.map((e) => e.type)).toEqual([type]);
    expect(raw[0]).toMatchObject({ side: 'client', source: 'ssh-v.txt', line: 1 });
    expect(raw[0]!.at).toBeUndefined();
    expect(raw[0]!.fields).toMatchObject(fields ?? {});
  });

  it('takes a leading ISO timestamp as the time of the event', () => {
    const { raw } = parse(
      [
        '2026-11-24T10:07:01.123Z debug1: Connecting to web1.example.org [192.0.2.10] port 22.',
        '[2026-11-24 10:09:01,5+0100] client_loop: send disconnect: Broken pipe',
      ].join('\n'),
    );
    expect(raw.map((e) => e.at)).toEqual(['2026-11-24T10:07:01.123Z', '2026-11-24T10:09:01.5+01:00']);
    expect(raw[1]!.type).toBe('client-broken-pipe');
  });

  it('keeps time-only prefixes as fields.time', () => {
    const { raw } = parse(['[10:07:01] client_loop: send disconnect: Broken pipe', 'Nov 24 10:07:01 Timeout, server web1 not responding.'].join('\n'));
    expect(raw.map((e) => [e.type, e.at, e.fields?.time])).toEqual([
      ['client-broken-pipe', undefined, '10:07:01'],
      ['client-serveralive-timeout', undefined, 'Nov 24 10:07:01'],
    ]);
  });

  it('reads ssh messages that follow a shell prompt on the same line', () => {
    const { result, types } = parse(
      [
        'alice@web1:~$ Timeout, server web1.example.org not responding.',
        'sshdoctor-lab@vm:~$ debug3: send packet: type 1',
        'root@web1:~# client_loop: send disconnect: Broken pipe',
        '$ echo 1 > /tmp/x',
      ].join('\n'),
    );
    expect(types).toEqual(['client-serveralive-timeout', 'client-broken-pipe']);
    expect(result).toMatchObject({ lines: 4, recognised: 3 });
  });

  it('reads the text a terminal shows after a carriage return', () => {
    const { types } = parse('alice@web1:~$ exit\rConnection to web1.example.org closed.\r');
    expect(types).toEqual(['client-closed']);
  });
});

describe('ClientLogParser: transcripts', () => {
  const transcript = [
    'OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024',
    'debug1: Reading configuration data /home/alice/.ssh/config',
    'debug1: /home/alice/.ssh/config line 1: Applying options for web1',
    'debug1: Reading configuration data /etc/ssh/ssh_config',
    'debug2: resolve_canonicalize: hostname 192.0.2.10 is address',
    'debug1: Connecting to web1.example.org [192.0.2.10] port 22.',
    'debug1: Connection established.',
    'debug1: identity file /home/alice/.ssh/id_ed25519 type 3',
    'debug1: Local version string SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3',
    'debug1: Remote protocol version 2.0, remote software version OpenSSH_8.9p1 Ubuntu-3ubuntu0.10',
    'debug1: compat_banner: match: OpenSSH_8.9p1 Ubuntu-3ubuntu0.10 pat OpenSSH* compat 0x04000000',
    'debug1: Authenticating to web1.example.org:22 as \'alice\'',
    'debug3: send packet: type 20',
    'debug1: SSH2_MSG_KEXINIT sent',
    'debug1: SSH2_MSG_KEXINIT received',
    'debug1: kex: algorithm: sntrup761x25519-sha512@openssh.com',
    'debug1: expecting SSH2_MSG_KEX_ECDH_REPLY',
    'debug1: SSH2_MSG_KEX_ECDH_REPLY received',
    'debug1: Server host key: ssh-ed25519 SHA256:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy',
    "debug1: Host 'web1.example.org' is known and matches the ED25519 host key.",
    'debug1: SSH2_MSG_NEWKEYS received',
    'debug1: Authentications that can continue: publickey,password',
    'debug1: Offering public key: /home/alice/.ssh/id_ed25519 ED25519 SHA256:YmF6cXV4 explicit agent',
    'debug1: Server accepts key: /home/alice/.ssh/id_ed25519 ED25519 SHA256:YmF6cXV4 explicit agent',
    'Authenticated to web1.example.org ([192.0.2.10]:22) using "publickey".',
    'debug1: channel 0: new session [client-session] (inactive timeout: 0)',
    'debug1: Requesting no-more-sessions@openssh.com',
    'debug1: Entering interactive session.',
    'debug1: pledge: filesystem',
    'debug1: Sending environment.',
    'Welcome to Ubuntu 22.04.4 LTS (GNU/Linux 5.15.0-105-generic x86_64)',
    '',
    'Last login: Mon Nov 23 09:12:44 2026 from 192.0.2.55',
    'alice@web1:~$ ',
    'client_loop: send disconnect: Broken pipe',
  ];

  it('reads a -vvv transcript with shell output', () => {
    const { result, types, raw, last } = parse(transcript.join('\n'));
    expect(types).toEqual([
      'client-version',
      'client-connecting',
      'client-remote-version',
      'client-kex-ecdh-wait',
      'client-authenticated',
      'client-interactive-session',
      'client-broken-pipe',
    ]);
    expect(result).toEqual({
      lines: transcript.length,
      recognised: transcript.length - 4, // three shell lines and one blank line
      unparsed: 0,
      openssh: 'OpenSSH_9.2p1',
      host: 'web1.example.org',
      addr: '192.0.2.10',
      port: 22,
      serverSoftware: 'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10',
      authenticated: true,
    });
    expect(raw.find((e) => e.type === 'client-authenticated')!.fields).toMatchObject({ user: 'alice', method: 'publickey' });
    expect(raw.at(-1)!.fields).toMatchObject({ host: 'web1.example.org', addr: '192.0.2.10', port: 22, error: 'Broken pipe' });
    expect(last).toEqual({ client: 'client-broken-pipe' });
  });

  it('leaves the kex wait as the last event when the handshake hangs', () => {
    const { last } = parse(transcript.slice(0, 17).join('\n'));
    expect(last).toEqual({ client: 'client-kex-ecdh-wait' });
  });

  it('falls back to the local version string and the compat banner', () => {
    const { result, types } = parse(
      ['debug1: Local version string SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3', 'debug1: match: OpenSSH_7.4 pat OpenSSH_7.4* compat 0x04000000'].join('\n'),
    );
    expect(types).toEqual(['client-version']);
    expect(result).toMatchObject({ openssh: 'OpenSSH_8.4p1', serverSoftware: 'SSH-2.0-OpenSSH_7.4' });
  });

  it('emits one event for a banner failure and its 8.3+ follow-up line', () => {
    const reset = parse(['kex_exchange_identification: read: Connection reset by peer', 'Connection reset by 192.0.2.10 port 22'].join('\n'));
    expect(reset.types).toEqual(['client-kex-reset']);
    expect(reset.result.recognised).toBe(2);
    const closed = parse(['kex_exchange_identification: Connection closed by remote host', 'Connection closed by 192.0.2.10 port 22'].join('\n'));
    expect(closed.types).toEqual(['client-kex-closed']);
    const banner = parse(['Connection timed out during banner exchange', 'Connection to 192.0.2.10 port 22 timed out'].join('\n'));
    expect(banner.types).toEqual(['client-banner-timeout']);
  });

  it('reads "Connection closed by" after the banner as a close by the remote', () => {
    const { types } = parse(
      ['debug1: Remote protocol version 2.0, remote software version OpenSSH_9.6p1', 'Connection closed by 192.0.2.10 port 22'].join('\n'),
    );
    expect(types).toEqual(['client-remote-version', 'client-closed-by-remote']);
  });

  it('fills the permission-denied user and host from the transcript', () => {
    const { raw } = parse(
      [
        'debug1: Connecting to web1.example.org [192.0.2.10] port 22.',
        "debug1: Authenticating to web1.example.org:22 as 'alice'",
        'Permission denied (publickey).',
      ].join('\n'),
    );
    expect(raw.at(-1)).toMatchObject({ type: 'client-permission-denied', fields: { user: 'alice', host: 'web1.example.org' } });
  });
});

describe('ClientLogParser: channel closes', () => {
  const session = 'debug1: channel 0: new session [client-session] (inactive timeout: 0)';

  it('reports a session channel the server closed without an exit status (-vv)', () => {
    const { raw } = parse(
      [session, 'debug1: Entering interactive session.', 'debug2: channel 0: rcvd eof', 'debug2: channel 0: rcvd close', 'debug1: channel 0: free: client-session, nchannels 1', 'Connection to web1.example.org closed.'].join('\n'),
    );
    expect(raw.map((e) => e.type)).toEqual(['client-interactive-session', 'client-channel-closed', 'client-closed']);
    expect(raw[1]!.fields).toMatchObject({ channel: 0, how: 'rcvd-close' });
  });

  it('reports it from the free line with -v only', () => {
    const { types } = parse(['debug1: channel 0: new [client-session]', 'debug1: channel 0: free: client-session, nchannels 1'].join('\n'));
    expect(types).toEqual(['client-channel-closed']);
  });

  it('stays quiet after an exit status or exit signal (a normal logout, also after TMOUT)', () => {
    for (const rtype of ['exit-status', 'exit-signal']) {
      const { types } = parse(
        [
          session,
          '\x07timed out waiting for input: auto-logout',
          'logout',
          `debug1: client_input_channel_req: channel 0 rtype ${rtype} reply 0`,
          'debug1: client_input_channel_req: channel 0 rtype eow@openssh.com reply 0',
          'debug2: channel 0: rcvd eow',
          'debug2: channel 0: rcvd close',
          'debug1: channel 0: free: client-session, nchannels 1',
          'Connection to web1.example.org closed.',
        ].join('\n'),
      );
      expect(types).toEqual(['client-shell-timeout', 'client-closed']);
    }
  });

  it('ignores forwarding channels and teardown after the connection failed', () => {
    const fwd = parse(['debug1: channel 2: new [direct-tcpip]', 'debug2: channel 2: rcvd close', 'debug1: channel 2: free: direct-tcpip: listening port 8080 for localhost port 80, connect from 127.0.0.1 port 51234 to 127.0.0.1 port 8080, nchannels 3'].join('\n'));
    expect(fwd.types).toEqual([]);
    const dead = parse([session, 'Connection to web1.example.org closed by remote host.', 'debug1: channel 0: free: client-session, nchannels 1'].join('\n'));
    expect(dead.types).toEqual(['client-closed-by-remote']);
  });
});

describe('ClientLogParser: counting and junk', () => {
  it('counts debug lines as recognised, shell output as neither, junk as unparsed', () => {
    const lines = [
      'debug1: Reading configuration data /etc/ssh/ssh_config', // recognised, no event
      'debug3: receive packet: type 94', // recognised
      'Warning: Permanently added \'192.0.2.10\' (ED25519) to the list of known hosts.', // recognised
      'total 0', // shell output
      'drwxr-xr-x 2 alice alice 4096 Nov 24 10:07 .', // shell output
      '', // blank
      '\u0000\u0000binary\u0000', // junk
      '\ufffd\ufffdPNG\ufffd', // undecodable bytes
      'A'.repeat(MAX_LINE), // huge
      'x\u0001y', // control byte
      'Connection closed by foreign host.', // telnet, in the session
      'Timeout, server web1.example.org not responding.', // event
    ];
    const { result, types } = parse(lines.join('\n'));
    expect(result).toMatchObject({ lines: 12, recognised: 4, unparsed: 4 });
    expect(types).toEqual(['client-serveralive-timeout']);
  });

  it('does not throw on odd input', () => {
    const odd = ['\x1b', '\x1b[', '\r', '\r\r\r', '[', '[10:07:01]', '2026-11-24T10:07:01Z', 'debug1:', 'debug1: ', 'Received disconnect from', 'channel x: rcvd close', '@'];
    expect(() => parse(odd.join('\n'))).not.toThrow();
  });
});

describe('ClientLogParser: path facts from -vvv', () => {
  it('records the TOS mark the client set, and whether it got in', () => {
    const { result, raw } = parse(
      [
        'debug1: Connecting to 192.0.2.10 [192.0.2.10] port 22.',
        'debug3: set_sock_tos: set socket 3 IP_TOS 0x48',
        'debug1: connect to address 192.0.2.10 port 22: Connection timed out',
        'ssh: connect to host 192.0.2.10 port 22: Connection timed out',
      ].join('\n'),
    );
    expect(result).toMatchObject({ tos: '0x48', authenticated: false });
    expect(raw.find((e) => e.type === 'client-tos-set')!.fields).toMatchObject({ tos: '0x48', option: 'IP_TOS' });
  });

  it('counts keepalives answered after authentication, not key-exchange traffic', () => {
    const { types } = parse(
      [
        'debug3: send packet: type 80', // before auth: not a keepalive
        'debug3: receive packet: type 82',
        'debug1: Authenticated to web1 ([192.0.2.10]:22) using "publickey".',
        'debug3: send packet: type 80',
        'debug3: receive packet: type 82',
        'debug3: send packet: type 80',
        'Timeout, server web1 not responding.',
      ].join('\n'),
    );
    expect(types.filter((t) => t === 'client-keepalive-answered')).toHaveLength(1);
    expect(types.at(-1)).toBe('client-serveralive-timeout');
  });

  it.each([
    'client_loop: send disconnect: Software caused connection abort',
    'Read from remote host web1: Software caused connection abort',
    'client_loop: send disconnect: Network is unreachable',
    'Read from remote host 192.0.2.10: No route to host',
  ])('the local network went away: %s', (line) => {
    const { raw } = parse(line);
    expect(raw.map((e) => e.type)).toEqual(['client-network-lost']);
    expect(String(raw[0]!.fields?.error)).toMatch(/abort|unreachable|route/i);
  });
});
