import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'ssh-doctor-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, text: string | Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

// Facts: the server's ClientAlive line (OpenSSH 7.7+, serverloop.c) and a stock-ish sshd -T.
const SERVER_LOG = `Nov 20 10:02:11 web1 sshd[4242]: Accepted publickey for alice from 198.51.100.7 port 51234 ssh2: ED25519 SHA256:AbCdEf
Nov 20 10:02:11 web1 sshd[4242]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)
Nov 20 10:07:01 web1 sshd[4242]: Timeout, client not responding from user alice 198.51.100.7 port 51234
Nov 20 10:07:01 web1 sshd[4242]: pam_unix(sshd:session): session closed for user alice
`;
const SSHD_T = 'port 22\nclientaliveinterval 15\nclientalivecountmax 3\ntcpkeepalive yes\nlogingracetime 120\nmaxstartups 10:30:100\n';

describe('ssh-doctor explain', () => {
  const log = file('auth.log', SERVER_LOG);
  const sshdT = file('sshd-T.txt', SSHD_T);

  it('names the cause, with evidence and a fix, and exits 1', () => {
    const r = runCli(['explain', '--server-log', log, '--sshd-T', sshdT, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.tool).toBe('ssh-doctor');
    expect(report.target).toBeNull();
    expect(report.causes[0].id).toBe('server-clientalive-timeout');
    expect(report.causes[0].rule).toBe('rules/server-clientalive-timeout.yaml');
    expect(report.causes[0].confidence).toBeGreaterThan(0.5);
    expect(report.causes[0].evidence.join('\n')).toContain('Timeout, client not responding from user alice');
    expect(report.causes[0].fixes[0]).toMatchObject({ where: 'server', file: '/etc/ssh/sshd_config' });
    for (const key of ['version', 'startedAt', 'durationMs', 'probes', 'measurements', 'advisories', 'errors']) expect(report).toHaveProperty(key);
  });

  it('renders the same causes as a table and as Markdown', () => {
    const table = runCli(['explain', '--server-log', log, '--sshd-T', sshdT]);
    expect(table.code).toBe(1);
    expect(table.stdout).toContain('server-clientalive-timeout');
    expect(table.stdout).toContain('ClientAliveCountMax 10');
    expect(table.stdout).not.toMatch(/\u001b\[/);
    const md = runCli(['explain', '--server-log', log, '--sshd-T', sshdT, '--format', 'markdown']);
    expect(md.code).toBe(1);
    expect(md.stdout).toMatch(/^## ssh-doctor report/);
    expect(md.stdout).toContain('| 1 | `server-clientalive-timeout`');
  });

  it('exits 0 with no cause on healthy evidence', () => {
    const healthy = file('healthy.log', SERVER_LOG.replace(/.*Timeout, client.*\n/, 'Nov 20 10:07:01 web1 sshd[4242]: Received disconnect from 198.51.100.7 port 51234:11: disconnected by user\n'));
    const r = runCli(['explain', '--server-log', healthy, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).causes).toEqual([]);
  });

  it('reads a server log from stdin', () => {
    const r = runCli(['explain', '--server-log', '-', '--json'], { input: SERVER_LOG });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).causes[0].id).toBe('server-clientalive-timeout');
  });

  it('saves an evidence bundle that re-runs offline to the same diagnosis', () => {
    const bundle = join(tmp, 'bundle.json');
    const first = runCli(['explain', '--server-log', log, '--sshd-T', sshdT, '--json', '--save-evidence', bundle]);
    const again = runCli(['explain', bundle, '--json']);
    expect(again.code).toBe(1);
    const a = JSON.parse(first.stdout);
    const b = JSON.parse(again.stdout);
    expect(b.causes).toEqual(a.causes);
  });

  it('writes the report to a file with -o and nothing to stdout', () => {
    const out = join(tmp, 'report.md');
    const r = runCli(['explain', '--server-log', log, '-o', out, '--format', 'markdown']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toContain('server-clientalive-timeout');
  });

  it('redacts users, hosts and addresses with stable placeholders', () => {
    const r = runCli(['explain', '--server-log', log, '--json', '--redact']);
    const text = r.stdout;
    expect(text).not.toContain('198.51.100.7');
    expect(text).not.toContain('alice');
    expect(text).toContain('addr-1');
    expect(text).toContain('user-1');
    expect(JSON.parse(text).causes[0].id).toBe('server-clientalive-timeout');
  });

  it('counts lines it did not understand, and still diagnoses', () => {
    const junky = file('junky.log', `${SERVER_LOG}\u0001\u0002\u00ff garbage \u0000\n${'x'.repeat(100000)}\n`.replace('\u0000', ''));
    const r = runCli(['explain', '--server-log', junky, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.inputs[0].unparsed).toBeGreaterThanOrEqual(1);
  });
});

describe('bad input: exit 2, one line on stderr, no stack trace', () => {
  const cases: Array<[string, () => string[]]> = [
    ['a missing file', () => ['explain', '--server-log', join(tmp, 'nope.log')]],
    ['an empty file', () => ['explain', '--server-log', file('empty.log', '')]],
    ['a binary file', () => ['explain', '--client-log', file('bin.log', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]))]],
    ['a truncated bundle', () => ['explain', file('trunc.json', '{"format":"ssh-doctor/evidence","version":1,"coll')]],
    ['a wrong-shape bundle', () => ['explain', file('shape.json', JSON.stringify({ format: 'ssh-doctor/evidence', version: 1, events: 'no' }))]],
    ['an unknown option value', () => ['explain', '--server-log', file('ok.log', SERVER_LOG), '--format', 'yaml']],
    ['an unknown option', () => ['explain', '--frobnicate']],
    ['no evidence at all (empty standard input)', () => ['explain']],
    ['a directory as a log', () => ['explain', '--server-log', tmp]],
  ];
  it.each(cases)('%s', (_name, args) => {
    const r = runCli(args());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ssh-doctor: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('secrets never reach a report or a bundle', () => {
  it('drops passwords, private keys, tokens, SetEnv values and ProxyCommand credentials', () => {
    const clientLog = file(
      'secret-client.log',
      [
        'OpenSSH_9.6p1 Ubuntu-3ubuntu13, OpenSSL 3.0.13 30 Jan 2024',
        'debug1: Connecting to web1 [192.0.2.10] port 22.',
        '$ mysql --password hunter2secret -e "select 1"',
        'export GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789',
        '-----BEGIN OPENSSH PRIVATE KEY-----',
        'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
        '-----END OPENSSH PRIVATE KEY-----',
        'client_loop: send disconnect: Broken pipe password=hunter2secret',
      ].join('\n'),
    );
    const sshG = file(
      'secret-ssh-G.txt',
      'host web1\nhostname 192.0.2.10\nserveraliveinterval 0\nsetenv DB_PASSWORD=hunter2secret\nproxycommand curl -s https://admin:hunter2secret@proxy.example.com/connect %h %p\n',
    );
    const bundle = join(tmp, 'secret-bundle.json');
    const r = runCli(['explain', '--client-log', clientLog, '--ssh-G', sshG, '--json', '--save-evidence', bundle]);
    expect(r.code).toBe(1);
    for (const text of [r.stdout, readFileSync(bundle, 'utf8'), runCli(['explain', '--client-log', clientLog, '--ssh-G', sshG, '--format', 'markdown']).stdout]) {
      expect(text).not.toContain('hunter2secret');
      expect(text).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
      expect(text).not.toContain('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ');
    }
    expect(readFileSync(bundle, 'utf8')).toContain('DB_PASSWORD=[secret]');
  });
});
