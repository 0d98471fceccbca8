import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'ssh-doctor-pack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const USER_RULE = `id: vpn-rekey
kind: cause
title: The corporate VPN renegotiates and drops flows
summary: Our VPN concentrator logs a rekey right before drops.
when: { fact: event.server-ban.count, gt: 0 }
base: 0.2
fixes:
  - where: network
    snippet: ask the network team
    why: only they can change it
`;

describe('ssh-doctor rules', () => {
  it('lists the built-in rules, as text and as JSON', () => {
    const text = runCli(['rules', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('middlebox-idle-timeout');
    const json = runCli(['rules', 'list', '--json']);
    const list = JSON.parse(json.stdout) as Array<{ id: string; kind: string; file: string }>;
    expect(list.find((r) => r.id === 'no-keepalive')?.kind).toBe('advisory');
    expect(list.every((r) => r.file.startsWith('rules/'))).toBe(true);
  });

  it('runs the built-in fixture tests and passes', () => {
    const r = runCli(['rules', 'test']);
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
    expect(r.code).toBe(0);
  });

  it('tests a user rule pack with the same layout, and reports what it lacks', () => {
    const pack = join(tmp, 'pack');
    mkdirSync(join(pack, 'rules'), { recursive: true });
    writeFileSync(join(pack, 'rules', 'vpn-rekey.yaml'), USER_RULE);
    const missing = runCli(['rules', 'test', pack]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('vpn-rekey: no fixture where it fires');

    const pos = join(pack, 'fixtures', 'vpn-rekey', 'fires');
    mkdirSync(pos, { recursive: true });
    writeFileSync(join(pos, 'server.log'), 'Nov 20 10:00:00 gw fail2ban.actions [901]: NOTICE  [sshd] Ban 203.0.113.9\n');
    writeFileSync(join(pos, 'expect.yaml'), 'note: written for this test\nfires: vpn-rekey\ntop: false\n');
    const neg = join(pack, 'fixtures', 'vpn-rekey', 'near-miss');
    mkdirSync(neg, { recursive: true });
    writeFileSync(join(neg, 'server.log'), 'Nov 20 10:00:00 gw sshd[1]: Server listening on 0.0.0.0 port 22.\n');
    writeFileSync(join(neg, 'expect.yaml'), 'note: written for this test\nnot: [vpn-rekey]\n');
    const ok = runCli(['rules', 'test', pack]);
    expect(ok.stdout).toContain('2 passed, 0 failed');
    expect(ok.code).toBe(0);
  });

  it('refuses a broken rule file with exit 2, naming the file and field', () => {
    const bad = join(tmp, 'bad');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'oops.yaml'), USER_RULE.replace('vpn-rekey', 'oops').replace('weight', 'x').replace('where: network', 'where: everywhere'));
    const r = runCli(['rules', 'list', '--rules', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^ssh-doctor: invalid rule file .*oops\.yaml: fixes\[0\]\.where: /);
  });
});
