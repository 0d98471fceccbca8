// Fuzzing the log readers: line splitting (streamLines/textLines), client transcripts
// (ClientLogParser) and server logs (ServerLogParser). Whatever the bytes: no throw, every line
// counted (recognised + not understood <= lines), lines cut at MAX_LINE, the same result however
// the stream is chunked, and no line, however crafted, costs more than a few milliseconds.

import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventCollector } from '../../src/evidence/collector.js';
import { ClientLogParser, LONG_LINE } from '../../src/parsers/client-log.js';
import { MAX_LINE, streamLines, textLines } from '../../src/parsers/lines.js';
import { ServerLogParser } from '../../src/parsers/server-log.js';
import { check, chunked, counted, countLines, fixtureLines, fixtures, reportCounts, textBytes, timed } from './gen.js';

reportCounts('logs');

const CLIENT = fixtures('client.log');
const CLIENT_LINES = fixtureLines('client.log');
const SERVER = fixtures('server.log');
const SERVER_LINES = [
  ...fixtureLines('server.log'),
  'Nov 24 10:07:01 web1 sshd[4242]: Accepted publickey for alice from 198.51.100.7 port 51234 ssh2: ED25519 SHA256:AbCdEf',
  'Nov 24 10:07:01 web1 sshd[4242]: Timeout, client not responding from user alice 198.51.100.7 port 51234',
  '2026-11-24T10:07:01.123456+00:00 web1 sshd[4242]: Received disconnect from 198.51.100.7 port 51234:11: disconnected by user',
  'Tue 2026-11-24 10:07:01 UTC web1 sshd[4242]: Connection closed by authenticating user root 203.0.113.9 port 4711 [preauth]',
  '-- Boot 0123456789abcdef --',
  '2026-11-24 10:07:01,123 fail2ban.actions [1]: NOTICE [sshd] Ban 203.0.113.9',
  'Nov 24 10:07:01 web1 kernel: Out of memory: Killed process 4242 (sshd) total-vm:1234kB',
  'Nov 24 10:07:01 web1 systemd[1]: Stopping OpenBSD Secure Shell server...',
  'Nov 24 10:07:01 web1 systemd-logind[77]: Session 5 of user alice is idle, stopping.',
  'drop connection #10 from [203.0.113.9]:4711 on [10.0.0.1]:22 past MaxStartups',
  'srclimit_penalise: ipv4: new 203.0.113.9/32 deferred penalty of 10 seconds for penalty: failed authentication',
  'Nov 24 10:07:01 web1 sshguard[9]: Blocking "203.0.113.9/32" for 120 secs (3 attacks in 5 secs)',
];

describe('line splitting', () => {
  it('streamLines gives the same lines however the bytes are chunked, each cut at MAX_LINE, none holding a newline', async () => {
    await check(
      fc.asyncProperty(textBytes([...CLIENT, ...SERVER], [...CLIENT_LINES, ...SERVER_LINES]), fc.array(fc.nat(), { maxLength: 12 }), async (bytes, cuts) => {
        counted('streamLines (chunked streams)');
        const whole: string[] = [];
        textLines(bytes.toString('utf8'), { line: (l) => whole.push(l) });
        const streamed: string[] = [];
        const n = await streamLines(Readable.from(chunked(bytes, cuts), { objectMode: true }), { line: (l) => streamed.push(l) });
        expect(n).toBe(streamed.length);
        expect(streamed).toEqual(whole);
        expect(whole.length).toBe(countLines(bytes.toString('utf8')));
        for (const l of streamed) {
          expect(l.length).toBeLessThanOrEqual(MAX_LINE);
          expect(l.includes('\n')).toBe(false);
        }
      }),
      1000,
    );
  });
});

function parseClient(bytes: Buffer) {
  const collector = new EventCollector();
  const parser = new ClientLogParser('fuzz', collector);
  const text = bytes.toString('utf8');
  textLines(text, parser);
  return { result: parser.result(), events: collector.summaries(), text };
}

function parseServer(bytes: Buffer) {
  const collector = new EventCollector();
  const parser = new ServerLogParser('fuzz', collector, { reference: new Date('2026-11-25T00:00:00Z') });
  const text = bytes.toString('utf8');
  textLines(text, parser);
  return { result: parser.result(), events: collector.summaries(), text };
}

describe('client transcripts (ssh -v)', () => {
  it('never throws, counts every line, and keeps event texts bounded', () => {
    let withEvents = 0;
    let total = 0;
    check(
      fc.property(textBytes(CLIENT, CLIENT_LINES), (bytes) => {
        counted('client transcript');
        const { value, ms } = timed(() => parseClient(bytes));
        const { result, events, text } = value;
        total++;
        if (events.length > 0) withEvents++;
        expect(result.lines).toBe(countLines(text));
        expect(result.recognised + result.unparsed).toBeLessThanOrEqual(result.lines);
        for (const e of events) {
          expect(e.count).toBeGreaterThan(0);
          for (const t of [e.sample.text, e.last.text]) {
            expect(t.length).toBeLessThanOrEqual(LONG_LINE);
            expect(t).not.toMatch(/[\0\n]/);
          }
        }
        expect(ms).toBeLessThan(2000);
      }),
      3000,
    );
    // the inputs reach the parser's paths, not only its junk filter
    expect(withEvents / total).toBeGreaterThan(0.3);
  });

  it('a crafted line costs no more than a few milliseconds (no regex backtracking blow-up)', () => {
    const prefixes = [
      '', 'debug1: ', 'debug3: ', 'alice@web1:~$ ', '[10:07:01] ', '2026-11-24T10:07:01.123Z ', 'Connection to ', 'Read from remote host ',
      'client_loop: send disconnect: ', 'Received disconnect from ', 'Authenticated to ', 'Connecting to ', 'Authenticating to ', 'channel 0: ',
      'ssh: connect to host ', 'ssh: Could not resolve hostname ', 'kex_exchange_identification: ', 'Connection closed by ', 'Connection reset by ',
      'Remote protocol version 2.0, remote software version ', 'Permission denied ', 'Timeout, server ', 'packet_write_wait: Connection to ',
      'set_sock_tos: set socket 3 IP_TOS ', 'client_input_channel_req: channel 0 rtype ',
    ];
    const fragments = [' ', 'a', 'port ', '1', ':', '@', '[', ']', '(', ')', '"', "'", 'via proxy', 'using ', 'closed', 'by ', '$ ', '# ', '> ', 'host ', '.', '-', '\t', 'auto-logout', 'zsh: timeout'];
    check(
      fc.property(fc.constantFrom(...prefixes), fc.array(fc.constantFrom(...fragments), { minLength: 200, maxLength: 2500 }), (prefix, parts) => {
        counted('client transcript (crafted long lines)');
        const line = (prefix + parts.join('')).slice(0, LONG_LINE);
        const parser = new ClientLogParser('fuzz', new EventCollector());
        const { ms } = timed(() => parser.line(line, 1));
        expect(ms).toBeLessThan(50);
      }),
      400,
    );
  });
});

describe('server logs (auth.log, journalctl, sshd -E)', () => {
  it('never throws, counts every line, names a format, and keeps event texts bounded', () => {
    let withEvents = 0;
    let total = 0;
    check(
      fc.property(textBytes(SERVER, SERVER_LINES), (bytes) => {
        counted('server log');
        const { value, ms } = timed(() => parseServer(bytes));
        const { result, events, text } = value;
        total++;
        if (events.length > 0) withEvents++;
        expect(result.lines).toBe(countLines(text));
        expect(result.recognised + result.unparsed).toBeLessThanOrEqual(result.lines);
        expect(['syslog', 'iso', 'journal', 'sshd-E', 'mixed', 'empty']).toContain(result.format);
        for (const e of events) {
          expect(e.sample.text.length).toBeLessThanOrEqual(MAX_LINE);
          if (e.firstAt !== undefined && e.lastAt !== undefined) expect(e.firstAt <= e.lastAt).toBe(true);
        }
        expect(ms).toBeLessThan(2000);
      }),
      3000,
    );
    expect(withEvents / total).toBeGreaterThan(0.3);
  });

  it('a crafted line costs no more than a few milliseconds (no regex backtracking blow-up)', () => {
    const stamps = ['Nov 24 10:07:01 web1 sshd[4242]: ', '2026-11-24T10:07:01.123+00:00 web1 sshd[1]: ', 'Tue 2026-11-24 10:07:01 UTC web1 sshd-session[9]: ', '', 'auth.log.1:Nov 24 10:07:01 h sshd[2]: ', '2026-11-24 10:07:01,123 fail2ban.actions [1]: NOTICE '];
    const messages = [
      'Connection closed by ', 'Connection reset by ', 'Accepted publickey for ', 'Failed password for ', 'Received disconnect from ', 'Disconnecting ',
      'Disconnected from ', 'drop connection #', 'srclimit_penalise: ipv4: new ', 'Timeout before authentication for ', 'Timeout, client not responding from ',
      'Invalid user ', 'terminating inactive connection from ', 'pam_unix(sshd:session): session opened for user ', 'Read error from remote host ',
      'channel 3: closing after ', 'Connection from ', 'Blocking "', 'Attack from "', 'Out of memory: Killed process ', '[sshd] Ban ', 'Session "',
      'exited MaxStartups throttling after ', 'kex_exchange_identification: ', 'mm_request_send: write: ',
    ];
    const fragments = [' ', 'a', 'user ', 'port ', '22 ', '1', ':', '[preauth]', 'invalid user ', 'authenticating user ', 'from ', 'for ', '1.2.3.4 ', '"', '(', ')', '#', 'of user ', 'penalty of ', ' seconds', 'to ', ', pid = ', 'is idle, stopping', '/', '[', ']'];
    check(
      fc.property(fc.constantFrom(...stamps), fc.constantFrom(...messages), fc.array(fc.constantFrom(...fragments), { minLength: 500, maxLength: 6000 }), (stamp, msg, parts) => {
        counted('server log (crafted long lines)');
        const line = (stamp + msg + parts.join('')).slice(0, MAX_LINE);
        const parser = new ServerLogParser('fuzz', new EventCollector());
        const { ms } = timed(() => {
          parser.line(line, 1);
          parser.result();
        });
        expect(ms).toBeLessThan(100);
      }),
      400,
    );
  });
});
