// Fuzzing the smaller readers of untrusted text: known_hosts files, key files (the public half
// and the openssh-key-v1 header, read without any passphrase), targets and ProxyJump hops as
// typed, the output of the read-only commands on a target (which the target controls), and the
// secret scrubber and redactor that every report string passes through (linear time on crafted
// text: they run on every log line kept).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { Redactor } from '../../src/evidence/redact.js';
import { printable, scrubSecrets } from '../../src/evidence/secrets.js';
import { opensshKeyHeader, parsePublicKeyLine } from '../../src/probes/auth.js';
import { hostsFieldMatches, lookupHostKeys, parseKnownHosts } from '../../src/probes/known-hosts.js';
import { parseJumpHop } from '../../src/probes/proxy.js';
import { parseKernelProbe, parseLogindProbe, parseShellProbe, sshdConfigPath } from '../../src/probes/server/read.js';
import { parseDestination } from '../../src/probes/target.js';
import { check, counted, mutationArb, mutate, reportCounts, textBytes, timed } from './gen.js';

reportCounts('inputs');

const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const RSA_HEAD = 'AAAAB3NzaC1yc2EAAAADAQABAAABAQC';
const KNOWN_LINES = [
  `example.com ssh-ed25519 ${ED}`,
  `[example.com]:2222,10.0.0.1 ssh-ed25519 ${ED} comment`,
  `@revoked * ssh-ed25519 ${ED}`,
  `@cert-authority *.example.com ssh-ed25519 ${ED}`,
  `|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-ed25519 ${ED}`,
  `!bad.example.com,*.example.com ssh-ed25519 ${ED}`,
  `host ssh-rsa ${RSA_HEAD}`,
  '# comment',
  '@unknown-marker host ssh-ed25519 AAAA',
  'host ssh-ed25519 not-base64!!',
  '',
];

describe('known_hosts', () => {
  it('any file parses without throwing; entries carry a real key type; lookups stay fast', () => {
    check(
      fc.property(textBytes([KNOWN_LINES.join('\n')], KNOWN_LINES), fc.constantFrom('example.com', '10.0.0.1', 'x.example.com', 'a'.repeat(300)), fc.integer({ min: 1, max: 65535 }), (bytes, host, port) => {
        counted('known_hosts');
        const text = bytes.toString('utf8');
        const { ms } = timed(() => {
          for (const e of parseKnownHosts(text, 'kh')) {
            expect(e.type).toMatch(/^[\x21-\x7e]+$/);
            expect(e.line).toBeGreaterThan(0);
          }
          const r = lookupHostKeys(['kh'], host, port, { readFile: () => text });
          expect(r.filesRead).toEqual(['kh']);
        });
        expect(ms).toBeLessThan(1000);
      }),
      800,
    );
  });

  it('host pattern fields never stall on crafted patterns or names', () => {
    check(
      fc.property(fc.string({ maxLength: 400, unit: fc.constantFrom('*', '?', 'a', ',', '!', '|', '.') }), fc.string({ maxLength: 400, unit: fc.constantFrom('a', '.', 'b') }), (field, name) => {
        counted('known_hosts host patterns');
        const { ms } = timed(() => hostsFieldMatches(field, name));
        expect(ms).toBeLessThan(100);
      }),
      800,
    );
  });
});

describe('key files (read without a passphrase)', () => {
  const PRIVATE = [
    '-----BEGIN OPENSSH PRIVATE KEY-----',
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
    'QyNTUxOQAAACDjKqp5Fc65tEnRulDqKii7Gm4B+QvaJFotHYdpfRiiZQAAAJgAAAAAAAAA',
    '-----END OPENSSH PRIVATE KEY-----',
  ].join('\n');
  it('public key lines and openssh-key-v1 headers: no throw on any bytes', () => {
    check(
      fc.property(textBytes([PRIVATE, `ssh-ed25519 ${ED} me@host`], [...PRIVATE.split('\n'), `ssh-ed25519 ${ED}`, `ssh-rsa ${RSA_HEAD}`]), (bytes) => {
        counted('key files');
        const text = bytes.toString('utf8');
        const blob = parsePublicKeyLine(text);
        if (blob !== null) expect(blob.length).toBeGreaterThan(4);
        const header = opensshKeyHeader(text);
        if (header !== null) expect(typeof header.cipher).toBe('string');
      }),
      800,
    );
  });
});

describe('targets and jump hops as typed', () => {
  const typed = fc.oneof(
    fc.string({ maxLength: 60, unit: 'binary' }),
    fc.string({ maxLength: 40, unit: fc.constantFrom('a', 'b', '@', ':', '[', ']', '1', '2', '/', '-', ' ', '%', ';', 's', 'h', '.') }),
    fc.constantFrom('ssh://user@host:22/', 'user@[::1]:2222', '-oProxyCommand=touch x', 'host:', 'a@b@c:65536', '[::1', 'user@', ''),
  );
  it('parseDestination returns a host that is never an option and never holds white space, or a usage error', () => {
    check(
      fc.property(typed, (t) => {
        counted('targets (user@host:port)');
        try {
          const d = parseDestination(t);
          expect(d.host.startsWith('-')).toBe(false);
          expect(d.host).not.toMatch(/[\s\0]/);
          if (d.port !== undefined) expect(d.port >= 1 && d.port <= 65535).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
        }
      }),
      1500,
    );
  });
  it('parseJumpHop never throws', () => {
    check(
      fc.property(typed, (t) => {
        counted('jump hops');
        const hop = parseJumpHop(t);
        expect(typeof hop.host).toBe('string');
      }),
      800,
    );
  });
});

describe("the target's own output (read-only commands)", () => {
  const SHELL = ['__shell=/bin/bash', '__tmout=300', '__tmout=', '__tmout=abc', '__tmout_readonly=yes', '__autologout=60', '__tmout_file=/etc/profile', '__tmout=99999999999999999999'];
  const LOGIND = ['systemd 252 (252.22-1~deb12u1)', 'StopIdleSessionSec=15min', 'IdleAction=lock', 'IdleActionSec=1h 30min', 'StopIdleSessionSec=infinity', 'IdleActionSec=5weeks'];
  const KERNEL = ['ipv4/tcp_keepalive_time=7200', 'ipv4/tcp_keepalive_intvl=75', 'ipv4/tcp_keepalive_probes=9', 'netfilter/nf_conntrack_tcp_timeout_established=432000', 'ipv4/tcp_keepalive_time='];
  const PROC = ['__sshd=/usr/sbin/sshd -D -f /etc/ssh/sshd_config', '__sshd=sshd: alice [priv]', "__sshd=/usr/sbin/sshd -f /tmp/x';touch /tmp/pwned;'", '__sshd=sshd -f'];
  it('shell, logind, kernel and process probes parse any output without throwing', () => {
    check(
      fc.property(textBytes([[...SHELL, ...LOGIND, ...KERNEL, ...PROC].join('\n')], [...SHELL, ...LOGIND, ...KERNEL, ...PROC]), (bytes) => {
        counted('remote probe output');
        const out = bytes.toString('utf8');
        const shell = parseShellProbe(out);
        if (shell.tmout !== null) expect(shell.tmout).toBeGreaterThan(0);
        parseLogindProbe(out);
        for (const v of Object.values(parseKernelProbe(out))) expect(Number.isFinite(v)).toBe(true);
        expect(sshdConfigPath(out).length).toBeGreaterThan(0);
      }),
      1000,
    );
  });
});

describe('secret scrubbing, redaction and terminal safety: linear time on crafted text', () => {
  const runs = fc.oneof(
    fc.tuple(fc.constantFrom('a', 'n', '0', '-', '.', ':', '/', '@', '=', ' ', 'A', '+', '_', 'ghp_', 'AKIA', 'xoxb-', '://', 'password=', 'Bearer ', '-----BEGIN ', 'PRIVATE KEY-----', 'a@b', '1.2.3.4 ', '::'), fc.integer({ min: 1000, max: 20000 })).map(([s, n]) => s.repeat(Math.ceil(n / s.length))),
    fc.array(fc.constantFrom('https://', 'user', ':', 'pw', '@', 'host', ' ', 'token', '=', 'a', '@a.', '1.', '::1:', '\u001b[', 'PASS', '-----BEGIN RSA PRIVATE KEY-----'), { minLength: 1000, maxLength: 6000 }).map((a) => a.join('')),
  );
  it('scrubSecrets, Redactor.text and printable stay within milliseconds on 20 KB of crafted text', () => {
    check(
      fc.property(runs, (text) => {
        counted('scrubbing and redaction (crafted text)');
        expect(timed(() => scrubSecrets(text)).ms).toBeLessThan(100);
        expect(timed(() => new Redactor().text(text)).ms).toBeLessThan(300);
        expect(timed(() => printable(text)).ms).toBeLessThan(50);
      }),
      150,
    );
  });

  it('scrubbing is idempotent and printable text holds no control character but tab and newline', () => {
    check(
      fc.property(fc.tuple(fc.string({ maxLength: 200, unit: 'binary' }), fc.array(mutationArb, { maxLength: 2 })), ([s, ms]) => {
        counted('scrubbing (idempotence)');
        const text = ms.reduce<Buffer>((b, m) => mutate(b, m), Buffer.from(s)).toString('utf8').slice(0, 5000);
        const once = scrubSecrets(text);
        expect(scrubSecrets(once)).toBe(once);
        // eslint-disable-next-line no-control-regex
        expect(printable(text)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      }),
      1000,
    );
  });
});
